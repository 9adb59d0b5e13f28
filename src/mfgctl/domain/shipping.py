"""Shipping: released, available stock leaves for a customer.

A *shipment* records which customer, the reference (a sales order), the sales demand
it fulfils, what and how much, who and when. Its ledger moves take stock out of
``available`` at real locations into the virtual place ``CUSTOMER`` (kind ``ship``), each
with the reference ``SHIP-<id>``, so every shipped lot or serial can be traced to the
customer who has it.

Rules:

- Only ``available`` stock ships: what is pending inspection, awaiting release, blocked,
  rejected or in rework is refused (the message says how much is where).
- Stock reserved for the shipment's reference (``--ref``) is taken first, then free
  stock, first-expired first-in. Stock reserved for another reference is never taken.
  A partly reserved quantity takes the reservation and then free stock; a reservation
  larger than the shipment keeps what is left open.
- A sales demand of the item with that reference (or the one named) is fulfilled by the
  shipment; when its shipments reach its quantity it becomes ``shipped`` (no longer open
  demand) and the reference's leftover reservations of the item are cancelled. Shipping
  more than the demand still lacks is refused.
- Serial-tracked items ship by serial (``serials``): the units in the box are named, never
  guessed. Lot-tracked items may name a lot, else lots are picked. Untracked items name
  none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, demand, items, ledger, locations, reservations
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Move
from mfgctl.errors import InvalidInput, RuleViolation


def ship_ref(shipment_id: int) -> str:
    """The reference a shipment's moves carry."""
    return f"SHIP-{shipment_id}"


@dataclass(frozen=True, slots=True)
class Take:
    """One planned move to the customer: from a location and lot, using reservations of
    the shipment's reference (``used``: reservation id -> quantity) or free stock."""

    location: str
    location_id: int
    lot_id: int | None
    lot: str | None
    qty: Decimal
    used: tuple[tuple[int, Decimal], ...] = ()

    @property
    def reserved(self) -> Decimal:
        return sum((n for _r, n in self.used), Decimal(0))


@dataclass(frozen=True, slots=True)
class Shipment:
    """A shipment as written: its record, moves, and what it did to reservations and demand."""

    id: int
    customer: str
    item: str
    unit: str
    qty: Decimal
    ref: str | None
    demand_id: int | None
    demand_state: str | None
    shipped_at: str
    user: str
    takes: list[Take]
    moves: list[Move]
    freed: list[reservations.Reservation] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return ship_ref(self.id)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "shipment": self.reference,
                "customer": self.customer,
                "item": self.item,
                "lot": t.lot,
                "qty": t.qty,
                "unit": self.unit,
                "from": f"{t.location}/available",
                "reserved": t.reserved,
                "ref": self.ref,
                "demand": self.demand_id,
                "demand_state": self.demand_state,
                "seq": m.seq,
            }
            for t, m in zip(self.takes, self.moves, strict=True)
        ]


COLUMNS = [
    "shipment", "customer", "item", "lot", "qty", "unit", "from", "reserved", "ref", "demand",
    "demand_state", "seq",
]  # fmt: skip


# Open, unexpired reservations of one reference (not a production order's) at one key.
_MINE = """
    SELECT id, remaining FROM reservation
     WHERE state = 'open' AND remaining > 0 AND order_id IS NULL
       AND item_id = :item AND location_id = :loc AND lot_id IS :lot
       AND ref = :ref COLLATE NOCASE AND (until_on IS NULL OR until_on >= :today)
     ORDER BY until_on IS NULL, until_on, id
"""


def _lot_rules(it: Item, lot: str | None, serials: Sequence[str]) -> None:
    if it.tracking == "none" and (lot or serials):
        raise InvalidInput(f"{it.code} is not lot- or serial-tracked: leave out --lot/--serial")
    if it.tracking == "lot" and serials:
        raise InvalidInput(f"{it.code} is lot-tracked: give --lot (or none), not --serial")
    if it.tracking == "serial":
        if lot:
            raise InvalidInput(f"{it.code} is serial-tracked: give --serial for each unit")
        if not serials:
            raise InvalidInput(
                f"{it.code} is serial-tracked: name the units shipped with --serial for each"
            )


def _not_available_note(
    db: sqlite3.Connection, it: Item, lot: Lot | None, location_id: int | None
) -> str:
    """``; not released or not available: 3 awaiting_release, 1 blocked`` or ``""``."""
    rows = db.execute(
        "SELECT status, sum(qty) FROM balance WHERE item_id = ? AND status IS NOT NULL "
        "AND status <> 'available' AND qty > 0 AND (? IS NULL OR lot_id = ?) "
        "AND (? IS NULL OR location_id = ?) GROUP BY status ORDER BY status",
        (it.id, *(2 * [lot.id if lot else None]), *(2 * [location_id])),
    ).fetchall()
    if not rows:
        return ""
    listed = ", ".join(f"{q.fmt(q.dec(n))} {st}" for st, n in rows)
    return f"; not shippable (not released or not available): {listed}"


