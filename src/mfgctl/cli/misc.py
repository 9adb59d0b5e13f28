"""Top-level commands: ``init``, ``check`` and ``backup``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, fail, session, state
from mfgctl.errors import ChecksFailed, MfgError
from mfgctl.render import Format, emit


def init_cmd(ctx: typer.Context) -> None:
    """Create a new, empty database (at --db, $MFGCTL_DB or ./mfgctl.db)."""
    from mfgctl import db as dbmod
    from mfgctl.migrations import SCHEMA_VERSION

    path = state(ctx).db_path
    try:
        dbmod.create(path).close()
    except MfgError as e:
        fail(e)
    done(f"Created mfgctl database {path} (schema version {SCHEMA_VERSION})")


def check_cmd(
    ctx: typer.Context,
    fmt: FormatOpt = Format.table,
    days_unreviewed: Annotated[
        str,
        typer.Option(
            "--days-unreviewed",
            metavar="N",
            help="Warn about planning data not reviewed in the last N days.",
        ),
    ] = "180",
    inspection_days: Annotated[
        str,
        typer.Option(
            "--inspection-days",
            metavar="N",
            help="Warn about stock pending inspection for more than N days.",
        ),
    ] = "7",
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 4 on warnings too, not only on errors.")
    ] = False,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick", help="SQLite quick_check instead of the slower full integrity_check."
        ),
    ] = False,
) -> None:
    """Report data-quality problems, errors first; exit 4 if there is an error.

    Errors: the database file (integrity, foreign keys), the ledger (sums to zero,
    balances equal it, no negative stock, free >= 0), BOM cycles, units and deactivated
    items, unit conflicts, tracked stock without a lot. Warnings: make items without a
    BOM, buy items without lead time or cost, planning data not reviewed, old stock
    pending inspection, overdue orders, look-alike codes and names.
    """
    from mfgctl.domain import checks, codes

    with session(ctx, write=False) as db:
        problems = checks.report(
            db,
            days_unreviewed=codes.whole_number(days_unreviewed, what="--days-unreviewed"),
            inspection_days=codes.whole_number(inspection_days, what="--inspection-days"),
            quick=quick,
        )
    if not problems:
        if fmt in (Format.json, Format.csv, Format.plain):  # [] or the header alone
            emit([], fmt, columns=checks.COLUMNS)
        done("check: no problems found")
        return
    emit([p.report_row() for p in problems], fmt, columns=checks.COLUMNS)
    errors = sum(p.severity == checks.ERROR for p in problems)
    warnings = len(problems) - errors
    summary = f"check: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    if errors or strict:
        fail(ChecksFailed(summary + (" (--strict)" if strict and not errors else "")))
    done(summary)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def backup_cmd(
    ctx: typer.Context,
    target: Annotated[
        Path, typer.Argument(help="File to write the copy to.", show_default=False, metavar="FILE")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Copy the database to FILE while others keep working (SQLite's online backup).

    The copy is one consistent instant of the database, written to a temporary file
    beside FILE, checked (integrity_check, opens as an mfgctl database) and only then
    renamed to FILE. An existing FILE is refused unless --force. A database of an older
    schema is copied as it is, not upgraded first.
    """
    from mfgctl.domain import backup as ops

    # As it is: a backup taken before an upgrade keeps the old schema.
    with session(ctx, write=False, upgrade_schema=False) as db:
        result = ops.backup(db, source=state(ctx).db_path, target=target, force=force)
    emit([result.as_row()], fmt)
    done(f"Backed up {result.moves} moves (last seq {result.last_seq}) to {result.path}")


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)
    app.command("check")(check_cmd)
    app.command("backup")(backup_cmd)
