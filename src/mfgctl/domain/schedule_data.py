"""The scheduler's data access: open production orders, their stages and material dates,
and the work centres, read in one transaction and turned into ``schedule`` inputs; and
``commit``, which stores a schedule's planned start and end on the orders (and clears
them on the open orders it did not schedule).

What is read:

* **Orders**: every open production order (planned, released, in progress), or those
  named. A released order runs its frozen stages (``order_stage``), a planned one its
  item's routing; each stage takes the units that have not yet passed or failed it.
  A stage without a work centre takes no capacity and is left out (listed in
  ``Loaded.unscheduled``), as is a stage naming an unknown or an inactive work centre
  (the reason says which).
* **Material**: a quick MRP run from the schedule's start date. An order whose
  materials are neither reserved for it nor covered by free stock waits for the
  scheduled receipt or planned order MRP pegs to them: its earliest start is the day
  the last of those arrives (00:00), and ``held_by`` names it.
* **Planned orders** (``include_planned``): MRP's planned make orders, scheduled after
  nothing in particular but their own priority (due date), from their release date and,
  as real orders, not before the supply pegged to their components arrives.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from mfgctl import qty as q
from mfgctl.domain import mrp, mrp_data, workcenters
from mfgctl.domain.schedule import Centre, Job, Schedule, Settings, Stage
from mfgctl.errors import NotFound

PLANNED_BASE = 1_000_000  # a planned order's job id: this plus its MRP number
MAX_HORIZON_DAYS = mrp.MAX_HORIZON_DAYS  # as mrp and atp: one limit for every --horizon
parse_horizon = mrp.parse_horizon


_ORDERS = """
    SELECT o.id, i.code, o.item_id, o.qty, o.due_on, o.priority, o.state
      FROM production_order AS o JOIN item AS i ON i.id = o.item_id
     WHERE o.state IN ('planned', 'released', 'in_progress')
     ORDER BY o.id
"""
_ORDER_STAGES = """
    SELECT order_id, name, workcenter, setup_min, run_min, family, good, rejected
      FROM order_stage ORDER BY order_id, position
"""
_ROUTINGS = """
    SELECT item_id, name, workcenter, setup_min, run_min, family
      FROM routing_stage ORDER BY item_id, position
"""


@dataclass(slots=True)
class Loaded:
    jobs: list[Job]
    centres: list[Centre]
    labels: dict[int, str]  # job id -> ORDER-n or "planned n"
    units: dict[int, str]  # job id -> the item's base unit
    # Stages left out: why -> the orders ("pack: no work centre" -> ["ORDER-1", ...]).
    unscheduled: dict[str, list[str]] = field(default_factory=dict)


def centres(db: sqlite3.Connection, settings: Settings) -> list[Centre]:
    """The active work centres (domain/workcenters.py) in the scheduler's run minutes."""
    return [
        Centre(
            c.code,
            minutes=c.minutes,
            machines=c.machines,
            day_start=c.day_start,
            downtime=tuple((settings.minute(a), settings.minute(b)) for a, b in c.downtime),
        )
        for c in workcenters.capacity(db)
    ]


def _stage(row: Sequence, known: set[str], inactive: dict[str, str]) -> Stage | str:
    """A stage for the scheduler, or why it is left out (``inactive``: upper-cased code
    -> code of each inactive work centre)."""
    name, wc, setup_micro, run_micro, family = row
    if wc is None:
        return f"{name}: no work centre"
    if wc.upper() in inactive:
        code = inactive[wc.upper()]
        return f"{name}: work centre {code} is inactive (mfgctl workcenter update {code} --active)"
    if wc.upper() not in known:
        return f"{name}: unknown work centre {wc}"
    # Setup families compare without case, as codes do.
    group = family.upper() if family else None
    return Stage(name, wc, setup=q.exact(setup_micro), run=run_micro, family=group)


def _material(
    db: sqlite3.Connection, settings: Settings, horizon_days: int
) -> tuple[dict[str, tuple[date, str]], mrp.Plan]:
    """Per open order (``ORDER-n``) and planned make order (its label, ``planned n
    (ITEM)``): the day its last material not in stock arrives, and what it is.

    Per item, the requirements MRP found (earliest first) take from the supply in the
    order it arrives: free stock now, scheduled receipts on their due dates, and MRP's
    planned orders when they can really arrive (one released before today arrives its
    lead time from today). An order's requirement is met on the day the supply taken
    so far reaches it."""
    day = settings.start.date()
    snap = mrp_data.load(db, today=day)
    plan = mrp.plan(snap, mrp.Settings(day, horizon_days, "day"))
    by_item: dict[str, list[tuple[date, int, str]]] = {}
    for r in snap.receipts:
        by_item.setdefault(r.item.upper(), []).append((max(r.due, day), r.qty, r.label))
    for o in plan.planned:
        arrives = o.due if o.release >= day else day + (o.due - o.release)
        by_item.setdefault(o.item.upper(), []).append((arrives, o.qty, o.label))
    held: dict[str, tuple[date, str]] = {}
    for key, record in plan.records.items():
        supplies = sorted(by_item.get(key, ()))
        pool, i = max(record.on_hand, 0), 0
        needed = 0
        for e in record.elements:
            needed += e.qty
            if not e.source.startswith(("ORDER-", "planned ")):
                continue
            while pool < needed and i < len(supplies):
                pool += supplies[i][1]
                i += 1
            if i == 0 or supplies[i - 1][0] <= day:
                continue  # in stock (or never covered: MRP reports that shortage)
            when, _qty, label = supplies[i - 1]
            if e.source not in held or when > held[e.source][0]:
                what = label if label.startswith("planned") else f"{label} ({record.item})"
                held[e.source] = (when, f"{what} on {when}")
    return held, plan


