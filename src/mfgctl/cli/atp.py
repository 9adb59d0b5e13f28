"""``mfgctl atp``: available to promise of one item, by date."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, session
from mfgctl.render import Format, emit, note, to_json

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command("atp")
def atp_cmd(
    ctx: typer.Context,
    item: ItemArg,
    start: Annotated[
        str | None,
        typer.Option("--start", help="First date (YYYY-MM-DD, default today).", metavar="DATE"),
    ] = None,
    horizon: Annotated[
        str, typer.Option("--horizon", help="Days looked at from the start.", metavar="DAYS")
    ] = "90",
    fmt: FormatOpt = Format.table,
) -> None:
    """Available to promise: by date, free stock plus scheduled receipts less
    committed demand (open sales orders, open production orders' needs), cumulative,
    and what can still be promised on each date without breaking a later commitment."""
    from mfgctl.domain import atp, mrp, mrp_data

    with session(ctx, write=False) as db:
        settings = mrp.settings(start=start, horizon=horizon)
        result = atp.atp(
            mrp_data.load(db), item, start=settings.start, horizon_days=settings.horizon_days
        )
    warning = atp.over_committed_line(result)
    if fmt is Format.json:
        sys.stdout.write(to_json(result.document()) + "\n")
    else:
        emit(
            [r.as_row() for r in result.rows],
            fmt,
            columns=atp.COLUMNS,
            title=result.title(),
        )
    if warning:
        note(warning)
