"""``mfgctl ship``: released, available stock leaves for a customer."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, LotOpt, QtyArg, UnitOpt, done, session
from mfgctl.cli._common import user as user_of
from mfgctl.render import Format, emit

# One command: Typer makes a one-command app a plain top-level command.
app = typer.Typer(add_completion=False, rich_markup_mode=None)


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
    serial: Annotated[
        list[str] | None,
        typer.Option(
            "--serial",
            "--serials",
            help="Serial shipped (repeat, or separate with commas); required for "
            "serial-tracked items.",
        ),
    ] = None,
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
    else, and stock not released or not available, is refused. The sales demand is
    marked shipped when its shipments reach its quantity."""
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
    emit(result.rows(), fmt, columns=shipping.COLUMNS, title=f"Shipment {result.reference}")
    lots = sorted({t.lot for t in result.takes if t.lot})
    lots_text = f" ({', '.join(lots)})" if lots else ""
    for_text = f" for {result.ref}" if result.ref else ""
    message = (
        f"Shipped {q.fmt(result.qty)} {result.unit} {result.item}{lots_text} to "
        f"{result.customer} as {result.reference}{for_text}"
    )
    if result.demand_id is not None:
        message += f"; demand {result.demand_id} is {result.demand_state}"
    if result.freed:
        freed = ", ".join(str(r.id) for r in result.freed)
        message += f"; leftover reservation(s) {freed} cancelled"
    done(message)
