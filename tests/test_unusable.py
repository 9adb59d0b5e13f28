"""Unusable databases, end to end in a real process: each gets one clear `Error:` line,
exit code 6, no traceback, and the file as it was.

A read-only database can still be read. In WAL mode a reader needs the ``-shm`` file
beside the database: in a writable directory SQLite creates it (even for a read-only
file); in a read-only directory mfgctl reads the file alone (SQLite's immutable mode,
safe because no writer can work there either), unless a ``-wal`` with changes lies
beside it, which needs the ``-shm`` to be read: that is refused, naming the directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mfgctl.migrations import SCHEMA_VERSION

ENV = {**os.environ, "MFGCTL_USER": "tester", "MFGCTL_NO_FS_WARNING": "1"}
ENV.pop("MFGCTL_DB", None)
ITEM = ("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip


def mfgctl(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mfgctl", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )


def unusable(r: subprocess.CompletedProcess[str]) -> str:
    """Exit 6, one `Error:` line, nothing on stdout; returns the line."""
    assert r.returncode == 6, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    return r.stderr.strip()


def dump(path: Path) -> str:
    c = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return "\n".join(c.iterdump())
    finally:
        c.close()


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files and directories read-only: chmod for a user, chattr +i for root
    (root ignores permissions); skipped where neither works."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, m in modes.items():
                p.chmod(m)
        return
    done: list[Path] = []
    try:
        for p in paths:
            r = subprocess.run(["chattr", "+i", str(p)], capture_output=True, check=False)
            if r.returncode != 0:
                pytest.skip(f"cannot make {p} read-only here (chattr: {r.stderr!r})")
            done.append(p)
        yield
    finally:
        for p in done:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True, check=False)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A database with 2 kg of solder, alone in its own directory (no -wal, no -shm)."""
    folder = tmp_path / "shop"
    folder.mkdir()
    db = folder / "shop.db"
    assert mfgctl(db, "init").returncode == 0
    assert mfgctl(db, *ITEM).returncode == 0
    assert mfgctl(db, "stock", "receive", "SOLDER", "2").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["shop.db"]
    return db


STOCK_ROW = "SOLDER\tSolder\traw\tkg\t2\t2"  # the 2 kg received, all free


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "orders.csv"
    db.write_text("item,qty\nMIC-100,5\n" * 50)
    line = unusable(mfgctl(db, "stock"))
    assert line == f"Error: {db} is not an mfgctl database (file is not a database)"
    assert db.read_text() == "item,qty\nMIC-100,5\n" * 50


def test_a_database_from_a_newer_mfgctl(shop: Path) -> None:
    with sqlite3.connect(shop) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = dump(shop)
    line = unusable(mfgctl(shop, *ITEM[:3], "--name", "x", *ITEM[5:]))
    assert line == (
        f"Error: {shop} was written by a newer mfgctl (schema {SCHEMA_VERSION + 1}, this one "
        f"knows {SCHEMA_VERSION}): upgrade mfgctl"
    )
    assert dump(shop) == before


def test_a_missing_directory(tmp_path: Path) -> None:
    db = tmp_path / "gone" / "shop.db"
    assert unusable(mfgctl(db, "stock")) == (
        f"Error: no database at {db}: directory {db.parent} does not exist"
    )
    assert unusable(mfgctl(db, "init")) == (
        f"Error: cannot create {db}: directory {db.parent} does not exist"
    )
    assert not db.parent.exists()


def test_a_read_only_file_is_read_but_not_written(shop: Path) -> None:
    before = dump(shop)
    with read_only(shop):
        r = mfgctl(shop, "stock", "-f", "plain")
        assert r.returncode == 0, r.stderr
        assert STOCK_ROW in r.stdout
        # The directory is writable: SQLite made the -shm a WAL reader needs beside it.
        assert Path(f"{shop}-shm").exists()
        line = unusable(mfgctl(shop, "stock", "receive", "SOLDER", "1"))
        assert line == f"Error: database {shop} is read-only: check the file's permissions"
    assert dump(shop) == before


def test_a_read_only_file_in_a_read_only_directory_is_still_read(shop: Path) -> None:
    # A copy on a read-only share: no -shm can be made, and none is needed to read.
    before = dump(shop)
    with read_only(shop, shop.parent):
        r = mfgctl(shop, "stock", "-f", "plain")
        assert r.returncode == 0, r.stderr
        assert STOCK_ROW in r.stdout
        assert mfgctl(shop, "check").returncode == 0
        line = unusable(mfgctl(shop, "stock", "receive", "SOLDER", "1"))
        assert "read-only" in line and "permissions" in line
    assert sorted(p.name for p in shop.parent.iterdir()) == ["shop.db"]
    assert dump(shop) == before


def test_a_writable_file_in_a_read_only_directory_names_the_directory(shop: Path) -> None:
    before = dump(shop)
    with read_only(shop.parent):
        assert STOCK_ROW in mfgctl(shop, "stock", "-f", "plain").stdout
        line = unusable(mfgctl(shop, "stock", "receive", "SOLDER", "1"))
        assert line == (
            f"Error: database {shop} cannot be written: its directory {shop.parent} is "
            "read-only and SQLite keeps shop.db-wal and shop.db-shm there; check the "
            "directory's permissions"
        )
    assert dump(shop) == before


def test_changes_left_in_the_wal_are_not_silently_skipped(shop: Path, tmp_path: Path) -> None:
    # A copy taken while a writer was active: its latest change (3 kg more solder) is
    # only in shop.db-wal. In a read-only directory SQLite cannot read that without a
    # -shm, and reading the file alone would show stale stock: refused.
    other = sqlite3.connect(shop, isolation_level=None)  # keeps the WAL from being folded
    other.execute("SELECT count(*) FROM item").fetchone()
    assert mfgctl(shop, "stock", "receive", "SOLDER", "3").returncode == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("shop.db", "shop.db-wal"):
        shutil.copyfile(shop.parent / name, copy / name)
    other.close()
    db = copy / "shop.db"
    with read_only(copy):
        line = unusable(mfgctl(db, "stock"))
        assert line == (
            f"Error: cannot read {db}: shop.db-wal holds its latest changes and directory "
            f"{copy} is read-only, so SQLite cannot create shop.db-shm; make the directory "
            "writable"
        )
    # Once the directory is writable the change is there.
    assert "SOLDER\tSolder\traw\tkg\t5\t5" in mfgctl(db, "stock", "-f", "plain").stdout
