"""Files mfgctl writes for the user never destroy data (tester t17 #2, #10, #11).

``export -o FILE`` is guarded as ``backup FILE`` is: the database itself and its
``-wal``/``-shm``/``-journal`` are refused even with ``--force``, an existing FILE needs
``--force``, and FILE is written to a temporary file and renamed into place, so a
failed write leaves the old FILE whole. A backup or export killed half way leaves a
hidden temporary file; the next run to the same FILE removes it, and never the
temporary file of a run still at work.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, ok, refused

from mfgctl.domain import backup as files

ENV = {**os.environ, "MFGCTL_USER": "tester", "MFGCTL_NO_FS_WARNING": "1"}
ENV.pop("MFGCTL_DB", None)
WIDGET = ("item", "add", "W", "--name", "Widget", "--type", "component", "--unit", "pcs",
          "--make-or-buy", "buy")  # fmt: skip


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    """A database with history the export does not hold: a receipt and a shipment."""
    ok(cli, *WIDGET)
    ok(cli, "stock", "receive", "W", "5")
    ok(cli, "ship", "W", "2", "--to", "ACME")
    return initdb


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# --- export -o never destroys data -------------------------------------------------


def test_export_onto_the_database_itself_is_refused_even_with_force(shop: Path, cli: Cli) -> None:
    for extra in ((), ("--force",)):
        err = refused(cli, shop, "export", "-o", shop, *extra)
        assert err == f"Error: export target {shop} is the database itself: choose another file\n"
    assert "W\tWidget\tcomponent\tpcs\t3" in ok(cli, "stock", "-f", "plain").stdout
    assert len(ok(cli, "stock", "history", "W", "-f", "plain").stdout.splitlines()) == 3


def test_export_onto_the_database_through_a_symlink_or_another_name_is_refused(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(shop)
    hard = tmp_path / "hard.db"
    os.link(shop, hard)
    for target in (link, hard, tmp_path / "." / shop.name):
        err = refused(cli, shop, "export", "-o", target, "--force")
        assert "is the database itself" in err


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_export_onto_a_side_file_of_the_database_is_refused(
    shop: Path, cli: Cli, side: str
) -> None:
    target = Path(f"{shop}{side}")
    err = refused(cli, shop, "export", "-o", target, "--force")
    assert err == (
        f"Error: export target {target} is the database's {side} file, part of the "
        "database while it is in use: choose another file\n"
    )


def test_export_refuses_an_existing_file_unless_force(shop: Path, cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "snap.yaml"
    target.write_text("last week's snapshot\n")
    target.chmod(0o640)
    err = refused(cli, shop, "export", "-o", target)
    assert err == (
        f"Error: {target} already exists: not overwriting it (add --force to replace it)\n"
    )
    assert target.read_text() == "last week's snapshot\n"
    r = ok(cli, "export", "-o", target, "--force")
    assert r.stderr == f"Exported to {target}\n"
    assert target.read_text() == ok(cli, "export").stdout
    assert target.stat().st_mode & 0o777 == 0o640  # the mode of the file it replaced
    assert hidden(tmp_path) == []


def test_a_new_export_file_gets_the_usual_mode(shop: Path, cli: Cli, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ok(cli, "export", "-o", tmp_path / "new.yaml")
    finally:
        os.umask(old)
    assert (tmp_path / "new.yaml").stat().st_mode & 0o777 == 0o644


def test_export_into_a_missing_directory_or_onto_a_directory_is_refused(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    err = refused(cli, shop, "export", "-o", tmp_path / "no" / "snap.yaml")
    assert "directory" in err and "does not exist" in err
    err = refused(cli, shop, "export", "-o", tmp_path)
    assert "is a directory" in err


def test_a_failed_export_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    """A full disk, simulated by a file-size limit: the good snapshot stays."""
    db = tmp_path / "big.db"
    lines = ["items:"] + [
        f"  - {{code: P{i:05}, name: Part {i}, type: component, unit: pcs, make_or_buy: buy}}"
        for i in range(1200)
    ]
    (tmp_path / "big.yaml").write_text("\n".join(lines) + "\n")

    def mfgctl(*args: object, limit: int | None = None) -> subprocess.CompletedProcess[str]:
        def cap() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        return subprocess.run(
            [sys.executable, "-m", "mfgctl", "--db", str(db), *map(str, args)],
            capture_output=True, text=True, env=ENV, timeout=120, check=False,
            preexec_fn=cap,
        )  # fmt: skip

    assert mfgctl("init").returncode == 0
    assert mfgctl("import", tmp_path / "big.yaml").returncode == 0
    snap = tmp_path / "snap.yaml"
    assert mfgctl("export", "-o", snap).returncode == 0
    good = snap.read_bytes()
    assert len(good) > 80_000
    r = mfgctl("export", "-o", snap, "--force", limit=64 * 1024)
    assert (r.returncode, r.stderr) == (1, f"Error: cannot write {snap}: File too large\n")
    assert snap.read_bytes() == good
    assert hidden(tmp_path) == []


# --- backup never replaces a part of the live database ----------------------------


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_backup_onto_a_side_file_of_the_live_database_is_refused(
    shop: Path, cli: Cli, side: str
) -> None:
    # Another process keeps the database open, so its latest commit lives in the -wal.
    reader = sqlite3.connect(shop)
    try:
        reader.execute("SELECT count(*) FROM item").fetchone()
        ok(cli, "stock", "receive", "W", "7")
        target, wal = Path(f"{shop}{side}"), Path(f"{shop}-wal")
        held = wal.read_bytes()
        err = refused(cli, shop, "backup", target, "--force")
        assert err == (
            f"Error: backup target {target} is the database's {side} file, part of the "
            "database while it is in use: choose another file\n"
        )
        assert wal.read_bytes()[: len(held)] == held  # the commit is still there
        assert "W\tWidget\tcomponent\tpcs\t10" in ok(cli, "stock", "-f", "plain").stdout
    finally:
        reader.close()


# --- a killed backup or export leaves nothing for good ----------------------------

KILLED_BACKUP = """
import os, signal, sqlite3, sys
from mfgctl.domain import backup as b

