"""``mfgctl ship``: released, available stock leaves for a customer; ``mfgctl shipments``
lists what left; ``mfgctl return`` takes back what a customer sent back."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import (
    DefaultLocationOpt,
    FormatOpt,
    ItemArg,
    LotOpt,
    QtyArg,
    SerialsOpt,
    UnitOpt,
    done,
    session,
)
from mfgctl.cli._common import user as user_of
from mfgctl.render import Format, emit

# One command each: Typer makes a one-command app a plain top-level command.
app = typer.Typer(add_completion=False, rich_markup_mode=None)
shipments_app = typer.Typer(add_completion=False, rich_markup_mode=None)
return_app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command("ship")
def ship_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    to: Annotated[str, typer.Option("--to", help="The customer it goes to.", show_default=False)],
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            help="Customer order reference: its reservations are taken first, and the "
            "open sales demand with it is fulfilled.",
        ),
    ] = None,
    lot: LotOpt = None,
    serial: SerialsOpt = None,
    unit: UnitOpt = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Ship only from this location.")
    ] = None,
    demand_id: Annotated[
        str | None,
        typer.Option("--demand", help="The sales demand fulfilled (default: found by --ref)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Delivery note, carrier...")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Ship released, available stock to a customer (moves to CUSTOMER, ref SHIP-<id>).

    Stock reserved for --ref is taken first, then free stock; stock reserved for anything
    else, and stock not released or not available, is refused. The reference's open
    sales demand is fulfilled earliest due first (one shipment per demand line it
    fulfils), each marked shipped when its shipments reach its quantity; then, after a
    partial shipment too, the reference's reservations beyond what its open sales demand
    still lacks are freed (the message names them)."""
    from mfgctl import qty as q
    from mfgctl.domain import shipping

    with session(ctx) as db:
        result = shipping.ship(
            db,
            item=item,
            qty=qty,
            customer=to,
            user=user_of(ctx),
            ref=ref,
            unit=unit,
            lot=lot,
            serials=serial or [],
            location=location,
            demand_id=demand_id,
            note=note,
        )
    several = len(result.parts) > 1
    title = f"Shipment{'s' if several else ''} {result.reference}"
    emit(result.rows(), fmt, columns=shipping.COLUMNS, title=title)
    lots = sorted({t.lot for t in result.takes if t.lot})
    lots_text = f" ({', '.join(lots)})" if lots else ""
    for_text = f" for {result.ref}" if result.ref else ""
    message = (
        f"Shipped {q.fmt(result.qty)} {result.unit} {result.item}{lots_text} to "
        f"{result.customer} as {result.reference}{for_text}"
    )
    for p in result.parts:
        if p.demand_id is not None:
            share = f" ({p.reference}: {q.fmt(p.qty)} {result.unit})" if several else ""
            message += f"; demand {p.demand_id} is {p.demand_state}{share}"
    if result.freed:
        message += f"; {result.freed.note()}"
    done(message)


@shipments_app.command("shipments")
def shipments_cmd(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", "--to", help="Only this customer's shipments.")
    ] = None,
    item: Annotated[str | None, typer.Option("--item", help="Only this item.")] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="Only this customer order.")] = None,
    lot: Annotated[
        str | None, typer.Option("--lot", help="Only shipments that took this lot or serial.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Shipped on or after DATE.", metavar="DATE")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Shipped on or before DATE.", metavar="DATE")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List shipments, oldest first: customer, item, quantity, what came back, lots."""
    from mfgctl.domain import shipping

    with session(ctx, write=False) as db:
        rows = shipping.shipments(
            db, customer=customer, item=item, ref=ref, lot=lot, since=since, until=until
        )
    if not rows and fmt in (Format.table, Format.markdown):
        done("No shipments")  # JSON prints [], CSV and plain their header line
        return
    emit(rows, fmt, columns=shipping.LIST_COLUMNS, title="Shipments")


@return_app.command("return")
def return_cmd(
    ctx: typer.Context,
    shipment: Annotated[
        str, typer.Argument(help="The shipment: SHIP-<id> (or the number).", show_default=False)
    ],
    qty: QtyArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it came back.", show_default=False)],
    lot: LotOpt = None,
    serial: SerialsOpt = None,
    unit: UnitOpt = None,
    location: DefaultLocationOpt = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="Status it comes back in: pending_inspection, blocked, rejected, rework, "
            "available.",
        ),
    ] = "pending_inspection",
    fmt: FormatOpt = Format.table,
) -> None:
    """Take back goods a customer returned against a shipment (CUSTOMER -> LOCATION,
    pending inspection by default; ref SHIP-<id>).

    Never more than the shipment sent of that lot or serial, less what came back
    already. The sales demand the shipment fulfilled stays shipped: add a demand for a
    replacement."""
    from mfgctl import qty as q
    from mfgctl.domain import shipping

    with session(ctx) as db:
        result = shipping.return_goods(
            db,
            shipment=shipment,
            qty=qty,
            reason=reason,
            user=user_of(ctx),
            unit=unit,
            lot=lot,
            serials=serial or [],
            location=location,
            status=status,
        )
    emit(result.rows(), fmt, columns=shipping.RETURN_COLUMNS, title=f"Return on {result.shipment}")
    done(
        f"Took back {q.fmt(result.qty)} {result.unit} {result.item} from {result.customer} "
        f"({result.shipment}) into {result.to}"
    )
