#!/usr/bin/env bash
# The lab against the peer's plain-Rust reference loop (`rust_ref`, vendored in
# bench/peer-radcad/rust_ref, source in bench/peer-radcad/SOURCE.md): the same model (1,000 runs ×
# 1,000 hourly GBM steps, leveraged longs, crash jumps 30/yr of −15 %), at each book size, the two
# processes run one after the other on this machine with the same thread count. Prints, per
# size, both wall times (whole process: start-up, book, paths, summary), the ratio
# ballast ÷ rust_ref and both P(bad debt > 0).
#
#   bench/peer-rustref.sh                      # 100 and 10,000 accounts, 2 threads
#   bench/peer-rustref.sh --accounts 100,1000  # other sizes
#   bench/peer-rustref.sh --runs 200           # fewer runs, for a quick look
#
# rust_ref is a bare struct-of-arrays loop with no ledger; `ballast stress peer-radcad` drives
# the real engine (fixed-point ledger, checks, events) through the lab, so the ratio is the
# price of the engine on the peer's own workload.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs=1000; steps=1000; sizes="100,10000"; threads=2; jumps=30
while [ $# -gt 0 ]; do
  case "$1" in
    --accounts) sizes="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
cargo build --release -q -p ballast --manifest-path "$root/Cargo.toml"
CARGO_TARGET_DIR="$root/target/rust-ref" cargo build --release -q \
  --manifest-path "$root/bench/peer-radcad/rust_ref/Cargo.toml"
ref="$root/target/rust-ref/release/liq_mc_ref"
out="$root/target/peer-rustref"
mkdir -p "$out"
# wall OUT CMD...: runs CMD with its stdout in OUT, prints the wall time in seconds.
wall() { local o="$1" t0 t1; shift; t0=$(date +%s.%N); "$@" > "$o"; t1=$(date +%s.%N); python3 -c "print($t1 - $t0)"; }
printf '%10s %14s %14s %10s %12s %12s\n' accounts "rust_ref (s)" "ballast (s)" ratio "P rust_ref" "P ballast"
for n in ${sizes//,/ }; do
  tr=$(wall "$out/ref-$n.txt" "$ref" "$runs" "$steps" "$n" "$threads" "$jumps")
  tb=$(wall "$out/ballast-$n.json" "$root/target/release/ballast" stress peer-radcad --paths "$runs" \
    --threads "$threads" --json --set "horizon=$steps" --set "population.accounts=$n" \
    --set "assets.ETH.model.jump_intensity=$jumps")
  python3 - "$n" "$tr" "$tb" "$out/ref-$n.txt" "$out/ballast-$n.json" <<'PY'
import json, re, sys
n, tr, tb = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
p_ref = re.search(r"P\(insolvent: bad_debt>0\)=([0-9.]+)", open(sys.argv[4]).read()).group(1)
p_b = json.load(open(sys.argv[5]))["p_insolvency"]
print(f"{int(n):>10,} {tr:>14.2f} {tb:>14.2f} {tb / tr:>9.2f}x {float(p_ref):>12.4f} {p_b:>12.4f}")
PY
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
