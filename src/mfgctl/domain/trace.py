"""Traceability: the genealogy of lots and serials, read from the ledger, and recalls.

*Genealogy* links the lots consumed into a production order with the lots made by it.
Both sides are ledger moves of the order's own place ``ORDER-<id>``: kind ``consume``
into it (less kind ``return`` out of it) are its inputs, kind ``make`` into it (from
``CONVERSION``) are its outputs, good or scrapped. An order does not record which
component went into which unit, so every input lot of an order is linked to every lot
it made: a trace is never narrower than the truth.

- ``backward``: from a lot or serial, the orders that made it, their input lots, and so
  on down, to the receipts (from ``SUPPLIER``, or opening balances) each lot came in by.
- ``forward``: from a lot or serial, the orders that used it, the lots they made, and so
  on up; and for each lot where its units are now: stock at a place in a status, WIP of
  an order, scrapped, or shipped to a customer (``domain.shipping``).
- ``recall``: a forward trace that blocks every affected unit still in house (a
  ``hold`` inspection of each lot's stock, after cancelling its reservations) and lists
  what is in WIP and what was shipped, by customer. Idempotent.

Only lots and serials can be traced: an untracked item's units have no identity.

Trees are plain nested dicts (``type`` names the node; ``children`` its branches), the
same for the Rich tree and JSON.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, locations, quality, release, reservations
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot
from mfgctl.errors import InvalidInput, NotFound

# -- genealogy: parameter-free queries, so a view can be made of them as they stand ----

# An order's inputs: per order place, item and lot, what was consumed into it less what
# was returned from it (lot_id NULL: an untracked component).
ORDER_INPUTS = """
    SELECT CASE m.kind WHEN 'consume' THEN m.to_location_id ELSE m.from_location_id END
               AS order_location_id,
           m.item_id, m.lot_id,
           sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) AS qty
      FROM move AS m
     WHERE m.kind IN ('consume', 'return')
       AND CASE m.kind WHEN 'consume' THEN m.to_location_id ELSE m.from_location_id END
           IN (SELECT id FROM location WHERE kind = 'production')
     GROUP BY order_location_id, m.item_id, m.lot_id
    HAVING sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) > 0
"""
# An order's outputs: per order place, item and lot, what it made (good and scrapped).
ORDER_OUTPUTS = """
    SELECT m.to_location_id AS order_location_id, m.item_id, m.lot_id, sum(m.qty) AS qty
      FROM move AS m
     WHERE m.kind = 'make'
       AND m.to_location_id IN (SELECT id FROM location WHERE kind = 'production')
     GROUP BY m.to_location_id, m.item_id, m.lot_id
"""
# The genealogy: one row per input lot and output lot of an order (output NULL while the
# order has made nothing). The later SQL view is ``CREATE VIEW genealogy AS`` this.
GENEALOGY = f"""
    SELECT i.order_location_id, i.item_id AS input_item_id, i.lot_id AS input_lot_id,
           i.qty AS input_qty, o.item_id AS output_item_id, o.lot_id AS output_lot_id,
           o.qty AS output_qty
      FROM ({ORDER_INPUTS}) AS i
      LEFT JOIN ({ORDER_OUTPUTS}) AS o ON o.order_location_id = i.order_location_id
"""

_ORDER_OF_PLACE = """
    SELECT o.id, o.state, i.code AS item, l.code AS place
      FROM production_order AS o
      JOIN item AS i ON i.id = o.item_id
      JOIN location AS l ON l.id = o.location_id
     WHERE o.location_id = ?
"""
_MADE_BY = f"SELECT order_location_id, qty FROM ({ORDER_OUTPUTS}) WHERE item_id = ? AND lot_id = ?"
# What each order used of one lot, as ORDER_INPUTS defines it, read through the lot's
# own moves (``move_lot``) with each order place's kind looked up by key: ORDER_INPUTS'
# ``IN (SELECT id FROM location ...)`` lists every order place on each call, which grows
# with the orders (a quarter of a millisecond a lot at 1,000 orders).
_USED_BY = """
    SELECT p.id AS order_location_id,
           sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) AS qty
      FROM move AS m
      JOIN location AS p
        ON p.id = CASE m.kind WHEN 'consume' THEN m.to_location_id ELSE m.from_location_id END
     WHERE m.item_id = ? AND m.lot_id = ? AND m.kind IN ('consume', 'return')
       AND p.kind = 'production'
     GROUP BY p.id
    HAVING sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) > 0
     ORDER BY p.id
