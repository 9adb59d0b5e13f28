"""The one-screen status: the answers a shop asks for every morning, from one snapshot.

``build(db)`` reads, in the caller's read transaction, and returns plain data:

* ``stock``: per status (free, reserved, expired, pending inspection, awaiting release,
  blocked, rejected, rework, WIP) how many items hold stock in it and its value at standard
  cost (items without a standard cost are counted in ``uncosted``, valued at zero);
* ``materials_low``: materials (every item that is not a finished good) whose free
  stock is below their safety stock, with what is on order;
* ``reserved``: open reservations by reference (which production order or customer
  order holds how much, and its value), leaving out those of expired lots (they hold
  nothing usable: the stock row counts them expired);
* ``in_progress``: released and in-progress production orders with their current
  stage and lateness, and ``wip_by_stage``: units waiting at each stage name;
* ``ready``: finished goods that can be sold now (free) and those awaiting release;
* ``held``: stock blocked, rejected or waiting for rework, per item;
* ``late``: open production orders past their due date or at risk (due within
  ``risk_days`` and not started, scheduled to end after their due date by the last
  ``schedule --commit``, or short of material according to MRP) and open purchase
  orders past their due date, each with the reason;
* ``replenish``: from a quick MRP run (``mrp_horizon`` days, weekly buckets, from
  today): what is short and the planned orders to release within ``risk_days``;
* ``cost``: what each finished item costs to make, rolled up through its BOM
  (``bom cost``: materials with scrap, stage time at work-centre rates).

Quantities are in each item's base unit; values in the currency of the standard costs.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import items, orders, reports, reservations, stages, supply_reports

STOCK_STATUSES = (
    "free",
    "reserved",
    "expired",  # available in lots past their expiry date: neither free nor used
    "pending_inspection",
    "awaiting_release",
    "blocked",
    "rejected",
    "rework",
    "wip",
)
HELD = ("blocked", "rejected", "rework")


# Lots (item code, lot code) past their expiry date on the given day that open
# reservations hold.
_EXPIRED_LOTS = """
    SELECT DISTINCT i.code, lt.code FROM reservation AS r
      JOIN lot AS lt ON lt.id = r.lot_id JOIN item AS i ON i.id = lt.item_id
     WHERE r.state = 'open' AND lt.expires_on < ?
"""


def _value(qty: Decimal, cost: Decimal | None) -> Decimal:
    return qty * cost if cost is not None else Decimal(0)


def build(
    db: sqlite3.Connection,
    *,
    today: date | None = None,
    risk_days: int = 7,
    mrp_horizon: int | None = 90,
    include_inspection: bool = False,
) -> dict[str, Any]:
    """The status of the shop now (``mrp_horizon`` None: no MRP run; with
    ``include_inspection`` it counts stock pending inspection as on hand)."""
    day = today or date.fromisoformat(reservations.today())
    catalogue = {it.code: it for it in items.all_items(db)}
    stock_rows = reports.stock(db)
    totals = {
        s: {"status": s, "items": 0, "value": Decimal(0), "uncosted": 0} for s in STOCK_STATUSES
    }
    materials_low, ready, held = [], [], []
    seen = set()
    for r in stock_rows:
        it = catalogue[r.item]
        seen.add(r.item)
        for s in STOCK_STATUSES:
            amount = getattr(r, s)
            if amount > 0:
                cell = totals[s]
                cell["items"] += 1
                cell["value"] += _value(amount, it.cost)
                cell["uncosted"] += it.cost is None
        if it.type == "finished" and (r.free > 0 or r.awaiting_release > 0):
            ready.append(
                {
                    "item": r.item,
                    "name": r.name,
                    "free": r.free,
                    "awaiting_release": r.awaiting_release,
                    "unit": r.unit,
                }
            )
        if any(getattr(r, s) > 0 for s in HELD):
            held.append(
                {
                    "item": r.item,
                    "blocked": r.blocked,
                    "rejected": r.rejected,
                    "rework": r.rework,
                    "unit": r.unit,
                    "value": _value(r.blocked + r.rejected + r.rework, it.cost),
                }
            )
        if it.type != "finished" and it.active and r.free < it.safety_stock:
            materials_low.append(_low(it, r.free, r.on_order))
    on_order = {r.item: r.on_order for r in stock_rows}
    for code, it in catalogue.items():
        if code not in seen and it.active and it.type != "finished" and it.safety_stock > 0:
            materials_low.append(_low(it, Decimal(0), on_order.get(code, Decimal(0))))
    materials_low.sort(key=lambda r: r["item"].upper())

    reserved: dict[str, dict[str, Any]] = {}
    # A reservation of a lot past its expiry date holds nothing any command will use:
    # left out, as the stock row counts that lot expired, not reserved.
    expired = {(i, lot) for i, lot in db.execute(_EXPIRED_LOTS, (day.isoformat(),))}
    for res in reservations.list_reservations(db):
        if res.status != "open" or (res.item, res.lot) in expired:
            continue
        row = reserved.setdefault(
            res.ref, {"ref": res.ref, "lines": 0, "items": set(), "value": Decimal(0)}
        )
        row["lines"] += 1
        row["items"].add(res.item)
        row["value"] += _value(res.remaining, catalogue[res.item].cost)
    reserved_rows = [
        {**r, "items": len(r["items"])} for r in sorted(reserved.values(), key=lambda r: r["ref"])
    ]

    wip_rows = stages.wip(db, today=day.isoformat())
    by_stage: dict[str, Decimal] = defaultdict(Decimal)
    in_progress = []
    for w in wip_rows:
        for s in w["stages"]:
            if s["waiting"] > 0:
                by_stage[s["stage"]] += s["waiting"]
        in_progress.append(
            {
                "order": w["order"],
                "item": w["item"],
                "qty": w["qty"],
                "unit": w["unit"],
                "state": w["state"],
                "stage": w["stage"],
                "due": w["due"],
                "late": w["late"],
            }
        )

    plan_rows, short_orders = _mrp(db, day, risk_days, mrp_horizon, include_inspection)
    late = _late_orders(db, day, risk_days, short_orders)

    cost = _finished_costs(db, catalogue.values())
    return {
        "date": day.isoformat(),
        "stock": list(totals.values()),
        "materials_low": materials_low,
        "reserved": reserved_rows,
        "in_progress": in_progress,
        "wip_by_stage": [{"stage": k, "waiting": v} for k, v in by_stage.items()],
        "ready": ready,
        "held": held,
        "late": late,
        "replenish": plan_rows,
        "cost": cost,
    }


def _finished_costs(db: sqlite3.Connection, every: Iterable[items.Item]) -> list[dict[str, Any]]:
    """Each active finished item's standard cost per unit, rolled up through its BOM
    (``bom cost``); ``std_cost`` is the item's own figure, for comparison."""
    from mfgctl.domain import costing

    every = list(every)
    finished = sorted(
        (it for it in every if it.type == "finished" and it.active), key=lambda i: i.code.upper()
    )
    costs = costing.unit_costs(db, finished, every=every)
    return [
        {
            "item": it.code,
            "name": it.name,
            "unit_cost": costs[it.code],
            "std_cost": it.cost,
            "unit": it.unit,
        }
        for it in finished
    ]


