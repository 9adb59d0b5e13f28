"""What every command group shares: the session, shared options, output helpers."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, NoReturn

import typer

from mfgctl.errors import ImportInvalid, MfgError
from mfgctl.render import Format, note

HELP_FORMAT = "Output format: table (Rich), json, csv, markdown, plain (tab-separated)."

FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help=HELP_FORMAT, case_sensitive=False)
]
LocationOpt = Annotated[str, typer.Option("--location", "-l", help="Location code.")]
# A location that defaults to STORES (None: the default, told apart from a typed STORES).
DefaultLocationOpt = Annotated[
    str | None, typer.Option("--location", "-l", help="Location code (default STORES).")
]
LotOpt = Annotated[str | None, typer.Option("--lot", help="Lot (or serial) number.")]
UnitOpt = Annotated[
    str | None, typer.Option("--unit", "-u", help="Unit of QTY (default: the item's base unit).")
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date", help="Effective date for a back-dated entry (YYYY-MM-DD[ HH:MM]).", metavar="DATE"
    ),
]
RefOpt = Annotated[str | None, typer.Option("--ref", help="Reference: order, delivery note...")]


def _serial_list(values: list[str] | None) -> list[str] | None:
    """``--serial A --serial B`` and ``--serials A,B`` alike: one flat list."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


# An update command's new due date (order, purchase, demand update).
NewDueOpt = Annotated[
    str | None, typer.Option("--due", help="New due date (YYYY-MM-DD).", show_default=False)
]
SerialsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--serial",
        "--serials",
        help="Serial number: repeat once per unit, or separate with commas (S1,S2).",
        callback=_serial_list,
    ),
]
StatusOpt = Annotated[
    str,
    typer.Option(
        "--status",
        help="Stock status: available, pending_inspection, awaiting_release, blocked, "
        "rejected, rework.",
    ),
]
ItemArg = Annotated[str, typer.Argument(help="Item code.", show_default=False)]
QtyArg = Annotated[
    str, typer.Argument(help="Quantity, an exact decimal like 12 or 0.35.", show_default=False)
]


def group(
    help: str, *, default: str | None = None, bare: bool = False, **options: object
) -> typer.Typer:
    """A command group's Typer app, with the settings every group shares.

    Plain-text help (as the root's): help stays fast and clean when piped. With
    ``default``, a first word that is not one of the group's commands runs that command:
    ``mfgctl reserve 12`` is ``mfgctl reserve add 12``; with ``bare`` too, the group's
    name alone runs it (``mfgctl mrp`` is ``mfgctl mrp run``) instead of printing help.
    """
    options.setdefault("no_args_is_help", not bare)
    options.setdefault("add_completion", False)  # completion belongs to the root command
    if default is not None:
        options["cls"] = _with_default(default, bare=bare)
    return typer.Typer(help=help, rich_markup_mode=None, **options)  # type: ignore[arg-type]


def _with_default(command: str, *, bare: bool) -> type[typer.core.TyperGroup]:
    class DefaultGroup(typer.core.TyperGroup):
        def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
            if (args and args[0] not in self.commands and args[0] not in ("--help", "-h")) or (
                bare and not args
            ):
                args = [command, *args]
            return super().parse_args(ctx, args)  # type: ignore[arg-type, no-any-return]

    return DefaultGroup


@dataclass
class State:
    """Global options, resolved once by the root callback."""

    db_path: Path
    user: str


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj  # type: ignore[no-any-return]


def fail(error: MfgError) -> NoReturn:
    """Print a refusal as ``Error: ...`` on stderr and exit with its code."""
    if isinstance(error, ImportInvalid):
        for problem in error.problems[:50]:
            note(f"Error: {problem}")
        if len(error.problems) > 50:
            note(f"Error: ... and {len(error.problems) - 50} more problems")
    note(f"Error: {error}")
    raise typer.Exit(error.exit_code)


@dataclass
class Outcome:
    """What the command has done to the database so far, for ``main`` to say when the
    command cannot finish after all (its output cannot be written, Ctrl-C, a bug):
    whether its changes were saved, so a script knows not to run it again."""

    began: bool = False  # a write transaction was begun
    saved: bool = False  # a write transaction committed changes

    def after(self) -> str:
        """The end of an error line: what became of the command's changes."""
        return "the changes were saved" if self.saved else "nothing was written"


OUTCOME = Outcome()


class OutputFailed(Exception):
    """The output (``stdout``) could not be written: a full disk, a closed stream, a
    reader that went away. Not an OSError, so that Typer, which would turn a broken
    pipe into a silent exit 1, leaves it to ``main``."""

    def __init__(self, stream: str, error: OSError) -> None:
        super().__init__(f"{stream}: {error}")
        self.stream = stream
        self.error = error


