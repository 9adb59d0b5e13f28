"""`mfgctl init` makes the database file readable and writable by its owner and group
only: mode 0660 less the user's umask, so a stricter umask wins and "others" never get
in. SQLite gives the -wal and -shm files the database file's mode."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

MFGCTL = Path(sys.executable).with_name("mfgctl")


def init_with_umask(path: Path, umask: int) -> subprocess.CompletedProcess[str]:
    """`mfgctl --db PATH init` in a process started with this umask, as a user's shell."""
    return subprocess.run(
        [str(MFGCTL), "--db", str(path), "init"],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask),
        timeout=60,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("umask", "expected"),
    [
        (0o007, 0o660),  # the umask the README recommends for a shared group: rw-rw----
        (0o002, 0o660),  # a permissive umask still gives others nothing
        (0o000, 0o660),
        (0o022, 0o640),  # the common default takes the group's write away: rw-r-----
        (0o077, 0o600),  # a private umask: owner only
    ],
)
def test_init_creates_the_file_for_owner_and_group_only(
    tmp_path: Path, umask: int, expected: int
) -> None:
    path = tmp_path / "shop.db"
    r = init_with_umask(path, umask)
    assert r.returncode == 0, r.stderr
    assert mode(path) == expected, oct(mode(path))


def test_the_wal_and_shm_files_get_the_database_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    assert init_with_umask(path, 0o007).returncode == 0
    # A process with the common umask 022 opens it (the first read in WAL mode creates
    # -wal and -shm): SQLite still gives them the database's 0660, so the group can
    # open them.
    code = (
        "import os, sqlite3, stat, sys\n"
        "os.umask(0o022)\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('SELECT count(*) FROM item').fetchone()\n"
        "print(oct(stat.S_IMODE(os.stat(sys.argv[1] + '-wal').st_mode)),"
        " oct(stat.S_IMODE(os.stat(sys.argv[1] + '-shm').st_mode)))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert r.stdout.split() == ["0o660", "0o660"]


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    assert init_with_umask(path, 0o077).returncode == 0
    with sqlite3.connect(path) as c:  # opening and writing never widens it
        c.execute("PRAGMA user_version")
    assert mode(path) == 0o600
