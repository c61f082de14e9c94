"""Type stubs of the extension module ``ballast._native`` (use the ``ballast`` wrappers)."""

from typing import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

class BallastError(Exception): ...

class ScenarioError(BallastError):
    field: str | None

class JournalError(BallastError):
    line: int | None

class BallastReject(BallastError):
    kind: str
    fields: dict[str, int | str]
    message: str
    line: int | None

class RunResult:
    def summary_json(self) -> str: ...
    def paths(self) -> pa.RecordBatch | None: ...
    def series(self, metric: str) -> pa.RecordBatch: ...
    def shard_json(self) -> str | None: ...

class Engine:
    def __init__(self) -> None: ...
    def apply_json(self, envelope: str) -> str: ...
    def state_hash(self) -> str: ...

def stress(
    source: str | None = None,
    table_json: str | None = None,
    sets: Sequence[str] = ...,
    threads: int = 0,
    shard: tuple[int, int] | None = None,
    out: str | None = None,
) -> RunResult: ...
def merge(shards: Sequence[str]) -> RunResult: ...
def sweep(
    source: str | None = None,
    table_json: str | None = None,
    sets: Sequence[str] = ...,
    grids: Sequence[str] = ...,
    max_p_insolvency: float = 0.05,
    threads: int = 0,
) -> tuple[str, pa.RecordBatch]: ...
def scenario(name: str) -> str: ...
def scenarios() -> list[str]: ...
def replay(
    path: str | None = None, text: str | None = None
) -> tuple[str, int, list[tuple[int, str, str]], pa.RecordBatch]: ...
def greeks(
    inputs: Sequence[npt.NDArray[np.float64]],
    is_call: npt.NDArray[np.bool_],
    out: Sequence[npt.NDArray[np.float64]] | None = None,
) -> dict[str, npt.NDArray[np.float64]]: ...
def implied_vol(
    inputs: Sequence[npt.NDArray[np.float64]],
    is_call: npt.NDArray[np.bool_],
    nan_on_error: bool = False,
) -> npt.NDArray[np.float64]: ...
