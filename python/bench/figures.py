"""The Python package's README figures, in one run:

1. ``ballast.greeks`` on 1,000,000 NumPy options vs a pure NumPy/SciPy Black-Scholes-Merton
   (price and the same five Greeks) on the same arrays, best of several runs each;
2. wall time of a 4-shard Ray run vs the same run unsharded, on this machine, with the check
   that the merged summary equals the unsharded one.

Run through ``scripts/python-figures`` (it builds and installs the wheel first)."""

import sys
import time

import numpy as np
from scipy.special import ndtr

import ballast


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def scipy_bsm(s, k, t, r, q, v, call):
    """Generalised BSM price, delta, gamma, vega, theta, rho with NumPy/SciPy (Merton 1973)."""
    sq = np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / (v * sq)
    d2 = d1 - v * sq
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    sign = np.where(call, 1.0, -1.0)
    nd1, nd2 = ndtr(sign * d1), ndtr(sign * d2)
    price = sign * (s * dq * nd1 - k * dr * nd2)
    delta = sign * dq * nd1
    gamma = dq * pdf / (s * v * sq)
    vega = s * dq * pdf * sq
    theta = -s * dq * pdf * v / (2 * sq) + sign * (q * s * dq * nd1 - r * k * dr * nd2)
    rho = sign * k * t * dr * nd2
    return price, delta, gamma, vega, theta, rho


def greeks_figure(n=1_000_000):
    rng = np.random.default_rng(11)
    s = rng.uniform(50, 150, n)
    k = s * rng.uniform(0.6, 1.6, n)
    t, r, q = rng.uniform(0.02, 2.0, n), rng.uniform(-0.01, 0.08, n), rng.uniform(0.0, 0.05, n)
    v, call = rng.uniform(0.05, 1.5, n), rng.random(n) < 0.5
    tb = best(lambda: ballast.greeks(s, k, t, v, r=r, q=q, is_call=call), 7)
    g = ballast.greeks(s, k, t, v, r=r, q=q, is_call=call)
    # Repricing the same book into the arrays of the last call: no allocation, no fresh pages.
    to = best(lambda: ballast.greeks(s, k, t, v, r=r, q=q, is_call=call, out=g), 7)
    ts = best(lambda: scipy_bsm(s, k, t, r, q, v, call), 3)
    err = np.max(np.abs(g["price"] - scipy_bsm(s, k, t, r, q, v, call)[0]) / np.maximum(s, k))
    print(f"greeks on {n:,} options: ballast {tb * 1e3:.1f} ms ({n / tb / 1e6:.1f} M/s), "
          f"NumPy/SciPy {ts * 1e3:.1f} ms ({n / ts / 1e6:.1f} M/s): {ts / tb:.1f}x "
          f"(max price difference {err:.1e} of max(spot, strike)); "
          f"into out= arrays {to * 1e3:.1f} ms ({n / to / 1e6:.1f} M/s): {ts / to:.1f}x")


def ray_figure(scenario="jump-tail", paths=2000, seed=7, shards=4):
    import ray
    import ballast.ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ballast.ray.stress(scenario, paths=40, seed=seed, shards=shards)  # warm the workers
        t0 = time.perf_counter()
        merged = ballast.ray.stress(scenario, paths=paths, seed=seed, shards=shards)
        t_ray = time.perf_counter() - t0
    finally:
        ray.shutdown()
    t0 = time.perf_counter()
    whole = ballast.stress(scenario, paths=paths, seed=seed, threads=2)
    t_one = time.perf_counter() - t0
    same = {k: v for k, v in merged.summary.items() if k != "elapsed_s"} == {
        k: v for k, v in whole.summary.items() if k != "elapsed_s"
    }
    print(f"{scenario}, {paths} paths: Ray {shards} shards on 2 CPUs {t_ray:.2f} s, "
          f"unsharded (2 threads) {t_one:.2f} s; merged summary equals unsharded: {same}")
    if not same:
        sys.exit("merged summary differs from the unsharded run")


if __name__ == "__main__":
    greeks_figure()
    ray_figure()
