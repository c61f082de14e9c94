#!/usr/bin/env bash
# Generates a synthetic oracle CSV (default 10,000,000 one-minute bars of BTC from three venues)
# and measures the peak memory of `ballast oracle --csv` on it.
#
#   bench/gen-oracle-csv.sh [ROWS] [FILE] [--by-series]
#
# --by-series lays the file out venue after venue (as in data/), which the replay reads with one
# cursor per series instead of one for the file.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
file=${2:-target/oracle-${rows}.csv}
layout=${3:-}
cargo build --release -q -p ballast
cargo build --release -q -p ballast-data --example gen_oracle_csv
target/release/examples/gen_oracle_csv "$rows" "$file" $layout
ls -l "$file"
if [ -x /usr/bin/time ]; then
  for mode in "" "--json"; do
    echo "== ballast oracle --csv $file $mode"
    /usr/bin/time -v target/release/ballast oracle --csv "$file" $mode 2>&1 >/dev/null \
      | grep -E "Maximum resident|Elapsed \(wall"
  done
fi
