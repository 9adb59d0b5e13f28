"""Production flow reports: yield, scrap, rejects and consumption variance of production
orders.

Every number comes from the ledger and the order's own records, so it can be traced:

- an order's *date* is the local day it was started (its first ``in_progress`` event);
  orders never started (planned, released, cancelled) have none and are left out;
- *good* output is the order's ``output`` moves into stock, *scrapped* output its
  ``scrap`` moves of the product out of its place;
- *started* units are what entered the order's first stage (good + rejected there), or
  good + scrapped output if that is more (an order without stages: what it completed);
- *yield* is good / started, in percent;
- per component, *required* is the order's frozen requirement for its whole quantity,
  *planned* the share of it for the output made (required x made / order quantity, as
  ``order close`` counts it), *actual* what the order used (consumed into its place, or
  scrapped straight from stock for it, less what was returned), what a listed substitute
  covered of it included (``orders.usage``: *substituted*), as ``order show``
  counts its variance; a substitute keeps a row of its own only for what it covered of
  no material (used beyond that, or used where it is not listed);
- *variance* is actual - planned; its percent is of planned.

A rollup (by item, or by month and item) sums the orders' numbers and recomputes the
ratios from the sums, never averages percentages. A month is rolled up per item made:
units of different items are never added together.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, orders
from mfgctl.errors import InvalidInput

BY = ("order", "item", "month")
STARTED = ("in_progress", "completed", "closed")
DONE = ("completed", "closed")
_CENT = Decimal("0.01")

# Orders with their start: the first time they went in progress.
_ORDERS = """
    SELECT o.id, o.item_id, i.code AS item, i.unit, b.revision, o.qty, o.state, o.location_id,
           l.code AS place,
           (SELECT min(e.at) FROM order_event AS e
             WHERE e.order_id = o.id AND e.to_state = 'in_progress') AS started_at
      FROM production_order AS o
      JOIN item AS i ON i.id = o.item_id
      JOIN bom AS b ON b.id = o.bom_id
      JOIN location AS l ON l.id = o.location_id
     WHERE (:order IS NULL OR o.id = :order)
       AND (:item IS NULL OR o.item_id = :item)
     ORDER BY o.id
"""
# An order's moves that say what it used, made and scrapped (its place is their ref).
_MOVES = """
    SELECT m.item_id, m.kind, m.from_location_id, m.to_location_id, m.from_status,
           m.reason, sum(m.qty)
      FROM move AS m
     WHERE m.ref = :ref AND m.kind IN ('consume', 'scrap', 'return', 'output')
     GROUP BY m.item_id, m.kind, m.from_location_id, m.to_location_id, m.from_status, m.reason
"""
_MATERIALS = """
    SELECT item_id, min(position), sum(qty), min(substitutes) FROM order_material
     WHERE order_id = ? GROUP BY item_id ORDER BY 2
"""
_STAGES = "SELECT position, name, good, rejected FROM order_stage WHERE order_id = ?"
_REJECTS = """
    SELECT s.position, s.name, e.reason, sum(e.rejected)
      FROM stage_event AS e
      JOIN order_stage AS s ON s.order_id = e.order_id AND s.position = e.position
     WHERE e.order_id = ? AND e.rejected > 0
     GROUP BY s.position, s.name, e.reason
"""


def pct(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percent of ``whole``, to two places (None when whole is 0)."""
    if whole == 0:
        return None
    return (part * 100 / whole).quantize(_CENT, rounding=ROUND_HALF_UP)


def _share(required: Decimal, made: Decimal, whole: Decimal) -> Decimal:
    """The requirement for ``made`` of ``whole`` units, to a millionth."""
    return (required * made / whole).quantize(Decimal(1).scaleb(-q.PLACES), ROUND_HALF_UP)


@dataclass(slots=True)
class Use:
    """One component of one order: planned and actual use, and its scrap."""

    component: str
    unit: str
    position: int
    required: Decimal = Decimal(0)
    planned: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    # The part of ``actual`` that its substitutes covered (used in its place).
    substituted: Decimal = Decimal(0)
    scrapped: Decimal = Decimal(0)


