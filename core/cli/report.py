"""``python -m core report RUN_ID [RUN_ID ...] --out FILE.html``: a self-contained HTML report (offline)."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from core.cli.errors import UsageError
from core.storage.run_store import RunStore


def add_report_parser(sub) -> None:
    """The ``report`` sub-command and its options."""
    p = sub.add_parser("report", help="write one self-contained HTML report of one run, or a comparison of several")
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="one run, or several to compare")
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write (replaced if it exists)")
    p.add_argument("--store", default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # after the sub-command too


def check_out_file(out: Path) -> None:
    """UsageError unless ``out`` can be written as a file: not a folder, its folder existing."""
    if out.is_dir():
        raise UsageError(f"error: --out {out} is a folder; name the HTML file to write")
    if not out.parent.is_dir():
        raise UsageError(f"error: --out {out}: folder {out.parent} does not exist")


def write_text_atomically(out: Path, text: str) -> None:
    """Write to a temporary file beside ``out``, then rename: a reader never sees half a report."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # a handout: readable like any file written normally (mkstemp makes it private)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_report(args, store: RunStore) -> int:
    from core.reports.report import build_report  # plotly: imported only when a report is asked for

    check_out_file(args.out)
    try:
        write_text_atomically(args.out, build_report(store, args.run_ids))
    except OSError as exc:
        raise UsageError(f"error: --out {args.out}: cannot write it ({exc.strerror or exc})") from None
    print(args.out)
    return 0
