"""Fixtures of the Python tests: the ``ballast`` CLI binary (the figures the package must
equal) and the repository root. ``scripts/test-python`` builds both the wheel and the CLI."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def cli():
    """Runs the CLI; returns stdout, or the parsed JSON with ``json=True``."""
    binary = os.environ.get("BALLAST_BIN", str(ROOT / "target" / "release" / "ballast"))
    if not os.path.exists(binary):
        pytest.fail(f"the ballast CLI is not built at {binary} (run scripts/test-python)")

    def run(*args, json_out=False):
        p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            raise AssertionError(f"ballast {' '.join(map(str, args))} failed: {p.stderr}")
        return json.loads(p.stdout) if json_out else p.stdout

    return run


def without_elapsed(summary: dict) -> dict:
    """A summary without its wall time (the one field two identical runs differ in)."""
    return {k: v for k, v in summary.items() if k != "elapsed_s"}
