"""``mfgctl consume``: materials of a production order into its WIP.

``mfgctl consume ORDER`` backflushes every material (what each still lacks, or its share
of ``--qty`` units of output); ``--item`` records the actual use (``--qty``) or scrap
(``--scrap``, with ``--reason``) of one component.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, LotOpt, UnitOpt, done, session
from mfgctl.cli._common import user as user_of
from mfgctl.domain import production
from mfgctl.qty import fmt as fmt_q
from mfgctl.render import Format, emit, note

# One command: Typer makes a one-command app a plain top-level command.
app = typer.Typer(add_completion=False, rich_markup_mode=None)

MOVE_COLUMNS = ["seq", "item", "lot", "qty", "from", "to", "kind", "reason", "ref"]


@app.command("consume")
def consume_cmd(
    ctx: typer.Context,
    order: Annotated[
        str, typer.Argument(help="Order number (12 or ORDER-12).", show_default=False)
    ],
    item: Annotated[
        str | None, typer.Option("--item", "-i", help="One component (else: every material).")
    ] = None,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty",
            help="Without --item: units of output to consume for (default: what each material "
            "still lacks). With --item: the quantity of it used.",
        ),
    ] = None,
    scrap: Annotated[
        str | None, typer.Option("--scrap", help="With --item: quantity scrapped (needs --reason).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it was scrapped.")] = None,
    from_stock: Annotated[
        bool,
        typer.Option("--from-stock", help="Scrap from stock, not from the order's WIP."),
    ] = False,
    lot: LotOpt = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Take stock only from this location.")
    ] = None,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Consume an order's materials into its WIP (a released order is started).

    Stock comes from the order's reservations first, then free available stock
    (first-expired, first-in); stock that is not available is never taken. All or
    nothing: a shortage refuses the whole command."""
    if item is None and (scrap or reason or lot or location or from_stock or unit):
        raise typer.BadParameter(
            "--scrap, --reason, --lot, --location, --from-stock and --unit need --item"
        )
    capped: list[production.Capped] = []
    with session(ctx) as db:
        if item is None:
            found, moves, capped = production.backflush_capped(
                db, order, user=user_of(ctx), qty=qty
            )
        else:
            found, moves = production.consume_item(
                db,
                order,
                item=item,
                user=user_of(ctx),
                qty=qty,
                scrap=scrap,
                reason=reason,
                lot=lot,
                location=location,
                from_stock=from_stock,
                unit=unit,
            )
    emit([m.as_row() for m in moves], fmt, columns=MOVE_COLUMNS, title=f"Order {found.id} moves")
    for c in capped:
        more = f"(to issue more, mfgctl consume {found.id} --item {c.item.code} --qty Q)"
        if c.took:
            note(
                f"Note: order {found.id} lacked only {fmt_q(c.took)} {c.item.unit} of "
                f"{c.item.code}, not its share {fmt_q(c.share)} for --qty {qty}: took "
                f"{fmt_q(c.took)} {more}"
            )
        else:  # it lacks nothing: its share is not taken at all
            note(
                f"Note: order {found.id} has all its {c.item.code} already: took none of its "
                f"share {fmt_q(c.share)} for --qty {qty} {more}"
            )
    scrapped = sum(1 for m in moves if m.kind == "scrap")
    done(
        f"Order {found.id} ({found.state}): {len(moves) - scrapped} consume moves"
        + (f", {scrapped} scrap moves" if scrapped else "")
    )
