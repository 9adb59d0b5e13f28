"""Demand: what customers ordered (``sales``) or are expected to take (``forecast``),
a quantity of an item by a date.

A demand record is ``open`` until it is cancelled, or (sales) until its shipments reach
its quantity (``domain.shipping``)::

    open -> cancelled
    open -> shipped

MRP reads open demand less what was shipped against it; sales orders consuming forecast
come with it. ``update`` moves an open demand's due date or changes its quantity (never
below what was shipped). Every change is kept in ``demand_event``, in the same
transaction: created (``demand add``, an import), updated (its note lists each change,
``due 2027-03-05 -> 2027-03-19; qty 10 -> 12``), shipped (each shipment against it:
which, how much, lots, to whom) and cancelled, each with who and when; ``demand show``
prints it. The table is append-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, reservations
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

KINDS = ("sales", "forecast")
STATES = ("open", "cancelled", "shipped")
EVENTS = ("created", "updated", "shipped", "cancelled")
HISTORY_COLUMNS = ["at", "user", "event", "from_state", "to_state", "note"]
COLUMNS = ["demand", "item", "name", "qty", "shipped", "open", "unit", "due", "kind", "ref",
           "state", "created_at", "user"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Demand:
    id: int
    item: str
    name: str
    unit: str
    qty: Decimal
    due_on: str
    kind: str
    ref: str | None
    state: str
    created_at: str
    user: str
    shipped: Decimal = Decimal(0)  # what shipments fulfilled of it so far

    @property
    def open_qty(self) -> Decimal:
        """What it still lacks: its quantity less what was shipped against it."""
        return self.qty - self.shipped

    def as_row(self) -> dict[str, Any]:
        return {
            "demand": self.id,
            "item": self.item,
            "name": self.name,
            "qty": self.qty,
            "shipped": self.shipped,
            "open": self.open_qty if self.state == "open" else Decimal(0),
            "unit": self.unit,
            "due": self.due_on,
            "kind": self.kind,
            "ref": self.ref,
            "state": self.state,
            "created_at": timefmt.local(self.created_at),
            "user": self.user,
        }

    def to_fields(self) -> dict[str, Any]:
        """As a ``demand:`` record of an import: what it still lacks as ``qty`` (what was
        shipped has left the stock, and the shipments are not exported); no ``ref`` when
        there is none."""
        out: dict[str, Any] = {
            "item": self.item,
            "qty": self.open_qty,
            "due": self.due_on,
            "kind": self.kind,
        }
        if self.ref is not None:
            out["ref"] = self.ref
        return out


_SELECT = """
    SELECT d.id, i.code, i.name, i.unit, d.qty, d.due_on, d.kind, d.ref, d.state,
           d.created_at, d.user,
           (SELECT ifnull(sum(s.qty), 0) FROM shipment AS s WHERE s.demand_id = d.id)
      FROM demand AS d
      JOIN item AS i ON i.id = d.item_id
"""


def _from_row(r: sqlite3.Row) -> Demand:
    return Demand(r[0], r[1], r[2], r[3], q.dec(r[4]), *r[5:11], q.dec(r[11]))


def parse_id(value: object) -> int:
    """A demand number as typed: ``12``."""
    return codes.record_number(value, what="demand")


def parse_kind(value: object, *, what: str = "--kind") -> str:
    """``sales`` or ``forecast``, in any case."""
    kind = str(value).strip().lower()
    if kind not in KINDS:
        raise InvalidInput(f"{what} must be one of {', '.join(KINDS)}; got {kind!r}")
    return kind


def get(db: sqlite3.Connection, demand: object) -> Demand:
    demand_id = parse_id(demand)
    row = db.execute(f"{_SELECT} WHERE d.id = ?", (demand_id,)).fetchone()
    if row is None:
        raise NotFound(f"no demand {demand_id} (see mfgctl demand list --all)")
    return _from_row(row)


def _event(
    db: sqlite3.Connection,
    demand_id: int,
    event: str,
    *,
    user: str,
    source: str | None,
    target: str,
    note: str,
    at: str | None = None,
) -> None:
    """Append one event to the demand's history (``EVENTS``)."""
    db.execute(
        "INSERT INTO demand_event (demand_id, at, user, event, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (demand_id, at or timefmt.now(), user, event, source, target, note),
    )


def history(db: sqlite3.Connection, found: Demand) -> list[dict[str, Any]]:
    """The demand's events, oldest first, as ``HISTORY_COLUMNS`` rows."""
    rows = db.execute(
        "SELECT at, user, event, from_state, to_state, note FROM demand_event "
        "WHERE demand_id = ? ORDER BY id",
        (found.id,),
    )
    return [
        {
            "at": timefmt.local(r[0]),
            "user": r[1],
            "event": r[2],
            "from_state": r[3],
            "to_state": r[4],
            "note": r[5],
        }
        for r in rows
    ]


def add(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    due: object,
    kind: object,
    user: str,
    ref: str | None = None,
    unit: str | None = None,
    how: str = "added",
) -> Demand:
    """Record an open demand for an active item; ``qty`` is in ``unit`` (default the
    item's base unit), stored exactly in the base unit. Its ``created`` event notes
    ``how`` it came (``added``, ``imported``) with the quantity and due date."""
    it = items.get(db, item, active=True)
    amount = it.to_base(q.parse_qty(qty), unit)
    micro = q.to_micro(amount, what=f"quantity in {it.unit}")
    items.check_whole(it, amount)  # a serial-tracked item is demanded in whole units
    due_on = timefmt.parse_plan_date(due, what="--due").isoformat()
    checked = parse_kind(kind)
    reference = codes.text(ref, what="--ref", required=False)
    stamp = timefmt.now()
    demand_id = db.execute(
        "INSERT INTO demand (item_id, qty, due_on, kind, ref, state, created_at, user) "
        "VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
        (it.id, micro, due_on, checked, reference, stamp, user),
    ).lastrowid
    assert demand_id is not None
    note = f"{how}: {q.fmt(amount)} {it.unit} due {due_on}"
    _event(db, demand_id, "created", user=user, source=None, target="open", note=note, at=stamp)
    return get(db, demand_id)