@dataclass(slots=True)
class OrderFlow:
    """What one started order planned, used, made, scrapped and rejected."""

    id: int
    item: str
    unit: str
    revision: str
    qty: Decimal
    state: str
    started_on: str | None
    good: Decimal = Decimal(0)
    scrapped: Decimal = Decimal(0)
    first_stage_in: Decimal = Decimal(0)
    uses: dict[int, Use] = field(default_factory=dict)
    # (position, stage) -> [handled, good, rejected]
    stages: dict[tuple[int, str], list[Decimal]] = field(default_factory=dict)
    # (position, stage, reason) -> rejected
    rejects: dict[tuple[int, str, str | None], Decimal] = field(default_factory=dict)
    # (item, reason) -> scrapped quantity of that item (components and the product)
    scrap: dict[tuple[str, str, str | None], Decimal] = field(default_factory=dict)

    @property
    def made(self) -> Decimal:
        return self.good + self.scrapped

    @property
    def started(self) -> Decimal:
        return max(self.first_stage_in, self.made)


def parse_window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``--since`` and ``--until`` as ISO dates (both days included); refuses bad dates."""
    start = timefmt.parse_date(since, what="--since").isoformat() if since is not None else None
    end = timefmt.parse_date(until, what="--until").isoformat() if until is not None else None
    if start and end and start > end:
        raise InvalidInput(f"--since {start} is after --until {end}: nothing could match")
    return start, end


def load(
    db: sqlite3.Connection,
    *,
    order: object = None,
    item: str | None = None,
    since: str | None = None,
    until: str | None = None,
    states: Iterable[str] = STARTED,
) -> list[OrderFlow]:
    """The orders' flows: started orders (in ``states``) whose start day lies in the
    window, of one item or all. A named ``order`` is taken whatever its state or date.

    Raises:
        NotFound: an unknown order or item.
        InvalidInput: a bad date.
    """
    order_id = orders.get(db, order).id if order is not None else None
    product = items.get(db, item) if item else None
    start, end = parse_window(since, until)
    wanted = set(states)
    names = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, code, unit FROM item")}
    by_code = {code.upper(): item_id for item_id, (code, _unit) in names.items()}
    found = []
    params = {"order": order_id, "item": product.id if product else None}
    for r in db.execute(_ORDERS, params).fetchall():
        started_on = timefmt.local(r["started_at"])[:10] or None
        if order_id is None:
            if r["state"] not in wanted or started_on is None:
                continue
            if (start and started_on < start) or (end and started_on > end):
                continue
        flow = OrderFlow(
            r["id"], r["item"], r["unit"], r["revision"], q.dec(r["qty"]), r["state"], started_on
        )
        _fill(db, flow, r["item_id"], r["place"], r["location_id"], names, by_code)
        found.append(flow)
    return found


def _fill(
    db: sqlite3.Connection,
    flow: OrderFlow,
    product: int,
    place: str,
    loc: int,
    names: dict[int, tuple[str, str]],
    by_code: dict[str, int],
) -> None:
    def use(item_id: int) -> Use:
        if item_id not in flow.uses:
            code, unit = names[item_id]
            flow.uses[item_id] = Use(code, unit, 1_000_000 + item_id)
        return flow.uses[item_id]

    # (item id, required, its substitutes' item ids) in position order, as ``coverage``.
    lines: list[tuple[int, Decimal, list[int]]] = []
    for item_id, position, required, subs in db.execute(_MATERIALS, (flow.id,)):
        flow.uses[item_id] = Use(*names[item_id], position, required=q.dec(required))
        known = (by_code.get(str(code).strip().upper()) for code in json.loads(subs or "[]"))
        lines.append((item_id, q.dec(required), [i for i in known if i is not None]))
    for item_id, kind, src, dst, from_status, reason, total in db.execute(_MOVES, {"ref": place}):
        amount = q.dec(total)
        if item_id == product and kind == "output":
            flow.good += amount
        elif item_id == product and kind == "scrap" and src == loc:
            flow.scrapped += amount
            key = (flow.item, flow.unit, reason)
            flow.scrap[key] = flow.scrap.get(key, Decimal(0)) + amount
        elif kind == "consume" and dst == loc:
            use(item_id).actual += amount
        elif kind == "return" and src == loc:
            use(item_id).actual -= amount
        elif kind == "scrap":
            it = use(item_id)
            if from_status is not None:  # straight from stock: used, not consumed first
                it.actual += amount
            it.scrapped += amount
            key = (it.component, it.unit, reason)
            flow.scrap[key] = flow.scrap.get(key, Decimal(0)) + amount
    _count_substitutes(flow, lines)
    for u in flow.uses.values():
        u.planned = _share(u.required, flow.made, flow.qty)
    first = None
    for position, name, good, rejected in db.execute(_STAGES, (flow.id,)):
        g, r = q.dec(good), q.dec(rejected)
        flow.stages[(position, name)] = [g + r, g, r]
        if first is None or position < first:
            first, flow.first_stage_in = position, g + r
    for position, name, reason, rejected in db.execute(_REJECTS, (flow.id,)):
        flow.rejects[(position, name, reason)] = q.dec(rejected)


def _count_substitutes(flow: OrderFlow, lines: list[tuple[int, Decimal, list[int]]]) -> None:
    """Count what each listed substitute covered of a material as use of the material,
    not of the substitute (``orders.usage``, the rule reservations and consumption count
    by): a substitute used one for one is no variance. A substitute that is no material
    keeps a row only for what is left of its use, or its scrap; a substitute that covered
    nothing keeps its row as it was."""
    have = {item_id: u.actual for item_id, u in flow.uses.items()}
    used, substituted, others = orders.usage(lines, have)
    for (item_id, _required, _subs), n, sub in zip(lines, used, substituted, strict=True):
        flow.uses[item_id].actual = n
        flow.uses[item_id].substituted = sub
    for item_id, n in others.items():
        u = flow.uses[item_id]
        if n != u.actual and n == 0 and u.scrapped == 0:
            del flow.uses[item_id]  # it stood in for materials with all of its use
        else:
            u.actual = n


# -- the yield report ------------------------------------------------------------------------

KEY_COLUMNS = {
    "order": ["order", "item", "revision", "state", "started_on"],
    "item": ["item", "orders"],
    "month": ["month", "item", "orders"],
}
ORDER_COLUMNS = ["qty", "started", "good", "scrapped", "yield_pct"]
STAGE_COLUMNS = ["stage", "handled", "good", "rejected", "yield_pct"]
REJECT_COLUMNS = ["stage", "reason", "rejected"]
MATERIAL_COLUMNS = [
    "component", "unit", "required", "planned", "actual", "substituted", "scrapped", "variance",
    "variance_pct",
]  # fmt: skip
SCRAP_COLUMNS = ["scrapped_item", "unit", "reason", "qty"]
SECTIONS = {
    "orders": ORDER_COLUMNS,
    "stages": STAGE_COLUMNS,
    "rejects": REJECT_COLUMNS,
    "materials": MATERIAL_COLUMNS,
    "scrap": SCRAP_COLUMNS,
}


def columns(by: str) -> dict[str, list[str]]:
    """Each table's columns for a grouping (known even when there are no rows)."""
    keys = KEY_COLUMNS[by]
    # Per order, the finer tables name the order only; the header row says the rest.
    short = keys[: _KEY_WIDTH[by]]
    return {name: (keys if name == "orders" else short) + cols for name, cols in SECTIONS.items()}


