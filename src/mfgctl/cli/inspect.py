"""``mfgctl inspect``: quality decisions on stock, and the inspection records.

``mfgctl inspect ITEM --pass ...`` is short for ``mfgctl inspect decide ITEM --pass ...``:
the group runs ``decide`` when its first word is not one of its commands.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, group, session, user
from mfgctl.render import Exact, Format, emit

if TYPE_CHECKING:
    from mfgctl.domain.quality import Inspection

app = group(
    "Quality decisions on stock: mfgctl inspect ITEM (--pass | --fail | --rework | "
    "--reworked | --hold | --unblock) [--lot L | --serial S] [--location LOC] [--qty Q] "
    "[--note TEXT] [--measure NAME=VALUE ...] (short for mfgctl inspect decide ...), "
    "and mfgctl inspect list.",
    default="decide",
)

DECISION_FLAGS = ("pass", "fail", "rework", "reworked", "hold", "unblock")


def _rows(records: list[Inspection], fmt: Format) -> list[dict[str, Any]]:
    """Report rows: measurements as ``name=value`` text, or in JSON as an object whose
    numbers keep the digits as typed (``-42.50``, not ``-42.5``)."""
    if fmt is not Format.json:
        return [r.as_row(flat=True) for r in records]
    rows = []
    for r in records:
        row = r.as_row()
        row["measurements"] = {
            k: Exact(v) if isinstance(v, Decimal) else v for k, v in r.measurements.items()
        }
        rows.append(row)
    return rows


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    item: ItemArg,
    pass_: Annotated[
        bool,
        typer.Option(
            "--pass",
            help="Passed: pending_inspection -> available (awaiting_release if the item has "
            "release criteria); on awaiting_release stock, records the pass only.",
        ),
    ] = False,
    fail: Annotated[
        bool,
        typer.Option(
            "--fail", help="Failed: pending_inspection, rework or awaiting_release -> rejected."
        ),
    ] = False,
    rework: Annotated[
        bool,
        typer.Option(
            "--rework", help="To rework: pending_inspection or awaiting_release -> rework."
        ),
    ] = False,
    reworked: Annotated[
        bool,
        typer.Option(
            "--reworked",
            help="Rework done: rework -> pending_inspection, to be inspected again.",
        ),
    ] = False,
    hold: Annotated[
        bool,
        typer.Option(
            "--hold", help="Hold: available, pending_inspection or awaiting_release -> blocked."
        ),
    ] = False,
    unblock: Annotated[
        bool,
        typer.Option(
            "--unblock",
            help="Release a hold: blocked -> the status it was held from "
            "(pending_inspection when no record tells).",
        ),
    ] = False,
    lot: Annotated[str | None, typer.Option("--lot", help="Lot number.")] = None,
    serial: Annotated[str | None, typer.Option("--serial", help="Serial number.")] = None,
    location: Annotated[
        str | None,
        typer.Option(
            "--location",
            "-l",
            help="Where the stock is (default: the one location holding it in a status the "
            "decision takes from).",
        ),
    ] = None,
    qty: Annotated[
        str | None,
        typer.Option("--qty", help="How much (default: all of it in that status there)."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="The status to take the stock from, when it is in several the decision "
            "takes from.",
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Remark stored with the record.")
    ] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option(
            "--measure",
            "-m",
            help="A measurement NAME=VALUE (repeatable); numbers are kept exactly as typed.",
            metavar="NAME=VALUE",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a quality decision and move the stock between statuses at its location."""
    chosen = [
        name
        for name, on in zip(
            DECISION_FLAGS, (pass_, fail, rework, reworked, hold, unblock), strict=True
        )
        if on
    ]
    if len(chosen) != 1:
        raise typer.BadParameter(
            "give exactly one of --pass, --fail, --rework, --reworked, --hold, --unblock"
        )
    from mfgctl.domain import quality

    with session(ctx) as db:
        records = quality.inspect(
            db,
            item=item,
            decision=chosen[0],
            user=user(ctx),
            lot=lot,
            serial=serial,
            location=location,
            qty=qty,
            status=status,
            note=note,
            measurements=measure or [],
        )
    emit(_rows(records, fmt), fmt, columns=quality.COLUMNS)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Option("--item", "-i", help="Only this item.")] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="Only this lot or serial.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only records from this date or time on.", metavar="DATE"),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The inspection records, oldest first: who decided what, on how much, measured what."""
    from mfgctl.domain import quality

    with session(ctx, write=False) as db:
        records = quality.records(db, item=item, lot=lot, since=since)
    emit(
        _rows(records, fmt),
        fmt,
        columns=quality.COLUMNS,
        title="Inspections",
    )
