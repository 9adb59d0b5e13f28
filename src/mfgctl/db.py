"""Opening an mfgctl database: pragmas, schema, migrations, and transactions.

Settings and why:

* ``foreign_keys=ON`` on every connection (it is off by default in SQLite and must be
  set outside a transaction).
* ``journal_mode=WAL`` (persistent, set at ``init``): readers never block the writer.
* ``synchronous=FULL``: a command that said "done" survives a power cut. In WAL mode
  NORMAL could lose the last commits on power loss; one fsync per command is cheap.
* ``busy_timeout``: a writer waits this long for another writer (``MFGCTL_BUSY_TIMEOUT``
  seconds, default 10) before giving up with exit code 5.
* Every writing command runs in one ``BEGIN IMMEDIATE`` transaction: the write lock is
  taken before the first read, so a check and the write it guards cannot be split by
  another process (two cron jobs can never reserve the same units).
* ``init`` creates the file with mode 0660 less the umask (0660 under umask 007, 0640
  under 022, 0600 under 077): owner and group only, never everyone. SQLite gives the
  ``-wal`` and ``-shm`` files the database file's mode.
* A database on a network filesystem (NFS, SMB/CIFS, sshfs and other FUSE network
  mounts, 9p...) gets a one-line warning on stderr, once per command: SQLite's locks
  and its WAL shared memory are not reliable there, so two processes could both write.
  ``MFGCTL_NO_FS_WARNING=1`` silences it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mfgctl.errors import DatabaseBusy, DatabaseUnusable, MfgError
from mfgctl.migrations import SCHEMA_VERSION, upgrade

APPLICATION_ID = 0x4D464743  # "MFGC": marks a file as an mfgctl database
DEFAULT_PATH = "mfgctl.db"
DB_FILE_MODE = 0o660  # owner and group read and write; the umask may take more away

# Where the mount table is read from: a module attribute so tests can point it at a
# fake one. /proc/self/mountinfo escapes spaces in mount points; /proc/mounts is the
# older format with the same escapes.
MOUNT_TABLES = (Path("/proc/self/mountinfo"), Path("/proc/mounts"))

# Filesystem types (as the mount table names them) on which SQLite's POSIX locks and
# the WAL's shared-memory file cannot be trusted between processes or machines.
NETWORK_FS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "coda", "davfs",
        "glusterfs", "gpfs", "lustre", "ncpfs", "ocfs2", "gfs2", "beegfs", "orangefs",
        "pvfs2", "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.davfs2",
        "fuse.glusterfs", "fuse.ceph-fuse", "fuse.juicefs", "fuse.mfs", "fuse.moosefs",
        "fuse.blobfuse", "fuse.blobfuse2", "fuse.goofys", "fuse.smbnetfs",
        "fuse.curlftpfs",
    }
)  # fmt: skip
_warned: set[str] = set()


MAX_BUSY_TIMEOUT_S = 86_400


def busy_timeout_s() -> float:
    """Seconds a command waits for another writer (``MFGCTL_BUSY_TIMEOUT``, default 10;
    at most a day, SQLite's limit being a 32-bit count of milliseconds)."""
    from decimal import Decimal, InvalidOperation

    try:
        seconds = Decimal(os.environ.get("MFGCTL_BUSY_TIMEOUT", "10"))
    except InvalidOperation:
        return 10
    if not seconds.is_finite() or seconds < 0:
        return 10
    # min() first: 1e400 seconds made int(...) / 1000 overflow a float (exit 70).
    return int(min(seconds, MAX_BUSY_TIMEOUT_S) * 1000) / 1000


def schema_sql() -> str:
    """The DDL of a new database: schema.sql shipped in the package (or the source tree)."""
    from importlib import resources  # only `init` needs it: keep it off start-up

    packaged = resources.files("mfgctl").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text(encoding="utf-8")


def map_sqlite_error(e: sqlite3.Error, path: str | Path = "") -> MfgError:
    """Turn a SQLite failure a user can meet into an MfgError with the right exit code."""
    text = str(e)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return DatabaseBusy(
            f"database is busy: another mfgctl command held it for more than "
            f"{busy_timeout_s():g} s; try again"
        )
    if "readonly" in low or "read-only" in low:
        return DatabaseUnusable(_read_only_message(Path(path)) if path else text)
    if "not a database" in low or "malformed" in low or "unable to open" in low:
        return DatabaseUnusable(f"{path} is not a usable mfgctl database ({text})")
    if "cannot store real value" in low or "integer overflow" in low:
        # An integer sum beyond 64 bits overflows into a floating-point value, which the
        # STRICT tables refuse: say so in words a user understands.
        return MfgError("a stock total would exceed the largest quantity mfgctl can store")
    return MfgError(text)


def _read_only_message(path: Path) -> str:
    """Why a database cannot be written: the file's permissions, or its directory's."""
    file_ok, dir_ok = os.access(path, os.W_OK), os.access(path.parent, os.W_OK)
    if not file_ok and not dir_ok:
        return (
            f"database {path} is read-only: check the permissions of the file and of its "
            f"directory {path.parent} (SQLite keeps {path.name}-wal and {path.name}-shm there)"
        )
    if not file_ok or dir_ok:
        return f"database {path} is read-only: check the file's permissions"
    return (
        f"database {path} cannot be written: its directory {path.parent} is read-only and "
        f"SQLite keeps {path.name}-wal and {path.name}-shm there; check the directory's "
        "permissions"
    )


def _open_read_only_place(path: Path, error: sqlite3.Error) -> sqlite3.Connection:
    """Open a database whose directory cannot be written, for reading.

    In WAL mode every reader needs the ``-shm`` file beside the database; SQLite cannot
    create it in a read-only directory (a read-only mount, a backup on a shared drive)
    and reports "unable to open database file" (to root, on an immutable directory) or
    "attempt to write a readonly database" (to a user without write permission).
    Without a ``-wal`` holding changes, no process can be writing there (a writer needs
    that directory too), so the file alone is the whole database and SQLite's
    ``immutable`` mode reads it without a ``-shm``.
    Writes are then refused as read-only.
    """
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise DatabaseUnusable(
            f"cannot read {path}: {wal.name} holds its latest changes and directory "
            f"{path.parent} is read-only, so SQLite cannot create {path.name}-shm; "
            "make the directory writable"
        ) from error
    from urllib.parse import quote

    db = sqlite3.connect(
        f"file:{quote(str(path.resolve()))}?immutable=1",
        uri=True,
        isolation_level=None,
        timeout=busy_timeout_s(),
    )
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _unescape(field: str) -> str:
    """A mount point as the kernel writes it: space, tab, newline, backslash as \\ooo."""
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) of each line of a mountinfo or mounts table."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if " - " in line:  # mountinfo: ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE ...
            after = line.split(" - ", 1)[1].split()
            if len(fields) >= 5 and after:
                mounts.append((_unescape(fields[4]), after[0]))
        elif len(fields) >= 3:  # /proc/mounts: SOURCE POINT TYPE OPTS 0 0
            mounts.append((_unescape(fields[1]), fields[2]))
    return mounts


