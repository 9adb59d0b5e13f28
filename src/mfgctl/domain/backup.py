"""A backup: a consistent copy of the whole database file, made while others write.

The copy is made with SQLite's online backup API from inside one read transaction on
the source: in WAL mode that pins a snapshot, so the copy is exactly the database as
of one instant (every move committed before it, none after), the backup never
restarts however busy the writers are, and writers are never blocked by it. Pages are
copied a batch at a time.

The copy goes to a temporary file in the target's directory and is renamed into place
only once it is complete and verified (``PRAGMA integrity_check`` and it opens as an
mfgctl database of the same schema): a crash or a full disk never leaves a half backup
under the final name.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfgctl.errors import InvalidInput, MfgError

PAGES_PER_STEP = 1024  # 4 MB at SQLite's default page size


@dataclass(frozen=True, slots=True)
class Backup:
    """What a backup copied."""

    path: str
    source: str
    schema_version: int
    moves: int
    last_seq: int
    pages: int
    bytes: int

    def as_row(self) -> dict[str, Any]:
        return {
            "backup": self.path,
            "source": self.source,
            "schema_version": self.schema_version,
            "moves": self.moves,
            "last_seq": self.last_seq,
            "pages": self.pages,
            "bytes": self.bytes,
            "integrity": "ok",
        }


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        p.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not every system lets a directory be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _verify(path: Path, *, schema_version: int) -> None:
    """The copy at ``path`` passes integrity_check and is an mfgctl database of
    ``schema_version``; raises MfgError otherwise."""
    from mfgctl import db as dbmod

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as e:
        raise MfgError(f"the backup copy cannot be read back ({e})") from e
    finally:
        conn.close()
    if problems != ["ok"]:
        raise MfgError(f"the backup copy failed SQLite's integrity check: {problems[0]}")
    if app_id != dbmod.APPLICATION_ID or version != schema_version:
        raise MfgError(
            f"the backup copy is not an mfgctl database of schema {schema_version} "
            f"(application id {app_id}, schema {version})"
        )


def backup(
    db: sqlite3.Connection, *, source: str | Path, target: str | Path, force: bool = False
) -> Backup:
    """Copy the open database ``db`` (the file at ``source``) to ``target``.

    ``db`` must not be inside a write transaction; a read transaction (the CLI's read
    session) is fine and is what pins the snapshot copied.

    Raises:
        MfgError: ``target`` exists (without ``force``), is the source itself, or the
            copy failed verification; nothing is left at ``target`` then.
        InvalidInput: the target's directory does not exist or is not writable.
    """
    source, target = Path(source), Path(target)
    if target.is_dir():
        raise InvalidInput(f"backup target {target} is a directory: give a file name")
    if _same_file(source, target):
        raise MfgError(f"backup target {target} is the database itself: choose another file")
    if target.exists() and not force:
        raise MfgError(f"{target} already exists: not overwriting it (add --force to replace it)")
    directory = target.parent
    if not directory.is_dir():
        raise InvalidInput(f"cannot write backup {target}: directory {directory} does not exist")

    # Start the read transaction (if the caller opened one, this read pins its snapshot)
    # and read what the copy will hold.
    started = not db.in_transaction
    if started:
        db.execute("BEGIN")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        moves, last_seq = db.execute("SELECT count(*), coalesce(max(seq), 0) FROM move").fetchone()
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        except OSError as e:
            raise InvalidInput(f"cannot write backup in {directory}: {e.strerror}") from e
        os.close(fd)
        tmp = Path(name)
        try:
            pages = _copy(db, tmp)
        except BaseException:
            _remove(tmp)
            raise
    finally:
        if started and db.in_transaction:
            db.execute("ROLLBACK")

    try:
        _verify(tmp, schema_version=version)
        size = tmp.stat().st_size
        if force:
            os.replace(tmp, target)
        else:
            # A hard link fails if someone created the target meanwhile: never overwrite.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise MfgError(
                    f"{target} already exists: not overwriting it (add --force to replace it)"
                ) from None
            except OSError:  # a filesystem without hard links: rename (checked above)
                os.replace(tmp, target)
        _fsync_dir(directory)
    finally:
        _remove(tmp)
    return Backup(
        path=str(target),
        source=str(source),
        schema_version=version,
        moves=moves,
        last_seq=last_seq,
        pages=pages,
        bytes=size,
    )


def _copy(db: sqlite3.Connection, tmp: Path) -> int:
    """SQLite's online backup of ``db`` into the (empty) file ``tmp``, synced to disk;
    returns the number of pages copied."""
    copied = 0

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total

    dest = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.backup(dest, pages=PAGES_PER_STEP, progress=progress, sleep=0.001)
    except sqlite3.Error as e:
        dest.close()
        if isinstance(e, sqlite3.OperationalError) and "full" in str(e).lower():
            raise MfgError(f"cannot write backup: the disk is full ({e})") from e
        raise MfgError(f"backup failed ({e}); nothing was written") from e
    dest.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    return copied
