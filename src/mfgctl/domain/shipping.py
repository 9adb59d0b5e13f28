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
  A lot (or serial) expired before today is never taken, and naming one is refused.
  A partly reserved quantity takes the reservation and then free stock; a reservation
  larger than the shipment keeps what is left open (up to what the reference still
  lacks, below).
- The open sales demand of the item with that reference is fulfilled by the shipment,
  earliest due first, over as many of the reference's open lines as the quantity
  covers (or only the one named): one shipment record per demand it fulfils, since a
  shipment row links one demand. A demand whose shipments reach its quantity becomes
  ``shipped`` (no longer open demand). After every shipment under a reference, in the
  same transaction, the reference's reservations of the item are lowered to what its
  open sales demand of the item still lacks (``demand.free_unneeded``, as after a cut
  or a cancel: all of them once it lacks nothing), so a partial shipment from free
  stock, another location or lot, or beyond what was reserved leaves none holding more
  than the order lacks. Shipping more than the demand still lacks (all the reference's
  open lines together, or the one named) is refused, in one shipment or over several:
  once a reference's sales demand of the item is all shipped, it takes no more of the
  item.
- References and customers are matched ignoring case for any letter (``casefold``:
  ``KUNDE MÜLLER GMBH`` is ``Kunde Müller GmbH``), not only A-Z as SQLite's NOCASE.
- Serial-tracked items ship by serial (``serials``): the units in the box are named, never
  guessed. Lot-tracked items may name a lot, else lots are picked. Untracked items name
  none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, demand, items, ledger, locations, reservations
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Move
from mfgctl.errors import InvalidInput, NotFound, RuleViolation


def ship_ref(shipment_id: int) -> str:
    """The reference a shipment's moves carry."""
    return f"SHIP-{shipment_id}"


def fold(text: str | None) -> str | None:
    """A reference or customer as compared: case folded for any letter (``ß`` is ``ss``,
    ``Ü`` is ``ü``), where SQLite's NOCASE folds only A-Z."""
    return None if text is None else text.casefold()


def _with_fold(db: sqlite3.Connection) -> sqlite3.Connection:
    """The connection with ``mfg_fold(text)`` (:func:`fold`) callable from SQL."""
    db.create_function("mfg_fold", 1, fold, deterministic=True)
    return db


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


def _cut(take: Take, n: Decimal) -> tuple[Take, Take]:
    """A take split into its first ``n`` and the rest, its reservations with it."""
    head: list[tuple[int, Decimal]] = []
    tail: list[tuple[int, Decimal]] = []
    left = n
    for rid, m in take.used:
        first = min(m, max(left, Decimal(0)))
        left -= first
        if first > 0:
            head.append((rid, first))
        if m - first > 0:
            tail.append((rid, m - first))
    return replace(take, qty=n, used=tuple(head)), replace(take, qty=take.qty - n, used=tuple(tail))


def _split(takes: Sequence[Take], sizes: Sequence[Decimal]) -> list[list[Take]]:
    """The takes shared out, in order, into parts of these sizes (their sum)."""
    queue = list(takes)
    out: list[list[Take]] = []
    for size in sizes:
        part: list[Take] = []
        left = size
        while left > 0:
            t = queue.pop(0)
            if t.qty > left:
                t, rest = _cut(t, left)
                queue.insert(0, rest)
            part.append(t)
            left -= t.qty
        out.append(part)
    return out


@dataclass(frozen=True, slots=True)
class Part:
    """One shipment record: what of a shipment fulfils one sales demand (or none)."""

    id: int
    qty: Decimal
    demand_id: int | None
    demand_state: str | None
    takes: list[Take]
    moves: list[Move]

    @property
    def reference(self) -> str:
        return ship_ref(self.id)


