"""``mfgctl mrp``: the planning run and what acts on it.

``mfgctl mrp`` (the ``run`` command) prints the shortage report, the planned orders and
the exceptions; ``mrp grid ITEM`` one item's time-phased record.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from mfgctl.cli._common import FormatOpt, group, session
from mfgctl.errors import NotFound
from mfgctl.render import Format, emit, note, to_json

if TYPE_CHECKING:
    from mfgctl.domain.mrp import Plan, Snapshot

app = group(
    "Material requirements planning: what to buy or make and when, and what is short.",
    default="run",
)

StartOpt = Annotated[
    str | None,
    typer.Option(
        "--start", help="First day of the plan (YYYY-MM-DD, default today).", metavar="DATE"
    ),
]
HorizonOpt = Annotated[
    str, typer.Option("--horizon", help="Days planned from the start.", metavar="DAYS")
]
BucketOpt = Annotated[
    str, typer.Option("--bucket", help="Time bucket of the records: day, week or month.")
]
InspectionOpt = Annotated[
    bool,
    typer.Option("--include-inspection", help="Count stock pending inspection as on hand."),
]
ItemsOpt = Annotated[
    list[str] | None,
    typer.Option("--item", "-i", help="Show only this item (repeat for more); the plan "
                 "is always computed for the whole plant."),
]  # fmt: skip


@contextmanager
def _progress() -> Iterator[object]:
    """A Rich progress bar on stderr while planning, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    from mfgctl.render import console

    with Progress(console=console(sys.stderr), transient=True) as bar:
        task = bar.add_task("Planning", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def compute(
    ctx: typer.Context,
    *,
    start: str | None,
    horizon: str,
    bucket: str,
    include_inspection: bool,
    only: list[str] | None = None,
) -> tuple[Plan, Snapshot, str, set[str]]:
    """Read the snapshot and plan: the plan, its inputs, their fingerprint, the items
    to show (upper-cased; empty for all)."""
    from mfgctl.domain import mrp, mrp_data

    with session(ctx, write=False) as db, _progress() as tick:
        settings = mrp.settings(
            start=start, horizon=horizon, bucket=bucket, include_inspection=include_inspection
        )
        snap = mrp_data.load(db)
        shown = set()
        for code in only or ():
            key = code.strip().upper()
            if key not in snap.parts:
                raise NotFound(f"unknown or inactive item {code!r}")
            shown.add(key)
        plan = mrp.plan(snap, settings, progress=tick)  # type: ignore[arg-type]
    return plan, snap, mrp_data.fingerprint(snap), shown


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    start: StartOpt = None,
    horizon: HorizonOpt = "90",
    bucket: BucketOpt = "week",
    include_inspection: InspectionOpt = False,
    only: ItemsOpt = None,
    fail_on_shortage: Annotated[
        bool,
        typer.Option("--fail-on-shortage", help="Exit with code 3 when anything is short."),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Plan every item from demand, stock, receipts and BOMs; print the shortages,
    the planned orders (make or buy, quantity, release and due dates, what they are for)
    and the exceptions. `mfgctl mrp` alone runs this."""
    from mfgctl.domain import mrp_report as rep

    plan, snap, digest, shown = compute(
        ctx,
        start=start,
        horizon=horizon,
        bucket=bucket,
        include_inspection=include_inspection,
        only=only,
    )
    units = {k: p.unit for k, p in snap.parts.items()}
    names = {k: p.name for k, p in snap.parts.items()}
    if fmt is Format.json:
        sys.stdout.write(to_json(rep.document(plan, fingerprint=digest, only=shown), 2) + "\n")
    else:
        shortages = rep.shortage_rows(plan, units, names, shown)
        if shortages:
            emit(shortages, fmt, columns=rep.SHORTAGE_COLUMNS, title="Shortages")
        else:
            note("No shortages")
        planned = rep.planned_rows(plan, units, shown)
        if planned:
            _gap(fmt, shortages)
            emit(planned, fmt, columns=rep.PLANNED_COLUMNS, title="Planned orders")
        exceptions = rep.exception_rows(plan, shown)
        if exceptions:
            _gap(fmt, shortages or planned)
            emit(exceptions, fmt, columns=rep.EXCEPTION_COLUMNS, title="Exceptions")
    short = [s for s in plan.shortages if not shown or s.item.upper() in shown]
    note(
        f"MRP from {plan.settings.start} for {plan.settings.horizon_days} days "
        f"({plan.settings.bucket}ly buckets): {len(short)} items short, "
        f"{sum(1 for o in plan.planned if not shown or o.item.upper() in shown)} planned "
        "orders"
    )
    if fail_on_shortage and short:
        raise typer.Exit(3)


def _gap(fmt: Format, before: object) -> None:
    if before and fmt is not Format.table:
        sys.stdout.write("\n")


@app.command("grid")
def grid_cmd(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Item code.", show_default=False)],
    start: StartOpt = None,
    horizon: HorizonOpt = "90",
    bucket: BucketOpt = "week",
    include_inspection: InspectionOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """The time-phased record of one item by bucket: gross requirements, scheduled
    receipts, projected on hand, net requirements, planned order receipts and
    releases."""
    from mfgctl.domain import mrp_report as rep

    plan, snap, _digest, _shown = compute(
        ctx,
        start=start,
        horizon=horizon,
        bucket=bucket,
        include_inspection=include_inspection,
        only=[item],
    )
    key = item.strip().upper()
    part = snap.parts[key]
    if fmt is Format.json:
        record = rep.record_dict(plan, plan.record(key), dense=True)
        sys.stdout.write(to_json(record, 2) + "\n")
        return
    columns, rows = rep.grid_rows(plan, key)
    record = plan.record(key)
    emit(
        rows,
        fmt,
        columns=columns,
        title=f"{part.code} ({part.unit}), low-level code {record.level}, "
        f"lead time {record.lead_time_days} days",
    )


def _register_more() -> None:
    from mfgctl.cli import mrp_build

    mrp_build.register(app)


_register_more()
