"""The CLI as a user runs it: ``python -m core ... --store STORE`` in a child process."""
from __future__ import annotations

import os
import subprocess
import sys

ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


def cli(*args, store, timeout_s: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args, "--store", str(store)], capture_output=True,
                          text=True, env=ENV, timeout=timeout_s)