def load(
    db: sqlite3.Connection,
    settings: Settings,
    *,
    horizon_days: int = 90,
    only: Sequence[int] = (),
    include_planned: bool = False,
) -> Loaded:
    """Everything ``schedule.schedule`` needs, now.

    Raises:
        NotFound: an order in ``only`` that is not open.
    """
    wcs = centres(db, settings)
    known = {c.code.upper() for c in wcs}
    inactive = {c.code.upper(): c.code for c in workcenters.list_centres(db) if not c.active}
    frozen: dict[int, list[tuple]] = {}
    for row in db.execute(_ORDER_STAGES):
        frozen.setdefault(row[0], []).append(row[1:])
    routings: dict[int, list[tuple]] = {}
    for row in db.execute(_ROUTINGS):
        routings.setdefault(row[0], []).append(row[1:])
    held, plan = _material(db, settings, horizon_days)
    units = dict(db.execute("SELECT code, unit FROM item").fetchall())
    wanted = set(only)
    jobs: list[Job] = []
    labels: dict[int, str] = {}
    job_units: dict[int, str] = {}
    skipped: dict[str, list[str]] = {}
    found: set[int] = set()
    for order_id, code, item_id, qty, due_on, priority, state in db.execute(_ORDERS):
        if wanted and order_id not in wanted:
            continue
        found.add(order_id)
        label = f"ORDER-{order_id}"
        stages: list[Stage] = []
        remaining: list[int] = []
        left_out = False  # a stage with work left that cannot be scheduled (said above)
        if state == "planned":
            rows = [(*r, 0, 0) for r in routings.get(item_id, [])]
        else:
            rows = frozen.get(order_id, [])
        for name, wc, setup, run, family, good, rejected in rows:
            left = qty - good - rejected
            if left <= 0:
                continue
            stage = _stage((name, wc, setup, run, family), known, inactive)
            if isinstance(stage, str):
                skipped.setdefault(stage, []).append(label)
                left_out = True
                continue
            stages.append(replace(stage, qty=left))
            remaining.append(left)
        if not stages:
            if not left_out:  # every stage done: nothing to say twice otherwise
                skipped.setdefault("nothing left to schedule", []).append(label)
            continue
        when, why = held.get(label, (None, None))
        earliest = settings.minute(datetime.combine(when, time())) if when else 0
        # Each stage runs its own units left; the job's quantity (shown) is the most.
        jobs.append(
            Job(
                order_id,
                code,
                max(remaining),
                date.fromisoformat(due_on),
                tuple(stages),
                priority=priority,
                earliest=max(earliest, 0),
                held_by=why,
            )
        )
        labels[order_id] = label
        job_units[order_id] = units[code]
    missing = wanted - found
    if missing:
        raise NotFound(
            "not an open production order: " + ", ".join(f"ORDER-{n}" for n in sorted(missing))
        )
    if include_planned:
        item_ids = dict(db.execute("SELECT upper(code), id FROM item").fetchall())
        for o in plan.planned:
            if o.kind != "make":
                continue
            stages = []
            for row in routings.get(item_ids[o.item.upper()], []):
                stage = _stage(row, known, inactive)
                if isinstance(stage, str):
                    skipped.setdefault(stage, []).append(o.label)
                else:
                    stages.append(stage)
            if not stages:
                continue
            job_id = PLANNED_BASE + o.id
            # From its release date, and (as a real order) not before its material.
            start = settings.minute(datetime.combine(o.release, time()))
            when, why = held.get(o.label, (None, None))
            if when:
                start = max(start, settings.minute(datetime.combine(when, time())))
            jobs.append(
                Job(
                    job_id, o.item, o.qty, o.due, tuple(stages), earliest=max(start, 0), held_by=why
                )
            )
            labels[job_id] = o.label
            job_units[job_id] = units.get(o.item, "")
    return Loaded(jobs, wcs, labels, job_units, skipped)


_CLEAR_PLANNED = """
    UPDATE production_order SET planned_start = NULL, planned_end = NULL
     WHERE state IN ('planned', 'released', 'in_progress')
       AND (planned_start IS NOT NULL OR planned_end IS NOT NULL)
       AND (:only IS NULL OR id IN (SELECT value FROM json_each(:only)))
"""


def commit(db: sqlite3.Connection, result: Schedule, only: Sequence[int] = ()) -> int:
    """Store each scheduled production order's planned start and end (local
    'YYYY-MM-DD HH:MM'); planned orders from MRP are not stored. The schedule replaces
    the stored plan of the orders it covered: every open order (or, with ``only``, each
    of those orders) that it did not schedule has its planned start and end cleared,
    since no plan of it exists; a run for some orders leaves the others' alone. Returns
    how many are stored."""
    s = result.settings
    rows = [
        (
            s.at(r.start).strftime("%Y-%m-%d %H:%M"),
            s.at(r.end).strftime("%Y-%m-%d %H:%M"),
            r.job.id,
        )
        for r in result.jobs
        if r.job.id < PLANNED_BASE
    ]
    db.execute(_CLEAR_PLANNED, {"only": json.dumps(list(only)) if only else None})
    db.executemany(
        "UPDATE production_order SET planned_start = ?, planned_end = ? WHERE id = ?", rows
    )
    return len(rows)
