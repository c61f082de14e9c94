#!/usr/bin/env bash
# Share of rows (timestamps) in each breaker mode, per asset, for the repo's real multi-venue and
# aggregate price files and a synthetic day of honest venue noise, through `ballast oracle`
# with its default settings. Usage: bench/oracle-halted.sh [path/to/ballast]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/ballast}
[ -x "$BIN" ] || cargo build --release --bin ballast >/dev/null
noise=$(mktemp); trap 'rm -f "$noise"' EXIT
bench/venue-noise.py --noise 0.003 --minutes 1440 --seed 1 > "$noise"
for f in data/2020-03_black_thursday_btc_eth_1h.csv data/2022-05_btc_eth_cccagg_1h.csv \
         data/2022-10_mango_window_btc_eth_cccagg_1h.csv data/2024-08_btc_eth_cccagg_1h.csv \
         "$noise"; do
  name=$f; [ "$f" = "$noise" ] && name="venue-noise (3 venues, 0.2/0.3/0.4 % noise, 1 day of minutes)"
  "$BIN" oracle --csv "$f" --json 2>/dev/null | python3 -c '
import json, sys, collections
rows = collections.defaultdict(collections.Counter)
for line in sys.stdin:
    r = json.loads(line)
    rows[r["symbol"]][r["mode"]] += 1
for sym, c in sorted(rows.items()):
    n = sum(c.values())
    h, ca, re = (100 * c[m] / n for m in ("Halted", "Cautious", "Recovering"))
    print(f"  {sym:<5} {n:>5} rows  halted {h:5.1f} %  cautious {ca:5.1f} %  recovering {re:5.1f} %")
' | sed "1i $name"
done
