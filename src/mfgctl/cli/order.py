"""``mfgctl order``: production orders (create, release, start, complete, close, list, show,
update, cancel)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mfgctl.cli import order_stages
from mfgctl.cli._common import (
    FormatOpt,
    ItemArg,
    NewDueOpt,
    QtyArg,
    RefOpt,
    SerialsOpt,
    UnitOpt,
    done,
    group,
    session,
)
from mfgctl.cli._common import user as user_of
from mfgctl.domain import orders, production
from mfgctl.domain.reservations import Shortage
from mfgctl.qty import fmt as fmt_q
from mfgctl.render import Format, emit, emit_sections

app = group("Production orders: make an item by a date with one BOM revision.")

OrderArg = Annotated[str, typer.Argument(help="Order number (12 or ORDER-12).", show_default=False)]
PartialOpt = Annotated[
    bool,
    typer.Option("--partial", help="Reserve what is free even if something is short."),
]
SHORTAGE_COLUMNS = ["item", "unit", "required", "reserved", "to_reserve", "free", "short"]
MOVE_COLUMNS = ["seq", "item", "lot", "qty", "from", "to", "kind", "reason", "ref"]


def _print_shortage(e: Shortage, fmt: Format) -> None:
    """A refused reservation's shortage table, on stderr (stdout stays empty)."""
    emit(e.rows, fmt, columns=SHORTAGE_COLUMNS, stream=sys.stderr)


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    due: Annotated[str, typer.Option("--due", help="Due date (YYYY-MM-DD).", show_default=False)],
    revision: Annotated[
        str | None, typer.Option("--revision", help="BOM revision (default: the active one).")
    ] = None,
    ref: RefOpt = None,
    priority: Annotated[int, typer.Option("--priority", help="Higher is more urgent.")] = 0,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Create a planned order; prints it and its material requirements (free, reserved,
    short)."""
    with session(ctx) as db:
        order = orders.create(
            db,
            item=item,
            qty=qty,
            due=due,
            user=user_of(ctx),
            revision=revision,
            ref=ref,
            priority=priority,
            unit=unit,
        )
        mats = orders.material_rows(db, order)
    emit_sections(
        [
            ("order", [order.as_row()], orders.ORDER_COLUMNS),
            ("materials", mats, orders.MATERIAL_COLUMNS),
        ],
        fmt,
    )
    done(f"Created order {order.id} ({order.state}): {fmt_q(order.qty)} {order.unit} {order.item}")


@app.command("release")
def release_cmd(
    ctx: typer.Context, order: OrderArg, partial: PartialOpt = False, fmt: FormatOpt = Format.table
) -> None:
    """Release a planned order: freeze its materials and reserve them.

    If anything is short the release is refused and the shortage table printed (on
    stderr), unless --partial: then it is released and what is free is reserved."""
    with session(ctx) as db:
        try:
            found, result = orders.release(db, order, user=user_of(ctx), partial=partial)
        except Shortage as e:
            _print_shortage(e, fmt)
            raise
        mats = orders.material_rows(db, found)
    emit(mats, fmt, columns=orders.MATERIAL_COLUMNS, title=f"Order {found.id} materials")
    short = [f"{k} {fmt_q(v)}" for k, v in result.short.items() if v > 0]
    tail = f"; still short: {', '.join(short)}" if short else "; all materials reserved"
    done(f"Released order {found.id}: {len(result.created)} reservations{tail}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="Only orders in this state.")] = None,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    late: Annotated[
        bool, typer.Option("--late", help="Only orders past their due date and not done.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List production orders by due date."""
    with session(ctx, write=False) as db:
        rows = [o.as_row() for o in orders.list_orders(db, state=state, item=item, late=late)]
    emit(rows, fmt, columns=orders.ORDER_COLUMNS, title="Production orders")


