"""``mfgctl stock``: the stock-by-status report, receipts, counts, adjustments, moves."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import (
    DateOpt,
    DefaultLocationOpt,
    FormatOpt,
    ItemArg,
    LotOpt,
    QtyArg,
    RefOpt,
    SerialsOpt,
    StatusOpt,
    UnitOpt,
    done,
    group,
    session,
    user,
)
from mfgctl.domain import reports
from mfgctl.domain import stock as ops
from mfgctl.render import Format, emit, emit_sections, note

app = group(
    "Stock by status (run without a subcommand), stock movements, lots and expiry dates.",
    invoke_without_command=True,
    no_args_is_help=False,
)

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Compute from the ledger as of this date (end of day) or time.",
        metavar="DATE",
    ),
]


@app.callback()
def report_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="Only items of this type.")] = None,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Only stock at this location.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only items with stock in this status.")
    ] = None,
    by_lot: Annotated[bool, typer.Option("--by-lot", help="One row per item and lot.")] = False,
    as_of: AsOfOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also list items without stock.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """The stock-by-status report: physical, available, reserved, free, expired, pending
    inspection, awaiting release, blocked, rejected, rework, WIP and on order, per item
    (free leaves out expired lots: no command takes them)."""
    if ctx.invoked_subcommand is not None:
        return
    with session(ctx, write=False) as db:
        rows = ops.report(
            db,
            item=item,
            type=type,
            location=location,
            status=status,
            by_lot=by_lot,
            as_of=as_of,
            include_zero=all_,
        )
    title = f"Stock as of {as_of}" if as_of else "Stock by status"
    emit(
        [r.as_row(by_lot=by_lot) for r in rows],
        fmt,
        columns=reports.StockRow.columns(by_lot=by_lot),
        title=title,
    )


@app.command("receive")
def receive_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    lot: LotOpt = None,
    serial: SerialsOpt = None,
    location: DefaultLocationOpt = None,
    unit: UnitOpt = None,
    cost: Annotated[str | None, typer.Option("--cost", help="Unit cost (per --unit).")] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lot expiry date (YYYY-MM-DD).")
    ] = None,
    ref: RefOpt = None,
    when: DateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Receive purchased stock (into pending_inspection if the item needs inspection)."""
    from mfgctl.timefmt import parse_date

    with session(ctx) as db:
        moves = ops.receive(
            db,
            item=item,
            qty=qty,
            user=user(ctx),
            unit=unit,
            location=location,
            lot=lot,
            serials=serial or [],
            cost=cost,
            ref=ref,
            when=when,
            expires=parse_date(expires, what="--expires") if expires else None,
        )
        expired = ops.expired_on_receipt(db, item, moves)
    emit([m.as_row() for m in moves], fmt)
    for e in expired:
        note(f"Warning: {e.warning()}")


