"""Ballast from Python: stress runs, sweeps, journal replays, a live clearing engine and batch
Greeks, with results as Apache Arrow tables.

Every function calls the same Rust code as the ``ballast`` command line (the lab's runner,
shard merge and sweep; the engine's ``apply`` and replay; the options crate's batch kernel), so
``ballast.stress("jump-tail", paths=200).summary`` equals ``ballast stress jump-tail --paths
200 --json`` field for field (``elapsed_s`` aside, which is a wall time).

Arrow tables cross from Rust through the Arrow C stream interface: pyarrow takes the Rust
buffers as they are, nothing is copied or serialized.

>>> import ballast
>>> r = ballast.stress("gbm-baseline", paths=100, seed=1)
>>> r.summary["p_insolvency"]          # the CLI's --json summary, as a dict
>>> r.paths                            # pyarrow.Table, one row per path (paths.csv columns)
>>> r.series("fund")                   # per-step quantile bands of the insurance fund
>>> r.to_pandas()                      # the paths as a DataFrame (needs pandas)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any, Iterable, Iterator, Mapping, Sequence, Union

import numpy as np
import pyarrow as pa

from . import _native
from ._native import BallastError, BallastReject, JournalError, ScenarioError

__all__ = [
    "BallastError",
    "BallastReject",
    "Engine",
    "JournalError",
    "Result",
    "ScenarioError",
    "SERIES_METRICS",
    "Sweep",
    "GREEK_NAMES",
    "greeks",
    "implied_vol",
    "merge",
    "replay",
    "scenario",
    "scenarios",
    "stress",
    "sweep",
]

#: Metric names :meth:`Result.series` accepts.
SERIES_METRICS = ("fund", "bad_debt", "insolvency", "breaker")

Scenario = Union[str, "os.PathLike[str]", Mapping[str, Any]]


def _table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


def _set_value(v: Any) -> str:
    """A ``--set`` value in the lab's TOML syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return json.dumps(list(v))
    return str(v)


def _sets(paths: int | None, seed: int | None, set: Mapping[str, Any] | None) -> list[str]:
    out = [f"{k}={_set_value(v)}" for k, v in (set or {}).items()]
    if paths is not None:
        out.append(f"paths={int(paths)}")
    if seed is not None:
        out.append(f"seed={int(seed)}")
    return out


def _source(scenario: Scenario) -> dict[str, str]:
    if isinstance(scenario, Mapping):
        return {"table_json": json.dumps(scenario)}
    return {"source": os.fspath(scenario)}


class Result:
    """A stress run (or a merge of shards).

    Attributes:
        summary: the run's summary, the same object ``ballast stress --json`` prints.
        paths: one row per path with every column of ``paths.csv`` (``pyarrow.Table``);
            ``None`` for a merge of shard files, which carry aggregates only.
        shard: the shard file (``shard.json``) of a ``shard=(i, n)`` run, else ``None``.
    """

    def __init__(self, native: _native.RunResult, paths: pa.Table | None = None):
        self._native = native
        self.summary: dict[str, Any] = json.loads(native.summary_json())
        batch = native.paths()
        self.paths: pa.Table | None = _table(batch) if batch is not None else paths
        shard = native.shard_json()
        self.shard: dict[str, Any] | None = json.loads(shard) if shard is not None else None

    def series(self, metric: str) -> pa.Table:
        """Per-step values of ``metric`` (one of :data:`SERIES_METRICS`) as a table with
        ``step``, ``hours`` and one column per statistic (e.g. ``p05``, ``p50``, ``p95``,
        ``mean`` for ``fund``). An unknown metric raises :class:`BallastError`."""
        return _table(self._native.series(metric))

    def to_pandas(self):
        """The paths table as a ``pandas.DataFrame`` (needs pandas)."""
        if self.paths is None:
            raise BallastError("a merge of shard files has no per-path rows")
        return self.paths.to_pandas()

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<ballast.Result {s['scenario']}: {s['paths']} paths, "
            f"P(insolvency) {s['p_insolvency']:.4f}, bad debt mean {s['bad_debt']['mean']:.2f} USD>"
        )


