"""How the `teacher` command reads a password: twice on a terminal, one line from a pipe."""

from __future__ import annotations

import getpass
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import cli
from server.engine.people.errors import WeakPassword
from server.engine.people.passwords import MAX_PASSWORD_LENGTH


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def typed(monkeypatch: pytest.MonkeyPatch, *answers: str) -> Iterator[str]:
    answers_left = iter(answers)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers_left))
    return answers_left


def test_a_pipe_gives_its_first_line_without_the_newline() -> None:
    assert cli.read_password(io.StringIO("secret one\r\nsecond line\n")) == "secret one"


def test_a_pipe_is_read_up_to_the_longest_password_only() -> None:
    assert len(cli.read_password(io.StringIO("x" * 10_000))) == MAX_PASSWORD_LENGTH + 2


def test_a_terminal_asks_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    typed(monkeypatch, "correct horse battery", "correct horse battery")
    assert cli.read_password(Terminal()) == "correct horse battery"


def test_two_different_answers_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    typed(monkeypatch, "correct horse battery", "correct horse batterie")
    with pytest.raises(cli.Refused, match="differ"):
        cli.read_password(Terminal())


def test_a_short_password_is_refused_before_it_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    left = typed(monkeypatch, "short", "never asked")
    with pytest.raises(WeakPassword):
        cli.read_password(Terminal())
    assert next(left) == "never asked"


def test_remove_asks_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["yes", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert cli._confirmed("Frau Weber", 2)
    assert not cli._confirmed("Frau Weber", 2)
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    assert not cli._confirmed("Frau Weber", 2)  # a pipe never confirms: --yes does


def test_a_bad_setting_exits_2_before_the_database_is_opened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ATELIER_PORT", "not a port")
    assert cli.main(["list", "--data-dir", str(tmp_path)]) == 2
    assert "ATELIER_PORT" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
