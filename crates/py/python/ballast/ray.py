"""Shards of a stress run as Ray tasks, merged exactly.

Each task runs ``ballast.stress(..., shard=(i, n))`` (a contiguous slice of the paths, one
ChaCha stream per path, so a path's numbers do not depend on which machine runs it) and
returns its shard file and rows; the driver merges them with :func:`ballast.merge`, the same
merge as ``ballast merge``. The merged summary equals the unsharded run's bit for bit
(``elapsed_s`` aside: it is the sum of the shards' wall times).

>>> import ray, ballast.ray
>>> ray.init()
>>> r = ballast.ray.stress("jump-tail", paths=10_000, shards=8)
"""

from __future__ import annotations

from typing import Any, Mapping

import pyarrow as pa

import ballast


def _shard(scenario: Any, i: int, n: int, kwargs: dict[str, Any]):
    r = ballast.stress(scenario, shard=(i, n), **kwargs)
    return r.shard, r.paths


def stress(
    scenario: ballast.Scenario = "gbm-baseline",
    *,
    shards: int,
    paths: int | None = None,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,
    threads_per_shard: int = 1,
) -> ballast.Result:
    """Runs ``scenario`` as ``shards`` Ray tasks (each with ``threads_per_shard`` CPUs) and
    merges them. Uses the running Ray cluster (``ray.init()`` first, or Ray starts a local
    one). Returns a :class:`ballast.Result` with the merged summary, series and every path's
    row."""
    import ray

    if shards < 1:
        raise ballast.BallastError(f"shards: must be at least 1 (got {shards})")
    task = ray.remote(num_cpus=threads_per_shard)(_shard)
    kwargs = {"paths": paths, "seed": seed, "set": dict(set or {}), "threads": threads_per_shard}
    refs = [task.remote(scenario, i, shards, kwargs) for i in range(1, shards + 1)]
    parts = ray.get(refs)
    merged = ballast.merge([shard for shard, _ in parts])
    merged.paths = pa.concat_tables([rows for _, rows in parts]).sort_by("path")
    return merged