def verify(path, *, schema_version):
    # Killed while checking the copy: the copy, its -wal and its -shm are on disk.
    c = sqlite3.connect(path)
    c.execute("PRAGMA integrity_check").fetchall()
    os.kill(os.getpid(), signal.SIGKILL)

b._verify = verify
sys.argv = ["mfgctl", *sys.argv[1:]]
from mfgctl.cli import main
main()
"""


def test_the_next_backup_removes_what_a_killed_backup_left(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    backups = tmp_path / "bk"
    backups.mkdir()
    target = backups / "b.db"
    r = subprocess.run(
        [sys.executable, "-c", KILLED_BACKUP, "--db", str(shop), "backup", str(target)],
        capture_output=True, text=True, env=ENV, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == -signal.SIGKILL, r.stderr
    left = hidden(backups)
    assert sorted(n.rsplit(".", 1)[1] for n in left) == ["tmp", "tmp-shm", "tmp-wal"], left
    assert not target.exists()
    ok(cli, "backup", target)
    assert hidden(backups) == []
    assert target.exists()
    # The same for an export.
    snap = backups / "snap.yaml"
    stale = backups / f".snap.yaml.{files._host()}-{dead_pid()}.abcd1234.tmp"
    stale.write_text("half an export")
    ok(cli, "export", "-o", snap)
    assert hidden(backups) == []


def test_a_temporary_file_of_a_run_still_at_work_is_kept(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    host = files._host()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        names = {
            # a backup of this host still running (its process is alive)
            "running": f".b.db.{host}-{sleeper.pid}.aaaaaaaa.tmp",
            # a run in another pid namespace: the pid means nothing here, its lock holds
            "locked": f".b.db.{host}-{dead_pid()}.bbbbbbbb.tmp",
            # another machine's backup to a shared directory
            "elsewhere": f".b.db.{host}x-{dead_pid()}.cccccccc.tmp",
            # another FILE's
            "other file": f".c.db.{host}-{dead_pid()}.dddddddd.tmp",
            # not one of ours
            "foreign": ".b.db.whatever.tmp",
        }
        stale = f".b.db.{host}-{dead_pid()}.eeeeeeee.tmp"
        for name in [*names.values(), stale, stale + "-wal"]:
            (tmp_path / name).write_text("x")
        fd = os.open(tmp_path / names["locked"], os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            ok(cli, "backup", tmp_path / "b.db")
        finally:
            os.close(fd)
        assert hidden(tmp_path) == sorted(names.values())
    finally:
        sleeper.kill()
        sleeper.wait()
