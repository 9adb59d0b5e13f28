"""Routings and order stages: the steps an item goes through when it is made, and how
far each production order has got.

A *routing* is an item's ordered list of stages (assembly, calibration, acoustic_test,
qc, cleaning, labeling, packaging), each with an optional work centre and its times in
minutes: ``setup_min`` once per order, ``run_min`` per unit, and an optional setup
``family``: consecutive orders of one family at a work centre skip the setup (the
scheduler's rule). Stage names are codes (no spaces), unique within a routing and
compared case-insensitively. A stage may name a work centre not defined (yet).

When an order is released its item's routing is copied into ``order_stage``: a later
routing change never alters an order under way. Progress is recorded per stage
(``advance``): ``good`` units passed the stage, ``rejected`` units failed at it. Units
flow in order: what stage k has handled (good + rejected) can never exceed what passed
stage k-1 (for the first stage: the order quantity). Every recorded progress is a
``stage_event`` row; ``order_stage`` holds the totals.

The ``wip`` report shows every open order (released or in progress) with its current
stage (the first stage not fully passed), the units waiting before and passed at each
stage, the value of what sits at the order's place (each balance at standard cost),
its age and whether it is late.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, orders, reservations
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

STAGE_KEYS = ("name", "workcenter", "setup_min", "run_min", "family")
ROUTING_KEYS = ("item", "stages")
OPEN = ("released", "in_progress")


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a routing. Times are minutes (exact decimals)."""

    position: int
    name: str
    workcenter: str | None = None
    setup_min: Decimal = Decimal(0)
    run_min: Decimal = Decimal(0)
    family: str | None = None  # setup family: the same one in a row skips the setup

    def to_fields(self) -> dict[str, Any]:
        """The import keys, defaults left out (as ``export`` writes them)."""
        out: dict[str, Any] = {"name": self.name}
        if self.workcenter is not None:
            out["workcenter"] = self.workcenter
        if self.setup_min:
            out["setup_min"] = self.setup_min
        if self.run_min:
            out["run_min"] = self.run_min
        if self.family is not None:
            out["family"] = self.family
        return out

    def same(self, other: Stage) -> bool:
        return (
            self.name.upper() == other.name.upper()
            and self.workcenter == other.workcenter
            and self.setup_min == other.setup_min
            and self.run_min == other.run_min
            and self.family == other.family
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stage": self.name,
            "workcenter": self.workcenter,
            "setup_min": self.setup_min,
            "run_min": self.run_min,
            "family": self.family,
        }


STAGE_COLUMNS = ["position", "stage", "workcenter", "setup_min", "run_min", "family"]
ROUTING_LIST_COLUMNS = ["item", "name", "stages", "setup_min", "run_min", "route"]


# -- parsing ---------------------------------------------------------------------------


def _minutes(value: object, what: str) -> Decimal:
    number = q.parse_qty(value, what=what, allow_zero=True)
    q.to_micro(number, what=what)
    return number


def parse_stage(raw: Mapping[str, Any], position: int, *, where: str = "") -> Stage:
    """A stage from import keys (``name``, ``workcenter``, ``setup_min``, ``run_min``,
    ``family``).

    Raises:
        InvalidInput: naming ``where + key``.
    """
    unknown = [k for k in raw if k not in STAGE_KEYS]
    if unknown:
        raise InvalidInput(f"{where}{unknown[0]}: unknown key (known: {', '.join(STAGE_KEYS)})")
    if raw.get("name") is None:
        raise InvalidInput(f"{where}name: missing: every stage needs a name")
    name = codes.code(raw["name"], what=f"{where}name")
    workcenter = raw.get("workcenter")
    if workcenter is not None:
        workcenter = codes.code(workcenter, what=f"{where}workcenter")
    family = raw.get("family")
    if family is not None:
        family = codes.code(family, what=f"{where}family")
    return Stage(
        position=position,
        name=name,
        workcenter=workcenter,
        setup_min=_minutes(raw.get("setup_min", 0), f"{where}setup_min"),
        run_min=_minutes(raw.get("run_min", 0), f"{where}run_min"),
        family=family,
    )


