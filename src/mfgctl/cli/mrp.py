"""``mfgctl mrp``: the planning run and what acts on it.

``mfgctl mrp`` (the ``run`` command) prints the shortage report, the planned orders and
the exceptions; ``mrp grid ITEM`` one item's time-phased record.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, fail, group, session
from mfgctl.errors import InvalidInput, NotFound, RuleViolation
from mfgctl.gcpause import paused
from mfgctl.render import (
    Format,
    emit,
    emit_sections,
    emit_tree,
    micro_number,
    note,
    to_json,
    write_json,
)

if TYPE_CHECKING:
    from mfgctl.domain.mrp import Plan, Snapshot

app = group(
    "Material requirements planning: what to buy or make and when, and what is short.",
    default="run",
    bare=True,
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
BUCKET_WORDS = {"day": "daily", "week": "weekly", "month": "monthly"}
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


@dataclass
class Computed:
    """A plan with its inputs: the snapshot, their fingerprint, the items to show
    (upper-cased; empty for all), and the open connection it was read on."""

    db: sqlite3.Connection
    plan: Plan
    snap: Snapshot
    fingerprint: str
    shown: set[str]


@contextmanager
def computed(
    ctx: typer.Context,
    *,
    start: str | None,
    horizon: str,
    bucket: str,
    include_inspection: bool,
    only: list[str] | None = None,
    write: bool = False,
) -> Iterator[Computed]:
    """Read the snapshot and plan, inside the command's session (a write transaction
    when the command acts on the plan, so it acts on exactly what was planned)."""
    from mfgctl.domain import mrp, mrp_data

    with session(ctx, write=write) as db:
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
        with _progress() as tick:
            plan = mrp.plan(snap, settings, progress=tick)  # type: ignore[arg-type]
        yield Computed(db, plan, snap, mrp_data.fingerprint(snap), shown)


def compute(ctx: typer.Context, **options: object) -> Computed:
    """``computed`` for a command that only reads: the plan after the session closed."""
    with computed(ctx, **options) as c:  # type: ignore[arg-type]
        return c


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
    save: Annotated[
        bool,
        typer.Option("--save", help="Store the run (settings, input fingerprint, result)."),
    ] = False,
    note_text: Annotated[
        str | None, typer.Option("--note", help="A note on the saved run.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Plan every item from demand, stock, receipts and BOMs; print the shortages,
    the planned orders (make or buy, quantity, release and due dates, what they are for)
    and the exceptions. `mfgctl mrp` alone runs this."""
    from mfgctl.cli._common import user as user_of
    from mfgctl.domain import mrp_report as rep
    from mfgctl.domain import mrp_runs

    options = {"start": start, "horizon": horizon, "bucket": bucket,
               "include_inspection": include_inspection}  # fmt: skip
    # The plan and its report: millions of objects on a large plant (see gcpause).
    with paused(freeze=True):
        saved = None
        with computed(ctx, **options, only=only, write=save) as c:
            if save:
                saved = mrp_runs.save(
                    c.db, c.plan, c.fingerprint, user=user_of(ctx), note=note_text
                )
        plan, shown = c.plan, c.shown
        units = {k: p.unit for k, p in c.snap.parts.items()}
        names = {k: p.name for k, p in c.snap.parts.items()}
        if fmt is Format.json:
            write_json(
                rep.document(
                    plan, fingerprint=c.fingerprint, only=shown, lazy=True, number=micro_number
                )
            )
        elif fmt is Format.table:
            # For a person: what there is, under titles; "No shortages" said.
            shortages = rep.shortage_rows(plan, units, names, shown)
            if shortages:
                emit(shortages, fmt, columns=rep.SHORTAGE_COLUMNS, title="Shortages")
            else:
                note("No shortages")
            planned_rows = rep.planned_rows(plan, units, shown)
            if planned_rows:
                emit(planned_rows, fmt, columns=rep.PLANNED_COLUMNS, title="Planned orders")
            exceptions = rep.exception_rows(plan, shown)
            if exceptions:
                emit(exceptions, fmt, columns=rep.EXCEPTION_COLUMNS, title="Exceptions")
        else:
            # All three tables, always, in this order, each under its name (none in
            # CSV, split on the blank line) and with its header even when empty: a script
            # reads the shortages as the first block whatever the data.
            emit_sections(
                [
                    ("shortages", rep.shortage_rows(plan, units, names, shown),
                     rep.SHORTAGE_COLUMNS),
                    ("planned_orders", rep.planned_rows(plan, units, shown),
                     rep.PLANNED_COLUMNS),
                    ("exceptions", rep.exception_rows(plan, shown), rep.EXCEPTION_COLUMNS),
                ],
                fmt,
            )  # fmt: skip
    short = rep.shortages_for(plan, shown)
    planned = sum(1 for o in plan.planned if not shown or o.item.upper() in shown)
    note(
        f"MRP from {plan.settings.start} for {plan.settings.horizon_days} days "
        f"({BUCKET_WORDS[plan.settings.bucket]} buckets): {_count(len(short), 'item')} short, "
        f"{_count(planned, 'planned order')}" + (f"; saved as run {saved.id}" if saved else "")
    )
    if fail_on_shortage and short:
        raise typer.Exit(3)


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

    c = compute(ctx, start=start, horizon=horizon, bucket=bucket,
                include_inspection=include_inspection, only=[item])  # fmt: skip
    key = item.strip().upper()
    part = c.snap.parts[key]
    record = c.plan.record(key)
    if fmt is Format.json:
        sys.stdout.write(to_json(rep.record_dict(c.plan, record, dense=True)) + "\n")
        return
    columns, rows = rep.grid_rows(c.plan, key)
    emit(
        rows,
        fmt,
        columns=columns,
        title=f"{part.code} ({part.unit}), low-level code {record.level}, "
        f"lead time {record.lead_time_days} days",
    )


