"""ballast.stress, merge and sweep against the CLI on the same scenario and seed."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ballast
from conftest import without_elapsed

# A tail scenario, small: bad debt on some paths, so the comparisons see non-zero figures.
SCEN, PATHS, SEED = "jump-tail", 120, 7


@pytest.fixture(scope="module")
def run():
    return ballast.stress(SCEN, paths=PATHS, seed=SEED, threads=2)


def test_summary_equals_cli_json_field_by_field(run, cli):
    want = cli("stress", SCEN, "--paths", PATHS, "--seed", SEED, "--json", json_out=True)
    got = run.summary
    assert set(got) == set(want)
    for k in want:
        if k != "elapsed_s":
            assert got[k] == want[k], k
    assert got["p_insolvency"] > 0, "the scenario should have insolvent paths at this seed"


def test_paths_table_is_paths_csv(run, cli, tmp_path):
    out = tmp_path / "run"
    cli("stress", SCEN, "--paths", PATHS, "--seed", SEED, "--out", out)
    with open(out / "paths.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    t = run.paths
    assert t.num_rows == PATHS == len(rows)
    assert t.column_names == list(rows[0].keys())
    bad = t["bad_debt_usd"].to_pylist()
    assert bad == [float(r["bad_debt_usd"]) for r in rows]
    firsts = t["first_bad_step"].to_pylist()
    assert firsts == [int(r["first_bad_step"]) if r["first_bad_step"] else None for r in rows]
    assert sum(bad) / PATHS == pytest.approx(run.summary["bad_debt"]["mean"], rel=1e-9)



def test_paths_carry_the_engine_mechanisms(run):
    """paths.csv's engine columns (ADL, socialized, engine bad debt, auctions, blocked) are the
    per-path values whose means the summary reports."""
    t = run.paths.to_pydict()
    s = run.summary
    mean = lambda col: sum(t[col]) / PATHS  # noqa: E731
    assert mean("adl_usd") == pytest.approx(s["adl"]["mean"], rel=1e-9, abs=1e-9)
    assert mean("socialized_usd") == pytest.approx(s["socialized"]["mean"], rel=1e-9, abs=1e-9)
    assert mean("engine_bad_debt_usd") == pytest.approx(s["engine"]["bad_debt_mean"], rel=1e-9, abs=1e-9)
    assert mean("auctions_started") == pytest.approx(s["engine"]["auctions_started_mean"])
    assert mean("auction_resets") == pytest.approx(s["engine"]["auction_resets_mean"])
    assert mean("auctions_stuck") == pytest.approx(s["engine"]["auctions_stuck_mean"])
    assert mean("blocked") == pytest.approx(s["breaker"]["blocked_mean"])
    # Not vacuous: this scenario's engine deleverages and socializes on some paths.
    assert max(t["adl_usd"]) > 0 and max(t["socialized_usd"]) > 0

def test_cli_parquet_files_read_back(run, cli, tmp_path):
    out = tmp_path / "run"
    cli("stress", SCEN, "--paths", PATHS, "--seed", SEED, "--out", out)
    paths = pq.read_table(out / "paths.parquet")
    assert paths.equals(run.paths)
    series = pq.read_table(out / "series.parquet")
    assert series.column_names == ["metric", "stat", "step", "hours", "value"]
    fund = series.filter(pa.compute.equal(series["metric"], "fund"))
    p50 = fund.filter(pa.compute.equal(fund["stat"], "p50"))
    assert p50["value"].to_pylist() == run.series("fund")["p50"].to_pylist()
    assert p50["step"].to_pylist() == run.series("fund")["step"].to_pylist()


def test_series_agree_with_the_summary(run):
    ins = run.series("insolvency")
    assert ins.num_rows == run.summary["steps"]
    assert ins["p_insolvent"][-1].as_py() == pytest.approx(run.summary["p_insolvency"])
    fund = run.series("fund").to_pydict()
    assert all(a <= b <= c for a, b, c in zip(fund["p05"], fund["p50"], fund["p95"]))
    assert fund["hours"] == [s * run.summary["step_hours"] for s in fund["step"]]
    with pytest.raises(ballast.BallastError, match="nonsense"):
        run.series("nonsense")


def test_to_pandas(run):
    pd = pytest.importorskip("pandas")
    df = run.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == PATHS


def test_same_numbers_for_any_thread_count(run):
    one = ballast.stress(SCEN, paths=PATHS, seed=SEED, threads=1)
    assert without_elapsed(one.summary) == without_elapsed(run.summary)
    assert one.paths.equals(run.paths)


def test_a_dict_scenario_runs_and_a_bad_field_is_named():
    sc = ballast.scenario(SCEN)
    sc["paths"] = 20
    r = ballast.stress(sc, seed=SEED)
    assert r.paths.num_rows == 20
    sc["protocol"]["market"]["maint_margn"] = 0.05
    with pytest.raises(ballast.ScenarioError, match="maint_margn") as e:
        ballast.stress(sc)
    assert e.value.field == "maint_margn"


def test_a_bad_value_names_its_field():
    with pytest.raises(ballast.ScenarioError) as e:
        ballast.stress(SCEN, paths=10, set={"protocol.market.maint_margin": -0.1})
    assert "MaintMargin" in str(e.value) and e.value.field.startswith("assets[0].market")
    with pytest.raises(ballast.BallastError, match="reading the book .*no-such-snapshot.json"):
        ballast.stress(SCEN, paths=2, book="no-such-snapshot.json")
    with pytest.raises(ballast.ScenarioError, match="book"):
        ballast.stress(SCEN, paths=2, book=42)
    with pytest.raises(ballast.ScenarioError, match="no-such-scenario"):
        ballast.stress("no-such-scenario")


def test_shards_merge_to_the_unsharded_run(run, cli, tmp_path):
    parts = [ballast.stress(SCEN, paths=PATHS, seed=SEED, shard=(i, 3)) for i in (1, 2, 3)]
    assert sum(p.paths.num_rows for p in parts) == PATHS
    merged = ballast.merge(parts)
    assert without_elapsed(merged.summary) == without_elapsed(run.summary)
    assert merged.paths.equals(run.paths)
    assert merged.series("fund").equals(run.series("fund"))
    # The CLI's shards merged by the package, and by `ballast merge`.
    dirs = []
    for i in (1, 2, 3):
        d = tmp_path / f"s{i}"
        cli("stress", SCEN, "--paths", PATHS, "--seed", SEED, "--shard", f"{i}/3", "--out", d)
        dirs.append(d)
    from_files = ballast.merge(dirs)
    assert without_elapsed(from_files.summary) == without_elapsed(run.summary)
    by_cli = cli("merge", *dirs, "--json", json_out=True)
    assert without_elapsed(by_cli) == without_elapsed(run.summary)
    with pytest.raises(ballast.BallastError, match="missing"):
        ballast.merge(parts[:2])


def test_sweep_equals_cli(cli):
    grid = {"protocol.market.maint_margin": [0.02, 0.04]}
    s = ballast.sweep(SCEN, grid=grid, paths=40, seed=SEED)
    want = cli(
        "sweep", SCEN, "--grid", "protocol.market.maint_margin=0.02,0.04",
        "--paths", 40, "--seed", SEED, "--json", json_out=True,
    )
    assert s.points.num_rows == len(want["points"]) == 2
    for row, p in zip(s.points.to_pylist(), want["points"]):
        assert row["protocol.market.maint_margin"] == p["params"][0][1]
        assert row["p_insolvency"] == p["p_insolvency"]
        assert row["capital_efficiency"] == p["capital_efficiency"]
        assert row["frontier"] == p["frontier"]
    assert s.frontier.num_rows == sum(p["frontier"] for p in want["points"]) >= 1


def test_a_book_runs_as_the_cli_runs_it(cli, repo, tmp_path):
    """``book=`` as a dict and as a file give the CLI's ``--book`` summary, and the book's
    accounts are in the run (its borrower is liquidated or not, but the book is not ignored)."""
    full = json.loads((repo / "examples" / "book" / "march-2020-book.json").read_text())
    book = dict(full, accounts=full["accounts"][:40])
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book))
    as_dict = ballast.stress("march-2020", paths=3, seed=5, book=book)
    as_file = ballast.stress("march-2020", paths=3, seed=5, book=path)
    want = cli("stress", "march-2020", "--paths", 3, "--seed", 5, "--book", path, "--json", json_out=True)
    assert without_elapsed(as_file.summary) == without_elapsed(want)
    # The fingerprint names the book's file, which for a dict is a temporary one.
    same = lambda s: {k: v for k, v in without_elapsed(s).items() if k != "fingerprint"}  # noqa: E731
    assert same(as_dict.summary) == same(want)
    plain = ballast.stress("march-2020", paths=3, seed=5)
    assert without_elapsed(plain.summary) != without_elapsed(want)