"""
# One order's inputs and outputs, as ORDER_INPUTS and ORDER_OUTPUTS define them, read
# through the ``move_ref`` index: every move of an order's place carries its code as ref.
_INPUTS_OF = """
    SELECT m.item_id, m.lot_id, sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END)
      FROM move AS m
      JOIN item AS i ON i.id = m.item_id
      LEFT JOIN lot AS l ON l.id = m.lot_id
     WHERE m.ref = :code AND ((m.kind = 'consume' AND m.to_location_id = :place)
                              OR (m.kind = 'return' AND m.from_location_id = :place))
     GROUP BY m.item_id, m.lot_id
    HAVING sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) > 0
     ORDER BY i.code, l.code
"""
_OUTPUTS_OF = """
    SELECT m.item_id, m.lot_id, sum(m.qty)
      FROM move AS m
      JOIN item AS i ON i.id = m.item_id
      LEFT JOIN lot AS l ON l.id = m.lot_id
     WHERE m.ref = :code AND m.kind = 'make' AND m.to_location_id = :place
     GROUP BY m.item_id, m.lot_id
     ORDER BY i.code, l.code
"""
# How a lot came in from outside: receipts, opening balances, positive adjustments.
_ORIGINS = """
    SELECT m.seq, m.kind, m.qty, m.effective_at, m.user, m.ref, f.code AS source,
           t.code AS location, m.to_status AS status, p.supplier
      FROM move AS m
      JOIN location AS f ON f.id = m.from_location_id
      JOIN location AS t ON t.id = m.to_location_id
      LEFT JOIN purchase_order AS p
             ON p.id = CAST(substr(m.ref, 4) AS INTEGER) AND m.ref = 'PO-' || p.id
     WHERE m.item_id = ? AND m.lot_id = ? AND m.to_status IS NOT NULL
       AND f.kind IN ('supplier', 'opening', 'adjustment')
     ORDER BY m.seq
"""
# Where a lot's units are now, except at customers (read from shipments instead). The
# places are those the lot's own moves went into (``move_lot``), each balance then read
# by its key (``balance_key``): a balance is what moves brought in less what they took
# out, so stock is only ever where a move brought some (``mfgctl check`` proves the
# balances equal the ledger). Searching the item's balances for the lot instead reads
# every lot of the item, for each lot traced.
_WHERE = """
    SELECT l.code AS location, l.kind, b.status, b.qty, o.id AS order_id, o.state
      FROM (SELECT DISTINCT to_location_id AS location_id, ifnull(to_status, '') AS status
              FROM move WHERE lot_id = :lot AND item_id = :item) AS k
      JOIN balance AS b
        ON b.item_id = :item AND b.location_id = k.location_id
       AND ifnull(b.status, '') = k.status AND ifnull(b.lot_id, 0) = :lot
      JOIN location AS l ON l.id = b.location_id
      LEFT JOIN production_order AS o ON o.location_id = b.location_id
     WHERE b.qty > 0 AND (b.status IS NOT NULL OR l.kind IN ('production', 'scrap'))
     ORDER BY b.status IS NULL, l.code, b.status
"""
# A lot's units still at customers, per shipment: shipped less returned (``mfgctl return``
# moves them back from CUSTOMER with the shipment's reference).
_SHIPPED = """
    SELECT m.ref AS shipment,
           sum(CASE WHEN t.kind = 'customer' THEN m.qty ELSE -m.qty END) AS qty,
           min(m.effective_at) AS at, s.customer, s.ref
      FROM move AS m
      JOIN location AS f ON f.id = m.from_location_id
      JOIN location AS t ON t.id = m.to_location_id
      LEFT JOIN shipment AS s
             ON s.id = CAST(substr(m.ref, 6) AS INTEGER) AND m.ref = 'SHIP-' || s.id
     WHERE m.item_id = ? AND m.lot_id = ? AND 'customer' IN (f.kind, t.kind)
     GROUP BY m.ref, s.customer, s.ref
    HAVING sum(CASE WHEN t.kind = 'customer' THEN m.qty ELSE -m.qty END) > 0
     ORDER BY s.customer, min(m.seq)
