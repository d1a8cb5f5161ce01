"""Pick an executor by name: local worker processes, or a Dask cluster by address."""
from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from core.sweeps.executors.base import EXECUTORS, Executor
from core.sweeps.executors.local import LocalExecutor

MAX_LOCAL_WORKERS = 32


def make_executor(kind: str = "local", *, workers: int | None = None, address: str | None = None) -> Executor:
    """``local`` (``workers`` processes, default one per core) or ``dask`` (a running cluster at ``address``)."""
    if kind == "local":
        if workers is not None and not 1 <= workers <= MAX_LOCAL_WORKERS:
            raise ValueError(f"--workers {workers}: must be between 1 and {MAX_LOCAL_WORKERS} (each worker is a "
                             f"process holding torch; this machine has {os.cpu_count() or 1} cores)")
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


def is_loopback(address: str) -> bool:
    """Whether a Dask address (``tcp://host:port``) names this machine's loopback interface. A scheduler
    reachable from elsewhere runs whatever code it is sent on its workers, so anything else deserves a warning."""
    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(address: str) -> str | None:
    """A one-line warning for a Dask address that is not loopback, else None."""
    if is_loopback(address):
        return None
    return (f"The Dask scheduler at {address} is not on this machine's loopback interface: anyone who can reach "
            f"it can run code on its workers. Start it with `--host 127.0.0.1` (README, Sweeps on a cluster) or "
            f"keep it on a private network you trust.")
