"""Which database a command opens, and what a user sees when it cannot be used:
missing, not SQLite, not mfgctl's, too new, read-only, or busy."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, dump

from mfgctl import db as dbmod
from mfgctl.migrations import SCHEMA_VERSION

ITEM = ("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip


def one_error_line(stderr: str) -> str:
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


# -- which file -------------------------------------------------------------------------


def test_db_option_wins_over_the_environment(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    assert cli("--db", other, "init").exit_code == 0
    assert other.exists() and not db_path.exists()
    assert cli("--db", other, *ITEM).exit_code == 0
    assert "SOLDER" in cli("--db", other, "item", "list", "-f", "plain").stdout


def test_mfgctl_db_names_the_file(cli: Cli, db_path: Path) -> None:
    assert cli("init").exit_code == 0
    assert db_path.exists()


def test_the_default_is_mfgctl_db_in_the_current_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MFGCTL_DB")
    monkeypatch.chdir(tmp_path)
    r = cli("init")
    assert r.exit_code == 0
    assert "Created mfgctl database mfgctl.db" in r.stderr
    assert (tmp_path / "mfgctl.db").exists()


def test_a_missing_database_gives_a_hint_and_is_not_created(cli: Cli, db_path: Path) -> None:
    r = cli("stock")
    assert r.exit_code == 6
    assert one_error_line(r.stderr) == (
        f"Error: no database at {db_path}: run `mfgctl init` to create it, "
        "or choose one with --db or MFGCTL_DB\n"
    )
    assert not db_path.exists()
    assert cli(*ITEM).exit_code == 6
    assert not db_path.exists()


# -- unusable files ---------------------------------------------------------------------


def test_a_file_that_is_not_sqlite(cli: Cli, db_path: Path) -> None:
    db_path.write_bytes(b"name,qty\nMIC-100,5\n" * 100)
    r = cli("stock")
    assert r.exit_code == 6
    assert f"Error: {db_path} is not an mfgctl database" in one_error_line(r.stderr)
    assert db_path.read_bytes() == b"name,qty\nMIC-100,5\n" * 100


def test_a_sqlite_file_of_another_program(cli: Cli, db_path: Path) -> None:
    with sqlite3.connect(db_path) as c:
        c.execute("CREATE TABLE notes (text TEXT)")
    before = dump(db_path)
    r = cli(*ITEM)
    assert r.exit_code == 6
    assert one_error_line(r.stderr) == f"Error: {db_path} is not an mfgctl database\n"
    assert dump(db_path) == before


def test_a_database_from_a_newer_mfgctl(cli: Cli, initdb: Path) -> None:
    with sqlite3.connect(initdb) as c:
        c.execute("PRAGMA user_version = 99")
    before = dump(initdb)
    r = cli("stock")
    assert r.exit_code == 6
    assert f"written by a newer mfgctl (schema 99, this one knows {SCHEMA_VERSION}): upgrade" in (
        one_error_line(r.stderr)
    )
    assert dump(initdb) == before


def test_a_directory_is_not_a_database(cli: Cli, tmp_path: Path) -> None:
    r = cli("--db", tmp_path, "stock")
    assert r.exit_code == 6
    assert "is a directory, not a database file" in one_error_line(r.stderr)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make a file read-only even for root (chmod does not stop root; chattr +i does)."""
    try:
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot make a file read-only here (chattr +i failed: {e})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_a_read_only_database_refuses_writes_but_reports(cli: Cli, initdb: Path) -> None:
    assert cli(*ITEM).exit_code == 0
    cli("stock", "receive", "SOLDER", "2")
    before = dump(initdb)
    with immutable(initdb):
        r = cli("stock", "receive", "SOLDER", "1")
        assert r.exit_code == 6
        assert one_error_line(r.stderr) == (
            f"Error: database {initdb} is read-only: check the file's permissions\n"
        )
        report = cli("stock", "-f", "plain")
        assert report.exit_code == 0
        assert "SOLDER\tSolder\traw\tkg\t2\t2" in report.stdout
    assert dump(initdb) == before


# -- init ---------------------------------------------------------------------------------


def test_init_creates_an_empty_database_in_wal_mode(cli: Cli, db_path: Path) -> None:
    r = cli("init")
    assert r.exit_code == 0
    assert r.stderr == f"Created mfgctl database {db_path} (schema version {SCHEMA_VERSION})\n"
    with sqlite3.connect(db_path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA application_id").fetchone()[0] == dbmod.APPLICATION_ID
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert c.execute("SELECT count(*) FROM item").fetchone()[0] == 0


def test_init_in_a_missing_directory(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.db"
    r = cli("--db", target, "init")
    assert r.exit_code == 6
    assert one_error_line(r.stderr) == (
        f"Error: cannot create {target}: directory {target.parent} does not exist\n"
    )
    assert not (tmp_path / "no").exists()


def test_init_over_an_existing_file_touches_nothing(cli: Cli, initdb: Path) -> None:
    cli(*ITEM)
    before = dump(initdb)
    r = cli("init")
    assert r.exit_code == 1
    assert one_error_line(r.stderr) == (
        f"Error: {initdb} already exists: not touching it (use another --db path)\n"
    )
    assert dump(initdb) == before


def test_init_over_a_foreign_file_leaves_it_alone(cli: Cli, db_path: Path) -> None:
    db_path.write_text("my shopping list\n")
    assert cli("init").exit_code == 1
    assert db_path.read_text() == "my shopping list\n"


def test_connect_sets_the_promised_pragmas(initdb: Path) -> None:
    conn = dbmod.connect(initdb)
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    finally:
        conn.close()


# -- busy -----------------------------------------------------------------------------------


@pytest.fixture
def held(initdb: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlite3.Connection]:
    """Another process holding the write lock; mfgctl waits only 0.2 s for it."""
    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", "0.2")
    other = sqlite3.connect(initdb, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    other.execute("ROLLBACK")
    other.close()


def test_a_writer_gives_up_after_the_busy_timeout(cli: Cli, initdb: Path, held: object) -> None:
    r = cli(*ITEM)
    assert r.exit_code == 5
    assert one_error_line(r.stderr) == (
        "Error: database is busy: another mfgctl command held it for more than 0.2 s; try again\n"
    )


def test_a_reader_is_not_blocked_by_a_writer(cli: Cli, initdb: Path, held: object) -> None:
    r = cli("stock", "-f", "json")
    assert r.exit_code == 0
    assert r.stdout.strip() == "[]"


def test_an_exclusive_lock_is_busy_not_unusable(
    cli: Cli, initdb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In rollback-journal mode a committing writer keeps even readers out for a moment.
    with sqlite3.connect(initdb) as c:
        c.execute("PRAGMA journal_mode = DELETE")
    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", "0.2")
    other = sqlite3.connect(initdb, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        r = cli("stock")
        assert r.exit_code == 5
        assert "database is busy" in one_error_line(r.stderr)
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize(("value", "seconds"), [("0.2", 0.2), ("3", 3), ("nan", 10), ("-1", 10)])
def test_the_busy_timeout_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: float
) -> None:
    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", value)
    assert dbmod.busy_timeout_s() == seconds