def plan(
    db: sqlite3.Connection,
    it: Item,
    amount: Decimal,
    *,
    ref: str | None,
    lot: Lot | None = None,
    location: locations.Location | None = None,
) -> list[Take]:
    """Where ``amount`` comes from: stock reserved for ``ref`` first, then free stock,
    each in picking order (first-expired, first-in).

    Raises:
        RuleViolation: not that much available stock reserved for ``ref`` or free (the
            message says what is reserved for others and what is not released).
    """
    stock = reservations.available_stock(
        db, it, location_id=location.id if location else None, lot_id=lot.id if lot else None
    )
    mine: dict[tuple[int, int | None], list[tuple[int, Decimal]]] = {}
    if ref:
        for s in stock:
            params = {
                "item": it.id,
                "loc": s.location_id,
                "lot": s.lot_id,
                "ref": ref,
                "today": reservations.today(),
            }
            mine[(s.location_id, s.lot_id)] = [
                (rid, q.dec(n)) for rid, n in db.execute(_MINE, params)
            ]
    takes: list[Take] = []
    left = amount
    for s in stock:  # first what is reserved for this reference
        used: list[tuple[int, Decimal]] = []
        for rid, have in mine.get((s.location_id, s.lot_id), []):
            if left <= 0:
                break
            n = min(have, left)
            used.append((rid, n))
            left -= n
        if used:
            takes.append(
                Take(
                    s.location,
                    s.location_id,
                    s.lot_id,
                    s.lot,
                    sum((n for _r, n in used), Decimal(0)),
                    tuple(used),
                )
            )
    reserved_mine = amount - left
    for s, n in reservations.pick(stock, left):  # then free stock
        takes.append(Take(s.location, s.location_id, s.lot_id, s.lot, n))
        left -= n
    if left > 0:
        what = it.code + (f" {'serial' if lot.serial else 'lot'} {lot.code}" if lot else "")
        at = f" at {location.code}" if location else ""
        free = sum((s.free for s in stock), Decimal(0))
        available = sum((s.available for s in stock), Decimal(0))
        others = available - free - sum((n for rows in mine.values() for _r, n in rows), Decimal(0))
        held = ""
        if others > 0:
            refs = sorted(
                {
                    ref_
                    for s in stock
                    for ref_ in ledger.reserved(db, it.id, s.location_id, s.lot_id)[1]
                    if not ref or ref_.upper() != ref.upper()
                }
            )
            held = f", reserved for {', '.join(refs)} {q.fmt(others)}"
        mine_text = f", reserved for {ref} {q.fmt(reserved_mine)}" if ref else ""
        raise RuleViolation(
            f"not enough available {what}{at} to ship: need {q.fmt(amount)} {it.unit}, "
            f"available {q.fmt(available)}{mine_text}{held}, free {q.fmt(free)}"
            f"{_not_available_note(db, it, lot, location.id if location else None)}; "
            "nothing was shipped"
        )
    return takes


def _demand(
    db: sqlite3.Connection, it: Item, ref: str | None, demand_id: int | None
) -> demand.Demand | None:
    """The sales demand a shipment fulfils: the one named, else the open sales demand of
    the item with the reference (earliest due first), else none."""
    if demand_id is not None:
        found = demand.get(db, demand_id)
        if found.kind != "sales":
            raise RuleViolation(f"demand {found.id} is a forecast: only sales demand is shipped")
        if found.item.upper() != it.code.upper():
            raise RuleViolation(f"demand {found.id} is for {found.item}, not {it.code}")
        if found.state != "open":
            raise RuleViolation(f"demand {found.id} is {found.state}: only open demand is shipped")
        if ref and found.ref and found.ref.upper() != ref.upper():
            raise RuleViolation(f"demand {found.id} has the reference {found.ref}, not {ref}")
        return found
    if not ref:
        return None
    row = db.execute(
        "SELECT id FROM demand WHERE item_id = ? AND kind = 'sales' AND state = 'open' "
        "AND ref = ? COLLATE NOCASE ORDER BY due_on, id LIMIT 1",
        (it.id, ref),
    ).fetchone()
    return None if row is None else demand.get(db, row[0])


def shipped_for(db: sqlite3.Connection, demand_id: int) -> Decimal:
    """What has been shipped against a demand so far."""
    row = db.execute(
        "SELECT ifnull(sum(qty), 0) FROM shipment WHERE demand_id = ?", (demand_id,)
    ).fetchone()
    return q.dec(row[0])


def _serials(values: Sequence[str]) -> list[str]:
    """Serials as given: repeated options and/or comma-separated lists; none twice."""
    out: list[str] = []
    for value in values:
        for part in str(value).split(","):
            if part.strip():
                code = codes.lot_code(part, what="serial")
                if code.upper() in (s.upper() for s in out):
                    raise InvalidInput(f"serial {code} is given twice")
                out.append(code)
    return out