@dataclass(frozen=True, slots=True)
class Shipment:
    """What one ``ship`` wrote: a shipment record per sales demand it fulfils (one when
    it fulfils one demand, or none), their moves, and what it freed of the reference's
    reservations."""

    customer: str
    item: str
    unit: str
    qty: Decimal
    ref: str | None
    shipped_at: str
    user: str
    parts: list[Part]
    freed: demand.Freed | None = None

    @property
    def id(self) -> int:
        return self.parts[0].id

    @property
    def reference(self) -> str:
        """``SHIP-3``, or ``SHIP-3, SHIP-4`` for one per demand fulfilled."""
        return ", ".join(p.reference for p in self.parts)

    @property
    def takes(self) -> list[Take]:
        return [t for p in self.parts for t in p.takes]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "shipment": p.reference,
                "customer": self.customer,
                "item": self.item,
                "lot": t.lot,
                "qty": t.qty,
                "unit": self.unit,
                "from": f"{t.location}/available",
                "reserved": t.reserved,
                "ref": self.ref,
                "demand": p.demand_id,
                "demand_state": p.demand_state,
                "seq": m.seq,
            }
            for p in self.parts
            for t, m in zip(p.takes, p.moves, strict=True)
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
       AND mfg_fold(ref) = :ref AND (until_on IS NULL OR until_on >= :today)
     ORDER BY until_on IS NULL, until_on, id
