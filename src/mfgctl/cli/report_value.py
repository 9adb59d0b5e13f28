"""Commands of ``mfgctl report`` (see cli/report.py): stock valuation."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, session
from mfgctl.render import Format, emit


def valuation_cmd(
    ctx: typer.Context,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Value stock as of this date (end of that day) or time: the ledger replayed "
            "up to then.",
            metavar="DATE",
        ),
    ] = None,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Stock value per item at moving-average cost, and by status.

    Each row: on-hand quantity (real locations and WIP), average cost, value, and the
    value in each status (available, wip, pending_inspection, blocked, rejected, rework,
    awaiting_release), which sum to the value. basis: average (costed receipts or
    output), standard (only the item's standard cost) or none (no cost: valued at 0).
    """
    from mfgctl.domain import valuation

    with session(ctx, write=False) as db:
        rows = valuation.report(db, as_of=as_of, item=item)
    emit(rows, fmt, columns=valuation.COLUMNS, title="Stock valuation")
    if fmt is not Format.json:
        from mfgctl.qty import fmt as fmt_q

        when = f" as of {as_of}" if as_of else ""
        done(f"Total stock value{when}: {fmt_q(valuation.total(rows))} ({len(rows)} items)")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``report`` group."""
    app.command("valuation")(valuation_cmd)