def parse_by(by: str) -> str:
    value = by.strip().lower()
    if value not in BY:
        raise InvalidInput(f"--by must be one of {', '.join(BY)}; got {by!r}")
    return value


# How many of a grouping's key columns the finer tables (stages, rejects, materials,
# scrap) repeat to say which row of the orders table they belong to.
_KEY_WIDTH = {"order": 1, "item": 1, "month": 2}


def _group_key(flow: OrderFlow, by: str) -> tuple[Any, ...]:
    if by == "order":
        return (flow.id, flow.item, flow.revision, flow.state, flow.started_on)
    if by == "item":
        return (flow.item,)
    return ((flow.started_on or "")[:7], flow.item)


def yield_report(
    db: sqlite3.Connection,
    *,
    order: object = None,
    item: str | None = None,
    since: str | None = None,
    until: str | None = None,
    by: str = "order",
) -> dict[str, list[dict[str, Any]]]:
    """Yield, stages, rejects by reason, planned vs actual use and scrap by reason, per
    order or rolled up by made item or by the month the orders started and the item.

    Returns a table (a list of rows) per name in ``SECTIONS``.
    """
    by = parse_by(by)
    flows = load(db, order=order, item=item, since=since, until=until)
    groups: dict[tuple[Any, ...], list[OrderFlow]] = {}
    for f in flows:
        groups.setdefault(_group_key(f, by), []).append(f)
    keys = KEY_COLUMNS[by]
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTIONS}
    for key, members in sorted(groups.items(), key=lambda kv: _sort_key(kv[0])):
        head = dict(zip(keys, key, strict=False))
        if by != "order":
            head["orders"] = len(members)
        short = dict(zip(keys[: _KEY_WIDTH[by]], key, strict=False))
        out["orders"].append({**head, **_order_numbers(members)})
        out["stages"].extend({**short, **r} for r in _stage_rows(members))
        out["rejects"].extend({**short, **r} for r in _reject_rows(members))
        out["materials"].extend({**short, **r} for r in _material_rows(members))
        out["scrap"].extend({**short, **r} for r in _scrap_rows(members))
    return out


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Orders by id; items, and months then items, by text (codes in any case)."""
    if not isinstance(key[0], str):
        return key[:1]
    return tuple(k.upper() for k in key if isinstance(k, str))


def _order_numbers(members: list[OrderFlow]) -> dict[str, Any]:
    total = {
        "qty": sum((f.qty for f in members), Decimal(0)),
        "started": sum((f.started for f in members), Decimal(0)),
        "good": sum((f.good for f in members), Decimal(0)),
        "scrapped": sum((f.scrapped for f in members), Decimal(0)),
    }
    return {**total, "yield_pct": pct(total["good"], total["started"])}


def _stage_rows(members: list[OrderFlow]) -> list[dict[str, Any]]:
    sums: dict[str, list[Decimal]] = {}
    order: dict[str, int] = {}
    for f in members:
        for (position, name), numbers in f.stages.items():
            cell = sums.setdefault(name, [Decimal(0)] * 3)
            order[name] = min(order.get(name, position), position)
            for i, n in enumerate(numbers):
                cell[i] += n
    return [
        {
            "stage": name,
            "handled": sums[name][0],
            "good": sums[name][1],
            "rejected": sums[name][2],
            "yield_pct": pct(sums[name][1], sums[name][0]),
        }
        for name in sorted(sums, key=lambda n: (order[n], n))
    ]


def _reject_rows(members: list[OrderFlow]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str | None], Decimal] = {}
    order: dict[str, int] = {}
    for f in members:
        for (position, name, reason), n in f.rejects.items():
            sums[(name, reason)] = sums.get((name, reason), Decimal(0)) + n
            order[name] = min(order.get(name, position), position)
    return [
        {"stage": name, "reason": reason, "rejected": n}
        for (name, reason), n in sorted(
            sums.items(), key=lambda kv: (order[kv[0][0]], kv[0][0], kv[0][1] or "")
        )
    ]


def _material_rows(members: list[OrderFlow]) -> list[dict[str, Any]]:
    sums: dict[str, Use] = {}
    for f in members:
        for u in f.uses.values():
            cell = sums.setdefault(u.component, Use(u.component, u.unit, u.position))
            cell.position = min(cell.position, u.position)
            cell.required += u.required
            cell.planned += u.planned
            cell.actual += u.actual
            cell.substituted += u.substituted
            cell.scrapped += u.scrapped
    rows = []
    for u in sorted(sums.values(), key=lambda u: (u.position, u.component.upper())):
        rows.append(
            {
                "component": u.component,
                "unit": u.unit,
                "required": u.required,
                "planned": u.planned,
                "actual": u.actual,
                "substituted": u.substituted,
                "scrapped": u.scrapped,
                "variance": u.actual - u.planned,
                "variance_pct": pct(u.actual - u.planned, u.planned),
            }
        )
    return rows


def _scrap_rows(members: list[OrderFlow]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str, str | None], Decimal] = {}
    for f in members:
        for key, n in f.scrap.items():
            sums[key] = sums.get(key, Decimal(0)) + n
    return [
        {"scrapped_item": code, "unit": unit, "reason": reason, "qty": n}
        for (code, unit, reason), n in sorted(
            sums.items(), key=lambda kv: (kv[0][0].upper(), kv[0][2] or "")
        )
    ]


# -- the variance report ---------------------------------------------------------------------

VARIANCE_COLUMNS = [
    "item", "revision", "component", "unit", "orders", "made", "planned", "actual",
    "substituted", "variance", "variance_pct", "planned_per_unit", "actual_per_unit", "flagged",
]  # fmt: skip


def variance(
    db: sqlite3.Connection,
    *,
    since: str | None = None,
    item: str | None = None,
    threshold: object = "5",
    min_orders: object = 3,
    show_all: bool = False,
) -> list[dict[str, Any]]:
    """BOM lines whose actual use differs from plan by more than ``threshold`` percent
    over at least ``min_orders`` completed (or closed) orders started since ``since``.

    One row per made item, BOM revision and component, summed over those orders: what
    they planned for the output they made and what they actually used, what a listed
    substitute covered of the line included (``substituted``; see ``load``). A line is
    ``flagged`` when enough orders used it and ``|variance_pct| > threshold``; only
    flagged lines are returned unless ``show_all``. A component used but never planned
    (a substitute beyond what it covered, or one the line does not list) has no percent
    and is never flagged. An order finished with no output counts when it used
    material: all it used is variance, and it adds nothing to ``made`` (per-unit figures
    are empty when no order made anything); a line used only by such orders has no
    percent either but is flagged (with enough orders), whatever the threshold.

    Raises:
        InvalidInput: a negative threshold, fewer than 1 order, a bad date.
        NotFound: an unknown item.
    """
    limit = q.parse_qty(threshold, what="--threshold", allow_zero=True)
    least_orders = codes.whole_number(min_orders, what="--min-orders", least=1)
    flows = load(db, item=item, since=since, states=DONE)
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in flows:
        # An order finished with no output counts when it used material: all of that is
        # variance (nothing planned for it), a loss the report must not hide.
        if f.made == 0 and not any(u.actual for u in f.uses.values()):
            continue
        for u in f.uses.values():
            key = (f.item, f.revision, u.component)
            cell = sums.setdefault(
                key,
                {"unit": u.unit, "position": u.position, "orders": 0, "made": Decimal(0),
                 "planned": Decimal(0), "actual": Decimal(0), "substituted": Decimal(0)},
            )  # fmt: skip
            cell["orders"] += 1
            cell["made"] += f.made
            cell["planned"] += u.planned
            cell["actual"] += u.actual
            cell["substituted"] += u.substituted
    rows = []
    for (made_item, revision, component), c in sums.items():
        diff = c["actual"] - c["planned"]
        share = pct(diff, c["planned"])
        # Material used by orders that all made nothing has no percent (nothing planned)
        # but is over plan by any threshold: flagged, so the default report shows it.
        wasted = c["made"] == 0 and c["actual"] > 0
        over = wasted or (share is not None and abs(share) > limit)
        flagged = c["orders"] >= least_orders and over
        if not (flagged or show_all):
            continue
        rows.append(
            {
                "item": made_item,
                "revision": revision,
                "component": component,
                "unit": c["unit"],
                "orders": c["orders"],
                "made": c["made"],
                "planned": c["planned"],
                "actual": c["actual"],
                "substituted": c["substituted"],
                "variance": diff,
                "variance_pct": share,
                "planned_per_unit": _per_unit(c["planned"], c["made"]),
                "actual_per_unit": _per_unit(c["actual"], c["made"]),
                "flagged": flagged,
                "_position": c["position"],
            }
        )
    rows.sort(key=lambda r: (not r["flagged"], r["item"].upper(), r["revision"], r["_position"]))
    for r in rows:
        del r["_position"]
    return rows


def _per_unit(total: Decimal, made: Decimal) -> Decimal | None:
    if not made:  # only orders that made nothing
        return None
    return (total / made).quantize(Decimal(1).scaleb(-q.PLACES), ROUND_HALF_UP).normalize()