"""


def _lot_rules(it: Item, lot: str | None, serials: Sequence[str], verb: str = "shipped") -> None:
    if it.tracking == "none" and (lot or serials):
        raise InvalidInput(f"{it.code} is not lot- or serial-tracked: leave out --lot/--serial")
    if it.tracking == "lot" and serials:
        raise InvalidInput(f"{it.code} is lot-tracked: give --lot (or none), not --serial")
    if it.tracking == "serial":
        if lot:
            raise InvalidInput(f"{it.code} is serial-tracked: give --serial for each unit")
        if not serials:
            raise InvalidInput(
                f"{it.code} is serial-tracked: name the units {verb} with --serial for each"
            )


def _not_available_note(
    db: sqlite3.Connection, it: Item, lot: Lot | None, location_id: int | None
) -> str:
    """``; not shippable (not released or not available): 3 awaiting_release`` or ``""``."""
    listed = reservations.unavailable(
        db, it, lot_id=lot.id if lot else None, location_id=location_id
    )
    old = "" if lot else reservations.expired(db, it, location_id=location_id)
    return (f"; not shippable (not released or not available): {listed}" if listed else "") + (
        f"; not used, expired: {old}" if old else ""
    )


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
        _with_fold(db)
        for s in stock:
            params = {
                "item": it.id,
                "loc": s.location_id,
                "lot": s.lot_id,
                "ref": fold(ref),
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
                    if not ref or fold(ref_) != fold(ref)
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


def _demands(
    db: sqlite3.Connection, it: Item, ref: str | None, demand_id: int | None
) -> list[demand.Demand]:
    """The sales demand a shipment may fulfil: the one named, else the open sales demand
    of the item with the reference (earliest due first), else none."""
    if demand_id is not None:
        found = demand.get(db, demand_id)
        if found.kind != "sales":
            raise RuleViolation(f"demand {found.id} is a forecast: only sales demand is shipped")
        if found.item.upper() != it.code.upper():
            raise RuleViolation(f"demand {found.id} is for {found.item}, not {it.code}")
        if found.state != "open":
            raise RuleViolation(f"demand {found.id} is {found.state}: only open demand is shipped")
        if ref and found.ref and fold(found.ref) != fold(ref):
            raise RuleViolation(f"demand {found.id} has the reference {found.ref}, not {ref}")
        return [found]
    if not ref:
        return []
    rows = _with_fold(db).execute(_REF_DEMAND, (it.id, fold(ref))).fetchall()
    lines = [demand.get(db, demand_id) for demand_id, state in rows if state == "open"]
    if lines:
        return lines
    if rows:
        # Every sales demand of the item under this reference is shipped: more under it
        # would be an over-shipment that no demand check sees.
        ordered, sent = db.execute(_REF_TOTALS, (it.id, fold(ref))).fetchone()
        ids = ", ".join(str(demand_id) for demand_id, _state in rows)
        which = f"demand {ids} is" if len(rows) == 1 else f"demands {ids} are"
        raise RuleViolation(
            f"{ref} is fully shipped for {it.code}: ordered {q.fmt(q.dec(ordered))} {it.unit}, "
            f"shipped {q.fmt(q.dec(sent))} under {ref} ({which} shipped): ship more under "
            "another reference, or add a sales demand for it"
        )
    return []


def _portions(
    it: Item, amount: Decimal, lines: Sequence[demand.Demand]
) -> list[tuple[demand.Demand | None, Decimal]]:
    """What of ``amount`` each demand line gets: earliest due first, each what it still
    lacks, the last one what is left.

    Raises:
        RuleViolation: ``amount`` is more than the lines lack together; a serial-tracked
            item whose share would split a serial (lines stored with fractions).
    """
    if not lines:
        return [(None, amount)]
    lacking = sum((d.open_qty for d in lines), Decimal(0))
    if amount > lacking:
        d = lines[0]
        if len(lines) == 1:
            raise RuleViolation(
                f"demand {d.id}{f' ({d.ref})' if d.ref else ''} has "
                f"{q.fmt(d.open_qty)} {it.unit} left to ship (ordered {q.fmt(d.qty)}, "
                f"shipped {q.fmt(d.shipped)}): cannot ship {q.fmt(amount)} against it"
            )
        each = "; ".join(
            f"demand {x.id}: {q.fmt(x.open_qty)} of {q.fmt(x.qty)} due {x.due_on}" for x in lines
        )
        raise RuleViolation(
            f"{d.ref} has {q.fmt(lacking)} {it.unit} {it.code} left to ship over its open "
            f"sales demands ({each}): cannot ship {q.fmt(amount)} under it; ship the extra "
            "under another reference, or add a sales demand for it"
        )
    out: list[tuple[demand.Demand | None, Decimal]] = []
    left = amount
    for d in lines:
        if left <= 0:
            break
        n = min(d.open_qty, left)
        if n > 0:
            out.append((d, n))
            left -= n
    if it.tracking == "serial" and len(out) > 1 and any(n % 1 for _d, n in out):
        listed = ", ".join(f"demand {d.id} lacks {q.fmt(n)}" for d, n in out if d)
        raise RuleViolation(
            f"{it.code} is serial-tracked and {listed}: a serial cannot be split between "
            "them; ship against one demand at a time (--demand N)"
        )
    return out


# The item's sales demand under a reference (any case), open first, earliest due first;
# cancelled demand does not count.
_REF_DEMAND = """
    SELECT id, state FROM demand
     WHERE item_id = ? AND kind = 'sales' AND state IN ('open', 'shipped') AND mfg_fold(ref) = ?
     ORDER BY state <> 'open', due_on, id
"""
# What the reference's sales demand of the item ordered, and what was shipped of the item
# under the reference.
_REF_TOTALS = """
    SELECT (SELECT ifnull(sum(qty), 0) FROM demand
             WHERE item_id = ?1 AND kind = 'sales' AND state IN ('open', 'shipped')
               AND mfg_fold(ref) = ?2),
           (SELECT ifnull(sum(qty), 0) FROM shipment WHERE item_id = ?1 AND mfg_fold(ref) = ?2)
