"""``mfgctl schedule``: finite-capacity scheduling of the open production orders."""

from __future__ import annotations

import re
import shutil
import sys
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, session
from mfgctl.render import Format, emit, note, to_json

app = typer.Typer(add_completion=False, rich_markup_mode=None)

ORDER_COLUMNS = ["order", "item", "qty", "unit", "start", "end", "due", "late_by", "why"]
OPERATION_COLUMNS = ["workcenter", "machine", "order", "stage", "start", "end", "setup_min",
                     "run_min"]  # fmt: skip
UTIL_COLUMNS = ["workcenter", "machines", "busy_hours", "available_hours", "utilisation", "bar"]
SYMBOLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FMT = "%Y-%m-%d %H:%M"


def _late_text(minutes: int) -> str:
    if not minutes:
        return ""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p)


def _start(value: str | None) -> datetime:
    from mfgctl.errors import InvalidInput

    if value is None:
        return datetime.now().replace(second=0, microsecond=0)
    text = value.strip()
    try:
        # A date (2027-03-01) or a date and time (2027-03-01 06:00, or with a T); not a
        # week date, a compact form or a time with a UTC offset: the shop's clock is local.
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?", text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--start must be a local date or date-time like 2027-03-01 or "
            f"'2027-03-01 06:00', not {value!r}"
        ) from None
    from mfgctl.timefmt import parse_plan_date

    parse_plan_date(moment.date(), what="--start")  # MRP's calendar overflows near 9999
    return moment.replace(second=0, microsecond=0, tzinfo=None)


def why(reason: str | None, held_by: str | None) -> str:
    """An order's ``why`` in words: its late reason (capacity, material, both), and what
    material holds it, late or not (``held by material: PO-1 (PCB) on 2027-03-04``)."""
    held = f"held by material: {held_by}" if held_by else ""
    return "; ".join(p for p in (reason or "", held) if p)


def document(loaded: Any, result: Any, horizon: int) -> dict[str, Any]:
    """The schedule as plain data (``--format json``)."""
    s = result.settings
    until = horizon * 1440

    def at(minute: int) -> str:
        return s.at(minute).strftime(FMT)

    orders = []
    for r in result.jobs:
        orders.append(
            {
                "order": loaded.labels[r.job.id],
                "item": r.job.item,
                "qty": Decimal(r.job.qty_micro) / 1_000_000,
                "unit": loaded.units.get(r.job.id, ""),
                "start": at(r.start),
                "end": at(r.end),
                "due": r.job.due.isoformat(),
                "late_by_minutes": r.late_by,
                "late_by": _late_text(r.late_by),
                "late_reason": r.reason,
                "held_by": r.job.held_by,
                "why": why(r.reason, r.job.held_by),
                "operations": [
                    {
                        "stage": op.stage,
                        "workcenter": op.centre,
                        "machine": op.machine,
                        "start": at(op.start),
                        "end": at(op.end),
                        "setup_min": op.setup,
                        "run_min": op.run,
                        "segments": [[at(a), at(b)] for a, b in op.segments],
                    }
                    for op in r.operations
                ],
            }
        )
    centres = []
    for c in loaded.centres:
        busy, available = result.utilisation(c, until)
        share = Decimal(busy * 100) / available if available else Decimal(0)
        centres.append(
            {
                "workcenter": c.code,
                "machines": c.machines,
                "busy_minutes": busy,
                "available_minutes": available,
                "busy_hours": (Decimal(busy) / 60).quantize(Decimal("0.01")),
                "available_hours": (Decimal(available) / 60).quantize(Decimal("0.01")),
                "utilisation": share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            }
        )
    return {
        "start": s.start.strftime(FMT),
        "horizon_days": horizon,
        "orders": orders,
        "workcenters": centres,
        "late": [o for o in orders if o["late_by_minutes"]],
        "unscheduled": loaded.unscheduled,
    }


