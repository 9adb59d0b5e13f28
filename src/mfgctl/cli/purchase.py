"""``mfgctl purchase``: purchase orders (add, list, show, update, cancel, receive)."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import (
    DateOpt,
    DefaultLocationOpt,
    FormatOpt,
    ItemArg,
    LotOpt,
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
from mfgctl.domain import purchases, stock
from mfgctl.qty import fmt as fmt_q
from mfgctl.render import Format, emit, emit_sections, note

app = group("Purchase orders: buy items ordered from suppliers, and receipts against them.")

PoArg = Annotated[
    str, typer.Argument(help="Purchase order number (12 or PO-12).", show_default=False)
]


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    due: Annotated[str, typer.Option("--due", help="Due date (YYYY-MM-DD).", show_default=False)],
    supplier: Annotated[str | None, typer.Option("--supplier", help="Supplier.")] = None,
    ref: RefOpt = None,
    cost: Annotated[
        str | None, typer.Option("--cost", help="Unit cost (per --unit, default per base unit).")
    ] = None,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record an open purchase order for a buy item (stored in its base unit)."""
    with session(ctx) as db:
        po = purchases.add(
            db,
            item=item,
            qty=qty,
            due=due,
            user=user_of(ctx),
            supplier=supplier,
            ref=ref,
            cost=cost,
            unit=unit,
        )
    emit([po.as_row()], fmt, columns=purchases.COLUMNS)
    done(f"Added purchase order {po.id}: {fmt_q(po.qty)} {po.unit} {po.item} due {po.due_on}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Received and cancelled orders too (else open only).")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List purchase orders by due date (open only unless --all)."""
    with session(ctx, write=False) as db:
        rows = [p.as_row() for p in purchases.list_orders(db, item=item, include_all=include_all)]
    emit(rows, fmt, columns=purchases.COLUMNS, title="Purchase orders")


@app.command("show")
def show_cmd(ctx: typer.Context, po: PoArg, fmt: FormatOpt = Format.table) -> None:
    """One purchase order: every field, and its history (created, updated, received,
    cancelled: who, when, what changed)."""
    with session(ctx, write=False) as db:
        found = purchases.get(db, po)
        events = purchases.history(db, found)
    emit_sections(
        [
            ("purchase_order", [found.as_row()], purchases.COLUMNS),
            ("history", events, purchases.HISTORY_COLUMNS),
        ],
        fmt,
    )


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    po: PoArg,
    due: NewDueOpt = None,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty", help="New ordered quantity (not below what was received).", show_default=False
        ),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", "-u", help="Unit of --qty (default: the item's base unit)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Move an open purchase order's due date or change its quantity (what MRP's
    expedite, delay and cancel messages ask for)."""
    with session(ctx) as db:
        before, after = purchases.update(db, po, user=user_of(ctx), due=due, qty=qty, unit=unit)
    emit([after.as_row()], fmt, columns=purchases.COLUMNS)
    done(
        f"Updated purchase order {after.id}: {fmt_q(after.qty)} {after.unit} {after.item} "
        f"due {after.due_on} (was {fmt_q(before.qty)} due {before.due_on}), {after.state}"
    )


@app.command("cancel")
def cancel_cmd(ctx: typer.Context, po: PoArg) -> None:
    """Cancel an open purchase order (what was received stays in stock)."""
    with session(ctx) as db:
        found = purchases.cancel(db, po, user=user_of(ctx))
    done(
        f"Cancelled purchase order {found.id}: {fmt_q(found.received)} of {fmt_q(found.qty)} "
        f"{found.unit} {found.item} received"
    )


@app.command("receive")
def receive_cmd(
    ctx: typer.Context,
    po: PoArg,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty", help="Quantity received (default: what is still open).", show_default=False
        ),
    ] = None,
    lot: LotOpt = None,
    serial: SerialsOpt = None,
    location: DefaultLocationOpt = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", "-u", help="Unit of --qty (default: the item's base unit)."),
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lot expiry date (YYYY-MM-DD).")
    ] = None,
    when: DateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Receive against an open purchase order, as stock receive does (into
    pending_inspection if the item needs inspection), with ref PO-<id> and the order's
    cost. The order is received when all of it has come."""
    from mfgctl.timefmt import parse_date

    with session(ctx) as db:
        found, moves = purchases.receive(
            db,
            po,
            user=user_of(ctx),
            qty=qty,
            lot=lot,
            serials=serial or [],
            location=location,
            unit=unit,
            expires=parse_date(expires, what="--expires") if expires else None,
            when=when,
        )
        expired = stock.expired_on_receipt(db, found.item, moves)
    emit([m.as_row() for m in moves], fmt)
    for e in expired:
        note(f"Warning: {e.warning()}")
    done(
        f"Received {fmt_q(sum(m.qty for m in moves))} {found.unit} {found.item} against purchase "
        f"order {found.id}: {fmt_q(found.received)} of {fmt_q(found.qty)} received, "
        f"{found.state}"
    )
