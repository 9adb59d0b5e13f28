"""A database an ordinary user cannot write is still read (tester t17 #6, #8).

Run as that user for real: when the tests run as root (who ignores permissions) each
command runs as ``nobody`` (through ``setpriv``); otherwise as the test's own user,
with the files made read-only by chmod. In a directory the user cannot write, SQLite
cannot make the ``-shm`` a WAL reader needs ("attempt to write a readonly database"
for a user, "unable to open" for root on an immutable directory): mfgctl reads the
file alone then. A write exits 6 naming what to make writable. A database of an older
schema needs an upgrade, which writes: a user who cannot write it is told so, and by
whom it must be opened.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mfgctl.migrations import SCHEMA_VERSION

SRC = Path(__file__).resolve().parents[1] / "src"
NOBODY = 65534
ROOT = os.geteuid() == 0
ITEM = ("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip
STOCK_ROW = "SOLDER\tSolder\traw\tkg\t2\t2"


# setpriv keeps root's right to reach the interpreter until it runs it (the venv's
# Python may live under /root); from then on the process is nobody's, without
# privileges. Python's own setuid before exec cannot reach such an interpreter.
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _env() -> dict[str, str]:
    env = {**os.environ, "MFGCTL_USER": "tester", "MFGCTL_NO_FS_WARNING": "1",
           "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp"}  # fmt: skip
    env.pop("MFGCTL_DB", None)
    return env


@functools.cache
def _nobody_can_run_mfgctl() -> bool:
    """Whether ``nobody`` can reach this checkout and its venv: not from a private
    directory (a clone under ``mktemp -d``, mode 0700), where every command would fail
    with "No module named mfgctl" for a reason that is not the one under test."""
    probe = [*AS_NOBODY, sys.executable, "-c", "import mfgctl.cli, typer"]
    r = subprocess.run(probe, capture_output=True, env=_env(), cwd="/", timeout=60, check=False)
    return r.returncode == 0


def run(db: Path, *args: str, user: bool = True) -> subprocess.CompletedProcess[str]:
    """``mfgctl --db DB ARGS`` in a new process: as ``nobody`` when the tests run as root
    (``user``), else as the test's user."""
    if ROOT and user and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot run a command as nobody")
    if ROOT and user and not _nobody_can_run_mfgctl():
        pytest.skip("nobody cannot read this checkout or its venv (a private directory)")
    prefix = AS_NOBODY if ROOT and user else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "mfgctl", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd="/",
        timeout=60,
        check=False,
    )


def unusable(r: subprocess.CompletedProcess[str]) -> str:
    """Exit 6, one `Error:` line, nothing on stdout; returns the line."""
    assert r.returncode == 6, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    return r.stderr.strip()


@pytest.fixture
def place() -> Iterator[Path]:
    """A directory the test's user (or nobody) can reach: pytest's tmp_path is private
    to root."""
    folder = Path(tempfile.mkdtemp(prefix="mfgctl-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for p in [folder, *folder.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(folder)


Protect = Callable[..., None]


@pytest.fixture
def protect() -> Protect:
    """``protect(path, writable=False)``: make PATH (file or directory) read-only, or
    writable, for the user the commands run as."""

    def apply(path: Path, *, writable: bool = False) -> None:
        if ROOT:  # root owns it; give it to nobody when nobody must write it
            os.chown(path, NOBODY if writable else 0, -1)
            path.chmod(0o755 if path.is_dir() else 0o644)
        elif path.is_dir():
            path.chmod(0o755 if writable else 0o555)
        else:
            path.chmod(0o644 if writable else 0o444)

    return apply


def shop(folder: Path) -> Path:
    """A database with 2 kg of solder, alone in ``folder`` (no -wal, no -shm)."""
    db = folder / "shop.db"
    for args in (("init",), ITEM, ("stock", "receive", "SOLDER", "2")):
        r = run(db, *args, user=False)
        assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["shop.db"]
    return db


def dump(path: Path) -> str:
    c = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return "\n".join(c.iterdump())
    finally:
        c.close()


def test_a_read_only_copy_on_a_read_only_share_is_read(place: Path, protect: Protect) -> None:
    db = shop(place)
    before = dump(db)
    protect(db)
    protect(place)
    r = run(db, "stock", "-f", "plain")
    assert r.returncode == 0, r.stderr
    assert STOCK_ROW in r.stdout
    assert run(db, "check").returncode == 0
    line = unusable(run(db, "stock", "receive", "SOLDER", "1"))
    assert line == (
        f"Error: database {db} is read-only: check the permissions of the file and of its "
        f"directory {place} (SQLite keeps shop.db-wal and shop.db-shm there)"
    )
    assert sorted(p.name for p in place.iterdir()) == ["shop.db"]
    assert dump(db) == before


def test_a_writable_file_in_a_read_only_directory_is_read_and_a_write_names_the_directory(
    place: Path, protect: Protect
) -> None:
    db = shop(place)
    before = dump(db)
    protect(db, writable=True)
    protect(place)
    r = run(db, "stock", "-f", "plain")
    assert r.returncode == 0, r.stderr
    assert STOCK_ROW in r.stdout
    line = unusable(run(db, "stock", "receive", "SOLDER", "1"))
    assert line == (
        f"Error: database {db} cannot be written: its directory {place} is read-only and "
        "SQLite keeps shop.db-wal and shop.db-shm there; check the directory's permissions"
    )
    assert dump(db) == before


def old_shop(folder: Path) -> Path:
    """A database of schema 1 (in WAL mode, as mfgctl leaves them) with 100 MIC-100."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_migrations import make_v1

    db = folder / "old.db"
    make_v1(db)
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode = WAL").fetchone()
    c.close()
    return db


def version(db: Path) -> int:
    c = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    try:
        return c.execute("PRAGMA user_version").fetchone()[0]  # type: ignore[no-any-return]
    finally:
        c.close()


def upgrade_line(db: Path, where: str) -> str:
    return (
        f"Error: database {db} has schema 1 and this mfgctl needs schema {SCHEMA_VERSION}: "
        f"the upgrade writes to it, and {where}; run any mfgctl command on it once (say "
        f"`mfgctl --db {db} check`) as a user who can write the file and its directory, or "
        "copy it to a writable place"
    )


def test_an_old_read_only_database_says_it_needs_an_upgrade_by_someone_who_can_write_it(
    place: Path, protect: Protect
) -> None:
    db = old_shop(place)
    # On a read-only share (no -wal, no -shm can be made): nothing can be upgraded.
    protect(db)
    protect(place)
    line = upgrade_line(db, f"the file and its directory {place} are read-only")
    assert unusable(run(db, "stock")) == line
    protect(db, writable=True)
    assert unusable(run(db, "stock")) == upgrade_line(db, f"its directory {place} is read-only")
    # A read-only file in a writable directory: reads and writes alike.
    protect(db)
    protect(place, writable=True)
    for args in (("stock", "-f", "plain"), ("stock", "receive", "MIC-100", "1")):
        assert unusable(run(db, *args)) == upgrade_line(db, "the file is read-only")
    assert version(db) == 1
    # Done as it says (by a user who can write it), the read works.
    protect(db, writable=True)
    assert run(db, "check", user=False).returncode == 0
    assert version(db) == SCHEMA_VERSION
    r = run(db, "stock", "-f", "plain")
    assert r.returncode == 0 and "MIC-100\tMicrophone" in r.stdout