_SPEC = re.compile(
    r"(?P<name>[^@:%]*)(@(?P<wc>[^:%]*))?(:(?P<setup>[^:%]*):(?P<run>[^:%]*))?(%(?P<fam>.*))?"
)


def parse_spec(text: str, position: int) -> Stage:
    """A stage as typed on the command line:
    ``NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN][%FAMILY]``.

    ``assembly@ASSY:15:12`` is stage assembly at work centre ASSY, 15 minutes of setup
    per order and 12 minutes per unit; ``paint@PAINT:45:10%red`` is in setup family
    red; ``qc`` has no work centre and no times.
    """
    what = f"--stage {text!r}"
    found = _SPEC.fullmatch(text.strip())
    if found is None:
        raise InvalidInput(
            f"{what} must be NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN][%FAMILY] "
            "(like assembly@ASSY:15:12 or paint@PAINT:45:10%red)"
        )
    raw: dict[str, Any] = {"name": found["name"]}
    if found["wc"] is not None:
        raw["workcenter"] = found["wc"]
    if found["setup"] is not None:
        raw["setup_min"] = found["setup"]
        raw["run_min"] = found["run"]
    if found["fam"] is not None:
        raw["family"] = found["fam"]
    try:
        return parse_stage(raw, position)
    except InvalidInput as e:
        raise InvalidInput(f"{what}: {e}") from None


def check_routing(stages: Sequence[Stage], *, where: str = "") -> None:
    """A routing needs at least one stage and each name once.

    Raises:
        InvalidInput: naming the repeated stage.
    """
    if not stages:
        raise InvalidInput(f"{where}a routing needs at least one stage")
    seen: dict[str, int] = {}
    for s in stages:
        first = seen.setdefault(s.name.upper(), s.position)
        if first != s.position:
            raise InvalidInput(
                f"{where}stage {s.name} is given twice (stages {first} and {s.position})"
            )


# -- routings ------------------------------------------------------------------------------


def _stage(r: sqlite3.Row | tuple[Any, ...]) -> Stage:
    return Stage(r[0], r[1], r[2], q.dec(r[3]), q.dec(r[4]), r[5])


def routing(db: sqlite3.Connection, item: items.Item) -> list[Stage]:
    rows = db.execute(
        "SELECT position, name, workcenter, setup_min, run_min, family FROM routing_stage "
        "WHERE item_id = ? ORDER BY position",
        (item.id,),
    )
    return [_stage(r) for r in rows]


def show(db: sqlite3.Connection, item: str) -> tuple[items.Item, list[Stage]]:
    """An item and its routing (an empty list when it has none)."""
    it = items.get(db, item)
    return it, routing(db, it)


def all_routings(db: sqlite3.Connection) -> list[tuple[str, str, list[Stage]]]:
    """Every routing as (item code, item name, stages), by item code."""
    found: dict[int, tuple[str, str, list[Stage]]] = {}
    rows = db.execute(
        "SELECT r.item_id, i.code, i.name, r.position, r.name, r.workcenter, r.setup_min, "
        "r.run_min, r.family FROM routing_stage AS r JOIN item AS i ON i.id = r.item_id "
        "ORDER BY i.code COLLATE NOCASE, r.position"
    )
    for r in rows:
        entry = found.setdefault(r[0], (r[1], r[2], []))
        entry[2].append(_stage(tuple(r)[3:]))
    return list(found.values())


