"""Every command has help text, answers --help, and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mfgctl.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the app: ('item', 'add'), ('stock',), ('init',) ..."""
    found: list[tuple[str, ...]] = []

    def walk(cmd: typer.core.TyperGroup | typer.core.TyperCommand, path: tuple[str, ...]) -> None:
        if path:
            found.append(path)
        if isinstance(cmd, typer.core.TyperGroup):  # groups load lazily: ask, don't peek
            for name in sorted(cmd.list_commands(None)):  # type: ignore[arg-type]
                walk(cmd.get_command(None, name), (*path, name))  # type: ignore[arg-type]

    walk(typer.main.get_command(app), ())
    return found


def _command(path: tuple[str, ...]) -> typer.core.TyperCommand:
    command = typer.main.get_command(app)
    for name in path:
        command = command.get_command(None, name)  # type: ignore[attr-defined,arg-type]
    return command


COMMANDS = _commands()


def test_the_app_has_the_foundation_commands() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in ("init", "check", "item add", "stock receive", "stock history", "bom explode"):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_command_has_help_and_is_in_the_readme(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: mfgctl " + " ".join(path) in result.output
    command = _command(path)
    assert (command.help or "").strip(), f"mfgctl {' '.join(path)} has no help text"
    assert f"mfgctl {' '.join(path)}" in README, f"README does not document mfgctl {' '.join(path)}"
