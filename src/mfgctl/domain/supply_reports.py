"""Supply reports: slow-moving stock, late orders, and how suppliers keep their dates.

Dates are local days; "today" is the local date now. Every number comes from the ledger
and the order tables:

- an *issue* is a move of stock out of a real (internal) location into a production
  order's place (consumption) or to a customer (a shipment), whatever its kind;
- an item is *slow-moving* when it has stock on hand and has been idle for more than N
  days: idle since its last issue, or, never issued, since stock first came in;
- an open order is *late* when its due date is before today; days late = today - due;
- a purchase order's *delay* is the day it was received in full (its last receipt, a
  move with ref ``PO-<id>``) minus its due date: positive late, negative early; its
  *observed lead time* is that day minus the day it was placed.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes
from mfgctl.domain.flow_reports import pct


def today() -> date:
    """The local date the reports count days to."""
    return date.today()


def _day(stored: str | None) -> str | None:
    """Stored UTC text -> the local day ``YYYY-MM-DD``."""
    return timefmt.local(stored)[:10] or None


def _days(later: str, earlier: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def _average(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# -- slow-moving stock -----------------------------------------------------------------------

SLOW_COLUMNS = [
    "item", "name", "unit", "on_hand", "last_issue", "last_move", "idle_since", "days_idle",
    "cost", "value",
]  # fmt: skip

# Stock on hand per item: every status at real locations.
_ON_HAND = """
    SELECT b.item_id, i.code, i.name, i.unit, i.std_cost, sum(b.qty) AS qty
      FROM balance AS b
      JOIN location AS l ON l.id = b.location_id
      JOIN item AS i ON i.id = b.item_id
     WHERE l.kind = 'internal' AND b.status IS NOT NULL
     GROUP BY b.item_id
    HAVING sum(b.qty) > 0
"""
# Each item's dates: last issue, last move touching the house, first arrival. One scan
# of the ledger (NOT INDEXED): looking each item up by move_item_time fetched every move
# from the table one by one (2.7 s against 0.8 s on a million moves).
_DATES = """
    SELECT m.item_id,
           max(CASE WHEN f.kind = 'internal' AND t.kind IN ('production', 'customer')
                    THEN m.effective_at END),
           max(m.effective_at),
           min(CASE WHEN t.kind = 'internal' AND f.kind <> 'internal' THEN m.effective_at END)
      FROM move AS m NOT INDEXED
      JOIN location AS f ON f.id = m.from_location_id
      JOIN location AS t ON t.id = m.to_location_id
     WHERE f.kind = 'internal' OR t.kind = 'internal'
     GROUP BY m.item_id
"""


def slow_moving(db: sqlite3.Connection, *, days: object = 90) -> list[dict[str, Any]]:
    """Items with stock on hand that have not been issued for more than ``days`` days.

    ``value`` is on hand x the item's standard cost (None without a cost). Sorted by
    days idle, longest first.

    Raises:
        InvalidInput: days that are not a whole number of 0 or more.
    """
    limit = codes.whole_number(days, what="--days")
    now = today()
    rows = []
    on_hand_rows = db.execute(_ON_HAND).fetchall()
    dates = {r[0]: tuple(r[1:]) for r in db.execute(_DATES)} if on_hand_rows else {}
    for item_id, code, name, unit, cost, on_hand in on_hand_rows:
        last_issue, last_move, first_in = dates.get(item_id, (None, None, None))
        since = _day(last_issue or first_in or last_move)
        if since is None:
            continue
        idle = (now - date.fromisoformat(since)).days
        if idle <= limit:
            continue
        amount = q.dec(on_hand)
        unit_cost = q.from_micro(cost)
        rows.append(
            {
                "item": code,
                "name": name,
                "unit": unit,
                "on_hand": amount,
                "last_issue": _day(last_issue),
                "last_move": _day(last_move),
                "idle_since": since,
                "days_idle": idle,
                "cost": unit_cost,
                "value": None if unit_cost is None else (amount * unit_cost).normalize(),
            }
        )
    rows.sort(key=lambda r: (-r["days_idle"], r["item"].upper()))
    return rows


# -- late orders -----------------------------------------------------------------------------

LATE_PRODUCTION_COLUMNS = [
    "order", "item", "name", "qty", "good", "remaining", "unit", "state", "due", "days_late",
    "ref",
]  # fmt: skip
LATE_PURCHASE_COLUMNS = [
    "po", "item", "name", "supplier", "qty", "received", "open", "unit", "due", "days_late",
    "ref", "needed_by",
]  # fmt: skip

_LATE_PRODUCTION = """
    SELECT o.id, i.code, i.name, i.unit, o.qty, o.state, o.due_on, o.ref,
           ifnull((SELECT sum(m.qty) FROM move AS m
                    WHERE m.ref = l.code AND m.item_id = o.item_id AND m.kind = 'output'), 0)
      FROM production_order AS o
      JOIN item AS i ON i.id = o.item_id
      JOIN location AS l ON l.id = o.location_id
     WHERE o.state IN ('planned', 'released', 'in_progress') AND o.due_on < :today
     ORDER BY o.due_on, o.id
