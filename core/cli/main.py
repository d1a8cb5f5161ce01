"""Command line: ``python -m core run|list|show|export|presets|rename|note|delete``. Bad input exits 2 with one line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.errors import USAGE_ERRORS, Parser, UsageError
from core.cli import strict_json
from core.cli.progress import ProgressSink
from core.cli.manage import COMMANDS as MANAGE_COMMANDS, add_manage_parsers
from core.cli.report import add_report_parser, cmd_report
from core.cli.sweep import add_sweep_parser
from core.cli.insight import INSIGHT_COMMANDS, add_insight_parsers, cmd_export_script
from core.config import RunConfig, all_keys, parse_assignments
from core.data.splits import dataset_facts, load_dataset
from core.presets import PRESETS, get_preset
from core.storage import export as exporter
from core.storage.run_store import RunStore

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description="Self-Distillation Lab: run and inspect experiments.")
    parser.add_argument("--store", default=None, help="store folder (default $SDLAB_STORE or ./runs)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="run a preset (with optional overrides) into the store")
    run.add_argument("--preset", default="dry-run", help=f"one of: {', '.join(PRESETS)}")
    run.add_argument("--config", type=Path, help="a config JSON file (as written by export) instead of a preset")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key, e.g. --set method.alpha=0.5 (repeatable)")
    run.add_argument("--estimate", action="store_true",
                     help="print how long the run would take on this machine (a few timed steps) and exit")
    run.add_argument("--json", action="store_true",
                     help="print the final summary as one JSON object (one line per run of a comparison preset)")
    run.add_argument("--seeds", type=int, default=None, metavar="N",
                     help="run seeds S..S+N-1 (S = seed) as one group, trained together (core/cli/group.py)")
    lst = sub.add_parser("list", help="list the runs in the store")
    lst.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="show one run")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    exp = sub.add_parser("export", help="write metrics.csv, generations.csv, config.json and embeddings")
    exp.add_argument("run_id")
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--script", action="store_true", help="write DIR/train.py: the run as one plain PyTorch script")
    presets = sub.add_parser("presets", help="list presets (and, with --keys, every config key)")
    presets.add_argument("--keys", action="store_true", help="list every config key with its default and meaning")
    add_sweep_parser(sub)
    add_report_parser(sub)
    add_insight_parsers(sub)
    add_manage_parsers(sub)
    for name in ("run", "list", "show", "export", "presets", *MANAGE_COMMANDS):  # --store after the sub-command too
        sub.choices[name].add_argument("--store", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


# What ``run --json`` prints of a run's summary.
RUN_JSON_KEYS = ("run_id", "status", "config", "generations", "baselines", "best_generation", "label_efficiency",
                 "wall_seconds", "wall_time_s", "warnings", "error")


def cmd_run(args, store: RunStore) -> int:
    """Run a preset (each variant of a comparison preset in turn) or a config file; one summary per run."""
    updates = parse_assignments(args.sets)
    if args.config:
        configs = [read_config(args.config).override(updates)]
    else:
        configs = get_preset(args.preset).configs(updates)
    for config in configs:  # data that cannot be used (a bad file, too few samples to split) are refused
        load_dataset(config.data, config.seed)  # before any run exists (DataError: exit 2)
    if args.estimate:
        from core.engine.estimate import estimate

        for config in configs:
            print(f"{args.preset if not args.config else args.config}: {estimate(config).describe()}")
        return 0
    if args.seeds is not None:  # one seed group per config
        from core.cli.group import run_groups

        return run_groups(configs, args.seeds, store, None if args.config else args.preset, args.json, RUN_JSON_KEYS)
    from core.engine.runner import execute

    statuses = []
    for config in configs:
        progress = ProgressSink(config)
        try:
            summary = execute(config, store, sink=progress, label=None if args.config else args.preset)
        finally:
            progress.close()
        statuses.append(summary["status"])
        if args.json:
            facts = dataset_facts(config.data, config.seed)  # spoken-digits: the voices of each part
            print(strict_json.dumps({k: summary.get(k) for k in RUN_JSON_KEYS} | ({"dataset": facts} if facts else {})),
                  flush=True)
        else:
            print(exporter.summary_text(summary), flush=True)
    return 0 if all(s == "finished" for s in statuses) else 1


def cmd_list(args, store: RunStore) -> int:
    runs = store.list_runs()
    if args.json:
        print(strict_json.dumps([{**exporter.run_row(r), "group_id": r.get("group_id")} for r in runs]))
    else:
        print(exporter.runs_table(runs))
    return 0


def cmd_show(args, store: RunStore) -> int:
    summary = store.summary(args.run_id)
    print(strict_json.dumps(summary) if args.json else exporter.summary_text(summary))
    return 0


def read_config(path: Path) -> RunConfig:
    """A config JSON file; UsageError (exit 2) naming the file when it cannot be read or is not a config."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "a folder, not a file" if path.is_dir() else "not UTF-8 text" if isinstance(
            exc, UnicodeDecodeError) else exc.strerror or str(exc)
        raise UsageError(f"error: --config {path}: cannot read it ({reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"error: --config {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"error: --config {path}: must hold a JSON object of config sections, "
                         f"got {type(data).__name__}")
    return RunConfig.from_dict(data)


def check_out_folder(out: Path) -> None:
    """UsageError unless ``out`` is, or can become, a folder: not an existing file, not below one."""
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            where = "is a file" if folder == out else f"is below {folder}, which is a file"
            raise UsageError(f"error: --out {out} {where}; name a folder")
        if folder.exists():
            break


def cmd_export(args, store: RunStore) -> int:
    check_out_folder(args.out)
    if args.script:
        return cmd_export_script(args, store)
    written = exporter.export_run(store, args.run_id, args.out)
    print("\n".join(str(p) for p in written))
    return 0


def cmd_presets(args, store: RunStore | None = None) -> int:
    if args.keys:
        for key, f in all_keys().items():
            print(f"{key} = {f.default!r}: {f.metadata['help']}")
        return 0
    for preset in PRESETS.values():
        print(f"{preset.name}: {preset.description}")
    return 0


COMMANDS = {"run": cmd_run, "list": cmd_list, "show": cmd_show, "export": cmd_export, "presets": cmd_presets,
            **MANAGE_COMMANDS, **INSIGHT_COMMANDS, "report": cmd_report}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "presets":
            return cmd_presets(args)
        store = RunStore(args.store)
        if args.command == "sweep":
            from core.cli.sweep import cmd_sweep

            return cmd_sweep(args, store)
        return COMMANDS[args.command](args, store)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except USAGE_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
