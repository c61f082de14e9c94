#!/usr/bin/env bash
# Cost of the checked ledger arithmetic, measured in one run on this machine:
#   base      the engine before checked arithmetic (git rev BASE, default 698482b), no overflow checks
#   checked   this tree with overflow checks off (only the explicit checked operations)
#   shipped   this tree as released (checked operations + `overflow-checks = true`)
# Each binary runs `ballast bench engine` ROUNDS times, interleaved, so a load change on the
# shared machine hits all three alike; the best throughput of each is compared as a ratio.
#
#   bench/checked-cost.sh            # 3 rounds of wall-clock throughput
#   ROUNDS=5 BASE=<rev> bench/checked-cost.sh
#   MODE=instructions bench/checked-cost.sh
#       instructions retired (valgrind callgrind) for 200,000 commands instead: the same count on
#       every run whatever else the machine does, so the ratio is exact on a busy machine
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base_rev="${BASE:-698482b}"
rounds="${ROUNDS:-3}"
out="$root/target/checked-cost"
mkdir -p "$out"
if [ ! -x "$out/base/release/ballast" ]; then
  rm -rf "$out/src-base"
  git -C "$root" worktree add --detach -f "$out/src-base" "$base_rev" >/dev/null
  cargo build --release -q -p ballast --manifest-path "$out/src-base/Cargo.toml" \
    --config 'profile.release.overflow-checks=false' --target-dir "$out/base"
  git -C "$root" worktree remove --force "$out/src-base"
fi
cargo build --release -q -p ballast --manifest-path "$root/Cargo.toml" \
  --config 'profile.release.overflow-checks=false' --target-dir "$out/checked"
cargo build --release -q -p ballast --manifest-path "$root/Cargo.toml"
bins=(base:"$out/base/release/ballast" checked:"$out/checked/release/ballast" shipped:"$root/target/release/ballast")
if [ "${MODE:-wall}" = instructions ]; then
  declare -A ir
  for b in "${bins[@]}"; do
    name="${b%%:*}"; bin="${b#*:}"
    ir[$name]=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" bench engine \
      --accounts 1000 --commands 200000 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$name  ${ir[$name]} instructions"
  done
  python3 - "${ir[base]}" "${ir[checked]}" "${ir[shipped]}" <<'PY'
import sys
b, c, s = map(int, sys.argv[1:])
print(f"instructions: checked / base = {c/b:.3f}   shipped / base = {s/b:.3f}   (cost {100*(s/b-1):.1f} %)")
PY
  exit 0
fi
declare -A best
for r in $(seq 1 "$rounds"); do
  for b in "${bins[@]}"; do
    name="${b%%:*}"; bin="${b#*:}"
    mcs=$("$bin" bench engine --accounts 1000 | sed -n 's/.*in [0-9.]* s: \([0-9.]*\) M commands\/s.*/\1/p' | head -1)
    echo "round $r  $name  $mcs M commands/s"
    prev="${best[$name]:-0}"
    best[$name]=$(python3 -c "print(max($prev, $mcs))")
  done
done
python3 - "${best[base]}" "${best[checked]}" "${best[shipped]}" <<'PY'
import sys
b, c, s = map(float, sys.argv[1:])
print(f"best of each: base {b:.2f}, checked {c:.2f}, shipped {s:.2f} M commands/s")
print(f"checked / base = {c/b:.3f}   shipped / base = {s/b:.3f}   (cost {100*(1-s/b):.1f} %)")
PY
