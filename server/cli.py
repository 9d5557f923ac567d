"""`python -m server teacher ...`: teachers' accounts from the command line.

The first teacher of a server is made here (`teacher add NAME`), never by a default password.
The password is asked twice without echo on a terminal, or read as the first line of stdin
otherwise (`printf '%s\\n' "$PW" | python -m server teacher add NAME`). The command reads the
same settings as the server (environment, TOML file) and opens the same `data_dir` database;
it may run while the server does.

Exit status: 0 done, 1 refused (a name taken or unknown, a short password), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from server.engine.people.db import DB_NAME, PeopleStore
from server.engine.people.errors import PeopleError, UnknownTeacher
from server.engine.people.passwords import MAX_PASSWORD_LENGTH, check_password_rules
from server.engine.people.rows import TeacherRow
from server.engine.records import RecordStore
from server.settings import Settings, SettingsError, load_settings

Command = Callable[[PeopleStore, Settings, argparse.Namespace], Awaitable[str]]


HELP = {
    "add": "add a teacher (asks for the password)",
    "list": "list the teachers and their classes",
    "passwd": "set a new password (signs the teacher out everywhere)",
    "remove": "remove a teacher with their classes, members and pictures",
}


class Refused(Exception):
    """What the command will not do; the message is printed as it is."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server teacher", description="Manage teachers' accounts."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="the server's data_dir (default: settings)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in HELP.items():
        command = commands.add_parser(name, help=text, description=text, parents=[common])
        if name != "list":
            command.add_argument("name", help="the teacher's login name")
    commands.choices["remove"].add_argument(
        "--yes", action="store_true", help="do not ask for confirmation"
    )
    return parser


def main(argv: list[str]) -> int:
    """Run one `teacher` command; the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings({"data_dir": args.data_dir} if args.data_dir else None)
    except SettingsError as exc:
        print(f"atelier: {exc}", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_run(COMMANDS[args.command], settings, args)))
    except (PeopleError, Refused) as exc:
        print(f"atelier: {exc}", file=sys.stderr)
        return 1
    return 0


async def _run(command: Command, settings: Settings, args: argparse.Namespace) -> str:
    store = await PeopleStore.open(settings.data_dir / DB_NAME)
    try:
        return await command(store, settings, args)
    finally:
        await store.close()


def read_password(stdin: TextIO = sys.stdin) -> str:
    """The new password: asked twice on a terminal, else the first line of stdin."""
    if not stdin.isatty():
        line = stdin.readline(MAX_PASSWORD_LENGTH + 2)
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("New password: ")
    check_password_rules(first)  # say so before asking again
    if getpass.getpass("The same again: ") != first:
        raise Refused("The two passwords differ; nothing was changed.")
    return first


async def _named(store: PeopleStore, name: str) -> TeacherRow:
    teacher = await store.teacher_named(name)
    if teacher is None:
        raise UnknownTeacher(f"There is no teacher named {name!r}.")
    return teacher


async def add(store: PeopleStore, settings: Settings, args: argparse.Namespace) -> str:
    teacher = await store.add_teacher(args.name, read_password())
    return f"Added the teacher {teacher.name!r}: they can log in on the teacher page now."


async def list_teachers(store: PeopleStore, settings: Settings, args: argparse.Namespace) -> str:
    lines = []
    for teacher in await store.teachers():
        classes = ", ".join(found.name for found in await store.classes_of(teacher.id))
        since = datetime.fromtimestamp(teacher.created, UTC).strftime("%Y-%m-%d")
        lines.append(f"{teacher.name}\tsince {since}\tclasses: {classes or 'none'}")
    return "\n".join(lines) or "No teachers yet: add one with `python -m server teacher add NAME`."


async def passwd(store: PeopleStore, settings: Settings, args: argparse.Namespace) -> str:
    teacher = await _named(store, args.name)
    await store.set_password(teacher.id, read_password())
    return f"Changed the password of {teacher.name!r}; their open sessions are signed out."


async def remove(store: PeopleStore, settings: Settings, args: argparse.Namespace) -> str:
    teacher = await _named(store, args.name)
    classes = await store.classes_of(teacher.id)
    if not args.yes and not _confirmed(teacher.name, len(classes)):
        raise Refused("Nothing was removed (confirm with --yes when not at a terminal).")
    run_ids = await store.remove_teacher(teacher.id)
    records = RecordStore(settings.data_dir / "runs", settings.retention_hours)
    deleted = await records.delete_runs(run_ids)
    return (
        f"Removed {teacher.name!r} with {len(classes)} classes, their members and "
        f"{deleted} pictures."
    )


def _confirmed(name: str, classes: int) -> bool:
    """Asked on a terminal only: without one, `--yes` is the confirmation."""
    if not sys.stdin.isatty():
        return False
    answer = input(f"Remove {name!r}, their {classes} classes, members and pictures? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


COMMANDS: dict[str, Command] = {
    "add": add,
    "list": list_teachers,
    "passwd": passwd,
    "remove": remove,
}