"""


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
    """Ship ``qty`` (in ``unit``, default the base unit) of an item to a customer; then
    the reference's reservations of the item hold at most what its open sales demand of
    the item still lacks (``demand.free_unneeded``; ``Shipment.freed`` says what it freed).

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
    lines = _demands(db, it, reference, demand.parse_id(demand_id) if demand_id else None)
    if lines and reference is None:
        reference = lines[0].ref
    portions = _portions(it, amount, lines)
    takes: list[Take] = []
    if it.tracking == "serial":
        if amount != len(wanted):
            raise InvalidInput(
                f"{it.code} is serial-tracked: quantity {q.fmt(amount)} must equal the number "
                f"of serials ({len(wanted)})"
            )
        for s in wanted:
            serial = ledger.get_lot(db, it, s)
            reservations.refuse_expired(it, serial)
            takes += plan(db, it, Decimal(1), ref=reference, lot=serial, location=loc)
    else:
        lot_row = ledger.get_lot(db, it, lot) if lot else None
        reservations.refuse_expired(it, lot_row)
        takes = plan(db, it, amount, ref=reference, lot=lot_row, location=loc)
    stamp = timefmt.now()
    customer_place = ledger.virtual(db, "CUSTOMER")
    parts: list[Part] = []
    for (found, n), part in zip(portions, _split(takes, [n for _d, n in portions]), strict=True):
        parts.append(
            _write(db, it, found, n, part, who, reference, why, stamp, user, customer_place)
        )
    # What the reference holds beyond what its open sales demand of the item still lacks
    # is freed (all of it once it lacks nothing), as a cut or a cancel frees it: after a
    # line shipped in full, and after a partial shipment that left reservations standing
    # (taken from free stock, another location or lot, or beyond what was reserved).
    freed = demand.free_unneeded(db, item=it.code, ref=reference)
    return Shipment(
        customer=who,
        item=it.code,
        unit=it.unit,
        qty=amount,
        ref=reference,
        shipped_at=stamp,
        user=user,
        parts=parts,
        freed=freed,
    )


def _write(
    db: sqlite3.Connection,
    it: Item,
    found: demand.Demand | None,
    amount: Decimal,
    takes: list[Take],
    who: str,
    reference: str | None,
    why: str | None,
    stamp: str,
    user: str,
    customer_place: ledger.Place,
) -> Part:
    """Write one shipment record (fulfilling ``found``, if any) and its moves."""
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
    if found is not None:
        state = demand.shipped(
            db,
            found,
            shipment=ship_ref(shipment_id),
            qty=amount,
            lots=[t.lot for t in takes],
            customer=who,
            user=user,
        ).state
    return Part(shipment_id, amount, found.id if found else None, state, takes, moves)


# -- listing -------------------------------------------------------------------------------

LIST_COLUMNS = [
    "shipment", "shipped_at", "customer", "item", "qty", "returned", "unit", "lots", "ref",
    "demand", "user", "note",
]  # fmt: skip

# Shipments, oldest first; what came back: the shipment's 'customer_return' moves.
_LIST = """
    SELECT s.id, s.shipped_at, s.customer, i.code AS item, s.qty, i.unit, s.ref, s.demand_id,
           s.user, s.note,
           (SELECT ifnull(sum(m.qty), 0) FROM move AS m
             WHERE m.ref = 'SHIP-' || s.id AND m.kind = 'customer_return') AS returned
      FROM shipment AS s
      JOIN item AS i ON i.id = s.item_id
     WHERE (:customer IS NULL OR mfg_fold(s.customer) = :customer)
       AND (:item IS NULL OR s.item_id = :item)
       AND (:ref IS NULL OR mfg_fold(s.ref) = :ref)
       AND (:since IS NULL OR s.shipped_at >= :since)
       AND (:until IS NULL OR s.shipped_at <= :until)
       AND (:lot IS NULL OR EXISTS (
            SELECT 1 FROM move AS m JOIN lot AS l ON l.id = m.lot_id
             WHERE m.ref = 'SHIP-' || s.id AND m.kind = 'ship' AND l.code = :lot COLLATE NOCASE))
     ORDER BY s.id
"""
# The lots (serials) each listed shipment took, by shipment id.
_LOTS = """
    SELECT DISTINCT CAST(substr(m.ref, 6) AS INTEGER), l.code
      FROM move AS m JOIN lot AS l ON l.id = m.lot_id
     WHERE m.kind = 'ship' AND m.ref IN (SELECT 'SHIP-' || value FROM json_each(:ids))
     ORDER BY 1, l.code
"""


