"""``mfgctl reserve``: claims on available stock, for production orders or anything else.

``mfgctl reserve ORDER`` and ``mfgctl reserve ITEM QTY --for REF`` are short for
``mfgctl reserve add ...``: an argument that is not a subcommand name goes to ``add``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, LotOpt, UnitOpt, done, group, session
from mfgctl.cli._common import user as user_of
from mfgctl.domain import orders, reservations
from mfgctl.domain.reservations import Shortage
from mfgctl.qty import fmt as fmt_q
from mfgctl.render import Format, emit

SHORTAGE_COLUMNS = ["item", "unit", "required", "reserved", "to_reserve", "free", "short"]


app = group(
    "Reservations: claims on available stock (reserve ORDER, or reserve ITEM QTY --for REF).",
    default="add",
)


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="An order number (12 or ORDER-12), or an item code.", metavar="ORDER|ITEM"
        ),
    ],
    qty: Annotated[
        str | None,
        typer.Argument(
            help="Quantity (only with an item code).", metavar="[QTY]", show_default=False
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option("--for", help="What the stock is reserved for (with an item code)."),
    ] = None,
    priority: Annotated[int, typer.Option("--priority", help="Higher is more urgent.")] = 0,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last day the reservation counts (YYYY-MM-DD)."),
    ] = None,
    lot: LotOpt = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Reserve only at this location.")
    ] = None,
    unit: UnitOpt = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Order: reserve what is free even if short.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Reserve every material of a released order, or QTY of an item for a reference.

    Stock is picked first-expired, then first-in. All or nothing: if anything is short,
    nothing is reserved (for an order the shortage table is printed on stderr), unless
    --partial (orders only)."""
    if qty is None:
        extra = [n for n, v in (("--for", ref), ("--until", until), ("--lot", lot),
                                ("--location", location), ("--unit", unit)) if v]  # fmt: skip
        if extra or priority:
            raise typer.BadParameter(
                f"{', '.join(extra) or '--priority'} only go with ITEM QTY; an order's "
                "reservations take its priority"
            )
        with session(ctx) as db:
            try:
                found, result = orders.reserve(db, target, user=user_of(ctx), partial=partial)
            except Shortage as e:
                emit(e.rows, fmt, columns=SHORTAGE_COLUMNS, stream=sys.stderr)
                raise
        rows = [r.as_row() for r in result.created]
        emit(rows, fmt, columns=reservations.COLUMNS, title=f"Reserved for order {found.id}")
        short = [f"{k} {fmt_q(v)}" for k, v in result.short.items() if v > 0]
        tail = f"; still short: {', '.join(short)}" if short else ""
        done(f"Order {found.id}: {len(rows)} new reservations{tail}")
        return
    if partial:
        raise typer.BadParameter("--partial goes with an order, not with ITEM QTY")
    if not ref:
        raise typer.BadParameter("say what the stock is for", param_hint="--for")
    with session(ctx) as db:
        made = reservations.reserve(
            db,
            item=target,
            qty=qty,
            ref=ref,
            user=user_of(ctx),
            unit=unit,
            priority=priority,
            until=until,
            lot=lot,
            location=location,
        )
    emit([r.as_row() for r in made], fmt, columns=reservations.COLUMNS, title="Reserved")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    ref: Annotated[str | None, typer.Option("--for", help="Only this reference.")] = None,
    order: Annotated[str | None, typer.Option("--order", help="Only this order's.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Also cancelled and consumed reservations.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Open and expired reservations (an expired one no longer holds stock)."""
    with session(ctx, write=False) as db:
        order_id = orders.get(db, order).id if order else None
        rows = reservations.list_reservations(
            db, item=item, ref=ref, order_id=order_id, include_closed=all_
        )
    emit([r.as_row() for r in rows], fmt, columns=reservations.COLUMNS, title="Reservations")


@app.command("cancel")
def cancel_cmd(
    ctx: typer.Context,
    reservation: Annotated[
        int | None, typer.Argument(help="Reservation id.", show_default=False)
    ] = None,
    ref: Annotated[
        str | None, typer.Option("--for", help="Every open reservation of a reference.")
    ] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="Every open reservation of an order.")
    ] = None,
) -> None:
    """Cancel a reservation: ID, --for REF or --order N (exactly one)."""
    if sum(x is not None for x in (reservation, ref, order)) != 1:
        raise typer.BadParameter("give exactly one of ID, --for REF or --order N")
    with session(ctx) as db:
        order_id = orders.get(db, order).id if order else None
        gone = reservations.cancel(db, reservation_id=reservation, ref=ref, order_id=order_id)
    done(
        f"Cancelled {len(gone)} reservation{'s' if len(gone) != 1 else ''}: "
        + ", ".join(f"{r.id} ({fmt_q(r.remaining)} {r.unit} {r.item} for {r.ref})" for r in gone)
    )