@app.command("show")
def show_cmd(ctx: typer.Context, order: OrderArg, fmt: FormatOpt = Format.table) -> None:
    """One order: header, materials (required, reserved, consumed, variance, short), its
    stages with their progress, its output lots and serials, its cost (actual against
    standard, per material, stages and total) and its history."""
    from mfgctl.domain import costing, stages

    with session(ctx, write=False) as db:
        found = orders.get(db, order)
        mats = orders.material_rows(db, found)
        steps = [s.as_row() for s in stages.order_stages(db, found)]
        made = production.output_lots(db, found)
        cost = costing.order_cost(db, found)
        events = orders.history(db, found)
    emit_sections(
        [
            ("order", [found.as_row()], orders.ORDER_COLUMNS),
            ("materials", mats, orders.MATERIAL_COLUMNS),
            ("stages", steps, stages.ORDER_STAGE_COLUMNS),
            ("output", made, production.OUTPUT_LOT_COLUMNS),
            ("cost", cost.rows, costing.ORDER_COST_COLUMNS),
            ("history", events, orders.HISTORY_COLUMNS),
        ],
        fmt,
    )
    done(costing.summary(cost))


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    order: OrderArg,
    due: NewDueOpt = None,
    priority: Annotated[
        int | None,
        typer.Option(
            "--priority", help="New priority (higher is more urgent).", show_default=False
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Move a planned, released or in-progress order's due date or change its priority
    (kept in its history)."""
    with session(ctx) as db:
        before, after = orders.update(db, order, user=user_of(ctx), due=due, priority=priority)
    emit([after.as_row()], fmt, columns=orders.ORDER_COLUMNS)
    done(
        f"Updated order {after.id} ({after.state}): due {after.due_on}, priority "
        f"{after.priority} (was due {before.due_on}, priority {before.priority})"
    )


@app.command("cancel")
def cancel_cmd(
    ctx: typer.Context,
    order: OrderArg,
    note: Annotated[str | None, typer.Option("--note", help="Why, kept in the history.")] = None,
) -> None:
    """Cancel a planned or released order; every reservation it holds is released."""
    with session(ctx) as db:
        found, released = orders.cancel(db, order, user=user_of(ctx), note=note)
    done(f"Cancelled order {found.id}; released {len(released)} reservations")


@app.command("start")
def start_cmd(ctx: typer.Context, order: OrderArg) -> None:
    """Start a released order (released -> in_progress)."""
    with session(ctx) as db:
        found, moves = production.start(db, order, user=user_of(ctx))
    consumed = f"; backflushed {len(moves)} consume moves" if moves else ""
    done(f"Started order {found.id} ({found.state}){consumed}")


@app.command("complete")
def complete_cmd(
    ctx: typer.Context,
    order: OrderArg,
    qty: Annotated[
        str, typer.Option("--qty", help="Good units completed (0 with --scrap only).")
    ] = "0",
    scrap: Annotated[
        str | None, typer.Option("--scrap", help="Units of output scrapped.", show_default=False)
    ] = None,
    lot: Annotated[
        str | None, typer.Option("--lot", help="Lot of the output (lot-tracked items).")
    ] = None,
    serial: SerialsOpt = None,
    auto_serials: Annotated[
        bool,
        typer.Option("--auto-serials", help="Number serials from the item's serial pattern."),
    ] = False,
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="Where the output goes (default STORES)."),
    ] = None,
    final: Annotated[
        bool, typer.Option("--final", help="Mark the order completed even if output is short.")
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why output was scrapped.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Complete output of a started order into stock: pending_inspection if the item is
    inspected on receipt, else awaiting_release if it has release criteria, else available.

    The components used for that output are relieved from the order's WIP. The order
    becomes completed when completed + scrapped output reaches its quantity (or --final)."""
    with session(ctx) as db:
        result = production.complete(
            db,
            order,
            qty=qty,
            user=user_of(ctx),
            scrap=scrap,
            lot=lot,
            serials=serial or [],
            auto_serials=auto_serials,
            location=location,
            final=final,
            reason=reason,
        )
    moves = [m.as_row() for m in result.moves]
    if moves or fmt is Format.json:
        emit(moves, fmt, columns=MOVE_COLUMNS, title=f"Order {result.order.id} moves")
    freed = f"; freed {len(result.freed)} reservations" if result.freed else ""
    if not moves:
        done(
            f"Finished order {result.order.id} short: it is {result.order.state} "
            f"(close it to return or use up what is left in its WIP){freed}"
        )
        return
    lots = f" ({', '.join(result.lots)})" if result.lots else ""
    scrapped = f", {fmt_q(result.scrapped)} scrapped" if result.scrapped else ""
    done(
        f"Completed {fmt_q(result.good)} {result.order.unit} {result.order.item}{lots} into "
        f"{result.location}/{result.status}{scrapped}; order {result.order.id} is "
        f"{result.order.state}{freed}"
    )


@app.command("close")
def close_cmd(
    ctx: typer.Context,
    order: OrderArg,
    return_unconsumed: Annotated[
        bool,
        typer.Option(
            "--return-unconsumed",
            help="Return what is left in the order's WIP to stock (else it is used up).",
        ),
    ] = False,
    location: Annotated[
        str | None,
        typer.Option(
            "--location", "-l", help="Where returned stock goes (available; default STORES)."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Close a completed order: free its reservations, return or use up its leftover
    WIP, and print its yield and consumption variance per component."""
    from mfgctl.domain import costing

    with session(ctx) as db:
        result = production.close(
            db, order, user=user_of(ctx), return_unconsumed=return_unconsumed, location=location
        )
        cost = costing.order_cost(db, result.order)
    by_part = {r["part"]: r for r in cost.rows}
    rows = [
        {
            **r,
            **{k: by_part.get(r["item"], {}).get(v) for k, v in costing.CLOSE_COST_COLUMNS.items()},
        }
        for r in result.variance
    ]
    emit(
        rows,
        fmt,
        columns=[*production.VARIANCE_COLUMNS, *costing.CLOSE_COST_COLUMNS],
        title=f"Order {result.order.id} consumption variance",
    )
    done(f"Order {result.order.id} {costing.summary(cost)}")
    done(
        f"Closed order {result.order.id}: yield {fmt_q(result.yield_pct)}% "
        f"({fmt_q(result.good)} of {fmt_q(result.order.qty)} {result.order.unit}); "
        f"freed {len(result.freed)} reservations, returned {len(result.returned)} moves "
        f"of WIP to stock"
    )


app.command("advance")(order_stages.advance_cmd)