def shipments(
    db: sqlite3.Connection,
    *,
    customer: str | None = None,
    item: str | None = None,
    ref: str | None = None,
    lot: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Shipments, oldest first, each with its lots and what the customer returned.

    ``since``/``until`` are local dates or date-times as a user types them (``until`` a
    date includes that whole day).

    Raises:
        InvalidInput: a date that is not one. NotFound: an unknown item.
    """
    import json

    params = {
        "customer": fold(customer.strip()) if customer else None,
        "item": items.get(db, item).id if item else None,
        "ref": fold(ref.strip()) if ref else None,
        "lot": lot.strip() if lot else None,
        "since": timefmt.parse_moment(since, what="--since") if since else None,
        "until": timefmt.parse_moment(until, what="--until", end_of_day=True) if until else None,
    }
    rows = _with_fold(db).execute(_LIST, params).fetchall()
    lots: dict[int, list[str]] = {}
    ids = json.dumps([r["id"] for r in rows])
    for shipment_id, code in db.execute(_LOTS, {"ids": ids}):
        lots.setdefault(shipment_id, []).append(code)
    return [
        {
            "shipment": ship_ref(r["id"]),
            "shipped_at": timefmt.local(r["shipped_at"]),
            "customer": r["customer"],
            "item": r["item"],
            "qty": q.dec(r["qty"]),
            "returned": q.dec(r["returned"]),
            "unit": r["unit"],
            "lots": ", ".join(lots.get(r["id"], [])),
            "ref": r["ref"],
            "demand": r["demand_id"],
            "user": r["user"],
            "note": r["note"],
        }
        for r in rows
    ]


# -- customer returns ----------------------------------------------------------------------

RETURN_STATUSES = ("pending_inspection", "blocked", "rejected", "rework", "available")
RETURN_COLUMNS = ["shipment", "customer", "item", "lot", "qty", "unit", "to", "seq"]


@dataclass(frozen=True, slots=True)
class Return:
    """Goods a customer sent back against one shipment, as written."""

    shipment: str
    customer: str
    item: str
    unit: str
    qty: Decimal
    to: str  # location/status
    moves: list[Move]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "shipment": self.shipment,
                "customer": self.customer,
                "item": self.item,
                "lot": m.lot,
                "qty": m.qty,
                "unit": self.unit,
                "to": self.to,
                "seq": m.seq,
            }
            for m in self.moves
        ]


def parse_shipment(value: object) -> int:
    """``SHIP-12`` or ``12`` -> 12."""
    text = str(value).strip()
    number = text[5:] if text.upper().startswith("SHIP-") else text
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise InvalidInput(f"shipment must be SHIP-<number> or a number, not {value!r}")
    return int(number)


# What is still at the customer from one shipment, per lot: shipped less returned.
_OUT = """
    SELECT m.lot_id, l.code AS lot,
           sum(CASE WHEN m.kind = 'ship' THEN m.qty ELSE -m.qty END) AS qty
      FROM move AS m LEFT JOIN lot AS l ON l.id = m.lot_id
     WHERE m.ref = :ref AND m.kind IN ('ship', 'customer_return')
     GROUP BY m.lot_id
    HAVING sum(CASE WHEN m.kind = 'ship' THEN m.qty ELSE -m.qty END) > 0
     ORDER BY l.code
"""


def _cost_when_shipped(db: sqlite3.Connection, item_id: int, reference: str) -> Decimal | None:
    """The item's moving average in effect when the shipment left (None if it had
    none): what a return brings back into valued stock, as the shipment took it out."""
    from mfgctl.domain import valuation

    first = db.execute(
        "SELECT effective_at, seq FROM move WHERE ref = ? AND kind = 'ship' ORDER BY seq LIMIT 1",
        (reference,),
    ).fetchone()
    if first is None:
        return None
    return valuation.averages(db, [item_id]).average_at(item_id, first[0], first[1])


def return_goods(
    db: sqlite3.Connection,
    *,
    shipment: object,
    qty: object,
    reason: str,
    user: str,
    unit: str | None = None,
    lot: str | None = None,
    serials: Sequence[str] = (),
    location: str | None = None,
    status: str = "pending_inspection",
) -> Return:
    """Take back ``qty`` of what a shipment sent: from CUSTOMER into ``location`` with
    ``status`` (pending inspection unless said otherwise), kind ``customer_return``, ref
    ``SHIP-<id>``, at the unit cost the goods left with (the item's moving average when
    the shipment left). Never more than the shipment sent of that lot, less what came
    back already. The sales demand the shipment fulfilled stays as it is.

    Raises:
        InvalidInput: bad quantity, unit, status or reason; lot or serials not fitting
            the item's tracking; serial count not equal to the quantity.
        NotFound: unknown shipment or location.
        RuleViolation: more than is still at the customer (per lot or serial); a lot
            to name when the shipment sent several.
    """
    number = parse_shipment(shipment)
    row = db.execute(
        "SELECT s.customer, i.code FROM shipment AS s JOIN item AS i ON i.id = s.item_id "
        "WHERE s.id = ?",
        (number,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no shipment {ship_ref(number)} (mfgctl shipments lists them)")
    customer, item_code = row
    it = items.get(db, item_code)
    amount = it.to_base(q.parse_qty(qty), unit)
    q.to_micro(amount, what=f"quantity in {it.unit}")
    why = codes.text(reason, what="--reason")
    assert why is not None
    state = status.strip().lower().replace("-", "_")
    if state not in RETURN_STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(RETURN_STATUSES)}; got {status!r}")
    wanted = _serials(serials)
    _lot_rules(it, lot, wanted, verb="returned")
    target = ledger.real_place(db, location, state)
    reference = ship_ref(number)
    out = {(r["lot"] or "").upper(): r for r in db.execute(_OUT, {"ref": reference})}
    takes: list[tuple[str | None, Decimal]] = []
    if it.tracking == "serial":
        if amount != len(wanted):
            raise InvalidInput(
                f"{it.code} is serial-tracked: quantity {q.fmt(amount)} must equal the number "
                f"of serials ({len(wanted)})"
            )
        takes = [(s, Decimal(1)) for s in wanted]
    elif it.tracking == "lot" and not lot:
        if len(out) > 1:
            listed = ", ".join(r["lot"] for r in out.values())
            raise RuleViolation(
                f"{reference} sent {it.code} in several lots ({listed}): name the --lot returned"
            )
        takes = [(next(iter(out.values()))["lot"] if out else None, amount)]
    else:
        takes = [(lot.strip() if lot else None, amount)]
    cost = _cost_when_shipped(db, it.id, reference)
    moves: list[Move] = []
    for code, n in takes:
        still = out.get((code or "").upper())
        have = q.dec(still["qty"]) if still else Decimal(0)
        if n > have:
            kind = "serial" if it.tracking == "serial" else "lot"
            what = f"{it.code} {kind} {code}" if code else it.code
            raise RuleViolation(
                f"{reference} has {q.fmt(have)} {it.unit} of {what} at {customer} "
                f"(shipped less returned): cannot take back {q.fmt(n)}; nothing was returned"
            )
        lot_row = ledger.get_lot(db, it, still["lot"]) if still and still["lot"] else None
        moves.append(
            ledger.post(
                db,
                item=it,
                qty=n,
                source=ledger.virtual(db, "CUSTOMER"),
                target=target,
                kind="customer_return",
                user=user,
                lot=lot_row,
                reason=f"returned by {customer}: {why}",
                ref=reference,
                unit_cost=cost,
            )
        )
    return Return(
        shipment=reference,
        customer=customer,
        item=it.code,
        unit=it.unit,
        qty=amount,
        to=f"{target.location.code}/{state}",
        moves=moves,
    )
