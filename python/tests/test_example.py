"""The notebook-style example (examples/python/frontier.py) runs and draws its figures."""

import importlib.util

import pytest

import ballast


def test_the_example_sweeps_plots_and_compares(repo, tmp_path):
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location("frontier", repo / "examples" / "python" / "frontier.py")
    frontier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frontier)
    sw, runs = frontier.main(out=str(tmp_path), paths=40, grid=(0.03, 0.10), inits=(0.08, 0.12), max_p=0.5)
    assert sw.points.num_rows == 4 and sw.points["invalid"].null_count == 3  # 0.10 / 0.08 refused
    for name in ("python-frontier.png", "python-bad-debt.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
    # The runs it plots are the package's ordinary stress runs.
    assert 1 <= len(runs) <= 2
    for label, r in runs.items():
        m, i = (float(w.rstrip("%")) / 100 for w in label.split()[1::2])
        again = ballast.stress("jump-tail", paths=40, seed=7, set={**frontier.BASE, frontier.KEY: m, frontier.INIT: i})
        assert again.summary["bad_debt"] == r.summary["bad_debt"]