def filesystem_type(path: str | Path, table: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (``ext4``, ``nfs4``...), by the
    longest mount point that contains its directory; None where there is no mount table
    to read (not Linux) or nothing matches.

    ``table`` is the text of a mount table; by default /proc/self/mountinfo (or
    /proc/mounts) is read.
    """
    if table is None:
        for source in MOUNT_TABLES:
            try:
                table = source.read_text(encoding="utf-8", errors="replace")
                break
            except OSError:
                continue
        else:
            return None
    directory = os.path.dirname(os.path.realpath(path))  # through symlinks, to the file
    best: tuple[int, str] | None = None
    for point, fstype in _mounts(table):
        inside = directory == point or directory.startswith(point.rstrip("/") + "/")
        # A later mount over the same point hides the earlier one: >= keeps the last.
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fstype)
    return best[1] if best else None


def network_warning(path: str | Path, table: str | None = None) -> str | None:
    """The warning for a database on a network filesystem, or None on a local one."""
    try:
        fstype = filesystem_type(path, table)
    except (OSError, ValueError):
        return None
    if fstype is None or fstype.lower() not in NETWORK_FS:
        return None
    return (
        f"Warning: {path} is on a network filesystem ({fstype}), where SQLite's locking "
        "cannot be trusted: two commands at once may corrupt it; keep the database on a "
        "local disk (MFGCTL_NO_FS_WARNING=1 silences this)"
    )


def _warn_if_networked(path: Path) -> None:
    """Print the network-filesystem warning on stderr, once per path and process."""
    if os.environ.get("MFGCTL_NO_FS_WARNING", "") not in ("", "0"):
        return
    key = os.path.abspath(path)
    if key in _warned:
        return
    _warned.add(key)
    message = network_warning(path)
    if message:
        print(message, file=sys.stderr)


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s())
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s() * 1000)}")
    db.execute("PRAGMA synchronous = FULL")
    return db


def connect(path: str | Path, *, upgrade_schema: bool = True) -> sqlite3.Connection:
    """Open an existing mfgctl database, upgrading its schema if it is older (unless
    ``upgrade_schema`` is false: ``backup`` copies a database as it is, so that a copy
    taken before an upgrade is one of the old schema).

    Raises:
        DatabaseUnusable: missing file, not an mfgctl database, newer schema, or an
            older one this user cannot write (the upgrade writes).
    """
    path = Path(path)
    exists, parent_is_dir = _where(path)
    if not exists and not parent_is_dir:
        raise DatabaseUnusable(f"no database at {path}: directory {path.parent} does not exist")
    if not exists:
        hint = "run `mfgctl init` to create it, or choose one with --db or MFGCTL_DB"
        raise DatabaseUnusable(f"no database at {path}: {hint}")
    if path.is_dir():
        raise DatabaseUnusable(f"{path} is a directory, not a database file")
    _warn_if_networked(path)
    db = None
    try:
        try:
            db = _open(path)
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.Error as e:
            # No -shm can be made beside the file: SQLite says "unable to open" (as root
            # on an immutable directory) or "attempt to write a readonly database" (as a
            # user who cannot write the directory).
            low = str(e).lower()
            unopenable = "unable to open" in low or "readonly" in low
            if not unopenable or os.access(path.parent, os.W_OK):
                raise
            if db is not None:
                db.close()
            db = _open_read_only_place(path, e)
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as e:
        if db is not None:
            db.close()
        mapped = map_sqlite_error(e, path)
        if isinstance(mapped, DatabaseBusy):
            # Another process holds an exclusive lock (a rollback-journal commit or a
            # migration): that is "try again", not "unusable".
            raise mapped from e
        if "readonly" in str(e).lower():  # permissions, not the file's content
            raise mapped from e
        raise DatabaseUnusable(f"{path} is not an mfgctl database ({e})") from e
    if app_id != APPLICATION_ID:
        db.close()
        raise DatabaseUnusable(f"{path} is not an mfgctl database")
    if version > SCHEMA_VERSION:
        db.close()
        raise DatabaseUnusable(
            f"{path} was written by a newer mfgctl (schema {version}, this one knows "
            f"{SCHEMA_VERSION}): upgrade mfgctl"
        )
    if version < 1:
        db.close()
        raise DatabaseUnusable(f"{path} has no mfgctl schema version: it was never set up")
    if version < SCHEMA_VERSION and upgrade_schema:
        try:
            _upgrade(db, path, version)
        except BaseException:
            db.close()
            raise
    return db


def _upgrade(db: sqlite3.Connection, path: Path, version: int) -> None:
    """Upgrade an older schema in one write transaction (every command does it on
    opening, a read too: the code reads the current schema only)."""
    try:
        with transaction(db, path):
            # Another process may have upgraded it while we waited for the lock.
            current = db.execute("PRAGMA user_version").fetchone()[0]
            if current < SCHEMA_VERSION:
                try:
                    upgrade(db, current)
                except sqlite3.Error as e:
                    mapped = map_sqlite_error(e, path)
                    if isinstance(mapped, DatabaseBusy | DatabaseUnusable):
                        raise mapped from e
                    raise DatabaseUnusable(
                        f"cannot upgrade {path} from schema {current} to {SCHEMA_VERSION} "
                        f"({e}); it was left unchanged"
                    ) from e
    except DatabaseUnusable as e:
        if not _read_only_cause(e):
            raise
        raise DatabaseUnusable(_upgrade_needs_write(path, version)) from e


def _read_only_cause(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, sqlite3.Error) and "readonly" in str(cause).lower()


def _upgrade_needs_write(path: Path, version: int) -> str:
    """Why a read of an old read-only database fails, and what to do."""
    file_ok, dir_ok = os.access(path, os.W_OK), os.access(path.parent, os.W_OK)
    if not file_ok and not dir_ok:
        where = f"the file and its directory {path.parent} are read-only"
    elif not file_ok or dir_ok:
        where = "the file is read-only"
    else:
        where = f"its directory {path.parent} is read-only"
    return (
        f"database {path} has schema {version} and this mfgctl needs schema {SCHEMA_VERSION}: "
        f"the upgrade writes to it, and {where}; run any mfgctl command on it once (say "
        f"`mfgctl --db {path} check`) as a user who can write the file and its directory, "
        "or copy it to a writable place"
    )


def _where(path: Path) -> tuple[bool, bool]:
    """Whether ``path`` exists and whether its directory does; a path the system cannot
    even look up (a name too long for the filesystem) is DatabaseUnusable, not a crash."""
    try:
        return path.exists(), path.parent.is_dir()
    except (OSError, ValueError) as e:
        shown = str(path) if len(str(path)) <= 80 else str(path)[:77] + "..."
        reason = getattr(e, "strerror", None) or e
        raise DatabaseUnusable(f"cannot use {shown!r} as a database file: {reason}") from e


def create(path: str | Path) -> sqlite3.Connection:
    """Create a new, empty mfgctl database at ``path``.

    Raises:
        DatabaseUnusable: the directory is missing or not writable.
        MfgError: a file already exists there.
    """
    path = Path(path)
    exists, parent_is_dir = _where(path)
    if exists:
        raise MfgError(f"{path} already exists: not touching it (use another --db path)")
    if not parent_is_dir:
        raise DatabaseUnusable(f"cannot create {path}: directory {path.parent} does not exist")
    _warn_if_networked(path)
    try:
        # Exclusive create: if another process made the file meanwhile, it is theirs.
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DB_FILE_MODE))
    except FileExistsError:
        raise MfgError(f"{path} already exists: not touching it (use another --db path)") from None
    except OSError as e:
        raise DatabaseUnusable(f"cannot create {path}: {e.strerror}") from e
    db = None
    try:
        db = _open(path)
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(
            "BEGIN IMMEDIATE;\n"
            f"PRAGMA application_id = {APPLICATION_ID};\n" + schema_sql() + "\nCOMMIT;"
        )
    except sqlite3.Error as e:
        # Leave no half-made file behind: a second `init` would refuse to touch it.
        if db is not None:
            db.close()
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        raise DatabaseUnusable(f"cannot create {path}: {e}") from e
    return db


@contextmanager
def transaction(db: sqlite3.Connection, path: str | Path = "") -> Iterator[sqlite3.Connection]:
    """One write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:
        raise map_sqlite_error(e, path) from e
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.Error as e:
        db.execute("ROLLBACK")
        raise map_sqlite_error(e, path) from e


@contextmanager
def rolled_back(db: sqlite3.Connection, name: str = "trial") -> Iterator[sqlite3.Connection]:
    """Run writes inside a savepoint and undo them at the end, whatever happens.

    For dry runs: the caller's code does exactly what a real run would do (inside the
    command's transaction), and nothing of it remains.
    """
    db.execute(f"SAVEPOINT {name}")
    try:
        yield db
    finally:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")


@contextmanager
def snapshot(db: sqlite3.Connection, path: str | Path = "") -> Iterator[sqlite3.Connection]:
    """A read transaction: every query of a report sees the same committed state."""
    try:
        db.execute("BEGIN")
        yield db
    except sqlite3.Error as e:
        raise map_sqlite_error(e, path) from e
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
