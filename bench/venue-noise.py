#!/usr/bin/env python3
"""Writes a price CSV (the layout of data/) of three venues quoting one asset every minute for a
day, each with independent log-normal noise around one random-walk price: honest venue noise,
no attack. Deterministic for a seed (Python's Mersenne Twister and `gauss` are pure Python).

    bench/venue-noise.py [--noise 0.003] [--minutes 1440] [--seed 1] > /tmp/noise.csv
    ballast oracle --csv /tmp/noise.csv        # footer: share of rows per breaker mode

Venue noise levels (σ of the log deviation) are 0.2 %, 0.3 % and 0.4 % by default (`--noise`
scales them: the middle venue gets the given value)."""
import argparse
import math
import random
from datetime import datetime, timezone

ap = argparse.ArgumentParser()
ap.add_argument("--noise", type=float, default=0.003)
ap.add_argument("--minutes", type=int, default=1440)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--start-ms", type=int, default=1_700_000_000_000 // 60000 * 60000)
a = ap.parse_args()
rng = random.Random(a.seed)
venues = [("venue_a", a.noise * 2 / 3), ("venue_b", a.noise), ("venue_c", a.noise * 4 / 3)]
print("ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades")
price = 2000.0
rows = {v: [] for v, _ in venues}
for i in range(a.minutes):
    price *= math.exp(rng.gauss(0.0, 0.0005))  # ~2 % daily volatility of the true price
    t = a.start_ms + i * 60_000
    ts = datetime.fromtimestamp(t / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for v, sd in venues:
        q = price * math.exp(rng.gauss(0.0, sd))
        rows[v].append(f"{ts},{t},{v},ETH/USD,1m,{q:.4f},{q:.4f},{q:.4f},{q:.4f},1,,")
for v, _ in venues:
    print("\n".join(rows[v]))