@app.command("count")
def count_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: Annotated[str, typer.Argument(help="Counted quantity (0 allowed).", show_default=False)],
    location: DefaultLocationOpt = None,
    lot: LotOpt = None,
    status: StatusOpt = "available",
    unit: UnitOpt = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Remark stored with the count.")
    ] = None,
    when: DateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a physical count; the difference is posted through ADJUSTMENT."""
    with session(ctx) as db:
        result = ops.count(
            db,
            item=item,
            qty=qty,
            user=user(ctx),
            location=location,
            lot=lot,
            status=status,
            unit=unit,
            note=note,
            when=when,
        )
    emit([result.as_row()], fmt)


@app.command("adjust")
def adjust_cmd(
    ctx: typer.Context,
    item: ItemArg,
    add: Annotated[
        str | None, typer.Option("--add", help="Quantity to add.", metavar="QTY")
    ] = None,
    remove: Annotated[
        str | None, typer.Option("--remove", help="Quantity to take out.", metavar="QTY")
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (required).", show_default=False)
    ] = "",
    location: DefaultLocationOpt = None,
    lot: LotOpt = None,
    status: StatusOpt = "available",
    unit: UnitOpt = None,
    ref: RefOpt = None,
    when: DateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """An explicit correction through ADJUSTMENT: give --add QTY or --remove QTY, and --reason."""
    if (add is None) == (remove is None):
        raise typer.BadParameter("give exactly one of --add QTY or --remove QTY")
    if not reason.strip():
        raise typer.BadParameter("a reason is required", param_hint="--reason")
    with session(ctx) as db:
        move = ops.adjust(
            db,
            item=item,
            qty=add if add is not None else remove,
            direction="add" if add is not None else "remove",
            reason=reason,
            user=user(ctx),
            location=location,
            lot=lot,
            status=status,
            unit=unit,
            ref=ref,
            when=when,
        )
    emit([move.as_row()], fmt)


@app.command("move")
def move_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    source: Annotated[
        str, typer.Option("--from", help="Location to take from.", show_default=False)
    ],
    target: Annotated[str, typer.Option("--to", help="Location to put into.", show_default=False)],
    lot: LotOpt = None,
    status: StatusOpt = "available",
    unit: UnitOpt = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
    ref: RefOpt = None,
    when: DateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Move stock between locations (its status goes with it)."""
    with session(ctx) as db:
        move = ops.transfer(
            db,
            item=item,
            qty=qty,
            source=source,
            target=target,
            user=user(ctx),
            lot=lot,
            status=status,
            unit=unit,
            reason=reason,
            ref=ref,
            when=when,
        )
    emit([move.as_row()], fmt)


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    item: ItemArg,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Only this location.")
    ] = None,
    lot: LotOpt = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Start at this date.", metavar="DATE")
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """An item's moves in effective-date order, with the running in-house balance."""
    with session(ctx, write=False) as db:
        rows = reports.history(db, item, location=location, lot=lot, since=since, as_of=as_of)
    emit(rows, fmt, columns=reports.HISTORY_COLUMNS, title=f"History of {item.strip()}")


LotArg = Annotated[str, typer.Argument(help="Lot or serial number.", show_default=False)]


@app.command("expiry")
def expiry_cmd(
    ctx: typer.Context,
    item: ItemArg,
    lot: LotArg,
    expires: Annotated[
        str,
        typer.Option(
            "--expires",
            help="New expiry date (YYYY-MM-DD), or none: the lot no longer expires.",
            metavar="DATE",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why (required): a re-test, a typo at receipt...",
            metavar="TEXT",
            show_default=False,
        ),
    ],
    fmt: FormatOpt = Format.table,
) -> None:
    """Change a lot's (or serial's) expiry date, with a reason; the change is kept as
    history (stock lots)."""
    with session(ctx) as db:
        change = ops.change_expiry(
            db, item=item, lot=lot, expires=expires, reason=reason, user=user(ctx)
        )
    emit([change.as_row()], fmt, columns=ops.EXPIRY_COLUMNS)
    word = "serial" if change.serial else "lot"
    if change.expired:
        after = "expired: no command takes it"
    elif change.last_day_today:  # good through its date: the boundary is tomorrow
        again = "usable again" if change.was_expired else "usable"
        after = f"{again} through today only, expired from tomorrow"
    else:
        after = "usable again" if change.was_expired else ""
    done(
        f"{change.item} {word} {change.lot}: expiry {change.old_expires or 'none'} -> "
        f"{change.new_expires or 'none'}" + (f" ({after})" if after else "")
    )


@app.command("lots")
def lots_cmd(
    ctx: typer.Context,
    item: ItemArg,
    lot: LotOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also lots with nothing in house.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """An item's lots (or serials) in house, first-expired first, with their expiry dates,
    then every change of those dates (who, when, old, new, reason)."""
    with session(ctx, write=False) as db:
        found = ops.lots(db, item, lot=lot, every=all_)
    emit_sections(
        [
            ("lots", found.rows, ops.LOT_COLUMNS),
            ("expiry_changes", [c.as_row() for c in found.changes], ops.EXPIRY_COLUMNS),
        ],
        fmt,
    )
