#!/usr/bin/env bash
# Peer benchmark: the radCAD liquidation model vendored in bench/peer-radcad/ (source in its
# SOURCE.md) and `ballast stress peer-radcad` on the same sizes, one after the other on this machine, then both
# wall times, the ratio and both P(bad debt).
#
#   bench/peer-radcad.sh                 # radCAD defaults (PATHOS, 2 processes), 1000 x 1000 x 100
#   bench/peer-radcad.sh --jumps         # with crash jumps (30/yr of -15%): bad debt appears
#   bench/peer-radcad.sh --runs 100      # smaller, for a quick look
#
# It installs radCAD into target/peer-venv on first use (PyPI). The radCAD default run takes
# about 270 s on a 2-core machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peer="${PEER_DIR:-$root/bench/peer-radcad}"
venv="$root/target/peer-venv"
runs=1000; steps=1000; accounts=100; jumps=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jumps) jumps=30 ;;
    --runs) runs="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$peer/radcad_liquidation_bench.py" ] || { echo "peer model not found in $peer (set PEER_DIR)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet radcad==0.14.0 cadCAD==0.5.3 typing_extensions numpy==1.26.3
fi
cargo build --release -q -p ballast --manifest-path "$root/Cargo.toml"

echo "== radCAD (defaults: PATHOS backend, 2 processes, deepcopy on) =="
t0=$(date +%s.%N)
"$venv/bin/python" "$peer/radcad_liquidation_bench.py" --runs "$runs" --timesteps "$steps" --accounts "$accounts" \
  --processes 2 --backend PATHOS --jump-intensity "$jumps" --jump-size 0.15 | tee "$root/target/peer-radcad.out"
t1=$(date +%s.%N)

echo "== ballast stress peer-radcad (the real engine, 2 threads) =="
t2=$(date +%s.%N)
"$root/target/release/ballast" stress peer-radcad --paths "$runs" --threads 2 --json \
  --set "horizon=$steps" --set "assets.ETH.model.jump_intensity=$jumps" > "$root/target/peer-ballast.json"
t3=$(date +%s.%N)

python3 - "$t0" "$t1" "$t2" "$t3" "$root/target/peer-radcad.out" "$root/target/peer-ballast.json" <<'PY'
import json, re, sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
radcad = open(sys.argv[5]).read()
ballast = json.load(open(sys.argv[6]))
p_r = re.search(r"P\(insolvent: bad_debt>0\)=([0-9.]+)", radcad)
rt, bt = t1 - t0, t3 - t2
print(f"radCAD wall {rt:.1f} s, ballast wall {bt:.2f} s: ballast is {rt / bt:,.0f}x faster")
print(f"P(bad debt > 0): radCAD {p_r.group(1) if p_r else '?'}, ballast {ballast['p_insolvency']:.4f} "
      f"(different random streams: compare within sampling error, s.e. ~{(0.25 / ballast['paths']) ** 0.5:.3f})")
PY
