"""``mfgctl wip``: work in progress, one row per open production order."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, session
from mfgctl.render import Format, emit

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command("wip")
def wip_cmd(
    ctx: typer.Context,
    late: Annotated[bool, typer.Option("--late", help="Only orders past their due date.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Work in progress: every released or in-progress order with its current stage, the
    units waiting before and passed at each stage (waiting>passed, xN rejected), the value
    at the order's place at standard cost, its age in days (since started, else created),
    its due date and whether it is late."""
    from mfgctl.domain import stages

    with session(ctx, write=False) as db:
        rows = stages.wip(db)
    if late:
        rows = [r for r in rows if r["late"]]
    columns = list(stages.WIP_COLUMNS)
    if fmt is Format.json:
        columns.append("uncosted")
    else:
        rows = [{**r, "stages": stages.stages_text(r["stages"])} for r in rows]
    emit(rows, fmt, columns=columns, title="Work in progress")
