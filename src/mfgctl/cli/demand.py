"""``mfgctl demand``: sales orders and forecasts (add, list, show, update, cancel)."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import (
    FormatOpt,
    ItemArg,
    NewDueOpt,
    QtyArg,
    RefOpt,
    UnitOpt,
    done,
    group,
    session,
)
from mfgctl.cli._common import user as user_of
from mfgctl.domain import demand
from mfgctl.qty import fmt as fmt_q
from mfgctl.render import Format, emit, emit_sections

app = group("Demand: sales orders and forecasts, a quantity of an item by a date.")

DemandArg = Annotated[str, typer.Argument(help="Demand number.", show_default=False)]


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    due: Annotated[str, typer.Option("--due", help="Due date (YYYY-MM-DD).", show_default=False)],
    kind: Annotated[
        str,
        typer.Option("--kind", help="sales (a customer order) or forecast.", show_default=False),
    ],
    ref: RefOpt = None,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record an open demand (a sales order or a forecast) for an item (stored in its
    base unit)."""
    with session(ctx) as db:
        found = demand.add(
            db, item=item, qty=qty, due=due, kind=kind, user=user_of(ctx), ref=ref, unit=unit
        )
    emit([found.as_row()], fmt, columns=demand.COLUMNS)
    done(
        f"Added demand {found.id} ({found.kind}): {fmt_q(found.qty)} {found.unit} {found.item} "
        f"due {found.due_on}"
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only sales or only forecast.")] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Cancelled and shipped demand too (else open only).")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List demand by due date (open only unless --all), with what was shipped and what
    is still open (owed)."""
    with session(ctx, write=False) as db:
        rows = [
            d.as_row()
            for d in demand.list_demand(db, item=item, kind=kind, include_all=include_all)
        ]
    emit(rows, fmt, columns=demand.COLUMNS, title="Demand")


@app.command("show")
def show_cmd(ctx: typer.Context, demand_id: DemandArg, fmt: FormatOpt = Format.table) -> None:
    """One demand: every field, and its history (created, updated, shipped, cancelled:
    who, when, what changed)."""
    with session(ctx, write=False) as db:
        found = demand.get(db, demand_id)
        events = demand.history(db, found)
    emit_sections(
        [
            ("demand", [found.as_row()], demand.COLUMNS),
            ("history", events, demand.HISTORY_COLUMNS),
        ],
        fmt,
    )


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    demand_id: DemandArg,
    due: NewDueOpt = None,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty", help="New quantity (not below what was shipped).", show_default=False
        ),
    ] = None,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Move an open demand's due date or change its quantity (the customer moved it).

    A cut sales order's reference then keeps reserved only what its open sales demand of
    the item still lacks; the message names the reservations freed."""
    with session(ctx) as db:
        before, after, freed = demand.update(
            db, demand_id, user=user_of(ctx), due=due, qty=qty, unit=unit
        )
    emit([after.as_row()], fmt, columns=demand.COLUMNS)
    done(
        f"Updated demand {after.id} ({after.kind}): {fmt_q(after.qty)} {after.unit} "
        f"{after.item} due {after.due_on} (was {fmt_q(before.qty)} due {before.due_on}), "
        f"{after.state}" + (f"; {freed.note()}" if freed else "")
    )


@app.command("cancel")
def cancel_cmd(ctx: typer.Context, demand_id: DemandArg) -> None:
    """Cancel an open demand.

    A sales order's reference then keeps reserved only what its other open sales demand
    of the item still lacks; the message names the reservations freed."""
    with session(ctx) as db:
        found, freed = demand.cancel(db, demand_id, user=user_of(ctx))
    done(
        f"Cancelled demand {found.id}: {fmt_q(found.qty)} {found.unit} {found.item}"
        + (f"; {freed.note()}" if freed else "")
    )
