"""ballast.greeks and implied_vol on NumPy arrays against the CLI's scalar pricer."""

import numpy as np
import pytest

import ballast

N = 1_000_000


@pytest.fixture(scope="module")
def book():
    rng = np.random.default_rng(11)
    spot = rng.uniform(50, 150, N)
    return {
        "spot": spot,
        "strike": spot * rng.uniform(0.6, 1.6, N),
        "t": rng.uniform(0.02, 2.0, N),
        "r": rng.uniform(-0.01, 0.08, N),
        "q": rng.uniform(0.0, 0.05, N),
        "vol": rng.uniform(0.05, 1.5, N),
        "is_call": rng.random(N) < 0.5,
    }


def test_a_million_options_equal_the_scalar_cli(book, cli):
    b = book
    g = ballast.greeks(b["spot"], b["strike"], b["t"], b["vol"], r=b["r"], q=b["q"], is_call=b["is_call"])
    # Threads split the batch; the bits do not depend on it.
    half = {k: v[N // 2 :] for k, v in b.items()}
    g2 = ballast.greeks(half["spot"], half["strike"], half["t"], half["vol"], r=half["r"], q=half["q"], is_call=half["is_call"])
    assert np.array_equal(g2["theta"], g["theta"][N // 2 :])
    assert all(g[k].shape == (N,) for k in ("price", "delta", "gamma", "vega", "theta", "rho"))
    for i in np.random.default_rng(3).choice(N, 12, replace=False):
        want = cli(
            "greeks", "--type", "call" if b["is_call"][i] else "put",
            f"--spot={float(b['spot'][i])!r}", f"--strike={float(b['strike'][i])!r}", f"--t={float(b['t'][i])!r}",
            f"--rate={float(b['r'][i])!r}", f"--div={float(b['q'][i])!r}", f"--vol={float(b['vol'][i])!r}", "--json",
            json_out=True,
        )
        scale = max(b["spot"][i], b["strike"][i])
        floor = {"price": scale, "delta": 1, "gamma": 1 / scale, "vega": scale, "theta": scale, "rho": scale * b["t"][i]}
        for k, f in floor.items():
            a, w = g[k][i], want[k]
            # The options crate's batch-vs-scalar tolerance (crates/options/tests/batch.rs).
            assert abs(a - w) <= 1e-12 * max(abs(a), abs(w)) + 1e-12 * f, (i, k, a, w)


def test_scalars_broadcast_and_bad_elements_are_named():
    g = ballast.greeks(np.array([90.0, 100.0, 110.0]), 100.0, 0.5, 0.6)
    assert g["delta"].shape == (3,) and np.all(np.diff(g["delta"]) > 0)
    with pytest.raises(ballast.BallastError, match="element 1"):
        ballast.greeks(np.array([100.0, -1.0]), 100.0, 0.5, 0.6)
    # In a later chunk of a batch split over threads, the index is still the batch's.
    spot = np.full(100_000, 100.0)
    spot[70_001] = np.nan
    with pytest.raises(ballast.BallastError, match="element 70001"):
        ballast.greeks(spot, 100.0, 0.5, 0.6)
    with pytest.raises(ballast.BallastError, match="strike"):
        ballast.greeks(np.ones(3), np.ones(2), 0.5, 0.6)


def test_implied_vol_inverts_the_price(book):
    n = 2000
    b = {k: v[:n] for k, v in book.items()}
    g = ballast.greeks(b["spot"], b["strike"], b["t"], b["vol"], r=b["r"], q=b["q"], is_call=b["is_call"])
    ok = g["vega"] > 1e-3 * b["spot"]
    iv = ballast.implied_vol(g["price"], b["spot"], b["strike"], b["t"], r=b["r"], q=b["q"], is_call=b["is_call"], errors="nan")
    assert ok.sum() > n / 2
    np.testing.assert_allclose(iv[ok], b["vol"][ok], rtol=1e-7)
    with pytest.raises(ballast.BallastError, match="element 0"):
        ballast.implied_vol(np.array([200.0]), 100.0, 100.0, 1.0)
    assert np.isnan(ballast.implied_vol(np.array([200.0]), 100.0, 100.0, 1.0, errors="nan")[0])


def test_out_arrays_are_filled_in_place_and_checked(book):
    n = 50_000
    b = {k: v[:n] for k, v in book.items()}
    args = (b["spot"], b["strike"], b["t"], b["vol"])
    kw = dict(r=b["r"], q=b["q"], is_call=b["is_call"])
    fresh = ballast.greeks(*args, **kw)
    out = {k: np.full(n, np.nan) for k in ballast.GREEK_NAMES}
    ids = {k: id(v) for k, v in out.items()}
    got = ballast.greeks(*args, **kw, out=out)
    assert got is out and {k: id(v) for k, v in got.items()} == ids
    for k in ballast.GREEK_NAMES:
        assert np.array_equal(out[k], fresh[k]), k
    with pytest.raises(ballast.BallastError, match=r"out\[vega\]: length"):
        ballast.greeks(*args, **kw, out=dict(out, vega=np.zeros(n - 1)))
    with pytest.raises(ballast.BallastError, match=r"out\[rho\]"):
        ballast.greeks(*args, **kw, out=dict(out, rho=np.zeros(n, dtype=np.float32)))
    ro = np.zeros(n)
    ro.flags.writeable = False
    with pytest.raises(ballast.BallastError, match=r"out\[price\]"):
        ballast.greeks(*args, **kw, out=dict(out, price=ro))
    # An input cannot be an output: the kernel would read what it writes.
    with pytest.raises(ballast.BallastError, match=r"out\[delta\]"):
        ballast.greeks(*args, **kw, out=dict(out, delta=b["spot"]))
    with pytest.raises(ballast.BallastError, match="out: expected a dict"):
        ballast.greeks(*args, **kw, out={"price": out["price"]})
