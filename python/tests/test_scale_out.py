"""Scale-out: Ray tasks, the Kubernetes Indexed Job and the Slurm array, each merged exactly.

The Kubernetes and Slurm templates are not submitted here (no cluster): their shell scripts,
cut out between the BEGIN/END markers, run as they stand with the variables Kubernetes
(JOB_COMPLETION_INDEX) and Slurm (SLURM_ARRAY_TASK_ID) would set, and the merged summary must
equal the unsharded run's."""

import json
import os
import pathlib
import re
import subprocess
import textwrap

import pytest

import ballast
from conftest import without_elapsed

SCEN, PATHS, SEED = "jump-tail", 120, 7


@pytest.fixture(scope="module")
def whole():
    return ballast.stress(SCEN, paths=PATHS, seed=SEED)


def _ray():
    if os.environ.get("BALLAST_REQUIRE_RAY") == "1":
        import ray  # noqa: F401  (a missing Ray is a failure in CI)

        return ray
    return pytest.importorskip("ray")


def test_ray_shards_merge_to_the_unsharded_run(whole):
    ray = _ray()
    import ballast.ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        merged = ballast.ray.stress(SCEN, paths=PATHS, seed=SEED, shards=4)
    finally:
        ray.shutdown()
    assert without_elapsed(merged.summary) == without_elapsed(whole.summary)
    assert merged.paths.equals(whole.paths)
    assert whole.summary["p_insolvency"] > 0


def _script(template: pathlib.Path, name: str) -> str:
    m = re.search(rf"^(\s*)# BEGIN {name}\n(.*?)^\s*# END {name}", template.read_text(), re.S | re.M)
    assert m, f"{template} has no BEGIN/END {name} block"
    return textwrap.dedent(m.group(1) + m.group(2))


def _env(run_dir, shards):
    bindir = os.path.dirname(os.environ.get("BALLAST_BIN", ""))
    return {
        **os.environ,
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "SCENARIO": SCEN,
        "PATHS": str(PATHS),
        "SEED": str(SEED),
        "SHARDS": str(shards),
        "RUN_DIR": str(run_dir),
    }


def test_kubernetes_indexed_job_commands_merge_exactly(repo, tmp_path, whole):
    manifest = repo / "deploy" / "kubernetes" / "stress-shards.yaml"
    text = manifest.read_text()
    assert "completionMode: Indexed" in text
    shards = int(re.search(r"completions: (\d+)", text).group(1))
    assert f'name: SHARDS, value: "{shards}"' in text, "completions must equal SHARDS"
    shard, merge = _script(manifest, "shard"), _script(manifest, "merge")
    run_dir = tmp_path / "run"
    for k in range(shards):
        env = {**_env(run_dir, shards), "JOB_COMPLETION_INDEX": str(k)}
        subprocess.run(["/bin/sh", "-c", shard], env=env, check=True)
    # A retried pod keeps its finished shard.
    subprocess.run(["/bin/sh", "-c", shard], env={**_env(run_dir, shards), "JOB_COMPLETION_INDEX": "0"}, check=True)
    subprocess.run(["/bin/sh", "-c", merge], env=_env(run_dir, shards), check=True)
    merged = json.loads((run_dir / "merged.json").read_text())
    assert without_elapsed(merged) == without_elapsed(whole.summary)


def test_slurm_array_commands_merge_exactly(repo, tmp_path, whole):
    script = _script(repo / "deploy" / "slurm" / "stress-array.sbatch", "shard")
    run_dir, shards = tmp_path / "run", 3
    for i in range(1, shards + 1):
        env = {**_env(run_dir, shards), "SLURM_ARRAY_TASK_ID": str(i)}
        subprocess.run(["/bin/bash", "-c", script], env=env, check=True)
    subprocess.run(["/bin/bash", "-c", script], env={**_env(run_dir, shards), "MERGE": "1"}, check=True)
    merged = json.loads((run_dir / "merged.json").read_text())
    assert without_elapsed(merged) == without_elapsed(whole.summary)
