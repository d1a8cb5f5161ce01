"""Bad command-line input: one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import argparse
import json

from core.config import ConfigError
from core.data.files import DataError
from core.storage.run_store import RunNotFound

USAGE_ERRORS = (ConfigError, DataError, RunNotFound, FileNotFoundError, json.JSONDecodeError)


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(f"{self.prog}: {message}")
