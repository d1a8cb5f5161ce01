"""Whole preset runs for the claim tests, one seed per core at once.

Every preset a claim test runs trains its small network on one thread (core.engine.devices.choose_threads), so a
second core sits idle while one seed trains. Each seed here runs in its own fresh process (spawned, not forked: a
forked torch can hang on the parent's thread pools), with as many at once as there are cores. A seed's result does
not depend on which process runs it or on what runs beside it: the run seeds itself and computes on one thread.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Iterable, Mapping

from tests.cli_support import cli

PARALLEL = os.cpu_count() or 1  # one seed per core


def _run_preset(preset: str, updates: Mapping[str, str]) -> dict:
    from core.engine.generations import run
    from core.presets import get_preset

    return run(get_preset(preset).config(dict(updates)))


def preset_runs(preset: str, seeds: Iterable[int], updates: Mapping[str, str] | None = None) -> list[dict]:
    """The run summaries of ``preset`` on each seed, in the seeds' order; every run must have finished."""
    return runs_of(preset, [{**(updates or {}), "seed": str(seed)} for seed in seeds])


def runs_of(preset: str, updates_per_run: list[Mapping[str, str]]) -> list[dict]:
    """The run summaries of ``preset`` with each of these dotted-key updates, in their order, ``PARALLEL`` runs at
    once; every run must have finished."""
    with ProcessPoolExecutor(max_workers=min(PARALLEL, len(updates_per_run)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        summaries = list(pool.map(_run_preset, [preset] * len(updates_per_run), updates_per_run))
    for updates, summary in zip(updates_per_run, summaries):
        assert summary["status"] == "finished", (preset, dict(updates), summary["error"])
    return summaries


def cli_runs(args_per_run: list[list[str]], store, timeout_s: float = 900) -> list[str]:
    """The standard output of ``python -m core <args> --store STORE`` (tests/cli_support.py) for each argument list,
    ``PARALLEL`` processes at once, in the lists' order; every one must exit 0."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        done = list(pool.map(lambda args: cli(*args, store=store, timeout_s=timeout_s), args_per_run))
    for args, process in zip(args_per_run, done):
        assert process.returncode == 0, (args, process.stderr[-2000:])
    return [process.stdout for process in done]
