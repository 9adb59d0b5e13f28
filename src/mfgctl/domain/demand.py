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

A sales reference holds no more than it lacks: stock reserved for a reference
(``reserve ITEM QTY --for SO-1``) that names sales demand of the item serves that
demand, so when the demand shrinks (``update`` cuts it, ``cancel``, a shipment under
the reference, in full or in part) ``free_unneeded`` lowers the reference's
reservations of the item to what its open sales demand of the item still lacks
(``lacking_for_ref``), and ``over_held`` finds where they hold more (``mfgctl check``:
``reserved_beyond_demand``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, events, items, reservations
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

KINDS = ("sales", "forecast")
STATES = ("open", "cancelled", "shipped")
EVENTS = ("created", "updated", "shipped", "cancelled")
HISTORY_COLUMNS = events.HISTORY_COLUMNS
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


def _event(db: sqlite3.Connection, demand_id: int, event: str, **fields: Any) -> None:
    """Append one event to its history (``EVENTS``; see ``events.record``)."""
    events.record(db, "demand", demand_id, event, **fields)


def history(db: sqlite3.Connection, found: Demand) -> list[dict[str, Any]]:
    """Its events, oldest first, as ``HISTORY_COLUMNS`` rows."""
    return events.history(db, "demand", found.id)


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


def cancel(db: sqlite3.Connection, demand: object, *, user: str) -> tuple[Demand, Freed | None]:
    """Cancel an open demand. A sales order's reference then holds reserved only what
    its other open sales demand of the item still lacks (``free_unneeded``). Returns
    the demand after, and what was freed (None: nothing).

    Raises:
        RuleViolation: it is already cancelled.
    """
    found = get(db, demand)
    if found.state != "open":
        raise RuleViolation(f"demand {found.id} is {found.state}: only open demand is cancelled")
    db.execute("UPDATE demand SET state = 'cancelled' WHERE id = ?", (found.id,))
    note = f"{q.fmt(found.shipped)} of {q.fmt(found.qty)} {found.unit} shipped"
    _event(db, found.id, "cancelled", user=user, source="open", target="cancelled", note=note)
    freed = free_unneeded(db, item=found.item, ref=found.ref) if found.kind == "sales" else None
    return get(db, found.id), freed


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
) -> tuple[Demand, Demand, Freed | None]:
    """Move an open demand's due date and/or change its quantity (``qty`` in ``unit``,
    default the base unit), as the customer moved it. A sales order cut to what was
    shipped becomes ``shipped``. A cut sales order's reference then holds reserved only
    what its open sales demand of the item still lacks (``free_unneeded``, as after a
    shipment). An ``updated`` event notes each change (``due 2027-03-05 -> 2027-03-19;
    qty 10 -> 12``). Returns the demand before and after, and what was freed (None:
    nothing).

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
    freed = None
    if amount < found.qty and found.kind == "sales":
        freed = free_unneeded(db, item=found.item, ref=found.ref)
    return found, get(db, found.id), freed


# -- what a sales reference holds reserved ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Freed:
    """What lowering a reference's reservations of an item released: ``lowered`` as
    they are now (``remaining`` 0: cancelled), ``qty`` released in all."""

    item: str
    unit: str
    ref: str
    qty: Decimal
    lowered: tuple[reservations.Reservation, ...]

    def note(self) -> str:
        """``leftover reservation(s) 1 cancelled and 4 lowered to 3 pcs (5 pcs WID
        freed for SO-1)``, for a command's message."""
        gone = [str(r.id) for r in self.lowered if r.remaining == 0]
        parts = [f"{', '.join(gone)} cancelled"] if gone else []
        parts += [
            f"{r.id} lowered to {q.fmt(r.remaining)} {self.unit}"
            for r in self.lowered
            if r.remaining > 0
        ]
        return (
            f"leftover reservation(s) {' and '.join(parts)} ({q.fmt(self.qty)} {self.unit} "
            f"{self.item} freed for {self.ref})"
        )


