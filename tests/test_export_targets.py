"""``export -o FILE`` writes *to* FILE, whatever FILE is (tester t20 #1).

A symlink is followed: the file it points to gets the export, written atomically beside
it, and the link stays. A FIFO or a device (/dev/stdout) is written through, never
replaced by a regular file, and needs no --force (nothing is destroyed). ``backup``
follows a symlink the same way and refuses a FIFO or device (a backup is a database
file). Every FIFO and device here lives in tmp_path: never a real /dev node.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import Cli, ok, refused

ENV = {**os.environ, "MFGCTL_USER": "tester", "MFGCTL_NO_FS_WARNING": "1"}
ENV.pop("MFGCTL_DB", None)
WIDGET = ("item", "add", "W", "--name", "Widget", "--type", "component", "--unit", "pcs",
          "--make-or-buy", "buy")  # fmt: skip


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    ok(cli, *WIDGET)
    ok(cli, "stock", "receive", "W", "5")
    return initdb


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def reader(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A thread reading everything written to ``fifo`` (the export blocks until one
    is there, as any writer of a FIFO does)."""
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, got


def test_export_onto_a_symlink_writes_the_file_it_points_to_and_keeps_the_link(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    real = tmp_path / "snapshots"
    real.mkdir()
    target = real / "target.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    err = refused(cli, shop, "export", "-o", link)
    assert err == f"Error: {link} already exists: not overwriting it (add --force to replace it)\n"
    assert target.read_text() == "old\n"
    r = ok(cli, "export", "-o", link, "--force")
    assert r.stderr == f"Exported to {link}\n"
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == ok(cli, "export").stdout
    assert target.stat().st_mode & 0o777 == 0o640
    assert hidden(tmp_path) == [] and hidden(real) == []


def test_export_onto_a_dangling_symlink_creates_the_file_it_names(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "new.yaml")
    ok(cli, "export", "-o", link)
    assert link.is_symlink()
    assert (tmp_path / "new.yaml").read_text() == ok(cli, "export").stdout


@pytest.mark.parametrize("via_link", [False, True])
def test_export_onto_a_fifo_writes_through_it_without_force(
    shop: Path, cli: Cli, tmp_path: Path, via_link: bool
) -> None:
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    target = fifo
    if via_link:
        target = tmp_path / "to-ff"
        target.symlink_to(fifo)
    t, got = reader(fifo)
    r = ok(cli, "export", "-o", target)
    t.join(10)
    assert r.stderr == f"Exported to {target}\n"
    assert got == [ok(cli, "export").stdout.encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a regular file
    assert target.is_symlink() == via_link
    assert hidden(tmp_path) == []


def test_export_to_dev_stdout_goes_to_the_output(shop: Path, cli: Cli) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mfgctl", "--db", str(shop), "export", "-o", "/dev/stdout"],
        capture_output=True, text=True, env=ENV, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout == ok(cli, "export").stdout
    assert r.stderr == "Exported to /dev/stdout\n"


def test_export_to_a_descriptor_appends_where_the_shell_opened_it(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    """``export -o /dev/stdout >> log``: written at the end, as the shell opened it."""
    log = tmp_path / "log"
    log.write_text("before\n")
    with open(log, "a") as out:
        r = subprocess.run(
            [sys.executable, "-m", "mfgctl", "--db", str(shop), "export", "-o", "/dev/stdout"],
            stdout=out, stderr=subprocess.PIPE, text=True, env=ENV, timeout=60, check=False,
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert log.read_text() == "before\n" + ok(cli, "export").stdout


def test_the_database_through_a_link_is_still_refused(shop: Path, cli: Cli, tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(shop)
    err = refused(cli, shop, "export", "-o", link, "--force")
    assert "is the database itself" in err
    wal = tmp_path / "wal.yaml"
    wal.symlink_to(f"{shop}-wal")
    err = refused(cli, shop, "export", "-o", wal, "--force")
    assert "-wal file" in err
    assert link.is_symlink() and wal.is_symlink()


def test_backup_onto_a_symlink_replaces_the_file_it_points_to_and_keeps_the_link(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    target = backups / "b.db"
    target.write_text("last week's backup\n")
    link = tmp_path / "latest.db"
    link.symlink_to(target)
    refused(cli, shop, "backup", link)
    assert target.read_text() == "last week's backup\n"
    ok(cli, "backup", link, "--force")
    assert link.is_symlink() and os.readlink(link) == str(target)
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM move").fetchone()[0] == 1
    finally:
        conn.close()
    assert hidden(tmp_path) == [] and hidden(backups) == []


def test_backup_onto_a_fifo_is_refused_and_the_fifo_kept(
    shop: Path, cli: Cli, tmp_path: Path
) -> None:
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    for extra in ((), ("--force",)):
        err = refused(cli, shop, "backup", fifo, *extra)
        assert err == (
            f"Error: backup target {fifo} is not a regular file (a FIFO, a device or a "
            "descriptor): a backup is a database file; give a file name\n"
        )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert hidden(tmp_path) == []