"""
_LATE_PURCHASE = """
    SELECT p.id, p.item_id, i.code, i.name, i.unit, p.supplier, p.qty, p.received, p.due_on,
           p.ref
      FROM purchase_order AS p
      JOIN item AS i ON i.id = p.item_id
     WHERE p.state = 'open' AND p.due_on < :today
     ORDER BY p.due_on, p.id
"""


# What waits for an item: open orders that still need it (frozen requirement not yet
# consumed) and open sales orders for it, as (due, what). ``v_late_orders``
# (domain/views.py) lists the same rows for each purchase order.
def needed_by_rows(item: str, indent: int) -> str:
    """SQL: the rows for the item ``item`` (an SQL expression); lines after the first
    indented by ``indent`` (the view's text is kept as schema.sql has it)."""
    lines = [
        "SELECT o.due_on AS due, l.code AS what",
        "  FROM order_material AS om",
        "  JOIN production_order AS o ON o.id = om.order_id",
        "  JOIN location AS l ON l.id = o.location_id",
        f" WHERE om.item_id = {item} AND o.state IN ('released', 'in_progress')",
        "   AND om.qty > ifnull((SELECT sum(m.qty) FROM move AS m",
        "                         WHERE m.ref = l.code AND m.item_id = om.item_id",
        "                           AND m.kind = 'consume'), 0)",
        "UNION ALL",
        "SELECT d.due_on, ifnull(d.ref, 'demand ' || d.id)",
        "  FROM demand AS d",
        f" WHERE d.item_id = {item} AND d.state = 'open' AND d.kind = 'sales'",
    ]
    return ("\n" + " " * indent).join(lines)


_NEEDED_BY = f"SELECT due, what FROM ({needed_by_rows(':item', 4)}) ORDER BY due, what"


def late(db: sqlite3.Connection, *, as_of: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """Open production orders and open purchase orders past their due date (as of
    ``as_of``, default the local date), most overdue first, with what they are for: a
    production order's ref; for a purchase order, the started orders still needing the
    item and open sales orders of it."""
    now = as_of or today()
    params = {"today": now.isoformat()}
    production = []
    for r in db.execute(_LATE_PRODUCTION, params).fetchall():
        qty, good = q.dec(r[4]), q.dec(r[8])
        production.append(
            {
                "order": r[0],
                "item": r[1],
                "name": r[2],
                "qty": qty,
                "good": good,
                "remaining": max(qty - good, Decimal(0)),
                "unit": r[3],
                "state": r[5],
                "due": r[6],
                "days_late": (now - date.fromisoformat(r[6])).days,
                "ref": r[7],
            }
        )
    purchase = []
    for r in db.execute(_LATE_PURCHASE, params).fetchall():
        needed = [what for _due, what in db.execute(_NEEDED_BY, {"item": r[1]})]
        qty, received = q.dec(r[6]), q.dec(r[7])
        purchase.append(
            {
                "po": r[0],
                "item": r[2],
                "name": r[3],
                "supplier": r[5],
                "qty": qty,
                "received": received,
                "open": qty - received,
                "unit": r[4],
                "due": r[8],
                "days_late": (now - date.fromisoformat(r[8])).days,
                "ref": r[9],
                "needed_by": needed,
            }
        )
    return {"production_orders": production, "purchase_orders": purchase}


# -- suppliers -------------------------------------------------------------------------------

SUPPLIER_COLUMNS = [
    "supplier", "pos", "on_time", "on_time_pct", "avg_delay_days", "worst_delay_days",
]  # fmt: skip
SUPPLIER_ITEM_COLUMNS = [
    "supplier", "item", "pos", "lead_time_days", "observed_avg_days", "observed_max_days",
    "difference_days",
]  # fmt: skip
DELIVERY_COLUMNS = [
    "po", "supplier", "item", "qty", "unit", "ordered_on", "due", "received_on", "delay_days",
    "lead_days",
]  # fmt: skip
NO_SUPPLIER = "(none)"

# Purchase orders received in full, with the moment of their last receipt.
_DELIVERED = """
    SELECT p.id, p.supplier, i.code, i.unit, i.purchase_lead_time_days, p.qty, p.created_at,
           p.due_on,
           (SELECT max(m.effective_at) FROM move AS m
             WHERE m.ref = 'PO-' || p.id AND m.item_id = p.item_id AND m.kind = 'receipt')
      FROM purchase_order AS p
      JOIN item AS i ON i.id = p.item_id
     WHERE p.state = 'received'
     ORDER BY p.id
"""


def suppliers(db: sqlite3.Connection, *, since: str | None = None) -> dict[str, list[dict]]:
    """Per supplier, how its purchase orders received in full (since ``since``, by the
    day received) kept their due dates; per supplier and item, the observed lead time
    beside the item's ``purchase_lead_time_days``; and each delivery behind them.

    Raises:
        InvalidInput: a bad date.
    """
    start = timefmt.parse_date(since, what="--since").isoformat() if since is not None else None
    deliveries = []
    for po, supplier, code, unit, lead, qty, created, due, last in db.execute(_DELIVERED):
        received_on = _day(last)
        if received_on is None or (start and received_on < start):
            continue
        ordered_on = _day(created) or received_on
        deliveries.append(
            {
                "po": po,
                "supplier": supplier or NO_SUPPLIER,
                "item": code,
                "qty": q.dec(qty),
                "unit": unit,
                "ordered_on": ordered_on,
                "due": due,
                "received_on": received_on,
                "delay_days": _days(received_on, due),
                "lead_days": _days(received_on, ordered_on),
                "_lead": lead,
            }
        )
    by_supplier: dict[str, list[dict[str, Any]]] = {}
    by_item: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for d in deliveries:
        by_supplier.setdefault(d["supplier"], []).append(d)
        by_item.setdefault((d["supplier"], d["item"]), []).append(d)
    summary = []
    for name in sorted(by_supplier, key=str.upper):
        delays = [d["delay_days"] for d in by_supplier[name]]
        on_time = sum(1 for n in delays if n <= 0)
        summary.append(
            {
                "supplier": name,
                "pos": len(delays),
                "on_time": on_time,
                "on_time_pct": pct(Decimal(on_time), Decimal(len(delays))),
                "avg_delay_days": _average(delays),
                "worst_delay_days": max(delays),
            }
        )
    per_item = []
    for (name, code), found in sorted(
        by_item.items(), key=lambda kv: (kv[0][0].upper(), kv[0][1].upper())
    ):
        leads = [d["lead_days"] for d in found]
        observed = _average(leads)
        per_item.append(
            {
                "supplier": name,
                "item": code,
                "pos": len(found),
                "lead_time_days": found[0]["_lead"],
                "observed_avg_days": observed,
                "observed_max_days": max(leads),
                "difference_days": observed - found[0]["_lead"],  # type: ignore[operator]
            }
        )
    for d in deliveries:
        del d["_lead"]
    return {"suppliers": summary, "items": per_item, "deliveries": deliveries}