# The item's sales demand under any reference, in any state (a cancelled or shipped one
# still says the reference is a customer order for the item), with what each still
# lacks: its quantity less what shipments fulfilled of it.
_REF_SALES = """
    SELECT d.item_id, d.ref, d.state,
           d.qty - (SELECT ifnull(sum(s.qty), 0) FROM shipment AS s WHERE s.demand_id = d.id)
      FROM demand AS d
     WHERE d.kind = 'sales' AND d.ref IS NOT NULL AND (:item IS NULL OR d.item_id = :item)
"""
# Open reservations for a reference (not a production order) that hold stock: not past
# their --until date, not of a lot past its expiry date (as MRP and ATP count them).
_REF_HELD = """
    SELECT r.item_id, r.ref, r.id, r.remaining
      FROM reservation AS r
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
     WHERE r.order_id IS NULL AND r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (lt.expires_on IS NULL OR lt.expires_on >= :today)
       AND (:item IS NULL OR r.item_id = :item)
     ORDER BY r.id
"""


def _lacking(db: sqlite3.Connection, item_id: int | None) -> dict[tuple[int, str], Decimal]:
    """Per item id and case-folded reference with sales demand of the item (any
    state): what its open sales demand still lacks, all its open lines together."""
    out: dict[tuple[int, str], Decimal] = {}
    for i, ref, state, left in db.execute(_REF_SALES, {"item": item_id}):
        key = (i, ref.casefold())
        lack = max(q.dec(left), Decimal(0)) if state == "open" else Decimal(0)
        out[key] = out.get(key, Decimal(0)) + lack
    return out


def lacking_for_ref(db: sqlite3.Connection, item_id: int, ref: str) -> Decimal | None:
    """What a reference's open sales demand of an item still lacks (all its open lines
    together; the reference matched case folded, as ``ship --ref`` matches it), or None
    when the reference names no sales demand of the item at all (open, shipped or
    cancelled): then what is reserved for it is some other hold (a transfer)."""
    return _lacking(db, item_id).get((item_id, ref.casefold()))


def free_unneeded(db: sqlite3.Connection, *, item: str, ref: str | None) -> Freed | None:
    """Lower a sales reference's reservations of an item to what its open sales demand
    of the item still lacks (``reservations.trim_ref``): the one rule after a cut, a
    cancel or a shipment under the reference. Nothing for no reference, or
    one that names no sales demand of the item. Returns what was freed, or None."""
    if not ref:
        return None
    it = items.get(db, item)
    lacking = lacking_for_ref(db, it.id, ref)
    if lacking is None:
        return None
    lowered = reservations.trim_ref(db, it.id, ref, lacking)
    if not lowered:
        return None
    return Freed(
        item=it.code,
        unit=it.unit,
        ref=ref,
        qty=sum((n for _r, n in lowered), Decimal(0)),
        lowered=tuple(r for r, _n in lowered),
    )


@dataclass(frozen=True, slots=True)
class OverHeld:
    """A sales reference whose open reservations of an item hold more than its open
    sales demand of the item still lacks (``ref`` as its first reservation spells it)."""

    item_id: int
    ref: str
    held: Decimal
    lacking: Decimal
    reservation_ids: tuple[int, ...]

    @property
    def excess(self) -> Decimal:
        return self.held - self.lacking


def over_held(db: sqlite3.Connection, *, today: str) -> list[OverHeld]:
    """Every sales reference holding more reserved of an item than its open sales demand
    of the item still lacks, by item id and reference: only reservations for a
    reference (not a production order) that hold stock on ``today``, and only references
    that name sales demand of the item (any state; a reference without any is another
    kind of hold and not counted). What ``free_unneeded`` would lower."""
    lacking = _lacking(db, None)
    held: dict[tuple[int, str], list[tuple[str, int, Decimal]]] = {}
    for item_id, ref, rid, remaining in db.execute(_REF_HELD, {"item": None, "today": today}):
        key = (item_id, ref.casefold())
        if key in lacking:
            held.setdefault(key, []).append((ref, rid, q.dec(remaining)))
    out = []
    for key, rows in held.items():
        total = sum((n for _ref, _rid, n in rows), Decimal(0))
        if total > lacking[key]:
            ids = tuple(rid for _ref, rid, _n in rows)
            out.append(OverHeld(key[0], rows[0][0], total, lacking[key], ids))
    return sorted(out, key=lambda o: (o.item_id, o.ref.casefold()))