class Guarded:
    """``sys.stdout`` or ``sys.stderr`` for the console script.

    A failed write of the output (stdout) raises ``OutputFailed``. A failed write of a
    message (stderr) is dropped: there is nowhere left to say anything, and what the
    command does must not depend on it. A stream whose descriptor was closed
    (``mfgctl ... >&-``) gets /dev/null on the descriptor, so that no file the command
    opens takes it, and its writes fail as a closed stream's.
    """

    def __init__(self, stream: IO[str] | None, name: str, fd: int) -> None:
        self.name = name
        self.closed_error: OSError | None = None
        if stream is None:
            what = "standard output" if name == "stdout" else "standard error"
            self.closed_error = OSError(errno.EBADF, f"{what} is closed")
            _null_onto(fd)
            stream = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        self._stream = stream

    # Python takes a write larger than its buffer, cut short because the reader went
    # away, as done: one partial write, no error, the rest dropped. Written in pieces no
    # larger than the buffer, a long table or JSON document fails as short lines do.
    PIECE = 8192

    def write(self, text: str) -> int:
        try:
            if self.closed_error is not None and text:
                raise self.closed_error
            if len(text) <= self.PIECE:
                return self._stream.write(text)
            for start in range(0, len(text), self.PIECE):
                self._stream.write(text[start : start + self.PIECE])
            return len(text)
        except OSError as e:
            return self._failed(e)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as e:
            self._failed(e)

    def reconfigure(self, **options: Any) -> None:
        """As ``TextIOWrapper.reconfigure`` (``export`` writes UTF-8 whatever the
        locale: a YAML file is UTF-8, and an escape would be stored as text)."""
        found = getattr(self._stream, "reconfigure", None)
        if found is not None:
            found(**options)

    def _failed(self, error: OSError) -> int:
        if self.name == "stdout":
            raise OutputFailed(self.name, error) from error
        self.silence()
        return 0

    def silence(self) -> None:
        """Put /dev/null on the stream's descriptor: what is still buffered for it,
        written when Python exits, then goes nowhere instead of failing again (which
        would make the exit status 120). Python's documented recipe for a broken pipe."""
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError, AttributeError):  # not a file (a test's capture)
            return
        _null_onto(fd)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _null_onto(fd: int) -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def guard_streams() -> tuple[Any, Any]:
    """Put ``Guarded`` streams in place of ``sys.stdout`` and ``sys.stderr``; return the
    streams they replace."""
    before = sys.stdout, sys.stderr
    sys.stdout = Guarded(sys.stdout, "stdout", 1)  # type: ignore[assignment]
    sys.stderr = Guarded(sys.stderr, "stderr", 2)  # type: ignore[assignment]
    return before


def _hold_ctrl_c() -> Any:
    """Hold back Ctrl-C (SIGINT) from just before COMMIT until ``OUTCOME`` records it,
    so that an interrupted command never says "nothing was written" after its commit.
    Returns the signal mask to restore, or None where signals cannot be blocked."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # Windows
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_ctrl_c(held: Any) -> None:
    if held is not None:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held back arrives now


@contextmanager
def session(
    ctx: typer.Context, *, write: bool = True, upgrade_schema: bool = True
) -> Iterator[sqlite3.Connection]:
    """Open the database for one command.

    A writing command runs in one ``BEGIN IMMEDIATE`` transaction, committed when the
    block ends and rolled back on any error; a reading one in one read snapshot. An
    older schema is upgraded first, unless ``upgrade_schema`` is false (``backup``).
    Errors become one line on stderr and the exit code of their class. ``OUTCOME``
    records whether a write was committed.
    """
    from mfgctl import db as dbmod

    path = state(ctx).db_path
    try:
        conn = dbmod.connect(path, upgrade_schema=upgrade_schema)
        try:
            if not write:
                with dbmod.snapshot(conn, path):
                    yield conn
            else:
                OUTCOME.began = True
                held = None
                try:
                    with dbmod.transaction(conn, path):
                        changes = conn.total_changes
                        yield conn
                        held = _hold_ctrl_c()
                    OUTCOME.saved = OUTCOME.saved or conn.total_changes > changes
                finally:
                    _release_ctrl_c(held)
        finally:
            conn.close()
    except MfgError as e:
        fail(e)
    except sqlite3.Error as e:
        fail(dbmod.map_sqlite_error(e, path))


def user(ctx: typer.Context) -> str:
    return state(ctx).user


def done(message: str) -> None:
    """A success message: to stderr, so stdout stays data for scripts."""
    note(message)
