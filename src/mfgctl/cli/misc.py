"""Top-level commands: ``init`` and ``check``."""

from __future__ import annotations

import typer

from mfgctl.cli._common import FormatOpt, done, fail, session, state
from mfgctl.errors import MfgError
from mfgctl.render import Format, emit

CHECK_FAILED = 4


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


def check_cmd(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """Prove the stock figures: ledger sums to zero, balances equal the ledger, none negative.

    Exits 4 when a problem is found.
    """
    from mfgctl.domain import checks

    with session(ctx, write=False) as db:
        problems = checks.run(db)
    if problems:
        emit([p.as_row() for p in problems], fmt)
        raise typer.Exit(CHECK_FAILED)
    if fmt is Format.json:
        emit([], fmt)
    done("check: no problems found")


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)
    app.command("check")(check_cmd)
