"""Purchase orders: a quantity of a buy item ordered from a supplier by a date.

A purchase order's states::

    open -> received      (when receipts reach its quantity)
    open -> cancelled     (what was received stays received)

A receipt against it is exactly a ``stock receive`` (``stock.receive``) with the
reference ``PO-<id>`` and the order's unit cost; receiving more than is still open is
refused. The open quantity of open orders counts in the stock report's ``on_order``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, stock
from mfgctl.domain.ledger import Move
from mfgctl.errors import NotFound, RuleViolation

STATES = ("open", "received", "cancelled")
COLUMNS = ["po", "item", "name", "qty", "received", "open", "unit", "due", "supplier", "ref",
           "unit_cost", "state", "created_at", "user"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: int
    item: str
    name: str
    unit: str
    qty: Decimal
    received: Decimal
    due_on: str
    supplier: str | None
    ref: str | None
    state: str
    unit_cost: Decimal | None
    created_at: str
    user: str

    @property
    def open_qty(self) -> Decimal:
        return self.qty - self.received if self.state == "open" else Decimal(0)

    @property
    def reference(self) -> str:
        """The reference its receipts carry."""
        return f"PO-{self.id}"

    def as_row(self) -> dict[str, Any]:
        return {
            "po": self.id,
            "item": self.item,
            "name": self.name,
            "qty": self.qty,
            "received": self.received,
            "open": self.open_qty,
            "unit": self.unit,
            "due": self.due_on,
            "supplier": self.supplier,
            "ref": self.ref,
            "unit_cost": self.unit_cost,
            "state": self.state,
            "created_at": timefmt.local(self.created_at),
            "user": self.user,
        }


_SELECT = """
    SELECT p.id, i.code, i.name, i.unit, p.qty, p.received, p.due_on, p.supplier, p.ref,
           p.state, p.unit_cost, p.created_at, p.user
      FROM purchase_order AS p
      JOIN item AS i ON i.id = p.item_id
"""


def _from_row(r: sqlite3.Row) -> PurchaseOrder:
    return PurchaseOrder(
        r[0], r[1], r[2], r[3], q.dec(r[4]), q.dec(r[5]), r[6], r[7], r[8], r[9],
        q.from_micro(r[10]), r[11], r[12],
    )  # fmt: skip


def parse_id(value: object) -> int:
    """A purchase order number as typed: ``12`` or ``PO-12``."""
    return codes.record_number(value, what="purchase order", prefix="PO-")


def get(db: sqlite3.Connection, po: object) -> PurchaseOrder:
    po_id = parse_id(po)
    row = db.execute(f"{_SELECT} WHERE p.id = ?", (po_id,)).fetchone()
    if row is None:
        raise NotFound(f"no purchase order {po_id} (see mfgctl purchase list --all)")
    return _from_row(row)


def add(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    due: object,
    user: str,
    supplier: str | None = None,
    ref: str | None = None,
    cost: object = None,
) -> PurchaseOrder:
    """An open purchase order for an active buy item; ``cost`` is per base unit.

    Raises:
        RuleViolation: a make item.
    """
    it = items.get(db, item, active=True)
    if it.make_or_buy != "buy":
        raise RuleViolation(
            f"{it.code} is a make item: purchase orders are for buy items "
            f"(make it with mfgctl order create {it.code})"
        )
    micro = q.to_micro(q.parse_qty(qty), what=f"quantity in {it.unit}")
    due_on = timefmt.parse_date(due, what="--due").isoformat()
    vendor = codes.text(supplier, what="--supplier", required=False)
    reference = codes.text(ref, what="--ref", required=False)
    unit_cost = None
    if cost is not None:
        unit_cost = q.to_micro(q.parse_qty(cost, what="cost", allow_zero=True), what="cost")
    po_id = db.execute(
        "INSERT INTO purchase_order (item_id, qty, received, due_on, supplier, ref, state, "
        "unit_cost, created_at, user) VALUES (?, ?, 0, ?, ?, ?, 'open', ?, ?, ?)",
        (it.id, micro, due_on, vendor, reference, unit_cost, timefmt.now(), user),
    ).lastrowid
    return get(db, po_id)


def list_orders(
    db: sqlite3.Connection, *, item: str | None = None, include_all: bool = False
) -> list[PurchaseOrder]:
    """Purchase orders by due date: open ones only, unless ``include_all``."""
    item_id = items.get(db, item).id if item else None
    rows = db.execute(
        f"{_SELECT} WHERE (:item IS NULL OR p.item_id = :item) "
        "AND (:all OR p.state = 'open') ORDER BY p.due_on, p.id",
        {"item": item_id, "all": include_all},
    )
    return [_from_row(r) for r in rows]


def _must_be_open(found: PurchaseOrder, doing: str) -> None:
    if found.state != "open":
        raise RuleViolation(
            f"purchase order {found.id} is {found.state}: only an open one can be {doing}"
        )


def cancel(db: sqlite3.Connection, po: object) -> PurchaseOrder:
    """Cancel an open purchase order; what was received against it stays in stock."""
    found = get(db, po)
    _must_be_open(found, "cancelled")
    db.execute("UPDATE purchase_order SET state = 'cancelled' WHERE id = ?", (found.id,))
    return get(db, found.id)


def receive(
    db: sqlite3.Connection,
    po: object,
    *,
    user: str,
    qty: object = None,
    lot: str | None = None,
    serials: list[str] | None = None,
    location: str = "STORES",
) -> tuple[PurchaseOrder, list[Move]]:
    """Receive against an open purchase order, as ``stock receive`` does (into
    ``pending_inspection`` when the item needs inspection), with ref ``PO-<id>`` and the
    order's unit cost. Without ``qty``: the serials given, else the open quantity.

    Raises:
        RuleViolation: the order is not open, or ``qty`` is more than is still open.
    """
    found = get(db, po)
    _must_be_open(found, "received")
    open_qty = found.qty - found.received
    given = Decimal(len(serials or [])) or open_qty
    amount = given if qty is None else q.parse_qty(qty)
    if amount > open_qty:
        raise RuleViolation(
            f"purchase order {found.id} has {q.fmt(open_qty)} {found.unit} {found.item} open "
            f"(ordered {q.fmt(found.qty)}, received {q.fmt(found.received)}): cannot receive "
            f"{q.fmt(amount)} against it (receive the extra with mfgctl stock receive)"
        )
    moves = stock.receive(
        db,
        item=found.item,
        qty=amount,
        user=user,
        location=location,
        lot=lot,
        serials=serials,
        cost=found.unit_cost,
        ref=found.reference,
    )
    received = q.to_micro(found.received + amount)
    state = "received" if received == q.to_micro(found.qty) else "open"
    db.execute(
        "UPDATE purchase_order SET received = ?, state = ? WHERE id = ?",
        (received, state, found.id),
    )
    return get(db, found.id), moves