@app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Item code.", show_default=False)],
    start: StartOpt = None,
    horizon: HorizonOpt = "90",
    bucket: BucketOpt = "week",
    include_inspection: InspectionOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Why each planned order and shortage of ITEM exists: the demands it serves through
    which parents, and what stock and receipts were netted first."""
    from mfgctl.domain import mrp_explain

    c = compute(ctx, start=start, horizon=horizon, bucket=bucket,
                include_inspection=include_inspection, only=[item])  # fmt: skip
    tree = mrp_explain.explain(c.plan, item.strip().upper())
    emit_tree(tree, fmt, label=lambda node: node["text"])


@app.command("firm")
def firm_cmd(
    ctx: typer.Context,
    planned: Annotated[
        list[str] | None,
        typer.Argument(help="Planned order numbers (as mrp lists them).", show_default=False),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Firm every planned order.")] = False,
    until: Annotated[
        str | None,
        typer.Option("--until", help="With --all: only orders released by DATE.", metavar="DATE"),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Firm from this saved run: refused if any input changed."),
    ] = None,
    start: StartOpt = None,
    # No defaults here (90, week, no) so that one given with --run can be told apart.
    horizon: Annotated[
        str | None,
        typer.Option("--horizon", help="Days planned from the start (default 90).", metavar="DAYS"),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            "--bucket", help="Time bucket of the records: day, week or month (default week)."
        ),
    ] = None,
    include_inspection: Annotated[
        bool | None,
        typer.Option("--include-inspection", help="Count stock pending inspection as on hand."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; change nothing.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Turn planned orders into production orders (state planned) for make items and
    purchase orders for buy items, due on their due dates. The plan is computed again
    with the same options (or a saved run's, with --run, which takes no --start,
    --horizon, --bucket or --include-inspection) inside the command's transaction."""
    from mfgctl import db as dbmod
    from mfgctl.cli._common import user as user_of
    from mfgctl.domain import mrp_runs

    given = {"--start": start, "--horizon": horizon, "--bucket": bucket,
             "--include-inspection": include_inspection}  # fmt: skip
    options: dict[str, object] = {
        "start": start,
        "horizon": "90" if horizon is None else horizon,
        "bucket": "week" if bucket is None else bucket,
        "include_inspection": bool(include_inspection),
    }
    saved = None
    if run is not None:
        with session(ctx, write=False) as db:
            saved = mrp_runs.get(db, run)
        s = saved.settings
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            fail(
                InvalidInput(
                    f"{', '.join(extra)} cannot go with --run: run {saved.id} firms with its "
                    f"own settings (start {s.start}, horizon {s.horizon_days}, bucket "
                    f"{s.bucket}, include_inspection {'yes' if s.include_inspection else 'no'}); "
                    f"leave {'them' if len(extra) > 1 else 'it'} out, or leave out --run"
                )
            )
        options = {"start": s.start.isoformat(), "horizon": str(s.horizon_days),
                   "bucket": s.bucket, "include_inspection": s.include_inspection}  # fmt: skip
    # A dry run reads and rolls back: a committed write transaction would rewrite the
    # pages its rolled-back savepoint touched, changing the file on disk.
    with computed(ctx, **options, write=not dry_run) as c:  # type: ignore[arg-type]
        if saved is not None and saved.fingerprint != c.fingerprint:
            raise RuleViolation(
                f"the data changed since MRP run {saved.id} (its inputs' fingerprint "
                f"{saved.fingerprint} is now {c.fingerprint}): run mfgctl mrp again and firm "
                "from that plan"
            )
        chosen = mrp_runs.select(c.plan, planned or [], every=every, until=until)
        if dry_run:
            with dbmod.rolled_back(c.db):
                rows = mrp_runs.firm(c.db, c.plan, chosen, user=user_of(ctx))
        else:
            rows = mrp_runs.firm(c.db, c.plan, chosen, user=user_of(ctx))
    emit(rows, fmt, columns=mrp_runs.FIRM_COLUMNS, title="Firmed")
    verb = "Would firm" if dry_run else "Firmed"
    done(f"{verb} {_count(len(rows), 'planned order')}")


