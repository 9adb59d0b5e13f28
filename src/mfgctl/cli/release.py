"""``mfgctl release``: sign off release criteria and release finished goods.

``mfgctl release LOT`` is short for ``mfgctl release lot LOT``: the group runs ``lot``
when its first word is not one of its commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, group, session, user
from mfgctl.render import Format, emit

app = group(
    "Release finished goods: mfgctl release LOT [--item I] [--location LOC] [--qty Q] (short for "
    "mfgctl release lot ...) moves a lot from awaiting_release to available once every "
    "release criterion is met; mfgctl release check signs one off for the units awaiting "
    "release; mfgctl release signoffs lists a lot's sign-offs; mfgctl release status lists the "
    "lots waiting.",
    default="lot",
)

LotArg = Annotated[str, typer.Argument(help="Lot or serial number.", show_default=False)]
ItemOpt = Annotated[
    str | None,
    typer.Option("--item", "-i", help="The item (needed only when several items have the lot)."),
]


@app.command("lot")
def lot_cmd(
    ctx: typer.Context,
    lot: LotArg,
    item: ItemOpt = None,
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="Only the stock at this location (default: all)."),
    ] = None,
    qty: Annotated[
        str | None,
        typer.Option("--qty", help="How much (default: all of it awaiting release there)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Release a lot: its awaiting_release stock becomes available, when every criterion is
    met for that quantity."""
    from mfgctl.domain import release

    with session(ctx) as db:
        moves = release.release(db, lot=lot, item=item, user=user(ctx), location=location, qty=qty)
    emit([m.as_row() for m in moves], fmt)


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    lot: LotArg,
    criterion: Annotated[
        str, typer.Argument(help="A criterion of the item's release_criteria.", show_default=False)
    ],
    item: ItemOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="Remark stored with it.")] = None,
) -> None:
    """Sign off one release criterion of a lot or serial: it covers the units awaiting
    release now; units reaching awaiting_release later need a new sign-off."""
    from mfgctl import qty as q
    from mfgctl.domain import release

    with session(ctx) as db:
        signed = release.sign_off(db, lot=lot, criterion=criterion, item=item, user=user(ctx),
                                  note=note)  # fmt: skip
        _, unmet = release.met_criteria(db, *release.find_lot(db, signed.lot, signed.item))
    left = f"still unmet: {', '.join(unmet)}" if unmet else "every criterion is met"
    covers = f"{q.fmt(signed.qty)} {signed.unit} awaiting release"
    done(f"Signed off {signed.criterion} for {signed.label} ({covers}); {left}")


@app.command("signoffs")
def signoffs_cmd(
    ctx: typer.Context, lot: LotArg, item: ItemOpt = None, fmt: FormatOpt = Format.table
) -> None:
    """Every sign-off of a lot or serial, oldest first: criterion, what it covered, who
    and when."""
    from mfgctl.domain import release

    with session(ctx, write=False) as db:
        rows = [s.as_row() for s in release.signoffs(db, lot, item)]
    emit(rows, fmt, columns=release.SIGNOFF_COLUMNS, title="Sign-offs")


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every lot waiting in awaiting_release, with its met and unmet criteria."""
    from mfgctl.domain import release

    with session(ctx, write=False) as db:
        rows = [w.as_row() for w in release.waiting(db, item=item)]
    emit(
        rows,
        fmt,
        columns=["item", "lot", "qty", "locations", "met", "unmet", "releasable"],
        title="Awaiting release",
    )