def _low(it: items.Item, free: Decimal, on_order: Decimal) -> dict[str, Any]:
    return {
        "item": it.code,
        "free": free,
        "safety_stock": it.safety_stock,
        "on_order": on_order,
        "unit": it.unit,
    }


def _late_orders(
    db: sqlite3.Connection, day: date, risk_days: int, short_orders: dict[int, str]
) -> list[dict[str, Any]]:
    soon = (day + timedelta(days=risk_days)).isoformat()
    out = []
    for state in ("planned", "released", "in_progress"):
        for o in orders.list_orders(db, state=state):
            reasons = []
            if o.due_on < day.isoformat():
                reasons.append(f"{(day - date.fromisoformat(o.due_on)).days} days late")
            elif o.due_on <= soon and o.state != "in_progress":
                reasons.append(f"due {o.due_on} and not started")
            # Late when it ends after its due date ends: 00:00 the next day is on time.
            if o.planned_end and o.planned_end > _day_after(o.due_on):
                reasons.append(f"scheduled to end {o.planned_end}")
            if o.id in short_orders:
                reasons.append(short_orders[o.id])
            if reasons:
                out.append(
                    {
                        "order": o.reference,
                        "item": o.item,
                        "qty": o.qty,
                        "unit": o.unit,
                        "due": o.due_on,
                        "state": o.state,
                        "why": "; ".join(reasons),
                    }
                )
    # Overdue purchase orders: as `report late` finds them (as of ``day``).
    for po in supply_reports.late(db, as_of=day)["purchase_orders"]:
        supplier = po["supplier"]
        out.append(
            {
                "order": f"PO-{po['po']}",
                "item": po["item"],
                "qty": po["open"],
                "unit": po["unit"],
                "due": po["due"],
                "state": "open",
                "why": f"{po['days_late']} days late" + (f" ({supplier})" if supplier else ""),
            }
        )
    out.sort(key=lambda r: (r["due"], r["order"]))
    return out


def _mrp(
    db: sqlite3.Connection,
    day: date,
    risk_days: int,
    horizon: int | None,
    include_inspection: bool = False,
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """What to replenish (shortages, planned orders to release soon) and the open
    production orders MRP finds short of material."""
    if horizon is None:
        return [], {}
    from mfgctl.domain import mrp, mrp_data

    settings = mrp.Settings(day, horizon, "week", include_inspection)
    plan = mrp.plan(mrp_data.load(db, today=day), settings)
    rows: list[dict[str, Any]] = []
    for s in plan.shortages:
        why = "; ".join(r.label for r in s.roots[:3])
        if len(s.roots) > 3:
            why += f" and {len(s.roots) - 3} more"
        if s.inspection:  # not counted: inspecting it may cover the shortage
            why += f" ({q.fmt(q.dec(s.inspection))} pending inspection)"
        rows.append(
            {
                "action": "short",
                "item": s.item,
                "qty": q.dec(s.qty),
                "date": s.first_date.isoformat(),
                "for": why,
            }
        )
    soon = day + timedelta(days=risk_days)
    for o in sorted(plan.planned, key=lambda o: (o.release, o.id)):
        if o.release <= soon:
            rows.append(
                {
                    "action": o.kind,
                    "item": o.item,
                    "qty": q.dec(o.qty),
                    "date": o.release.isoformat(),
                    "for": f"due {o.due}",
                }
            )
    short: dict[int, str] = {}
    for e in plan.exceptions:
        if e.code == "order_short" and e.ref and e.ref.startswith("ORDER-"):
            number = int(e.ref.removeprefix("ORDER-"))
            short.setdefault(number, f"short of {e.item}")
    return rows, short


def _day_after(day: str) -> str:
    """The first moment after ``day`` (ISO date) as a stored planned end: its midnight."""
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat() + " 00:00"