def gantt_lines(loaded: Any, result: Any, horizon: int, width: int) -> list[tuple[str, str, list]]:
    """One line per work-centre machine: (label, cells, [(order symbol, late)...]).

    Each cell is one slice of time from the start to the last operation's end (at most
    the horizon); a cell shows the order working in it, ``·`` when idle."""
    ends = [r.end for r in result.jobs if r.operations]
    span = min(max(ends, default=1440), horizon * 1440)
    span = max(span, 60)
    symbols = {r.job.id: SYMBOLS[i % len(SYMBOLS)] for i, r in enumerate(result.jobs)}
    late = {r.job.id for r in result.jobs if r.late_by}
    lines = []
    for c in loaded.centres:
        for m in range(1, c.machines + 1):
            cells = ["·"] * width
            owner: list[int | None] = [None] * width
            for op in result.by_centre.get(c.code, []):
                if op.machine != m:
                    continue
                for a, b in op.segments:
                    if a >= span or b <= a:
                        continue
                    first = a * width // span
                    last = max(first, (min(b, span) - 1) * width // span)
                    for k in range(first, min(last, width - 1) + 1):
                        cells[k] = symbols[op.job]
                        owner[k] = op.job
            label = c.code if c.machines == 1 else f"{c.code}/{m}"
            lines.append((label, "".join(cells), [(o in late) for o in owner]))
    return lines


@app.command("schedule")
def schedule_cmd(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="Schedule from this local date-time (default now).", metavar="DATETIME"
        ),
    ] = None,
    horizon_text: Annotated[
        str,
        typer.Option(
            "--horizon",
            help="Days shown and used for utilisation (1 to 3660).",
            metavar="DAYS",
        ),
    ] = "90",
    only: Annotated[
        list[str] | None,
        typer.Option("--orders", help="Only these production orders (repeat).", metavar="ORDER"),
    ] = None,
    include_planned: Annotated[
        bool, typer.Option("--include-planned", help="Also schedule MRP's planned make orders.")
    ] = False,
    commit: Annotated[
        bool,
        typer.Option("--commit", help="Store each order's planned start and end."),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Schedule open production orders stage by stage on their work centres with
    finite capacity (earliest due date first, then priority), after the material MRP
    says they wait for; print a Gantt chart, each order's start, end and lateness,
    utilisation per work centre and the late orders with the reason."""
    from mfgctl.domain import orders, schedule, schedule_data

    with session(ctx, write=commit) as db:
        settings = schedule.Settings(_start(start))
        horizon = schedule_data.parse_horizon(horizon_text)
        ids = [orders.parse_id(o) for o in only or ()]
        loaded = schedule_data.load(
            db, settings, horizon_days=horizon, only=ids, include_planned=include_planned
        )
        try:
            result = schedule.schedule(loaded.jobs, loaded.centres, settings)
        except schedule.NoCapacity as e:
            from mfgctl.errors import RuleViolation

            raise RuleViolation(str(e)) from None
        stored = schedule_data.commit(db, result, ids) if commit else 0
    doc = document(loaded, result, horizon)
    if fmt is Format.json:
        sys.stdout.write(to_json(doc) + "\n")
    else:
        _print(doc, loaded, result, horizon, fmt)
    for why, labels in loaded.unscheduled.items():
        more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
        note(f"not scheduled: {why} ({', '.join(labels[:5])}{more})")
    late = len(doc["late"])
    note(
        f"Scheduled {len(doc['orders'])} orders from {doc['start']}: {late} late"
        + (f"; planned start and end stored on {stored} orders" if commit else "")
    )


def _print(doc: dict[str, Any], loaded: Any, result: Any, horizon: int, fmt: Format) -> None:
    from mfgctl.cli.status import bar

    # As the multi-table reports: each table under its name (a heading in Markdown, a
    # blank line only in CSV), and the bar chart only in the table.
    heading = {Format.markdown: "## {}", Format.csv: ""}.get(fmt, "{}")

    def title(text: str, first: bool = False) -> None:
        if heading:
            print(("" if first else "\n") + heading.format(text))
        elif not first:
            print()

    if fmt is Format.table:
        _gantt(doc, loaded, result, horizon)
    title("Orders", first=True)
    emit(doc["orders"], fmt, columns=ORDER_COLUMNS)
    ops = [
        {"order": o["order"], **{k: op[k] for k in op if k != "segments"}}
        for o in doc["orders"]
        for op in o["operations"]
    ]
    ops.sort(key=lambda r: (r["workcenter"], r["machine"], r["start"]))
    title("Operations by work centre")
    emit(ops, fmt, columns=OPERATION_COLUMNS)
    bars = fmt is Format.table
    util = [{**u, "bar": bar(u["utilisation"], Decimal(100))} for u in doc["workcenters"]]
    title(f"Utilisation over {horizon} days")
    emit(util, fmt, columns=[c for c in UTIL_COLUMNS if bars or c != "bar"])
    if doc["late"]:
        title("Late")
        emit(doc["late"], fmt, columns=["order", "item", "end", "due", "late_by", "why"])


def _gantt(doc: dict[str, Any], loaded: Any, result: Any, horizon: int) -> None:
    from rich.text import Text

    from mfgctl.render import console

    out = console()
    columns = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120
    label_width = max((len(c.code) + 3 for c in loaded.centres), default=8)
    width = max(columns - label_width - 3, 20)
    lines = gantt_lines(loaded, result, horizon, width)
    if not lines:
        return
    ends = [r.end for r in result.jobs if r.operations]
    span = max(min(max(ends, default=1440), horizon * 1440), 60)
    s = result.settings
    out.print(
        Text(
            f"Gantt: {s.start.strftime(FMT)} to {s.at(span).strftime(FMT)} "
            f"({len(lines[0][1])} columns, {span / len(lines[0][1]) / 60:.1f} h each)",
            style="bold",
        )
    )
    for label, cells, late in lines:
        text = Text(label.ljust(label_width) + " │")
        for ch, is_late in zip(cells, late, strict=True):
            text.append(ch, style="bold red" if is_late else ("dim" if ch == "·" else "cyan"))
        out.print(text, soft_wrap=True)
    legend = Text("orders: ")
    for i, o in enumerate(doc["orders"]):
        mark = SYMBOLS[i % len(SYMBOLS)]
        legend.append(f"{mark}={o['order']}", style="bold red" if o["late_by_minutes"] else "")
        if o["late_by_minutes"]:
            legend.append(" (late)", style="red")
        legend.append("  ")
    out.print(legend, soft_wrap=True)
    out.print()
