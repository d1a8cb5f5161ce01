"""``python -m core rename RUN_ID NAME``, ``note RUN_ID TEXT`` and ``delete RUN_ID [--yes]``.

Delete asks before it removes anything; without a terminal to ask on it refuses unless ``--yes`` is given, so a
script never deletes by accident. Bad input (an unknown id, a running run, a name with control characters)
exits 2 with one line, like every other command."""
from __future__ import annotations

import sys

from core.cli.errors import UsageError
from core.storage import manage
from core.storage.run_store import RunStore


def add_manage_parsers(sub) -> None:
    rename = sub.add_parser("rename", help="give a run a display name (an empty NAME removes it)")
    rename.add_argument("run_id")
    rename.add_argument("name")
    note = sub.add_parser("note", help="attach a note to a run (an empty TEXT removes it)")
    note.add_argument("run_id")
    note.add_argument("text")
    delete = sub.add_parser("delete", help="delete a run: its rows and its artifacts folder (asks first)")
    delete.add_argument("run_id")
    delete.add_argument("--yes", action="store_true", help="do not ask (needed when stdin is not a terminal)")


def cmd_rename(args, store: RunStore) -> int:
    try:
        name = manage.rename(store, args.run_id, args.name)
    except ValueError as exc:
        raise UsageError(f"error: {exc}") from None
    print(f"run {args.run_id}: " + (f"named {name!r}" if name else "name removed"))
    return 0


def cmd_note(args, store: RunStore) -> int:
    try:
        note = manage.set_note(store, args.run_id, args.text)
    except ValueError as exc:
        raise UsageError(f"error: {exc}") from None
    print(f"run {args.run_id}: " + ("note saved" if note else "note removed"))
    return 0


def cmd_delete(args, store: RunStore) -> int:
    run = store.get_run(args.run_id)  # RunNotFound: exit 2 before asking anything
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"error: delete {args.run_id}: no terminal to confirm on; pass --yes to delete")
        answer = input(f"Delete run {manage.display_name(run)} ({run['status']}) and its artifacts? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not deleted")
            return 1
    try:
        removed = manage.delete_run(store, args.run_id)
    except manage.RunBusy as exc:
        raise UsageError(f"error: {exc}") from None
    print(f"deleted run {args.run_id}: {removed['epochs']} epoch rows, {removed['generations']} generation rows, "
          f"{removed['artifact_files']} artifact files")
    return 0


COMMANDS = {"rename": cmd_rename, "note": cmd_note, "delete": cmd_delete}
