"""``python -m core diff`` and ``python -m core targets``: what a generation changed, and the soft targets one
point received; plus ``export --script`` (a run as one plain PyTorch file). Bad input exits 2 with one line."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import strict_json
from core.cli.errors import UsageError
from core.evaluation.diff import InsightError, load_generation_diff
from core.evaluation.soft_targets import DEFAULT_TEMPERATURES, parse_temperatures, soft_targets, temperature_key
from core.storage.run_store import RunStore


def add_insight_parsers(sub) -> None:
    """The ``diff`` and ``targets`` sub-commands."""
    diff = sub.add_parser("diff", help="what generation B fixed and broke against generation A of one run")
    diff.add_argument("run_id")
    diff.add_argument("--from", dest="gen_from", type=int, required=True, metavar="A", help="earlier generation")
    diff.add_argument("--to", dest="gen_to", type=int, required=True, metavar="B", help="later generation")
    diff.add_argument("--json", action="store_true", help="print the diff as one JSON object")
    targets = sub.add_parser("targets", help="one point's softened outputs, generation by generation")
    targets.add_argument("run_id")
    targets.add_argument("--index", type=int, required=True, help="test index (or training index with --flipped)")
    targets.add_argument("--temperatures", default=",".join(map(temperature_key, DEFAULT_TEMPERATURES)),
                         help="comma-separated temperatures T, e.g. 1,2,4")
    targets.add_argument("--flipped", action="store_true",
                         help="--index is a training point whose label was flipped (not a test point)")
    targets.add_argument("--json", action="store_true", help="print one JSON object")
    for name in ("diff", "targets"):
        sub.choices[name].add_argument("--store", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def cmd_diff(args, store: RunStore) -> int:
    try:
        diff = load_generation_diff(store, args.run_id, args.gen_from, args.gen_to)
    except InsightError as exc:
        raise UsageError(f"error: {exc}") from None
    if args.json:
        print(strict_json.dumps(diff))
        return 0
    delta = diff["accuracy_to"] - diff["accuracy_from"]
    lines = [f"run {diff['run_id']}: generation {diff['from']} -> {diff['to']} on {diff['n_test']} test points",
             f"test accuracy {diff['accuracy_from']:.2%} -> {diff['accuracy_to']:.2%} ({delta:+.2%})",
             f"fixed {len(diff['fixed'])}: {_short(diff['fixed'])}",
             f"broken {len(diff['broken'])}: {_short(diff['broken'])}"]
    if "n_flipped" in diff:
        lines.append(f"flipped training labels reproduced: {diff['flipped_reproduced_from']} -> "
                     f"{diff['flipped_reproduced_to']} of {diff['n_flipped']} (stopped "
                     f"{len(diff['flipped_stopped'])}, started {len(diff['flipped_started'])})")
    print("\n".join(lines))
    return 0


def cmd_targets(args, store: RunStore) -> int:
    try:
        temperatures = parse_temperatures(args.temperatures)
        result = soft_targets(store, args.run_id, args.index, temperatures, "flipped" if args.flipped else "test")
    except InsightError as exc:
        raise UsageError(f"error: {exc}") from None
    if args.json:
        print(strict_json.dumps(result))
        return 0
    what = "training point (flipped label)" if args.flipped else "test point"
    print(f"{what} {result['index']} · label {result['label']}")
    for row in result["generations"]:
        for key, probs in row["probabilities"].items():
            print(f"generation {row['generation']} T={key}: " + " ".join(f"{p:.3f}" for p in probs))
    return 0


def cmd_export_script(args, store: RunStore) -> int:
    """``export RUN_ID --script --out DIR``: DIR/train.py."""
    from core.storage.script_export import ScriptUnsupported, write_script

    try:
        path = write_script(store, args.run_id, Path(args.out))
    except ScriptUnsupported as exc:
        raise UsageError(f"error: {exc}") from None
    print(path)
    return 0


def _short(indices: list[int], shown: int = 20) -> str:
    return ", ".join(map(str, indices[:shown])) + (f", ... ({len(indices) - shown} more)" if len(indices) > shown
                                                  else "") if indices else "none"


INSIGHT_COMMANDS = {"diff": cmd_diff, "targets": cmd_targets}
