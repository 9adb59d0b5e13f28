"""``mfgctl routing``: the stages an item goes through when it is made."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, done, group, session
from mfgctl.render import Format, emit

app = group("Routings: the ordered stages (and their times) an item is made through.")

StageOpt = Annotated[
    list[str],
    typer.Option(
        "--stage",
        "-s",
        help="A stage, in order: NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN][%FAMILY], like "
        "assembly@ASSY:15:12 (setup minutes per order, run minutes per unit) or "
        "paint@PAINT:45:10%red (setup family red: consecutive orders of one family skip "
        "the setup). Repeat for each stage.",
        show_default=False,
        metavar="STAGE",
    ),
]


@app.command("show")
def show_cmd(ctx: typer.Context, item: ItemArg, fmt: FormatOpt = Format.table) -> None:
    """Show an item's routing: its stages in order, work centres, times in minutes and
    setup families."""
    from mfgctl.domain import stages

    with session(ctx, write=False) as db:
        it, found = stages.show(db, item)
    emit(
        [s.as_row() for s in found],
        fmt,
        columns=stages.STAGE_COLUMNS,
        title=f"Routing of {it.code}",
    )


@app.command("set")
def set_cmd(
    ctx: typer.Context, item: ItemArg, stage: StageOpt, fmt: FormatOpt = Format.table
) -> None:
    """Set (replace) an item's routing. Orders already released keep their own stages."""
    from mfgctl.domain import stages

    with session(ctx) as db:
        it, found, action = stages.set_routing(db, item, stage)
    emit(
        [s.as_row() for s in found],
        fmt,
        columns=stages.STAGE_COLUMNS,
        title=f"Routing of {it.code}",
    )
    done(f"Routing of {it.code} {action}: {len(found)} stages")


@app.command("list")
def list_cmd(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List every item that has a routing: stages, total minutes, the route."""
    from mfgctl.domain import stages

    with session(ctx, write=False) as db:
        rows = stages.list_rows(db)
    emit(rows, fmt, columns=stages.ROUTING_LIST_COLUMNS, title="Routings")