def list_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per routing: its stages, total setup and run minutes, and the route."""
    return [
        {
            "item": code,
            "name": name,
            "stages": len(stages),
            "setup_min": sum((s.setup_min for s in stages), Decimal(0)),
            "run_min": sum((s.run_min for s in stages), Decimal(0)),
            "route": " > ".join(s.name for s in stages),
        }
        for code, name, stages in all_routings(db)
    ]


def same_routing(a: Sequence[Stage], b: Sequence[Stage]) -> bool:
    return len(a) == len(b) and all(x.same(y) for x, y in zip(a, b, strict=True))


def store(db: sqlite3.Connection, item: items.Item, stages: Sequence[Stage]) -> str:
    """Replace an item's routing; returns ``added``, ``changed`` or ``unchanged``.

    Orders already released keep their own copy (``order_stage``).
    """
    check_routing(stages, where=f"routing of {item.code}: ")
    old = routing(db, item)
    if same_routing(old, stages):
        return "unchanged"
    db.execute("DELETE FROM routing_stage WHERE item_id = ?", (item.id,))
    db.executemany(
        "INSERT INTO routing_stage (item_id, position, name, workcenter, setup_min, run_min, "
        "family) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                item.id,
                n,
                s.name,
                s.workcenter,
                q.to_micro(s.setup_min),
                q.to_micro(s.run_min),
                s.family,
            )
            for n, s in enumerate(stages, start=1)
        ],
    )
    return "changed" if old else "added"


def set_routing(
    db: sqlite3.Connection, item: str, specs: Sequence[str]
) -> tuple[items.Item, list[Stage], str]:
    """Set an item's routing from ``NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN][%FAMILY]`` specs.

    Raises:
        NotFound: unknown item.
        RuleViolation: a buy item (only made items have routings).
        InvalidInput: a bad spec, no stage, a stage given twice.
    """
    it = items.get(db, item, active=True)
    if it.make_or_buy != "make":
        raise RuleViolation(f"{it.code} is a buy item: only make items have routings")
    stages = [parse_spec(s, n) for n, s in enumerate(specs, start=1)]
    action = store(db, it, stages)
    return it, routing(db, it), action


# -- order stages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderStage:
    """An order's stage with its progress. ``reached`` is what got to the stage."""

    position: int
    name: str
    workcenter: str | None
    setup_min: Decimal
    run_min: Decimal
    reached: Decimal
    good: Decimal
    rejected: Decimal
    family: str | None = None

    @property
    def waiting(self) -> Decimal:
        """Units that reached the stage and are not yet through it."""
        return self.reached - self.good - self.rejected

    def as_row(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stage": self.name,
            "workcenter": self.workcenter,
            "waiting": self.waiting,
            "good": self.good,
            "rejected": self.rejected,
        }


ORDER_STAGE_COLUMNS = ["position", "stage", "workcenter", "waiting", "good", "rejected"]


def freeze(db: sqlite3.Connection, order_id: int) -> int:
    """Copy the order's item routing into ``order_stage`` (at release); returns how many
    stages. An order whose item has no routing gets none."""
    cur = db.execute(
        "INSERT INTO order_stage (order_id, position, name, workcenter, setup_min, run_min, "
        "family) SELECT o.id, r.position, r.name, r.workcenter, r.setup_min, r.run_min, r.family "
        "FROM production_order AS o JOIN routing_stage AS r ON r.item_id = o.item_id "
        "WHERE o.id = ? ORDER BY r.position",
        (order_id,),
    )
    return cur.rowcount


def order_stages(db: sqlite3.Connection, order: orders.Order) -> list[OrderStage]:
    """The order's frozen stages with what reached, passed and failed each."""
    rows = db.execute(
        "SELECT position, name, workcenter, setup_min, run_min, good, rejected, family "
        "FROM order_stage WHERE order_id = ? ORDER BY position",
        (order.id,),
    ).fetchall()
    result: list[OrderStage] = []
    reached = order.qty
    for r in rows:
        good, rejected = q.dec(r[5]), q.dec(r[6])
        result.append(
            OrderStage(r[0], r[1], r[2], q.dec(r[3]), q.dec(r[4]), reached, good, rejected, r[7])
        )
        reached = good
    return result


def current(stages: Sequence[OrderStage]) -> OrderStage | None:
    """The first stage not fully passed (None when every stage is through)."""
    return next((s for s in stages if s.waiting > 0), None)


