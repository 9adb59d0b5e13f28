"""The network-filesystem warning: a database on NFS, SMB/CIFS, sshfs, 9p... gets one
line on stderr per command (SQLite's locking cannot be trusted there), a local one
none; MFGCTL_NO_FS_WARNING=1 silences it. The mount table is a fake one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli

from mfgctl import db as dbmod

ITEM = ("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip

# /proc/self/mountinfo of a server whose /srv/shop is an NFS export, with a local disk
# mounted inside it (a space in its name, escaped as the kernel does) and an sshfs mount.
MOUNTINFO = (
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "50 27 0:50 / /srv/shop rw,relatime shared:5 - nfs4 files:/export/shop rw,vers=4.2\n"
    "51 50 8:17 / /srv/shop/local\\040disk rw,relatime - ext4 /dev/sdb1 rw\n"
    "52 27 0:52 / /home/ann/remote rw,nosuid,nodev - fuse.sshfs ann@files:/data rw\n"
    "53 27 0:53 / /mnt/nas rw - cifs //nas/shop rw,vers=3.0\n"
    "54 27 0:54 / /mnt/host rw - 9p hostshare rw,trans=virtio\n"
)


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/srv/shop/shop.db", "nfs4"),
        ("/srv/shop/sub/dir/shop.db", "nfs4"),
        # the longest mount point containing the directory wins: a local disk inside NFS
        ("/srv/shop/local disk/shop.db", "ext4"),
        # /srv/shopx is not inside /srv/shop although the text starts the same
        ("/srv/shopx/shop.db", "ext4"),
        ("/home/ann/remote/shop.db", "fuse.sshfs"),
        ("/mnt/nas/shop.db", "cifs"),
        ("/mnt/host/shop.db", "9p"),
        ("/var/lib/shop.db", "ext4"),
    ],
)
def test_the_filesystem_is_found_by_the_longest_mount_point(path: str, fstype: str) -> None:
    assert dbmod.filesystem_type(path, MOUNTINFO) == fstype


def test_the_older_proc_mounts_format_is_read_too() -> None:
    mounts = "/dev/vda / ext4 rw 0 0\nfiles:/export /srv/shop nfs rw,vers=3 0 0\n"
    assert dbmod.filesystem_type("/srv/shop/a.db", mounts) == "nfs"
    assert dbmod.filesystem_type("/tmp/a.db", mounts) == "ext4"


@pytest.mark.parametrize(
    ("path", "warned"),
    [
        ("/srv/shop/shop.db", True),
        ("/home/ann/remote/shop.db", True),
        ("/mnt/nas/shop.db", True),
        ("/mnt/host/shop.db", True),
        ("/srv/shop/local disk/shop.db", False),
        ("/var/lib/shop.db", False),
    ],
)
def test_network_filesystems_are_warned_about(path: str, warned: bool) -> None:
    message = dbmod.network_warning(path, MOUNTINFO)
    assert (message is not None) == warned
    if message:
        assert message.startswith(f"Warning: {path} is on a network filesystem (")
        assert "locking cannot be trusted" in message and "\n" not in message


def test_without_a_mount_table_nothing_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not Linux (no /proc): no table to read, so no guess either way.
    monkeypatch.setattr(dbmod, "MOUNT_TABLES", (tmp_path / "no-mountinfo",))
    assert dbmod.filesystem_type(tmp_path / "x.db") is None
    assert dbmod.network_warning(tmp_path / "x.db") is None


def test_the_real_mount_table_of_this_machine_is_read() -> None:
    # Whatever the test machine is, the root filesystem has a type.
    assert dbmod.filesystem_type("/x.db") not in (None, "")


# -- through the CLI ----------------------------------------------------------------------


@pytest.fixture
def on_nfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mount table in which the test's temporary directory is an NFS mount."""
    table = tmp_path / "mountinfo"
    point = str(tmp_path.resolve()).replace(" ", "\\040")
    table.write_text(
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        f"60 27 0:60 / {point} rw,relatime - nfs4 files:/export rw\n"
    )
    monkeypatch.setattr(dbmod, "MOUNT_TABLES", (table,))
    monkeypatch.setattr(dbmod, "_warned", set())
    monkeypatch.delenv("MFGCTL_NO_FS_WARNING", raising=False)
    return table


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: ")]


def test_every_command_warns_once_on_nfs_and_still_works(
    cli: Cli, db_path: Path, on_nfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = cli("init")
    assert r.exit_code == 0
    assert warning_lines(r.stderr) == [
        f"Warning: {db_path} is on a network filesystem (nfs4), where SQLite's locking "
        "cannot be trusted: two commands at once may corrupt it; keep the database on a "
        "local disk (MFGCTL_NO_FS_WARNING=1 silences this)"
    ]
    assert "Created mfgctl database" in r.stderr
    # Each command is a new process in real life: forget what the last one said.
    monkeypatch.setattr(dbmod, "_warned", set())
    r = cli(*ITEM)
    assert r.exit_code == 0 and len(warning_lines(r.stderr)) == 1
    monkeypatch.setattr(dbmod, "_warned", set())
    r = cli("item", "list", "-f", "json")
    assert r.exit_code == 0
    assert len(warning_lines(r.stderr)) == 1
    assert '"code":"SOLDER"' in r.stdout  # stdout stays data
    assert "Warning" not in r.stdout


def test_the_warning_is_once_per_process(
    db_path: Path, on_nfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dbmod.create(db_path).close()
    capsys.readouterr()
    for _ in range(3):
        dbmod.connect(db_path).close()
    assert capsys.readouterr().err == ""  # create() already warned about this file


def test_mfgctl_no_fs_warning_silences_it(
    cli: Cli, db_path: Path, on_nfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFGCTL_NO_FS_WARNING", "1")
    r = cli("init")
    assert r.exit_code == 0
    assert warning_lines(r.stderr) == []
    monkeypatch.setattr(dbmod, "_warned", set())
    r = cli(*ITEM)
    assert r.exit_code == 0
    assert warning_lines(r.stderr) == []


def test_a_local_database_gets_no_warning(
    cli: Cli, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n50 27 0:50 / /srv/shop rw - nfs4 f:/e rw\n"
    )
    monkeypatch.setattr(dbmod, "MOUNT_TABLES", (table,))
    monkeypatch.setattr(dbmod, "_warned", set())
    r = cli("init")
    assert r.exit_code == 0
    assert r.stderr.startswith("Created mfgctl database")
