"""The `teacher` command in a real `python -m server` process, against a real database: the
password comes from stdin, a short (or missing) one is refused, and nothing has a default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server.engine.people.db import DB_NAME, PeopleStore
from server.engine.people.identity import ClassRules
from server.engine.people.rows import PictureRow

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def teacher(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "teacher", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


async def login(data_dir: Path, name: str, password: str) -> bool:
    store = await PeopleStore.open(data_dir / DB_NAME)
    try:
        return await store.check_login(name, password) is not None
    finally:
        await store.close()


async def names(data_dir: Path) -> list[str]:
    store = await PeopleStore.open(data_dir / DB_NAME)
    try:
        return [found.name for found in await store.teachers()]
    finally:
        await store.close()


async def test_a_teacher_added_with_a_password_from_stdin_logs_in(tmp_path: Path) -> None:
    done = teacher(tmp_path, "add", "Frau Weber", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "Frau Weber" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    assert await login(tmp_path, "Frau Weber", PASSWORD)


async def test_a_short_password_is_refused_and_nothing_is_added(tmp_path: Path) -> None:
    done = teacher(tmp_path, "add", "Frau Weber", stdin="123456789\n")
    assert done.returncode == 1
    assert "at least 10 characters" in done.stderr
    assert await names(tmp_path) == []


async def test_without_a_password_there_is_no_teacher(tmp_path: Path) -> None:
    done = teacher(tmp_path, "add", "Frau Weber", stdin="")
    assert done.returncode == 1
    assert await names(tmp_path) == []
    assert "No teachers yet" in teacher(tmp_path, "list").stdout


def test_a_taken_name_and_an_unknown_name_are_refused(tmp_path: Path) -> None:
    assert teacher(tmp_path, "add", "Frau Weber", stdin=PASSWORD).returncode == 0
    taken = teacher(tmp_path, "add", "frau weber", stdin=PASSWORD)
    assert taken.returncode == 1
    assert "already" in taken.stderr
    unknown = teacher(tmp_path, "passwd", "Herr Huber", stdin=PASSWORD)
    assert unknown.returncode == 1
    assert "no teacher named 'Herr Huber'" in unknown.stderr


async def test_passwd_replaces_the_password(tmp_path: Path) -> None:
    assert teacher(tmp_path, "add", "Frau Weber", stdin=PASSWORD).returncode == 0
    done = teacher(tmp_path, "passwd", "Frau Weber", stdin="another long secret\n")
    assert done.returncode == 0, done.stderr
    assert not await login(tmp_path, "Frau Weber", PASSWORD)
    assert await login(tmp_path, "Frau Weber", "another long secret")


async def test_list_names_teachers_and_their_classes(tmp_path: Path) -> None:
    assert teacher(tmp_path, "add", "Frau Weber", stdin=PASSWORD).returncode == 0
    store = await PeopleStore.open(tmp_path / DB_NAME)
    try:
        weber = await store.teacher_named("Frau Weber")
        assert weber is not None
        await store.create_class(weber.id, "7b Kunst", ClassRules(), None)
    finally:
        await store.close()
    listed = teacher(tmp_path, "list")
    assert listed.returncode == 0
    assert "Frau Weber" in listed.stdout
    assert "7b Kunst" in listed.stdout


async def test_remove_asks_for_yes_then_deletes_classes_and_run_folders(tmp_path: Path) -> None:
    assert teacher(tmp_path, "add", "Frau Weber", stdin=PASSWORD).returncode == 0
    store = await PeopleStore.open(tmp_path / DB_NAME)
    try:
        weber = await store.teacher_named("Frau Weber")
        assert weber is not None
        created = await store.create_class(weber.id, "7b", ClassRules(), None)
        mia = await store.join(created.id, "Mia", None, 1.0)
        row = PictureRow("r-0001", f"m-{mia.id}", created.id, 1.0, "a cat", "bauhaus", [])
        assert await store.add_picture(row)
    finally:
        await store.close()
    (tmp_path / "runs" / "r-0001").mkdir(parents=True)
    unconfirmed = teacher(tmp_path, "remove", "Frau Weber")
    assert unconfirmed.returncode == 1
    assert (tmp_path / "runs" / "r-0001").is_dir()
    done = teacher(tmp_path, "remove", "Frau Weber", "--yes")
    assert done.returncode == 0, done.stderr
    assert "1 classes" in done.stdout
    assert "1 pictures" in done.stdout
    assert not (tmp_path / "runs" / "r-0001").exists()
    assert await names(tmp_path) == []


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert teacher(tmp_path, "promote", "x").returncode == 2


async def test_a_teacher_added_while_the_server_has_the_file_open_can_log_in(
    tmp_path: Path,
) -> None:
    store = await PeopleStore.open(tmp_path / DB_NAME)
    try:
        await store.add_teacher("Frau Weber", PASSWORD)  # the server holds the file, written
        done = teacher(tmp_path, "add", "Herr Huber", stdin=PASSWORD)
        assert done.returncode == 0, done.stderr
        assert await store.check_login("Herr Huber", PASSWORD) is not None
    finally:
        await store.close()
