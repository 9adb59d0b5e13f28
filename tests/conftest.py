"""Shared fixtures and helpers: a temporary database, the CLI through Typer's runner, a
dump of the database to prove that a refused command changed nothing, and dates
relative to today."""

from __future__ import annotations

import os
import shlex
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner, Result

from mfgctl import db as dbmod
from mfgctl.cli import app

# Property tests: ``make test`` (and CI) runs the same examples every time, so a failure
# is reproducible and a green run stays green; ``HYPOTHESIS_PROFILE=explore make test``
# draws new random examples each run, to look for new failures (keep what it finds as
# an ``@example``).
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the test database lives; MFGCTL_DB and MFGCTL_USER point the CLI at it."""
    path = tmp_path / "test.db"
    monkeypatch.setenv("MFGCTL_DB", str(path))
    monkeypatch.setenv("MFGCTL_USER", "tester")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return path


Cli = Callable[..., Result]


@pytest.fixture
def cli(db_path: Path) -> Cli:
    """Run ``mfgctl ARGS...``; an unexpected Python exception fails the test loudly."""
    runner = CliRunner()

    def run(*args: object, input: str | None = None) -> Result:
        result = runner.invoke(app, [str(a) for a in args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


@pytest.fixture
def initdb(cli: Cli, db_path: Path) -> Path:
    """An empty, initialised database."""
    r = cli("init")
    assert r.exit_code == 0, r.stderr
    return db_path


@pytest.fixture
def conn(initdb: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the initialised test database, for domain-level tests.

    Domain calls that write must run inside ``with dbmod.transaction(conn):``.
    """
    c = dbmod.connect(initdb)
    yield c
    c.close()


def dump(path: Path) -> str:
    """Every row and schema object of a database as SQL text (compare before/after)."""
    c = sqlite3.connect(path)
    try:
        return "\n".join(c.iterdump())
    finally:
        c.close()


def refused(cli: Cli, path: Path, *args: object, code: int = 1, one_line: bool = True) -> str:
    """Run ``mfgctl ARGS...``, which must be refused; return its stderr.

    It must exit with ``code``, print nothing on stdout and leave the database at
    ``path`` exactly as it was. A refusal (exit 1) starts with ``Error: `` and is one
    line, unless ``one_line`` is false (an import lists every problem).
    """
    before = dump(path)
    r = cli(*args)
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert r.stdout == ""
    if code == 1:
        assert r.stderr.startswith("Error: "), r.stderr
        assert not one_line or r.stderr.count("\n") == 1, r.stderr
    assert dump(path) == before
    return r.stderr


def ok(cli: Cli, *args: object, input: str | None = None) -> Result:
    """Run ``mfgctl ARGS...`` and assert it succeeded (exit 0); the result, for its
    stdout and stderr."""
    r = cli(*args, input=input)
    assert r.exit_code == 0, (
        f"mfgctl {shlex.join(str(a) for a in args)} exited {r.exit_code}; stderr:\n{r.stderr}"
    )
    return r


def import_yaml(cli: Cli, tmp_path: Path, text: str, name: str = "shop.yaml") -> None:
    """Write ``text`` to ``tmp_path/name`` and import it, asserting it succeeded."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    ok(cli, "import", path)


def day(offset: int) -> str:
    """A local date relative to today, as a user types it."""
    return (date.today() + timedelta(days=offset)).isoformat()