"""


def resolve(db: sqlite3.Connection, code: str, item: str | None = None) -> tuple[Item, Lot]:
    """The lot or serial to trace (``item`` needed only when several items share the code).

    Raises:
        InvalidInput: an untracked item (nothing to follow), or an ambiguous code.
        NotFound: no such lot or serial.
    """
    if item is not None:
        it = items.get(db, item)
        if it.tracking == "none":
            raise InvalidInput(
                f"{it.code} is not lot- or serial-tracked: its units have no identity to "
                "trace (trace follows lots and serials)"
            )
    try:
        return release.find_lot(db, code, item)
    except NotFound as e:
        raise NotFound(f"{e}; trace follows lots and serials of tracked items") from e


@dataclass
class _Walk:
    """State of one trace: items and lots read once, lots already expanded."""

    db: sqlite3.Connection
    items: dict[int, Item] = field(default_factory=dict)
    lots: dict[int, Lot] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    order: list[tuple[Item, Lot]] = field(default_factory=list)

    def item(self, item_id: int) -> Item:
        if item_id not in self.items:
            code = self.db.execute("SELECT code FROM item WHERE id = ?", (item_id,)).fetchone()[0]
            self.items[item_id] = items.get(self.db, code)
        return self.items[item_id]

    def lot(self, lot_id: int) -> Lot:
        if lot_id not in self.lots:
            r = self.db.execute(
                "SELECT id, code, serial, expires_on FROM lot WHERE id = ?", (lot_id,)
            ).fetchone()
            self.lots[lot_id] = Lot(r[0], r[1], bool(r[2]), r[3])
        return self.lots[lot_id]

    def order_node(self, place_id: int, **extra: Any) -> dict[str, Any]:
        r = self.db.execute(_ORDER_OF_PLACE, (place_id,)).fetchone()
        return {
            "type": "order",
            "order": r["id"],
            "place": r["place"],
            "item": r["item"],
            "state": r["state"],
            **extra,
        }


def _lot_node(it: Item, lot: Lot, **extra: Any) -> dict[str, Any]:
    return {
        "type": "serial" if lot.serial else "lot",
        "item": it.code,
        "lot": lot.code,
        "unit": it.unit,
        **extra,
    }


def _backward(w: _Walk, it: Item, lot: Lot, extra: dict[str, Any]) -> dict[str, Any]:
    node = _lot_node(it, lot, **extra)
    if lot.id in w.seen:
        node["repeat"] = True  # expanded above in this trace
        return node
    w.seen.add(lot.id)
    w.order.append((it, lot))
    children: list[dict[str, Any]] = []
    for place_id, made in w.db.execute(_MADE_BY, (it.id, lot.id)).fetchall():
        order = w.order_node(place_id, made=q.dec(made), unit=it.unit)
        inputs = []
        params = {"code": order["place"], "place": place_id}
        for item_id, lot_id, used in w.db.execute(_INPUTS_OF, params).fetchall():
            child = w.item(item_id)
            if lot_id is None:
                inputs.append(
                    {
                        "type": "untracked",
                        "item": child.code,
                        "consumed": q.dec(used),
                        "unit": child.unit,
                    }
                )
            else:
                inputs.append(_backward(w, child, w.lot(lot_id), {"consumed": q.dec(used)}))
        order["children"] = inputs
        children.append(order)
    for r in w.db.execute(_ORIGINS, (it.id, lot.id)):
        children.append(
            {
                "type": "receipt" if r["kind"] == "receipt" else r["kind"],
                "item": it.code,
                "lot": lot.code,
                "qty": q.dec(r["qty"]),
                "unit": it.unit,
                "from": r["source"],
                "supplier": r["supplier"],
                "ref": r["ref"],
                "into": f"{r['location']}/{r['status']}",
                "at": timefmt.local(r["effective_at"]),
                "user": r["user"],
                "seq": r["seq"],
            }
        )
    node["children"] = children
    return node


def _whereabouts(w: _Walk, it: Item, lot: Lot) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in w.db.execute(_WHERE, {"item": it.id, "lot": lot.id}):
        amount = q.dec(r["qty"])
        if r["status"] is not None:
            out.append(
                {"type": "stock", "location": r["location"], "status": r["status"], "qty": amount}
            )
        elif r["kind"] == "production":
            out.append(
                {
                    "type": "wip",
                    "order": r["order_id"],
                    "place": r["location"],
                    "state": r["state"],
                    "qty": amount,
                }
            )
        else:
            out.append({"type": "scrapped", "location": r["location"], "qty": amount})
    for r in w.db.execute(_SHIPPED, (it.id, lot.id)):
        out.append(
            {
                "type": "shipped",
                "customer": r["customer"],
                "shipment": r["shipment"],
                "ref": r["ref"],
                "qty": q.dec(r["qty"]),
                "at": timefmt.local(r["at"]),
            }
        )
    for node in out:
        node["unit"] = it.unit
    return out


def _forward(w: _Walk, it: Item, lot: Lot, extra: dict[str, Any]) -> dict[str, Any]:
    node = _lot_node(it, lot, **extra)
    if lot.id in w.seen:
        node["repeat"] = True
        return node
    w.seen.add(lot.id)
    w.order.append((it, lot))
    children = _whereabouts(w, it, lot)
    for place_id, used in w.db.execute(_USED_BY, (it.id, lot.id)).fetchall():
        order = w.order_node(place_id, consumed=q.dec(used), unit=it.unit)
        made = []
        params = {"code": order["place"], "place": place_id}
        for item_id, lot_id, n in w.db.execute(_OUTPUTS_OF, params).fetchall():
            product = w.item(item_id)
            if lot_id is None:
                made.append(
                    {"type": "untracked", "item": product.code, "made": q.dec(n),
                     "unit": product.unit}
                )  # fmt: skip
            else:
                made.append(_forward(w, product, w.lot(lot_id), {"made": q.dec(n)}))
        order["children"] = made
        children.append(order)
    node["children"] = children
    return node


def backward(db: sqlite3.Connection, code: str, *, item: str | None = None) -> dict[str, Any]:
    """Everything a lot or serial was made from, through every level, down to receipts."""
    it, lot = resolve(db, code, item)
    root = _backward(_Walk(db), it, lot, {})
    root["direction"] = "backward"
    return root


def _forward_walk(db: sqlite3.Connection, code: str, item: str | None) -> tuple[dict, _Walk]:
    it, lot = resolve(db, code, item)
    walk = _Walk(db)
    root = _forward(walk, it, lot, {})
    root["direction"] = "forward"
    return root, walk


def forward(db: sqlite3.Connection, code: str, *, item: str | None = None) -> dict[str, Any]:
    """Everything made from a lot or serial, through every level, and where it is now."""
    return _forward_walk(db, code, item)[0]


# -- recall ------------------------------------------------------------------------------

HOLDABLE = ("available", "pending_inspection", "awaiting_release")
RECALL_COLUMNS = ["item", "lot", "qty", "unit", "where", "status", "action", "detail"]
SHIPPED_COLUMNS = ["customer", "shipment", "ref", "item", "lot", "qty", "unit", "shipped_at"]


@dataclass(frozen=True, slots=True)
class Recall:
    """What a recall found and did."""

    tree: dict[str, Any]
    reason: str
    rows: list[dict[str, Any]]  # in house and WIP: one per lot and place
    shipped: list[dict[str, Any]]  # by customer
    cancelled: list[reservations.Reservation]
    inspections: list[int]

    @property
    def blocked(self) -> int:
        return sum(1 for r in self.rows if r["action"] == "blocked")

    def document(self) -> dict[str, Any]:
        return {
            "item": self.tree["item"],
            "lot": self.tree["lot"],
            "reason": self.reason,
            "in_house": self.rows,
            "shipped": self.shipped,
            "reservations_cancelled": [r.as_row() for r in self.cancelled],
            "inspections": self.inspections,
            "trace": self.tree,
        }


def _row(it: Item, lot: Lot, qty: Decimal, where: str, status: str, action: str, detail: str):
    return {
        "item": it.code,
        "lot": lot.code,
        "qty": qty,
        "unit": it.unit,
        "where": where,
        "status": status,
        "action": action,
        "detail": detail,
    }


def _wip_advice(order: int, state: str, it: Item, lot: Lot, amount: Decimal) -> str:
    """What the shop must do with recalled units in an order's WIP, for the order's state.

    The scrap command works for a started order and for a completed one (its leftover WIP,
    before the close). A completed order must not be closed with ``--return-unconsumed``
    first: that brings the units back ``available``, since a hold blocks stock where it is
    and marks no lot, so nothing that comes into stock later is blocked by it.
    """
    scrap = (
        f"mfgctl consume {order} --item {it.code} --lot {lot.code} --scrap {q.fmt(amount)} "
        "--reason ..."
    )
    if state == "completed":
        return (
            f"in the WIP of completed order {order}: scrap it before closing the order "
            f"({scrap}); order close --return-unconsumed would return it available; "
            "its output is traced above"
        )
    return (
        f"in the WIP of order {order}: stop the order, or scrap it ({scrap}); "
        "its output is traced above"
    )


_OPEN_AT = """
    SELECT id FROM reservation
     WHERE state = 'open' AND item_id = ? AND location_id = ? AND lot_id = ? ORDER BY id