def list_demand(
    db: sqlite3.Connection,
    *,
    item: str | None = None,
    kind: str | None = None,
    include_all: bool = False,
) -> list[Demand]:
    """Demand by due date: open only, unless ``include_all``."""
    item_id = items.get(db, item).id if item else None
    rows = db.execute(
        f"{_SELECT} WHERE (:item IS NULL OR d.item_id = :item) "
        "AND (:kind IS NULL OR d.kind = :kind) AND (:all OR d.state = 'open') "
        "ORDER BY d.due_on, d.id",
        {"item": item_id, "kind": parse_kind(kind) if kind else None, "all": include_all},
    )
    return [_from_row(r) for r in rows]


def cancel(db: sqlite3.Connection, demand: object, *, user: str) -> Demand:
    """Cancel an open demand.

    Raises:
        RuleViolation: it is already cancelled.
    """
    found = get(db, demand)
    if found.state != "open":
        raise RuleViolation(f"demand {found.id} is {found.state}: only open demand is cancelled")
    db.execute("UPDATE demand SET state = 'cancelled' WHERE id = ?", (found.id,))
    note = f"{q.fmt(found.shipped)} of {q.fmt(found.qty)} {found.unit} shipped"
    _event(db, found.id, "cancelled", user=user, source="open", target="cancelled", note=note)
    return get(db, found.id)


def shipped(
    db: sqlite3.Connection,
    found: Demand,
    *,
    shipment: str,
    qty: Decimal,
    lots: Sequence[str | None],
    customer: str,
    user: str,
) -> Demand:
    """After a shipment against an open sales demand (``shipment``, already written, of
    ``qty`` from ``lots``): the demand becomes ``shipped`` once its shipments reach its
    quantity, and a ``shipped`` event records the shipment. Returns the demand after."""
    after = get(db, found.id)
    state = "shipped" if after.shipped >= after.qty else found.state
    if state != found.state:
        db.execute("UPDATE demand SET state = ? WHERE id = ?", (state, found.id))
    named = list(dict.fromkeys(lot for lot in lots if lot))
    what = ""
    if named:
        kind = "serial" if items.get(db, found.item).tracking == "serial" else "lot"
        what = f" {kind}{'s' if len(named) > 1 else ''} {', '.join(named)}"
    note = (
        f"{shipment}: {q.fmt(qty)} {found.unit}{what} to {customer}; "
        f"{q.fmt(after.shipped)} of {q.fmt(after.qty)} shipped"
    )
    _event(db, found.id, "shipped", user=user, source=found.state, target=state, note=note)
    return get(db, found.id)


def update(
    db: sqlite3.Connection,
    demand: object,
    *,
    user: str,
    due: object = None,
    qty: object = None,
    unit: str | None = None,
) -> tuple[Demand, Demand]:
    """Move an open demand's due date and/or change its quantity (``qty`` in ``unit``,
    default the base unit), as the customer moved it. A sales order cut to what was
    shipped becomes ``shipped`` and, as a last shipment does, frees its reference's
    leftover reservations of the item. An ``updated`` event notes each change (``due
    2027-03-05 -> 2027-03-19; qty 10 -> 12``). Returns the demand before and after.

    Raises:
        RuleViolation: the demand is not open, or ``qty`` is below what was shipped.
        InvalidInput: nothing to change, a bad date, a unit that does not convert, a
            fraction of a serial-tracked item.
    """
    found = get(db, demand)
    if found.state != "open":
        raise RuleViolation(f"demand {found.id} is {found.state}: only open demand is updated")
    due_on, amount = items.rescheduled(
        db, found.item, due=due, qty=qty, unit=unit, due_on=found.due_on, current=found.qty
    )
    if amount < found.shipped:
        raise RuleViolation(
            f"demand {found.id} has {q.fmt(found.shipped)} {found.unit} {found.item} "
            f"shipped: its quantity cannot be {q.fmt(amount)}, below that"
        )
    if due_on == found.due_on and amount == found.qty:
        raise InvalidInput(
            f"demand {found.id} is already {q.fmt(found.qty)} {found.unit} {found.item} "
            f"due {found.due_on}: nothing to change"
        )
    done = amount == found.shipped
    state = "shipped" if done else "open"
    db.execute(
        "UPDATE demand SET due_on = ?, qty = ?, state = ? WHERE id = ?",
        (due_on, q.to_micro(amount), state, found.id),
    )
    changes = [f"due {found.due_on} -> {due_on}"] if due_on != found.due_on else []
    if amount != found.qty:
        changes.append(f"qty {q.fmt(found.qty)} -> {q.fmt(amount)}")
    note = "; ".join(changes)
    _event(db, found.id, "updated", user=user, source="open", target=state, note=note)
    if done and found.ref:
        # All of it has shipped: what is still held for its reference is free again.
        mine = found.ref.casefold()
        for r in reservations.list_reservations(db, item=found.item):
            if r.order_id is None and r.ref is not None and r.ref.casefold() == mine:
                reservations.cancel(db, reservation_id=r.id)
    return found, get(db, found.id)
