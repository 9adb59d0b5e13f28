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

Files written for the user (a backup, ``export -o``) share the rules of this module:
``check_target`` refuses a target that would destroy data (the database itself, its
``-wal``, ``-shm`` or ``-journal``, an existing file without ``--force``), and the file is
written to a temporary ``.FILE.HOST-PID.XXXXXXXX.tmp`` beside it, synced and renamed
into place. A symlink FILE is followed: the file it points to is replaced that way and
the link stays. An export to a FILE that is not a regular file (a FIFO, /dev/null,
/dev/stdout) is written through it: such a FILE is never replaced.

The writer holds an exclusive ``flock`` on its temporary file while it
works; the next backup or export to the same FILE removes such files (with their
``-wal``, ``-shm``, ``-journal``) that a killed writer left: those named by this host,
whose process is gone and whose lock is free, never those of a run still at work.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfgctl.errors import InvalidInput, MfgError

PAGES_PER_STEP = 1024  # 4 MB at SQLite's default page size

# The files SQLite keeps beside a database, part of it while it is in use.
SIDE_FILES = ("-wal", "-shm", "-journal")


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
    for p in (path, *(Path(f"{path}{side}") for side in SIDE_FILES)):
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


def _side_file_of(source: Path, target: Path) -> str | None:
    """Which of the database's side files ``target`` is (``-wal``...), whether it exists
    yet or not: by name, also through symlinks (SQLite keeps them beside the real
    file), or as the same file under another name; None if none."""
    names = {os.path.abspath(target), os.path.realpath(target)}
    for side in SIDE_FILES:
        if names & {os.path.abspath(f"{source}{side}"), os.path.realpath(source) + side}:
            return side
        if _same_file(Path(f"{source}{side}"), target):
            return side
    return None


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a file for the user is written, as ``check_target`` found it.

    ``path`` is the file replaced atomically: FILE itself, or the file a symlink FILE
    points to (the link is kept). ``through`` says FILE is not a regular file (a FIFO,
    a device such as /dev/null) or names one of this process's descriptors
    (/dev/stdout, /dev/fd/N): it is opened and written as it is, never replaced;
    ``fd`` is that descriptor of this process, if it is one.
    """

    path: Path
    through: bool = False
    fd: int | None = None


_DESCRIPTOR_DIR = re.compile(r"/proc/(?:self|thread-self|[0-9]+)(?:/task/[0-9]+)?/fd|/dev/fd")


def _descriptor(target: Path) -> tuple[Path, int] | None:
    """The descriptor link (``/proc/PID/fd/N``, ``/dev/fd/N``) that ``target`` is or
    leads to through symlinks (/dev/stdout), with N; None if it leads to none."""
    path = os.path.abspath(target)
    for _ in range(40):  # the kernel's limit on symlinks in a row
        try:
            link = os.readlink(path)
        except OSError:
            return None
        parent = os.path.realpath(os.path.dirname(path))
        name = os.path.basename(path)
        if _DESCRIPTOR_DIR.fullmatch(parent) and name.isdigit():
            return Path(path), int(name)
        path = os.path.join(parent, link)
    return None


def _own_descriptor(link: Path, n: int) -> int | None:
    """``n`` if the descriptor link ``link`` is one of this process's own (then it is
    written as it is open: a pipe, a terminal, a file opened for appending), else None
    (another process's: opened by its path)."""
    parent = os.path.realpath(link.parent)
    mine = parent == "/dev/fd" or re.fullmatch(rf"/proc/{os.getpid()}(?:/task/[0-9]+)?/fd", parent)
    try:
        os.fstat(n)
    except OSError:
        return None
    return n if mine else None


def check_target(source: str | Path, target: str | Path, *, force: bool, what: str) -> Destination:
    """Refuse a file to write (``what``: backup, export) where writing would destroy
    data; return where to write it.

    A symlink is followed and the file it points to is replaced (the link stays); an
    ``export`` to a FILE that is not a regular file (a FIFO, /dev/null, /dev/stdout)
    writes through it, without --force (nothing is replaced), except a block device
    (its contents would be): that needs --force. A ``backup`` is a database file: it is
    refused on anything but a regular file.

    Raises:
        MfgError: ``target`` is the database at ``source``, one of its side files
            (replacing the ``-wal`` of a database in use corrupts it), or exists and
            ``force`` is false.
        InvalidInput: ``target`` is a directory, or its directory does not exist, or it
            is not a regular file and ``what`` is backup.
    """
    source, target = Path(source), Path(target)
    if target.is_dir():
        raise InvalidInput(f"{what} target {target} is a directory: give a file name")
    if _same_file(source, target) or os.path.realpath(target) == os.path.realpath(source):
        raise MfgError(f"{what} target {target} is the database itself: choose another file")
    side = _side_file_of(source, target)
    if side is not None:
        raise MfgError(
            f"{what} target {target} is the database's {side} file, part of the database "
            "while it is in use: choose another file"
        )
    descriptor = _descriptor(target)
    try:
        kind = os.stat(target).st_mode
    except OSError:
        kind = None
    if descriptor is not None or (kind is not None and not stat.S_ISREG(kind)):
        if what == "backup":
            raise InvalidInput(
                f"backup target {target} is not a regular file (a FIFO, a device or a "
                "descriptor): a backup is a database file; give a file name"
            )
        if kind is not None and stat.S_ISBLK(kind) and not force:
            raise MfgError(
                f"{target} is a block device: not writing over it (add --force to write to it)"
            )
        own = _own_descriptor(*descriptor) if descriptor is not None else None
        return Destination(target, through=True, fd=own)
    if target.exists() and not force:
        raise MfgError(f"{target} already exists: not overwriting it (add --force to replace it)")
    path = Path(os.path.realpath(target)) if target.is_symlink() else target
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {what} {target}: directory {path.parent} does not exist")
    return Destination(path)


def _host() -> str:
    """This machine's name as it goes into a temporary file's name (no dots)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", os.uname().nodename)[:40] or "host"


def _lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another process holds
    it. True where there is no ``flock`` (the owner's pid alone decides then)."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a filesystem without locks
        return True
    return True


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True


def sweep_stale(target: str | Path) -> list[Path]:
    """Remove the temporary files (and their side files) that a killed backup or export
    to ``target`` left in its directory; returns the temporary files removed.

    Only those named by this host whose process is gone and whose lock nobody holds:
    another run writing to the same FILE at the same time keeps its file.
    """
    target = Path(target)
    pattern = re.compile(
        re.escape(f".{target.name}.")
        + r"(?P<host>[A-Za-z0-9_-]+)-(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp"
        + r"(?P<side>-wal|-shm|-journal)?"
    )
    try:
        names = sorted(os.listdir(target.parent))
    except OSError:
        return []
    removed = []
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or m["host"] != _host() or _alive(int(m["pid"])):
            continue
        path = target.parent / name
        if m["side"] is not None:
            # A side file whose temporary file is gone (killed while cleaning up).
            if not (target.parent / name[: -len(m["side"])]).exists():
                path.unlink(missing_ok=True)
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _lock(fd):
                _remove(path)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


@contextmanager
def _temporary(target: Path, what: str) -> Iterator[tuple[int, Path]]:
    """A new, empty temporary file beside ``target``, locked while this process works
    on it (stale ones a killed run left are swept first). Yields its descriptor and
    path; at the end it is removed with its side files, unless renamed into place."""
    sweep_stale(target)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.{_host()}-{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as e:
        raise InvalidInput(f"cannot write {what} in {target.parent}: {e.strerror}") from e
    tmp = Path(name)
    try:
        _lock(fd)  # a new file of ours: the lock is free
        yield fd, tmp
    finally:
        _remove(tmp)  # before the lock goes: no sweeper can take it while the file is here
        os.close(fd)


def _place(tmp: Path, target: Path, *, force: bool) -> None:
    """Rename the finished ``tmp`` to ``target``: over an existing file only with
    ``force``; without it the file is linked into place, which fails if someone created
    ``target`` meanwhile (never overwrite)."""
    try:
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise MfgError(
                    f"{target} already exists: not overwriting it (add --force to replace it)"
                ) from None
            except OSError:  # a filesystem without hard links: rename (checked above)
                os.replace(tmp, target)
    except OSError as e:
        raise MfgError(f"cannot write {target}: {e.strerror or e}") from e
    _fsync_dir(target.parent)


def _write_through(text: bytes, dest: Destination) -> None:
    """Write ``text`` into the FIFO, device or descriptor ``dest`` as it is open."""
    fd = dest.fd
    try:
        if fd is None:
            fd = os.open(dest.path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        data = memoryview(text)
        while data:
            data = data[os.write(fd, data) :]
    except BrokenPipeError:
        raise  # the reader went away (``-o /dev/stdout | head``): the caller's to say
    except OSError as e:
        raise MfgError(f"cannot write {dest.path}: {e.strerror or e}") from e
    finally:
        if fd is not None and fd != dest.fd:
            os.close(fd)


def write_text(text: str, *, source: str | Path, target: str | Path, force: bool) -> None:
    """Write ``text`` (UTF-8) to the file ``target`` for ``export -o``: refused as by
    ``check_target``; written to a temporary file beside it (beside the file a symlink
    points to, the link kept), synced and renamed into place, so a failed write (a full
    disk) leaves the old file as it was and no temporary file. The file gets the mode
    of the one it replaces, else 0666 less the umask, as any file a program creates. A
    FIFO, a device or a descriptor (/dev/stdout) is written through, not replaced.

    Raises:
        MfgError: see ``check_target``; or the file could not be written.
        BrokenPipeError: the reader of a FIFO or pipe went away.
    """
    dest = check_target(source, target, force=force, what="export")
    data = text.encode("utf-8")
    if dest.through:
        _write_through(data, dest)
        return
    target = dest.path
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    view = memoryview(data)
    with _temporary(target, "export") as (fd, tmp):
        try:
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.fchmod(fd, mode)
        except OSError as e:
            raise MfgError(f"cannot write {target}: {e.strerror or e}") from e
        _place(tmp, target, force=force)


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
        MfgError: ``target`` exists (without ``force``), is the source itself or one of
            its side files, or the copy failed verification; nothing is left at
            ``target`` then.
        InvalidInput: the target's directory does not exist or is not writable.
    """
    source, target = Path(source), Path(target)
    # A symlink is followed: the file it points to is replaced, the link stays.
    path = check_target(source, target, force=force, what="backup").path
    with _temporary(path, "backup") as (_, tmp):
        # Start the read transaction (if the caller opened one, this read pins its
        # snapshot) and read what the copy will hold.
        started = not db.in_transaction
        if started:
            db.execute("BEGIN")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            moves, last_seq = db.execute(
                "SELECT count(*), coalesce(max(seq), 0) FROM move"
            ).fetchone()
            pages = _copy(db, tmp)
        finally:
            if started and db.in_transaction:
                db.execute("ROLLBACK")
        _verify(tmp, schema_version=version)
        size = tmp.stat().st_size
        _place(tmp, path, force=force)
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