def stress(
    scenario: Scenario = "gbm-baseline",
    *,
    paths: int | None = None,
    seed: int | None = None,
    threads: int = 0,
    set: Mapping[str, Any] | None = None,
    book: Any = None,
    shard: tuple[int, int] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> Result:
    """Runs a stress scenario through the engine, like ``ballast stress``.

    Args:
        scenario: an embedded scenario name (see :func:`scenarios`), a scenario TOML file, or a
            scenario table as a dict (e.g. ``ballast.scenario("jump-tail")`` edited).
        paths, seed: override the scenario's ``paths`` and ``seed``.
        threads: worker threads (0: one per core). Results do not depend on it.
        set: overrides ``{"protocol.market.maint_margin": 0.04, ...}``, as ``--set k=v``.
        book: a position snapshot opened into every path after the population, as
            ``ballast stress --book FILE``: a path to the book JSON (layout in SCENARIOS.md,
            example ``examples/book/march-2020-book.json``) or the book itself as a dict.
        shard: ``(i, n)`` runs only the i-th (1-based) of n slices of the paths; combine the
            results' ``.shard`` with :func:`merge`.
        out: also keep the run folder (``summary.json``, ``paths.csv``, ``report.html``, ...).

    Raises:
        ScenarioError: the scenario does not load; ``.field`` names the field when known.
    """
    sets = _sets(paths, seed, set)
    with _book_file(book) as path:
        if path is not None:
            sets.append(f"book={json.dumps(path)}")
        native = _native.stress(
            **_source(scenario),
            sets=sets,
            threads=int(threads),
            shard=None if shard is None else (int(shard[0]), int(shard[1])),
            out=None if out is None else os.fspath(out),
        )
    return Result(native)


@contextlib.contextmanager
def _book_file(book: Any) -> Iterator[str | None]:
    """The book as an absolute file path: a path as given, a dict written to a temporary file
    (removed afterwards). Anything else raises :class:`ScenarioError` naming ``book``."""
    if book is None:
        yield None
    elif isinstance(book, (str, os.PathLike)):
        yield os.path.abspath(os.fspath(book))
    elif isinstance(book, Mapping):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "book.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(book, f)
            yield path
    else:
        err = ScenarioError(f"book: expected a path or a dict (got {type(book).__name__})")
        err.field = "book"
        raise err


def merge(shards: Iterable[Union[Result, Mapping[str, Any], str, "os.PathLike[str]"]]) -> Result:
    """Merges shard results into the result of the whole run, with the same checks and merge
    as ``ballast merge`` (the merged summary equals the unsharded one, bit for bit).

    Each shard is a :class:`Result` of a ``shard=(i, n)`` run, its ``.shard`` dict, a
    ``shard.json`` file or a ``--shard`` run folder. When every shard is a :class:`Result`,
    the merged result's ``.paths`` is their rows in path order."""
    texts, tables = [], []
    for s in shards:
        if isinstance(s, Result):
            if s.shard is None:
                raise BallastError("merge: a result of a whole run is not a shard")
            texts.append(json.dumps(s.shard))
            tables.append(s.paths)
        elif isinstance(s, Mapping):
            texts.append(json.dumps(s))
            tables.append(None)
        else:
            p = os.fspath(s)
            if os.path.isdir(p):
                p = os.path.join(p, "shard.json")
            with open(p, encoding="utf-8") as f:
                texts.append(f.read())
            tables.append(None)
    paths = None
    if tables and all(t is not None for t in tables):
        paths = pa.concat_tables(tables).sort_by("path")
    return Result(_native.merge(texts), paths=paths)


class Sweep:
    """A parameter sweep, like ``ballast sweep``.

    Attributes:
        points: one row per grid point (``pyarrow.Table``): a column per grid key, then
            ``capital_efficiency``, ``p_insolvency`` (with ``_lo95``/``_hi95``),
            ``bad_debt_mean``, ``bad_debt_var99``, ``invalid``, ``frontier``, ``recommended``.
        frontier: the points on the capital-efficiency / P(insolvency) frontier.
        recommended: the recommended point's row as a dict, or ``None``.
        raw: the sweep as ``ballast sweep --json`` prints it.
    """

    def __init__(self, raw_json: str, batch: pa.RecordBatch):
        self.raw: dict[str, Any] = json.loads(raw_json)
        self.points: pa.Table = _table(batch)
        self.frontier: pa.Table = self.points.filter(self.points["frontier"])
        rec = self.points.filter(self.points["recommended"]).to_pylist()
        self.recommended: dict[str, Any] | None = rec[0] if rec else None

    def to_pandas(self):
        """The points as a ``pandas.DataFrame`` (needs pandas)."""
        return self.points.to_pandas()


def sweep(
    scenario: Scenario = "gbm-baseline",
    *,
    grid: Mapping[str, Sequence[Any]],
    paths: int | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,
    max_p_insolvency: float = 0.05,
    threads: int = 0,
) -> Sweep:
    """Runs every point of ``grid`` (``{"protocol.market.maint_margin": [0.03, 0.05]}``,
    Cartesian product, same seed everywhere) and marks the frontier and the most
    capital-efficient point whose P(insolvency) upper 95% bound is at most
    ``max_p_insolvency``."""
    grids = [f"{k}=" + ",".join(_set_value(v) for v in vs) for k, vs in grid.items()]
    raw, batch = _native.sweep(
        **_source(scenario),
        sets=_sets(paths, seed, set),
        grids=grids,
        max_p_insolvency=float(max_p_insolvency),
        threads=int(threads),
    )
    return Sweep(raw, batch)


def replay(journal: Union[str, "os.PathLike[str]", Iterable[Mapping[str, Any]]]) -> tuple[str, pa.Table]:
    """Replays a JSON-lines journal (a file, or an iterable of envelope dicts) into a fresh
    engine, like ``ballast replay``. Returns the state hash and the events as a table
    (``line``, ``event``, ``json``). The table's schema metadata holds ``applied`` (a count)
    and ``rejected`` (JSON list of ``[line, kind, message]``).

    Raises:
        JournalError: a malformed line (``.line`` is its number)."""
    if isinstance(journal, (str, os.PathLike)):
        h, applied, rejected, batch = _native.replay(path=os.fspath(journal))
    else:
        text = "".join(json.dumps(e) + "\n" for e in journal)
        h, applied, rejected, batch = _native.replay(text=text)
    table = _table(batch).replace_schema_metadata(
        {"applied": str(applied), "rejected": json.dumps(rejected)}
    )
    return h, table


class Engine:
    """A live clearing engine: apply commands one at a time.

    >>> e = ballast.Engine()
    >>> e.apply({"time": 0, "cmd": {"type": "create_asset", "role": "governor", "symbol": "USDC", "decimals": 6}})
    """

    def __init__(self) -> None:
        self._native = _native.Engine()

    def apply(self, envelope: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Applies one command (a journal line as a dict, ``{"time": ms, "cmd": {...}}``) and
        returns its events.

        Raises:
            BallastReject: the engine refused it (``.kind``, ``.fields``, ``.message``); the
                state is unchanged.
            JournalError: the dict is not a command (the message names the field)."""
        return json.loads(self._native.apply_json(json.dumps(envelope)))

    def state_hash(self) -> str:
        """The state hash, as ``ballast replay`` prints it."""
        return self._native.state_hash()


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _arrays(named: Mapping[str, Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """Broadcasts the inputs (``is_call`` last) to one length; float64 C-contiguous arrays
    pass without a copy (only broadcast scalars are materialized). Arrays of different
    lengths raise :class:`BallastError` naming the field."""
    arrs = {k: (np.asarray(v, dtype=bool) if k == "is_call" else _f64(v)) for k, v in named.items()}
    sized = [(k, a.shape) for k, a in arrs.items() if a.ndim > 0]
    for k, shape in sized:
        if len(shape) != 1:
            raise BallastError(f"{k}: must be one-dimensional (got shape {shape})")
        if shape != sized[0][1]:
            raise BallastError(f"{k}: length {shape[0]}, {sized[0][0]} has length {sized[0][1][0]}")
    out = [np.ascontiguousarray(p) for p in np.broadcast_arrays(*arrs.values())]
    if out[0].ndim != 1:
        out = [p.reshape(1) for p in out]
    return out[:-1], out[-1]


GREEK_NAMES = ("price", "delta", "gamma", "vega", "theta", "rho")


def greeks(spot, strike, t, vol, *, r=0.0, q=0.0, is_call=True, out=None) -> dict[str, np.ndarray]:
    """Price and Greeks of European options under generalised Black-Scholes-Merton, on NumPy
    arrays (scalars broadcast), through the SIMD batch kernel with the GIL released.

    Returns a dict of arrays ``price``, ``delta``, ``gamma``, ``vega`` (per 1.00 of vol),
    ``theta`` (per year), ``rho`` (per 1.00 of rate): the units of ``ballast greeks``.

    Args:
        out: a dict with those six keys (e.g. the result of an earlier call on a book of the
            same size): float64, C-contiguous, writeable arrays of the inputs' length that the
            kernel fills in place; the same dict is returned. A loop repricing a book then
            allocates nothing.

    Raises:
        BallastError: an invalid element (the message names the element and the field), or
            an ``out`` array of the wrong key, dtype, length or layout (named)."""
    floats, calls = _arrays(dict(spot=spot, strike=strike, t=t, r=r, q=q, vol=vol, is_call=is_call))
    if out is None:
        return _native.greeks(floats, calls)
    if not isinstance(out, Mapping) or set(out) != set(GREEK_NAMES):
        raise BallastError(f"out: expected a dict with keys {', '.join(GREEK_NAMES)}")
    for k in GREEK_NAMES:
        a = out[k]
        if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.ndim != 1:
            raise BallastError(f"out[{k}]: expected a one-dimensional float64 NumPy array")
    _native.greeks(floats, calls, out=[out[k] for k in GREEK_NAMES])
    return out


def implied_vol(price, spot, strike, t, *, r=0.0, q=0.0, is_call=True, errors="raise") -> np.ndarray:
    """Implied volatilities under generalised Black-Scholes-Merton, element by element, with
    the GIL released. ``errors="nan"`` turns an element the solver refuses (a price outside
    the no-arbitrage band) into NaN instead of raising :class:`BallastError`."""
    if errors not in ("raise", "nan"):
        raise BallastError(f"errors: expected 'raise' or 'nan' (got {errors!r})")
    floats, calls = _arrays(dict(price=price, spot=spot, strike=strike, t=t, r=r, q=q, is_call=is_call))
    return _native.implied_vol(floats, calls, nan_on_error=(errors == "nan"))


def scenario(name: str) -> dict[str, Any]:
    """An embedded scenario's table as a dict: edit it and pass it to :func:`stress`."""
    return json.loads(_native.scenario(name))


def scenarios() -> list[str]:
    """Names of the embedded scenarios."""
    return list(_native.scenarios())