@dataclass(frozen=True, slots=True)
class Progress:
    """What ``advance`` recorded, and the order's stages after it."""

    order: orders.Order
    stages: list[OrderStage]
    stage: str
    good: Decimal
    rejected: Decimal


def advance(
    db: sqlite3.Connection,
    order: object,
    *,
    stage: str,
    good: object,
    rejected: object = 0,
    reason: str | None = None,
    user: str,
) -> Progress:
    """Record progress at a stage of an in-progress order.

    ``good`` units passed the stage, ``rejected`` failed at it (``reason`` required).
    Returns the order, its stages after the change, and the recorded numbers.

    Raises:
        RuleViolation: the order is not in progress, has no stages, or more units
            would be handled at the stage than have reached it.
        NotFound: no such stage on the order.
        InvalidInput: bad quantities (a fraction of a serial-tracked item's unit: a
            serial is one unit), rejects without a reason, a reason without rejects.
    """
    found = orders.get(db, order)
    n_good = q.parse_qty(good, what="--good", allow_zero=True)
    n_rej = q.parse_qty(rejected, what="--rejected", allow_zero=True)
    q.to_micro(n_good, what="--good")
    q.to_micro(n_rej, what="--rejected")
    if n_good + n_rej == 0:
        raise InvalidInput("nothing to record: give --good and/or --rejected greater than zero")
    why = codes.text(reason, what="--reason", required=False)
    if n_rej > 0 and why is None:
        raise InvalidInput(
            f"order {found.id}: --reason is required with --rejected "
            f"({q.fmt(n_rej)} rejected at {stage})"
        )
    if n_rej == 0 and why is not None:
        # A reason says why units failed; with none rejected it is most likely a typo.
        raise InvalidInput(
            f"order {found.id}: --reason goes with --rejected, and nothing is rejected at "
            f"{stage}: give --rejected N with it, or leave --reason out"
        )
    product = items.get(db, found.item)
    items.check_whole(product, n_good, what="--good")
    items.check_whole(product, n_rej, what="--rejected")
    if found.state != "in_progress":
        hint = {
            "planned": f" (release it with mfgctl order release {found.id}, then start it)",
            "released": f" (start it first: mfgctl order start {found.id})",
        }.get(found.state, "")
        raise RuleViolation(
            f"order {found.id} is {found.state}: progress is recorded only on an "
            f"in_progress order{hint}"
        )
    stages = order_stages(db, found)
    if not stages:
        raise RuleViolation(
            f"order {found.id} has no stages: {found.item} had no routing when it was released"
        )
    key = stage.strip().upper()
    target = next((s for s in stages if s.name.upper() == key), None)
    if target is None:
        raise NotFound(
            f"order {found.id} has no stage {stage.strip()!r} "
            f"(its stages: {', '.join(s.name for s in stages)})"
        )
    handled = target.good + target.rejected
    if handled + n_good + n_rej > target.reached:
        source = (
            f"the order is for {q.fmt(found.qty)}"
            if target.position == 1
            else f"{q.fmt(target.reached)} passed {stages[target.position - 2].name}"
        )
        raise RuleViolation(
            f"order {found.id} stage {target.name}: cannot record {q.fmt(n_good + n_rej)} "
            f"more ({q.fmt(n_good)} good, {q.fmt(n_rej)} rejected): {source}, "
            f"{q.fmt(handled)} already handled here, so at most {q.fmt(target.waiting)} "
            f"{found.unit} can"
        )
    db.execute(
        "UPDATE order_stage SET good = good + ?, rejected = rejected + ? "
        "WHERE order_id = ? AND position = ?",
        (q.to_micro(n_good), q.to_micro(n_rej), found.id, target.position),
    )
    db.execute(
        "INSERT INTO stage_event (order_id, position, good, rejected, reason, user, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            found.id,
            target.position,
            q.to_micro(n_good),
            q.to_micro(n_rej),
            why,
            user,
            timefmt.now(),
        ),
    )
    return Progress(found, order_stages(db, found), target.name, n_good, n_rej)