"""


def recall(
    db: sqlite3.Connection, code: str, *, reason: str, user: str, item: str | None = None
) -> Recall:
    """Block every unit made from (or being) a lot or serial that is still in house.

    For each affected lot's stock in ``available``, ``pending_inspection`` or
    ``awaiting_release``: its reservations there are cancelled, then it is held
    (``quality.inspect`` decision ``hold``: a move to ``blocked`` and an inspection record
    with the reason). Stock already blocked or rejected is listed as such; stock in
    rework, in an order's WIP, scrapped or shipped is listed with what the shop must do.
    Running it again changes nothing.
    """
    why = codes.text(reason, what="--reason", limit=120)
    assert why is not None
    tree, walk = _forward_walk(db, code, item)
    note = f"recall {tree['lot']}: {why}"
    rows: list[dict[str, Any]] = []
    shipped: list[dict[str, Any]] = []
    cancelled: list[reservations.Reservation] = []
    inspected: list[int] = []
    for it, lot in walk.order:
        by_lot = {"lot": lot.code} if it.tracking == "lot" else {"serial": lot.code}
        for loc, status, amount in quality.stock_of(db, it, lot):
            if status in HOLDABLE:
                location_id = locations.get(db, loc).id
                freed = []
                for (rid,) in db.execute(_OPEN_AT, (it.id, location_id, lot.id)).fetchall():
                    freed += reservations.cancel(db, reservation_id=rid)
                cancelled += freed
                done = quality.inspect(
                    db,
                    item=it.code,
                    decision="hold",
                    user=user,
                    location=loc,
                    status=status,
                    note=note,
                    **by_lot,
                )
                inspected += [d.id for d in done]
                detail = "inspection " + ", ".join(str(d.id) for d in done)
                if freed:
                    detail += "; reservations cancelled: " + ", ".join(
                        f"{r.id} ({r.ref}, {q.fmt(r.remaining)})" for r in freed
                    )
                rows.append(_row(it, lot, amount, loc, status, "blocked", detail))
            elif status in ("blocked", "rejected"):
                rows.append(
                    _row(it, lot, amount, loc, status, f"already {status}", "nothing to do")
                )
            else:  # rework: a hold cannot take it; it comes back through inspection
                rows.append(
                    _row(
                        it, lot, amount, loc, status, "check",
                        "in rework, not blocked: fail it, or hold it when it returns "
                        f"(mfgctl inspect {it.code} --fail --{next(iter(by_lot))} {lot.code} "
                        f"--location {loc})",
                    )
                )  # fmt: skip
        for r in db.execute(_WHERE, {"item": it.id, "lot": lot.id}):
            if r["status"] is None and r["kind"] == "production":
                amount = q.dec(r["qty"])
                rows.append(
                    _row(
                        it, lot, amount, r["location"], f"wip ({r['state']})", "check",
                        _wip_advice(r["order_id"], r["state"], it, lot, amount),
                    )
                )  # fmt: skip
        for r in db.execute(_SHIPPED, (it.id, lot.id)):
            shipped.append(
                {
                    "customer": r["customer"],
                    "shipment": r["shipment"],
                    "ref": r["ref"],
                    "item": it.code,
                    "lot": lot.code,
                    "qty": q.dec(r["qty"]),
                    "unit": it.unit,
                    "shipped_at": timefmt.local(r["at"]),
                }
            )
    shipped.sort(key=lambda s: (s["customer"] or "", s["shipment"] or "", s["item"], s["lot"]))
    return Recall(tree, why, rows, shipped, cancelled, inspected)