@app.command("runs")
def runs_cmd(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List saved MRP runs (mfgctl mrp --save)."""
    from mfgctl.domain import mrp_runs

    with session(ctx, write=False) as db:
        rows = [r.as_row() for r in mrp_runs.list_runs(db)]
    emit(rows, fmt, columns=mrp_runs.RUN_COLUMNS, title="Saved MRP runs")


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="A saved run.", show_default=False)],
    second: Annotated[
        str | None,
        typer.Argument(
            help="Another saved run (default: a plan computed now with the first's settings).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """What changed between two MRP runs: planned orders firmed (the order that now
    stands for it), added, removed, moved or resized; scheduled receipts opened or
    closed; and shortages new, gone or changed."""
    from mfgctl.domain import mrp_runs

    with session(ctx, write=False) as db:
        before = mrp_runs.get(db, first)
        after = mrp_runs.get(db, second) if second is not None else None
        # Firmed since RUN1 and received or completed: in neither run's receipts.
        since = mrp_runs.orders_since(db, before.created_at, after and after.created_at)
    if after is None:
        s = before.settings
        c = compute(ctx, start=s.start.isoformat(), horizon=str(s.horizon_days),
                    bucket=s.bucket, include_inspection=s.include_inspection)  # fmt: skip
        result, label = mrp_runs.result_of(c.plan, c.fingerprint), "now"
    else:
        result, label = after.result, f"run {after.id}"
    rows = mrp_runs.diff(before.result, result, since=since)
    old = [r.id for r in (before, after) if r is not None and not mrp_runs.has_receipts(r.result)]
    if old:
        which = " and ".join(f"run {n}" for n in old)
        note(
            f"{which} kept no scheduled receipts (saved by an older mfgctl): a planned order "
            "firmed since shows as removed, and receipts opened or closed are not shown"
        )
    if rows:
        emit(rows, fmt, columns=mrp_runs.DIFF_COLUMNS, title=f"Run {before.id} -> {label}")
    else:
        emit(rows, fmt, columns=mrp_runs.DIFF_COLUMNS)
    done(f"{len(rows)} change{'' if len(rows) == 1 else 's'} from run {before.id} to {label}")


def _register_more() -> None:
    from mfgctl.cli import mrp_build

    mrp_build.register(app)


_register_more()


def _count(n: int, word: str) -> str:
    """``1 planned order``, ``3 planned orders``."""
    return f"{n} {word}{'' if n == 1 else 's'}"
