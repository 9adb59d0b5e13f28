"""Purchase orders: a quantity of a buy item ordered from a supplier by a date.

A purchase order's states::

    open -> received      (when receipts reach its quantity)
    open -> cancelled     (what was received stays received)

``update`` moves an open order's due date or changes its quantity (never below what was
received). Every change is kept in ``purchase_event``, in the same transaction: created
(``purchase add``, an import, ``mrp firm``), updated (its note lists each change, ``due
2027-03-05 -> 2027-03-19; qty 100 -> 80``), received (how much, lot or serials, where)
and cancelled, each with who and when; ``purchase show`` prints it. The table is
append-only.

A receipt against it is exactly a ``stock receive`` (``stock.receive``) with the
reference ``PO-<id>`` and the order's unit cost; receiving more than is still open is
refused. The open quantity of open orders counts in the stock report's ``on_order``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, events, items, stock
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Move
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

STATES = ("open", "received", "cancelled")
EVENTS = ("created", "updated", "received", "cancelled")
HISTORY_COLUMNS = events.HISTORY_COLUMNS
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

    def to_fields(self) -> dict[str, Any]:
        """As a ``purchase_orders:`` record of an import: what is still open as ``qty``
        (what was received is stock, exported as such); no key for what is not set."""
        out: dict[str, Any] = {"item": self.item, "qty": self.open_qty, "due": self.due_on}
        optional = {"supplier": self.supplier, "ref": self.ref, "unit_cost": self.unit_cost}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


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


def _event(db: sqlite3.Connection, po_id: int, event: str, **fields: Any) -> None:
    """Append one event to its history (``EVENTS``; see ``events.record``)."""
    events.record(db, "purchase", po_id, event, **fields)


def history(db: sqlite3.Connection, po: PurchaseOrder) -> list[dict[str, Any]]:
    """Its events, oldest first, as ``HISTORY_COLUMNS`` rows."""
    return events.history(db, "purchase", po.id)


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
    unit: str | None = None,
    how: str = "added",
) -> PurchaseOrder:
    """An open purchase order for an active buy item. ``qty`` and ``cost`` are in and per
    ``unit`` (default the item's base unit), as ``stock receive`` takes them; both are
    stored exactly per base unit. Its ``created`` event notes ``how`` it came (``added``,
    ``imported``, ``firmed from MRP planned order 3``) with the quantity and due date.

    Raises:
        RuleViolation: a make item.
        InvalidInput: a unit that does not convert, a fraction of a serial-tracked
            item, or a cost per base unit with more decimal places than are stored.
    """
    it = items.get(db, item, active=True)
    check_buy(it)
    amount = it.to_base(q.parse_qty(qty), unit)
    micro = q.to_micro(amount, what=f"quantity in {it.unit}")
    items.check_whole(it, amount)
    due_on = timefmt.parse_plan_date(due, what="--due").isoformat()
    vendor = codes.text(supplier, what="--supplier", required=False)
    reference = codes.text(ref, what="--ref", required=False)
    unit_cost = None
    if cost is not None:
        unit_cost = q.to_micro(stock.cost_per_base(it, cost, unit), what="cost")
    stamp = timefmt.now()
    po_id = db.execute(
        "INSERT INTO purchase_order (item_id, qty, received, due_on, supplier, ref, state, "
        "unit_cost, created_at, user) VALUES (?, ?, 0, ?, ?, ?, 'open', ?, ?, ?)",
        (it.id, micro, due_on, vendor, reference, unit_cost, stamp, user),
    ).lastrowid
    assert po_id is not None
    note = f"{how}: {q.fmt(amount)} {it.unit} due {due_on}"
    _event(db, po_id, "created", user=user, source=None, target="open", note=note, at=stamp)
    return get(db, po_id)


def check_buy(it: Item) -> None:
    """Purchase orders are for buy items: raise RuleViolation for a make item."""
    if it.make_or_buy != "buy":
        raise RuleViolation(
            f"{it.code} is a make item: purchase orders are for buy items "
            f"(make it with mfgctl order create {it.code})"
        )


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


def cancel(db: sqlite3.Connection, po: object, *, user: str) -> PurchaseOrder:
    """Cancel an open purchase order; what was received against it stays in stock."""
    found = get(db, po)
    _must_be_open(found, "cancelled")
    db.execute("UPDATE purchase_order SET state = 'cancelled' WHERE id = ?", (found.id,))
    note = f"{q.fmt(found.received)} of {q.fmt(found.qty)} {found.unit} received"
    _event(db, found.id, "cancelled", user=user, source="open", target="cancelled", note=note)
    return get(db, found.id)


def receive(
    db: sqlite3.Connection,
    po: object,
    *,
    user: str,
    qty: object = None,
    lot: str | None = None,
    serials: list[str] | None = None,
    location: str | None = None,
    unit: str | None = None,
    expires: date | None = None,
    when: str | None = None,
) -> tuple[PurchaseOrder, list[Move]]:
    """Receive against an open purchase order, as ``stock receive`` does (into
    ``pending_inspection`` when the item needs inspection), with ref ``PO-<id>`` and the
    order's unit cost. Without ``qty``: the serials given, else the open quantity;
    ``qty`` is in ``unit`` (default the base unit), converted exactly. ``expires`` (the
    lot's expiry date) and ``when`` (a back-dated effective date) as ``stock receive``
    takes them.

    Raises:
        RuleViolation: the order is not open, or ``qty`` is more than is still open.
        InvalidInput: ``unit`` without ``qty``, or a unit that does not convert.
    """
    found = get(db, po)
    _must_be_open(found, "received")
    open_qty = found.qty - found.received
    given = Decimal(len(serials or [])) or open_qty
    if unit is not None and qty is None:
        raise InvalidInput(f"--unit {unit} is the unit of --qty: give --qty too")
    amount = given if qty is None else q.parse_qty(qty)
    typed = ""  # the quantity as given in another unit, for the refusal
    if unit is not None:
        typed = f" ({q.fmt(amount)} {unit})"
        amount = items.get(db, found.item).to_base(amount, unit)
        q.to_micro(amount, what=f"quantity in {found.unit}")
    if amount > open_qty:
        raise RuleViolation(
            f"purchase order {found.id} has {q.fmt(open_qty)} {found.unit} {found.item} open "
            f"(ordered {q.fmt(found.qty)}, received {q.fmt(found.received)}): cannot receive "
            f"{q.fmt(amount)}{typed} against it (receive the extra with mfgctl stock receive)"
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
        expires=expires,
        when=when,
    )
    received = q.to_micro(found.received + amount)
    state = "received" if received == q.to_micro(found.qty) else "open"
    db.execute(
        "UPDATE purchase_order SET received = ?, state = ? WHERE id = ?",
        (received, state, found.id),
    )
    after = get(db, found.id)
    lots = list(dict.fromkeys(m.lot for m in moves if m.lot))
    kind = "serial" if serials else "lot"
    what = f" {kind}{'s' if len(lots) > 1 else ''} {', '.join(lots)}" if lots else ""
    dated = f", dated {timefmt.local(moves[0].effective_at)}" if when is not None else ""
    note = (
        f"{q.fmt(amount)} {found.unit}{what} into {moves[0].target}{dated}; "
        f"{q.fmt(after.received)} of {q.fmt(after.qty)} received"
    )
    _event(db, found.id, "received", user=user, source="open", target=state, note=note)
    return after, moves


def update(
    db: sqlite3.Connection,
    po: object,
    *,
    user: str,
    due: object = None,
    qty: object = None,
    unit: str | None = None,
) -> tuple[PurchaseOrder, PurchaseOrder]:
    """Move an open purchase order's due date and/or change its quantity (``qty`` in
    ``unit``, default the base unit), as the supplier confirmed it; what MRP calls
    expedite, delay or a smaller order. A quantity equal to what was received makes the
    order ``received``. An ``updated`` event notes each change (``due 2027-03-05 ->
    2027-03-19; qty 100 -> 80``). Returns the order before and after.

    Raises:
        RuleViolation: the order is not open, or ``qty`` is below what was received.
        InvalidInput: nothing to change, a bad date, a unit that does not convert, a
            fraction of a serial-tracked item.
    """
    found = get(db, po)
    _must_be_open(found, "updated")
    due_on, amount = items.rescheduled(
        db, found.item, due=due, qty=qty, unit=unit, due_on=found.due_on, current=found.qty
    )
    if amount < found.received:
        raise RuleViolation(
            f"purchase order {found.id} has {q.fmt(found.received)} {found.unit} "
            f"{found.item} received: its quantity cannot be {q.fmt(amount)}, below that "
            f"(cancel it with mfgctl purchase cancel {found.id} to stop the rest)"
        )
    if due_on == found.due_on and amount == found.qty:
        raise InvalidInput(
            f"purchase order {found.id} is already {q.fmt(found.qty)} {found.unit} "
            f"{found.item} due {found.due_on}: nothing to change"
        )
    state = "received" if amount == found.received else "open"
    db.execute(
        "UPDATE purchase_order SET due_on = ?, qty = ?, state = ? WHERE id = ?",
        (due_on, q.to_micro(amount), state, found.id),
    )
    changes = [f"due {found.due_on} -> {due_on}"] if due_on != found.due_on else []
    if amount != found.qty:
        changes.append(f"qty {q.fmt(found.qty)} -> {q.fmt(amount)}")
    note = "; ".join(changes)
    _event(db, found.id, "updated", user=user, source="open", target=state, note=note)
    return found, get(db, found.id)