def ship(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    customer: str,
    user: str,
    ref: str | None = None,
    unit: str | None = None,
    lot: str | None = None,
    serials: Sequence[str] = (),
    location: str | None = None,
    demand_id: object = None,
    note: str | None = None,
) -> Shipment:
    """Ship ``qty`` (in ``unit``, default the base unit) of an item to a customer.

    Raises:
        InvalidInput: bad quantity, unit, customer, reference; lot or serials not fitting
            the item's tracking; serial count not equal to the quantity.
        NotFound: unknown item, lot, serial, location or demand.
        RuleViolation: not enough released, available stock that is free or reserved for
            the reference; a demand that is not open sales demand of the item, or would be
            over-shipped.
    """
    it = items.get(db, item)
    amount = it.to_base(q.parse_qty(qty), unit)
    q.to_micro(amount, what=f"quantity in {it.unit}")
    who = codes.text(customer, what="--to (customer)", limit=80)
    assert who is not None
    reference = codes.text(ref, what="--ref", required=False, limit=80)
    if reference and reservations.ORDER_REF.fullmatch(reference):
        raise InvalidInput(
            f"--ref {reference} names a production order, not a customer order: ship against "
            "a sales reference"
        )
    why = codes.text(note, what="--note", required=False)
    wanted = _serials(serials)
    _lot_rules(it, lot, wanted)
    loc = locations.get_internal(db, location) if location else None
    found = _demand(db, it, reference, demand.parse_id(demand_id) if demand_id else None)
    if found is not None and reference is None:
        reference = found.ref
    if found is not None:
        done = shipped_for(db, found.id)
        if amount > found.qty - done:
            raise RuleViolation(
                f"demand {found.id}{f' ({found.ref})' if found.ref else ''} has "
                f"{q.fmt(found.qty - done)} {it.unit} left to ship (ordered {q.fmt(found.qty)}, "
                f"shipped {q.fmt(done)}): cannot ship {q.fmt(amount)} against it"
            )
    takes: list[Take] = []
    if it.tracking == "serial":
        if amount != len(wanted):
            raise InvalidInput(
                f"{it.code} is serial-tracked: quantity {q.fmt(amount)} must equal the number "
                f"of serials ({len(wanted)})"
            )
        for s in wanted:
            takes += plan(
                db, it, Decimal(1), ref=reference, lot=ledger.get_lot(db, it, s), location=loc
            )
    else:
        lot_row = ledger.get_lot(db, it, lot) if lot else None
        takes = plan(db, it, amount, ref=reference, lot=lot_row, location=loc)
    stamp = timefmt.now()
    shipment_id: int = db.execute(
        "INSERT INTO shipment (customer, item_id, qty, ref, demand_id, shipped_at, user, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            who,
            it.id,
            q.to_micro(amount),
            reference,
            found.id if found else None,
            stamp,
            user,
            why,
        ),
    ).lastrowid  # type: ignore[assignment]
    customer_place = ledger.virtual(db, "CUSTOMER")
    moves = []
    for t in takes:
        lot_row = ledger.get_lot(db, it, t.lot) if t.lot else None
        moves.append(
            ledger.post(
                db,
                item=it,
                qty=t.qty,
                source=ledger.real_place(db, t.location, "available"),
                target=customer_place,
                kind="ship",
                user=user,
                lot=lot_row,
                reason=f"shipped to {who}" + (f" ({why})" if why else ""),
                ref=ship_ref(shipment_id),
                using_reservations=[rid for rid, _n in t.used],
            )
        )
        for rid, n in t.used:
            micro = q.to_micro(n)
            db.execute(
                "UPDATE reservation SET remaining = remaining - ?, "
                "state = CASE WHEN remaining - ? = 0 THEN 'consumed' ELSE state END "
                "WHERE id = ?",
                (micro, micro, rid),
            )
    state = None
    freed: list[reservations.Reservation] = []
    if found is not None:
        state = found.state
        if shipped_for(db, found.id) >= found.qty:
            db.execute("UPDATE demand SET state = 'shipped' WHERE id = ?", (found.id,))
            state = "shipped"
            if reference:
                # The order is complete: what is still held for it is free again.
                freed = [
                    r
                    for r in reservations.list_reservations(db, item=it.code, ref=reference)
                    if r.order_id is None
                ]
                for r in freed:
                    reservations.cancel(db, reservation_id=r.id)
    return Shipment(
        id=shipment_id,
        customer=who,
        item=it.code,
        unit=it.unit,
        qty=amount,
        ref=reference,
        demand_id=found.id if found else None,
        demand_state=state,
        shipped_at=stamp,
        user=user,
        takes=takes,
        moves=moves,
        freed=freed,
    )