# -- the wip report ----------------------------------------------------------------------

WIP_COLUMNS = [
    "order", "item", "qty", "unit", "state", "stage", "waiting", "finished", "stages",
    "consumed_value", "age_days", "age_from", "due", "late", "planned_start", "planned_end",
]  # fmt: skip

_PLACE_VALUE = """
    SELECT i.code, b.qty, i.std_cost
      FROM balance AS b
      JOIN item AS i ON i.id = b.item_id
     WHERE b.location_id = (SELECT location_id FROM production_order WHERE id = ?)
       AND b.qty <> 0
"""

# The start, not a later ``order update`` of the started order (in_progress -> in_progress).
_STARTED = """
    SELECT max(at) FROM order_event
     WHERE order_id = ? AND to_state = 'in_progress' AND from_state IS NOT 'in_progress'
"""


def _value(db: sqlite3.Connection, order_id: int) -> tuple[Decimal, list[str]]:
    """Sum of qty x standard cost over the order place's balances; items without a cost."""
    total = Decimal(0)
    uncosted: list[str] = []
    for code, micro_qty, micro_cost in db.execute(_PLACE_VALUE, (order_id,)):
        if micro_cost is None:
            uncosted.append(code)
            continue
        total += q.dec(micro_qty) * q.dec(micro_cost)
    return total, sorted(set(uncosted))


def wip(db: sqlite3.Connection, *, today: str | None = None) -> list[dict[str, Any]]:
    """Every open order (released, in progress) with its stages, value, age and lateness.

    ``stage`` is the current stage (the first not fully passed; ``done`` when all are,
    None without stages) and ``waiting`` the units before it; ``finished`` passed the
    last stage. ``stages`` is a list of {stage, waiting, passed, rejected}: ``waiting`` units have
    reached the stage and are not through it, ``passed`` went through it good.
    ``consumed_value`` is the sum over the order place's balances of quantity times the
    item's standard cost (consumed material in, returns and output out); items without
    a cost count as zero and are named in ``uncosted``.
    """
    day = date.fromisoformat(today or reservations.today())
    rows: list[dict[str, Any]] = []
    open_orders = [o for s in OPEN for o in orders.list_orders(db, state=s)]
    open_orders.sort(key=lambda o: (o.due_on, -o.priority, o.id))
    for o in open_orders:
        stages = order_stages(db, o)
        now = current(stages)
        value, uncosted = _value(db, o.id)
        started = db.execute(_STARTED, (o.id,)).fetchone()[0]
        from_start = o.state == "in_progress" and started is not None
        since = started if from_start else o.created_at
        since_day = date.fromisoformat(timefmt.local(since)[:10])
        rows.append(
            {
                "order": o.id,
                "item": o.item,
                "qty": o.qty,
                "unit": o.unit,
                "state": o.state,
                "stage": now.name if now else ("done" if stages else None),
                "waiting": now.waiting if now else Decimal(0),
                "finished": stages[-1].good if stages else None,
                "stages": [
                    {
                        "stage": s.name,
                        "waiting": s.waiting,
                        "passed": s.good,
                        "rejected": s.rejected,
                    }
                    for s in stages
                ],
                "consumed_value": value,
                "uncosted": uncosted,
                "age_days": (day - since_day).days,
                "age_from": "started" if from_start else "created",
                "due": o.due_on,
                "late": o.due_on < day.isoformat(),
                "planned_start": o.planned_start,
                "planned_end": o.planned_end,
            }
        )
    return rows


def stages_text(stages: Sequence[Mapping[str, Any]]) -> str:
    """A stage list in one cell: ``assembly 2>8, calibration 8>0`` (waiting>passed)."""
    parts = []
    for s in stages:
        rej = f" x{q.fmt(s['rejected'])}" if s["rejected"] else ""
        parts.append(f"{s['stage']} {q.fmt(s['waiting'])}>{q.fmt(s['passed'])}{rej}")
    return ", ".join(parts)
