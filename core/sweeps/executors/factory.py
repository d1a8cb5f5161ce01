"""Pick an executor by name: local worker processes, or a Dask cluster by address."""
from __future__ import annotations

from core.sweeps.executors.base import EXECUTORS, Executor
from core.sweeps.executors.local import LocalExecutor


def make_executor(kind: str = "local", *, workers: int | None = None, address: str | None = None) -> Executor:
    """``local`` (``workers`` processes, default one per core) or ``dask`` (a running cluster at ``address``)."""
    if kind == "local":
        if address:
            raise ValueError("--address names a Dask scheduler: use it with --executor dask")
        return LocalExecutor(workers)
    if kind == "dask":
        if not address:
            raise ValueError("the dask executor needs the scheduler address, e.g. --address tcp://127.0.0.1:8786 "
                             "(or $SDLAB_DASK_ADDRESS)")
        if workers is not None:
            raise ValueError("--workers sets local worker processes; a Dask cluster brings its own workers")
        from core.sweeps.executors.dask_cluster import DaskExecutor  # Dask is imported only when a sweep asks for it

        return DaskExecutor(address)
    raise ValueError(f"executor {kind!r}: must be one of {', '.join(EXECUTORS)}")
