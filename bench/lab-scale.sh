#!/usr/bin/env bash
# Scale of the stress lab with the number of accounts: one scenario (march-2020, the BTC/ETH
# replay of 2020-03-12) with a generated book of mixed perps, options and borrows
# (scripts/gen-book: perp traders, borrowers against BTC collateral, put writers,
# portfolio-margin hedgers) at 1 k, 10 k and 100 k accounts, a fixed number of paths and steps.
# Per size it prints the wall time and peak RSS (`/usr/bin/time -v`) of the run, of a one-step
# run (genesis + opening the book + one step: the setup), and the step cost
#   (wall(STEPS) − wall(1)) / ((STEPS − 1) · PATHS) · THREADS   CPU-seconds per path-step,
# and extrapolates the target 100 k accounts × 1,000 paths × 720 steps on THREADS cores as
#   setup + step cost · 1,000 · 720 / THREADS   (an extrapolation, not a measurement).
#
#   bench/lab-scale.sh                       # sizes 1000 10000 100000, PATHS=2 STEPS=24
#   SIZES="1000 10000" PATHS=4 STEPS=48 bench/lab-scale.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sizes="${SIZES:-1000 10000 100000}"
paths="${PATHS:-2}"
steps="${STEPS:-24}"
threads="${THREADS:-2}"
bin="${BALLAST:-$root/target/release/ballast}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -x "$bin" ]; then
  cargo build --release -q -p ballast --manifest-path "$root/Cargo.toml"
fi
[ "$steps" -ge 2 ] || { echo "STEPS must be >= 2" >&2; exit 2; }

# run BOOK STEPS -> "wall_s rss_mb"
run() {
  /usr/bin/time -v "$bin" stress march-2020 --book "$1" --set population.accounts=0 \
    --set population.resample_per_path=false --set horizon="$2" --paths "$paths" \
    --threads "$threads" --json >/dev/null 2>"$work/time"
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
                for (i = 1; i <= n; i++) s = s * 60 + t[i]; w = s }
              /Maximum resident set size/ { r = $2 / 1024 }
              END { printf "%.2f %.1f\n", w, r }' "$work/time"
}

echo "march-2020 + scripts/gen-book N, $paths paths × $steps steps of 1 h, --threads $threads"
printf '%-9s %10s %10s %10s %14s %14s\n' accounts "setup s" "wall s" "peak MB" "ms/path-step" "100k-target s"
for n in $sizes; do
  "$root/scripts/gen-book" "$n" >"$work/book-$n.json"
  read -r w1 _ < <(run "$work/book-$n.json" 1)
  read -r w rss < <(run "$work/book-$n.json" "$steps")
  awk -v n="$n" -v w1="$w1" -v w="$w" -v rss="$rss" -v p="$paths" -v s="$steps" -v th="$threads" '
    BEGIN { c = (w - w1) / ((s - 1) * p) * th; if (c < 0) c = 0;
            x = w1 + c * 1000 * 720 / th;
            printf "%-9d %10.2f %10.2f %10.1f %14.2f %14s\n", n, w1, w, rss, c * 1000,
                   (n == 100000 ? sprintf("%.0f", x) : "-") }'
done
echo "(100k-target: 100,000 accounts × 1,000 paths × 720 steps, extrapolated from the step cost; not measured)"
