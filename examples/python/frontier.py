"""A notebook-style walk through a stress study with the ``ballast`` Python package.

1. load an embedded scenario as a dict and look at it;
2. sweep the maintenance margin, get the frontier as an Arrow table (and pandas, if present);
3. plot capital efficiency against P(insolvency) with its 95 % interval, the frontier and the
   recommended point;
4. run the recommended and the loosest margin, and plot their bad-debt distributions.

Run it with ``scripts/python-example`` (it builds and installs the wheel, installs matplotlib
and writes ``docs/python-frontier.png`` and ``docs/python-bad-debt.png``), or from a notebook
where ``ballast`` and ``matplotlib`` are installed::

    import frontier; frontier.main(out="figures", paths=400)
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files, not windows: the same in a notebook, CI or a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ballast  # noqa: E402

KEY = "protocol.market.maint_margin"
INIT = "protocol.market.init_margin"


def frontier_figure(sw, path):
    valid = sw.points.filter(sw.points["invalid"].is_null())  # e.g. maint >= init is refused
    pts = valid.to_pydict()
    mm = np.array([float(x) for x in pts[KEY]])  # grid values come back as given (text)
    im = np.array([float(x) for x in pts[INIT]])
    p, lo, hi = (np.array(pts[k]) for k in ("p_insolvency", "p_insolvency_lo95", "p_insolvency_hi95"))
    ce = np.array(pts["capital_efficiency"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.errorbar(ce, p * 100, yerr=[(p - lo) * 100, (hi - p) * 100], fmt="o", color="#888",
                ecolor="#ccc", capsize=3, label="grid point (95 % interval)")
    on = np.array(pts["frontier"])
    ax.plot(ce[on], p[on] * 100, "-o", color="#1f77b4", label="frontier")
    for x, y, m, i in zip(ce, p * 100, mm, im):
        ax.annotate(f"{m:.0%}/{i:.0%}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if sw.recommended:
        r = sw.recommended
        ax.plot([r["capital_efficiency"]], [r["p_insolvency"] * 100], "*", ms=14, color="#d62728",
                label=f"recommended (P upper bound <= {sw.raw.get('max_p_insolvency', 0):.0%}): "
                      f"maint {float(r[KEY]):.0%} / init {float(r[INIT]):.0%}")
    ax.set_xlabel("initial margin per unit of open interest (lower = more capital-efficient)")
    ax.set_ylabel("P(insolvency), %")
    ax.set_title(f"{sw.raw.get('scenario', 'sweep')}: maintenance / initial margin sweep")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bad_debt_figure(runs, path):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, res in runs.items():
        bd = np.array(res.paths["bad_debt_usd"].to_pylist())
        pos = bd[bd > 0]
        share = len(pos) / len(bd)
        if len(pos):
            bins = np.logspace(np.log10(pos.min()), np.log10(pos.max() * 1.01), 30)
            ax.hist(pos, bins=bins, alpha=0.55, label=f"{label}: {share:.1%} of paths with bad debt")
        else:
            ax.plot([], [], " ", label=f"{label}: no path with bad debt")
    ax.set_xscale("log")
    ax.set_xlabel("bad debt per path, USD (paths with bad debt)")
    ax.set_ylabel("paths")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# jump-tail's books at most 6x (so initial margins up to 16 % are valid), as in the lab README.
BASE = {"population.leverage.max": 6}


def main(out="docs", paths=1000, seed=7, scenario="jump-tail", grid=(0.03, 0.05, 0.07, 0.10),
         inits=(0.08, 0.12, 0.16), max_p=0.01):
    os.makedirs(out, exist_ok=True)
    sc = ballast.scenario(scenario)
    print(f"{scenario}: {sc['description']}\n  {sc['horizon']} steps of {sc['step_hours']} h, "
          f"maint margin {sc['protocol']['market']['maint_margin']}")
    sw = ballast.sweep(scenario, grid={KEY: list(grid), INIT: list(inits)}, paths=paths, seed=seed,
                       set=BASE, max_p_insolvency=max_p)
    try:
        cols = [KEY, INIT, "capital_efficiency", "p_insolvency", "bad_debt_mean", "frontier"]
        print(sw.to_pandas()[cols].to_string())
    except ImportError:
        print(sw.points)
    frontier_figure(sw, os.path.join(out, "python-frontier.png"))
    # The recommended point against the loosest valid one (lowest maintenance, lowest initial).
    r = sw.recommended
    pick = (float(r[KEY]), float(r[INIT])) if r else (max(grid), max(inits))
    loose = next((m, i) for i in sorted(inits) for m in sorted(grid) if m < i)
    runs = {f"maint {m:.0%} init {i:.0%}": ballast.stress(scenario, paths=paths, seed=seed, set={**BASE, KEY: m, INIT: i})
            for m, i in sorted({loose, pick})}
    bad_debt_figure(runs, os.path.join(out, "python-bad-debt.png"))
    for label, r in runs.items():
        print(f"{label}: P(insolvency) {r.summary['p_insolvency']:.2%}, "
              f"mean bad debt {r.summary['bad_debt']['mean']:,.0f} USD")
    return sw, runs


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs")
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    main(out=a.out, paths=a.paths, seed=a.seed)
