"""``mfgctl status``: the one-screen status of the shop."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, session
from mfgctl.gcpause import paused
from mfgctl.render import Format, emit, note, to_json

app = typer.Typer(add_completion=False, rich_markup_mode=None)

BAR_WIDTH = 24
TOP = 10  # rows of each list on the screen (JSON has them all)
_EIGHTHS = " ▏▎▍▌▋▊▉"

# (key, title, columns) of each list, in screen order.
SECTIONS = (
    ("stock", "Stock by status (value at standard cost)",
     ["status", "items", "value", "uncosted", "bar"]),
    ("materials_low", "Materials below safety stock",
     ["item", "free", "safety_stock", "on_order", "unit"]),
    ("reserved", "Reserved (open reservations by reference)", ["ref", "lines", "items", "value"]),
    ("in_progress", "In progress",
     ["order", "item", "qty", "unit", "state", "stage", "due", "late"]),
    ("wip_by_stage", "WIP by stage (units waiting)", ["stage", "waiting", "bar"]),
    ("ready", "Finished goods ready", ["item", "name", "free", "awaiting_release", "unit"]),
    ("held", "Blocked, rejected, rework",
     ["item", "blocked", "rejected", "rework", "unit", "value"]),
    ("late", "Late or at risk", ["order", "item", "qty", "unit", "due", "state", "why"]),
    ("replenish", "Replenish (MRP from today)", ["action", "item", "qty", "date", "for"]),
    ("cost", "Cost to make each finished item (rolled up, per unit)",
     ["item", "name", "unit_cost", "std_cost", "unit"]),
)  # fmt: skip


def bar(value: Decimal, largest: Decimal, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``value`` against ``largest``, in eighths of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = int(value * width * 8 / largest)
    full, part = divmod(max(eighths, 1), 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _with_bars(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    largest = max((r[key] for r in rows), default=Decimal(0))
    return [{**r, "bar": bar(r[key], largest)} for r in rows]


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    risk_days: Annotated[
        str,
        typer.Option(
            "--risk-days",
            metavar="N",
            help="Orders due within this many days (0 to 365) and not started are at risk; "
            "planned orders to release within it are listed.",
        ),
    ] = "7",
    horizon: Annotated[
        str,
        typer.Option("--horizon", help="Days the MRP run looks ahead (1 to 3660).", metavar="DAYS"),
    ] = "90",
    no_mrp: Annotated[
        bool, typer.Option("--no-mrp", help="Skip the MRP run (no replenishment, no shortages).")
    ] = False,
    include_inspection: Annotated[
        bool,
        typer.Option(
            "--include-inspection", help="The MRP run counts stock pending inspection as on hand."
        ),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """One screen: stock by status, materials below safety stock, what is reserved,
    what is in progress and at which stage, finished goods ready, what is blocked or
    rejected, late and at-risk orders, what to replenish (a quick MRP run) and the
    standard cost of each finished item."""
    # The MRP run and the cost roll-up make millions of small objects that live until
    # the command ends: the garbage collector spent a quarter of the command walking
    # them on the 10,000-item plant (see gcpause). The process ends right after.
    with paused(freeze=True):
        _status(ctx, risk_days, horizon, no_mrp, include_inspection, fmt)


def _status(
    ctx: typer.Context,
    risk_days: str,
    horizon: str,
    no_mrp: bool,
    include_inspection: bool,
    fmt: Format,
) -> None:
    from mfgctl.domain import codes, mrp, status

    with session(ctx, write=False) as db:
        days = mrp.parse_horizon(horizon)
        risk = codes.whole_number(risk_days, what="--risk-days", most=365)
        doc = status.build(
            db,
            risk_days=risk,
            mrp_horizon=None if no_mrp else days,
            include_inspection=include_inspection,
        )
    if fmt is Format.json:
        sys.stdout.write(to_json(doc) + "\n")
        return
    # Bars are for the eye: the table has them, data formats (CSV, plain, Markdown) not.
    bars = fmt is Format.table
    if bars:
        doc["stock"] = _with_bars(doc["stock"], "value")
        doc["wip_by_stage"] = _with_bars(doc["wip_by_stage"], "waiting")
    # Each table under its name, as the multi-table reports: a line in table and plain
    # output, a heading in Markdown, nothing in CSV (a blank line between tables).
    heading = {Format.markdown: "### {}", Format.csv: ""}.get(fmt, "{}")
    if heading:
        print(heading.format(f"mfgctl status on {doc['date']}"))
    # CSV and plain (for scripts) print every table, its header even when empty, so a
    # table is found by its place; the table and Markdown (for the eye) leave empty
    # ones out.
    every = fmt in (Format.csv, Format.plain)
    first = True
    for key, title, columns in SECTIONS:
        rows = doc[key]
        if not rows or (key == "stock" and not any(r["items"] for r in rows)):
            if key in ("stock", "late", "replenish"):
                note(f"{title}: none")
            if not every:
                continue
            rows = []
        shown = rows[:TOP] if fmt is Format.table else rows
        if heading:
            print("\n" + heading.format(title))
        elif not first:
            print()
        first = False
        emit(shown, fmt, columns=[c for c in columns if bars or c != "bar"])
        if len(shown) < len(rows):
            note(f"... and {len(rows) - len(shown)} more in {title.lower()} (-f json has all)")
