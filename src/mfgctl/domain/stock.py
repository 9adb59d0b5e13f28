"""Stock operations: receipts, physical counts, adjustments and transfers.

Each operation validates everything first and then posts moves through the ledger, in
the caller's one transaction. Tracked items always name their lot (or serials).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, ledger, locations, reports
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Move
from mfgctl.errors import InvalidInput, RuleViolation


def _lot_rules(item: Item, lot: str | None, serials: list[str]) -> None:
    if item.tracking == "none" and (lot or serials):
        raise InvalidInput(f"{item.code} is not lot- or serial-tracked: leave out --lot/--serial")
    if item.tracking == "lot":
        if serials:
            raise InvalidInput(f"{item.code} is lot-tracked: give --lot, not --serial")
        if not lot:
            raise InvalidInput(f"{item.code} is lot-tracked: give --lot")
    if item.tracking == "serial":
        if lot:
            raise InvalidInput(f"{item.code} is serial-tracked: give --serial for each unit")
        if not serials:
            raise InvalidInput(f"{item.code} is serial-tracked: give --serial for each unit")


def _quantity(item: Item, amount: object, unit: str | None, *, what: str = "quantity") -> Decimal:
    """A positive quantity typed in ``unit`` (default the base unit), in base units."""
    number = item.to_base(q.parse_qty(amount, what=what), unit)
    q.to_micro(number, what=f"{what} in {item.unit}")
    return number


def cost_per_base(it: Item, cost: object, unit: str | None) -> Decimal:
    """A cost per ``unit`` (default the base unit) as the exact cost per base unit.

    Raises:
        InvalidInput: a bad cost, or one per base unit with more decimal places than
            are stored.
    """
    given = q.parse_qty(cost, what="cost", allow_zero=True)
    if unit is None:
        return given
    per_base = given / it.factor(unit)
    if per_base != per_base.quantize(Decimal(1).scaleb(-q.PLACES)):
        raise InvalidInput(
            f"cost {q.fmt(given)} per {unit} is {per_base:.9f}... per {it.unit}, more "
            f"than {q.PLACES} decimal places: give the cost per {it.unit} instead"
        )
    return per_base


def receive(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    user: str,
    unit: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    serials: list[str] | None = None,
    expires: date | None = None,
    cost: object = None,
    ref: str | None = None,
    when: str | None = None,
    source: str = "SUPPLIER",
    status: str | None = None,
) -> list[Move]:
    """Receive stock into a location: into ``pending_inspection`` when the item needs
    incoming inspection, else ``available`` (an import may give another status).

    ``source`` is SUPPLIER for purchases and OPENING for opening balances.

    Raises:
        InvalidInput: bad quantity, unit or lot/serials for the item's tracking;
            ``expires`` on a receipt of an untracked item (its stock has no lot to carry
            the date; an opening balance's is the importer's to check).
    """
    # An opening balance may belong to a deactivated item (stock it still holds).
    it = items.get(db, item, active=source != "OPENING")
    amount = _quantity(it, qty, unit)
    serials = [codes.lot_code(s, what="serial") for s in serials or []]
    _lot_rules(it, lot, serials)
    if it.tracking == "none" and expires is not None and source != "OPENING":
        raise InvalidInput(
            f"{it.code} is not lot- or serial-tracked: --expires needs a lot (its stock has "
            "no lot to carry an expiry date); leave out --expires"
        )
    if status is None:
        status = "pending_inspection" if it.inspect_on_receipt else "available"
    target = ledger.real_place(db, location, status)
    unit_cost = None if cost is None else cost_per_base(it, cost, unit)
    effective_at = ledger.effective(when)
    origin = ledger.virtual(db, source)
    ref = codes.text(ref, what="reference", required=False)
    kind = "opening" if source == "OPENING" else "receipt"
    post = dict(user=user, ref=ref, effective_at=effective_at, unit_cost=unit_cost, kind=kind)
    if it.tracking == "serial":
        if amount != len(serials):
            raise InvalidInput(
                f"{it.code} is serial-tracked: quantity {q.fmt(amount)} must equal the "
                f"number of serials ({len(serials)})"
            )
        ledger.check_new_serials(db, it, serials)
        moves = []
        for s in serials:
            lot_row = ledger.ensure_lot(db, it, s, expires_on=expires)
            moves.append(
                ledger.post(
                    db, item=it, qty=Decimal(1), source=origin, target=target, lot=lot_row, **post
                )
            )
        return moves
    lot_row = ledger.ensure_lot(db, it, lot, expires_on=expires) if lot else None
    return [ledger.post(db, item=it, qty=amount, source=origin, target=target, lot=lot_row, **post)]


@dataclass(frozen=True, slots=True)
class ExpiredReceipt:
    """Received lots (or serials) whose expiry date is already past: the receipt stands
    (the goods did arrive), but no command will take them (see ``reservations``)."""

    item: str
    lots: tuple[str, ...]
    serial: bool
    expires_on: str
    location: str
    status: str

    def warning(self) -> str:
        """``lot OLD expired on 2026-10-01: it will not be used; hold or reject it
        (mfgctl inspect GLUE --lot OLD --location STORES --hold)``."""
        word, option = ("serial", "--serial") if self.serial else ("lot", "--lot")
        many = len(self.lots) > 1
        decision = "--fail" if self.status == "pending_inspection" else "--hold"
        return (
            f"{word}{'s' if many else ''} {', '.join(self.lots)} expired on {self.expires_on}: "
            f"{'they' if many else 'it'} will not be used; hold or reject "
            f"{'each' if many else 'it'} (mfgctl inspect {self.item} {option} {self.lots[0]} "
            f"--location {self.location} {decision})"
        )


def expired_on_receipt(
    db: sqlite3.Connection, item: str, moves: list[Move]
) -> list[ExpiredReceipt]:
    """Of what a receipt (``receive``) brought in, the lots or serials whose expiry date
    is before today, grouped by date and place (a receipt of lots: one each)."""
    it = items.get(db, item)
    today = date.today().isoformat()
    found: dict[tuple[str, str, str], list[str]] = {}
    for m in moves:
        lot = ledger.find_lot(db, it, m.lot) if m.lot else None
        if lot is None or lot.expires_on is None or lot.expires_on >= today:
            continue
        location, _slash, status = m.target.partition("/")
        key = (lot.expires_on, location, status) if lot.serial else (lot.code, location, status)
        codes_ = found.setdefault(key, [])
        if lot.code not in codes_:
            codes_.append(lot.code)
    out = []
    for (_key, location, status), lots in found.items():
        lot = ledger.find_lot(db, it, lots[0])
        assert lot is not None and lot.expires_on is not None
        out.append(
            ExpiredReceipt(it.code, tuple(lots), lot.serial, lot.expires_on, location, status)
        )
    return out


@dataclass(frozen=True, slots=True)
class CountResult:
    item: str
    location: str
    status: str
    lot: str | None
    counted: Decimal
    expected: Decimal
    move: Move | None

    @property
    def difference(self) -> Decimal:
        return self.counted - self.expected

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "location": self.location,
            "status": self.status,
            "lot": self.lot,
            "counted": self.counted,
            "expected": self.expected,
            "difference": self.difference,
            "move": self.move.seq if self.move else None,
        }


def _tracked_lot(db: sqlite3.Connection, it: Item, lot: str | None, *, create: bool) -> Lot | None:
    if it.tracking == "none":
        if lot:
            raise InvalidInput(f"{it.code} is not lot- or serial-tracked: leave out --lot")
        return None
    word = "serial" if it.tracking == "serial" else "lot"
    if not lot:
        raise InvalidInput(f"{it.code} is {word}-tracked: give --lot with the {word}")
    return ledger.ensure_lot(db, it, lot) if create else ledger.get_lot(db, it, lot)


# Where a serial is now: real locations (with a status), an order's WIP, the customer.
_SERIAL_PLACES = """
    SELECT l.code, l.kind, b.status, b.qty FROM balance AS b
      JOIN location AS l ON l.id = b.location_id
     WHERE b.item_id = ? AND b.lot_id = ? AND b.qty > 0
       AND l.kind IN ('internal', 'production', 'customer')
     ORDER BY l.kind <> 'internal', l.code, b.status
"""
# The shipment that last sent a serial to the customer.
_LAST_SHIPMENT = """
    SELECT m.ref FROM move AS m JOIN location AS l ON l.id = m.to_location_id
     WHERE m.item_id = ? AND m.lot_id = ? AND l.kind = 'customer'
     ORDER BY m.seq DESC LIMIT 1
"""


def refuse_second_unit(db: sqlite3.Connection, it: Item, serial: Lot, adding: Decimal) -> None:
    """A serial is one unit: refuse to add ``adding`` of it to stock (a count or an
    adjustment) when that would make more than one unit in house (it is in stock at
    another place or in another status), or when it is in a production order's WIP or
    at the customer (shipped: it comes back with ``mfgctl return``). A serial lost
    through ``ADJUSTMENT`` (counted 0, adjusted away) or scrapped may be found again.

    Raises:
        RuleViolation: the serial is elsewhere, named, with the way to correct it.
    """
    rows = db.execute(_SERIAL_PLACES, (it.id, serial.id)).fetchall()
    held = [(code, status, q.dec(amount)) for code, kind, status, amount in rows
            if kind == "internal"]  # fmt: skip
    name = f"serial {serial.code} of {it.code}"
    if held and sum(n for _c, _s, n in held) + adding > 1:
        where = ", ".join(f"{code}/{status}" for code, status, _n in held)
        code, status, _n = held[0]
        raise RuleViolation(
            f"{name} is already in stock at {where}: a serial is one unit (if it is not "
            f"there, count 0 there first: mfgctl stock count {it.code} 0 --lot "
            f"{serial.code} --location {code} --status {status})"
        )
    for code, kind, _status, _amount in rows:
        if kind == "production":
            number = code.partition("-")[2]
            raise RuleViolation(
                f"{name} is in the WIP of {code} (consumed): a serial is one unit; what "
                f"the order does not use comes back with mfgctl order close {number} "
                "--return-unconsumed"
            )
        if kind == "customer":
            found = db.execute(_LAST_SHIPMENT, (it.id, serial.id)).fetchone()
            ref = found[0] if found and found[0] else None
            back = (
                f"mfgctl return {ref} 1 --serial {serial.code} --reason ..."
                if ref
                else "mfgctl return SHIPMENT 1 --serial ..."
            )
            raise RuleViolation(
                f"{name} was shipped{f' ({ref})' if ref else ''} and is at the customer: a "
                f"serial is one unit; if it came back, take it back with {back}"
            )


def count(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    user: str,
    location: str | None = None,
    lot: str | None = None,
    status: str = "available",
    unit: str | None = None,
    note: str | None = None,
    when: str | None = None,
) -> CountResult:
    """Record a physical count and post the difference through ADJUSTMENT."""
    it = items.get(db, item)
    counted = it.to_base(q.parse_qty(qty, what="counted quantity", allow_zero=True), unit)
    q.to_micro(counted, what="counted quantity")
    items.check_whole(it, counted, what="counted quantity")
    where = ledger.real_place(db, location, status)
    lot_row = _tracked_lot(db, it, lot, create=counted > 0)
    if it.tracking == "serial" and counted > 1:
        raise InvalidInput(f"{it.code} is serial-tracked: a serial counts 0 or 1")
    note = codes.text(note, what="note", required=False)
    effective_at = ledger.effective(when)
    # A back-dated count is compared with what the ledger said on that day, not today:
    # moves since then are real and must not be undone by the correction.
    if when is None:
        expected = ledger.balance(db, it, where, lot_row)
    else:
        expected = ledger.balance_at(db, it, where, effective_at, lot_row)
    move = None
    diff = counted - expected
    if it.tracking == "serial" and lot_row is not None and diff > 0:
        refuse_second_unit(db, it, lot_row, diff)
    if diff:
        adj = ledger.virtual(db, "ADJUSTMENT")
        source, target = (adj, where) if diff > 0 else (where, adj)
        move = ledger.post(
            db,
            item=it,
            qty=abs(diff),
            source=source,
            target=target,
            lot=lot_row,
            kind="count",
            user=user,
            reason=note or f"count: {q.fmt(counted)} counted, {q.fmt(expected)} booked",
            effective_at=effective_at,
        )
    db.execute(
        "INSERT INTO stock_count (item_id, location_id, status, lot_id, counted, expected, "
        "move_seq, counted_at, user, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            it.id,
            where.location.id,
            where.status,
            lot_row.id if lot_row else None,
            q.to_micro(counted),
            q.to_micro(expected),
            move.seq if move else None,
            effective_at,
            user,
            note,
        ),
    )
    return CountResult(
        it.code,
        where.location.code,
        where.status or "",
        lot_row.code if lot_row else None,
        counted,
        expected,
        move,
    )


def adjust(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    direction: str,
    reason: str,
    user: str,
    location: str | None = None,
    lot: str | None = None,
    status: str = "available",
    unit: str | None = None,
    ref: str | None = None,
    when: str | None = None,
) -> Move:
    """An explicit correction with a mandatory reason: ``direction`` is ``add`` or ``remove``."""
    it = items.get(db, item)
    amount = _quantity(it, qty, unit)
    items.check_whole(it, amount)
    if direction not in ("add", "remove"):
        raise InvalidInput(f"direction must be add or remove, not {direction!r}")
    why = codes.text(reason, what="reason")
    where = ledger.real_place(db, location, status)
    lot_row = _tracked_lot(db, it, lot, create=direction == "add")
    if it.tracking == "serial" and lot_row is not None:
        if amount != 1:
            raise InvalidInput(f"{it.code} is serial-tracked: adjust one serial at a time")
        if direction == "add":
            refuse_second_unit(db, it, lot_row, amount)
    adj = ledger.virtual(db, "ADJUSTMENT")
    source, target = (adj, where) if direction == "add" else (where, adj)
    return ledger.post(
        db,
        item=it,
        qty=amount,
        source=source,
        target=target,
        lot=lot_row,
        kind="adjust",
        user=user,
        reason=why,
        ref=codes.text(ref, what="reference", required=False),
        effective_at=ledger.effective(when),
    )


def transfer(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    source: str,
    target: str,
    user: str,
    lot: str | None = None,
    status: str = "available",
    unit: str | None = None,
    reason: str | None = None,
    ref: str | None = None,
    when: str | None = None,
) -> Move:
    """Move stock between real locations; its status goes with it."""
    it = items.get(db, item)
    amount = _quantity(it, qty, unit)
    items.check_whole(it, amount)  # a serial is never split between places
    src = ledger.place(db, source, status)
    dst = ledger.place(db, target, status)
    if src.location.id == dst.location.id:
        raise InvalidInput(f"--from and --to are both {src.location.code}")
    if not src.location.internal or not dst.location.internal:
        raise InvalidInput("stock move is between real locations; use receive, adjust or count")
    lot_row = _tracked_lot(db, it, lot, create=False)
    return ledger.post(
        db,
        item=it,
        qty=amount,
        source=src,
        target=dst,
        lot=lot_row,
        kind="transfer",
        user=user,
        reason=codes.text(reason, what="reason", required=False),
        ref=codes.text(ref, what="reference", required=False),
        effective_at=ledger.effective(when),
    )


# -- lots and their expiry dates ---------------------------------------------------------

EXPIRY_COLUMNS = ("item", "lot", "old_expires", "new_expires", "reason", "user", "changed_at")
LOT_COLUMNS = (
    "lot", "serial", "expires", "expired", "in_house", "available", "unit", "created_at",
    "expiry_changes",
)  # fmt: skip


def _is_expired(expires_on: str | None) -> bool:
    """Whether an expiry date is before today (a lot is still good on its date)."""
    return expires_on is not None and expires_on < date.today().isoformat()


@dataclass(frozen=True, slots=True)
class ExpiryChange:
    """One change of a lot's (or serial's) expiry date; ``None`` is "no expiry date"."""

    item: str
    lot: str
    serial: bool
    old_expires: str | None
    new_expires: str | None
    reason: str
    user: str
    changed_at: str  # stored UTC text

    @property
    def was_expired(self) -> bool:
        """The lot was past its expiry date before the change (and is no longer, if
        ``expired`` is False: usable again)."""
        return _is_expired(self.old_expires)

    @property
    def expired(self) -> bool:
        """The lot is past its new expiry date: no command takes it."""
        return _is_expired(self.new_expires)

    @property
    def last_day_today(self) -> bool:
        """The new expiry date is today: the lot is good through today (a lot is still
        good on its date) and expired from tomorrow."""
        return self.new_expires == date.today().isoformat()

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "lot": self.lot,
            "old_expires": self.old_expires,
            "new_expires": self.new_expires,
            "reason": self.reason,
            "user": self.user,
            "changed_at": timefmt.local(self.changed_at),
        }


def _new_expiry(value: object) -> str | None:
    """``--expires``: a date, or ``none`` (the lot no longer expires)."""
    if isinstance(value, str) and value.strip().casefold() == "none":
        return None
    try:
        return timefmt.parse_date(value, what="--expires").isoformat()
    except InvalidInput:
        raise InvalidInput(
            f"--expires {value!r} is not a date (write YYYY-MM-DD, or none for no expiry date)"
        ) from None


def change_expiry(
    db: sqlite3.Connection, *, item: str, lot: str, expires: object, reason: str, user: str
) -> ExpiryChange:
    """Change a lot's (or serial's) expiry date, with a reason, and keep the change as
    history (``ledger.change_expiry``): a shelf life extended after a re-test, a date
    mistyped at receipt. Its stock and reservations are untouched; from now on the new
    date decides whether commands take the lot (see ``reservations.refuse_expired``).

    Args:
        expires: the new date (``YYYY-MM-DD``), or ``"none"``: the lot no longer expires.

    Raises:
        NotFound: an unknown item, or a lot (serial) the item does not have.
        InvalidInput: an untracked item, a bad date, an empty reason.
        RuleViolation: the lot already has that expiry date.
    """
    it = items.get(db, item)
    if it.tracking == "none":
        raise InvalidInput(f"{it.code} is not lot- or serial-tracked: it has no lots to date")
    lot_row = ledger.get_lot(db, it, str(lot))
    new = _new_expiry(expires)
    why = codes.text(reason, what="reason") or ""  # required: never empty
    if new == lot_row.expires_on:
        word = "serial" if lot_row.serial else "lot"
        now = f"already expires on {new}" if new else "already has no expiry date"
        raise RuleViolation(f"{it.code} {word} {lot_row.code} {now}: nothing to change")
    at = ledger.change_expiry(db, lot_row, new, reason=why, user=user)
    return ExpiryChange(
        it.code, lot_row.code, lot_row.serial, lot_row.expires_on, new, why, user, at
    )


# An item's lots (or serials) in picking order (first-expired, lots without a date
# last, then first-in), with what is in house (real locations) and available of each.
_LOTS = """
    SELECT lt.id, lt.code, lt.serial, lt.expires_on, lt.created_at,
           ifnull(sum(CASE WHEN l.kind = 'internal' THEN b.qty END), 0) AS in_house,
           ifnull(sum(CASE WHEN l.kind = 'internal' AND b.status = 'available'
                           THEN b.qty END), 0) AS available,
           (SELECT count(*) FROM lot_expiry_change AS c WHERE c.lot_id = lt.id) AS changes
      FROM lot AS lt
      LEFT JOIN balance AS b ON b.item_id = lt.item_id AND b.lot_id = lt.id
      LEFT JOIN location AS l ON l.id = b.location_id
     WHERE lt.item_id = :item AND (:lot IS NULL OR lt.id = :lot)
     GROUP BY lt.id
    HAVING :every OR in_house <> 0
     ORDER BY lt.expires_on IS NULL, lt.expires_on, lt.created_at, lt.code
"""
_EXPIRY_CHANGES = """
    SELECT c.lot_id, lt.code, lt.serial, c.old_expires, c.new_expires, c.reason, c.user,
           c.changed_at
      FROM lot_expiry_change AS c
      JOIN lot AS lt ON lt.id = c.lot_id
     WHERE lt.item_id = :item AND (:lot IS NULL OR lt.id = :lot)
     ORDER BY c.changed_at, c.id
"""


@dataclass(frozen=True, slots=True)
class Lots:
    """An item's lots with their expiry dates (``rows``) and the changes of those
    dates (``changes``), for ``stock lots``."""

    rows: list[dict[str, Any]]
    changes: list[ExpiryChange]


def lots(db: sqlite3.Connection, item: str, *, lot: str | None = None, every: bool = False) -> Lots:
    """An item's lots (or serials) in house, first-expired first: each with its expiry
    date, whether it is past it (``expired``: no command takes it), what is in house and
    available of it, and how often its expiry date was changed; and those changes,
    oldest first (who, when, old and new date, reason).

    ``lot`` lists that lot only (in house or not); ``every`` also lists lots with
    nothing in house.

    Raises:
        NotFound: an unknown item, or a lot the item does not have.
        InvalidInput: an untracked item (it has no lots).
    """
    it = items.get(db, item)
    if it.tracking == "none":
        raise InvalidInput(f"{it.code} is not lot- or serial-tracked: it has no lots")
    lot_row = ledger.get_lot(db, it, lot) if lot is not None else None
    params = {"item": it.id, "lot": lot_row.id if lot_row else None, "every": every or bool(lot)}
    rows, listed = [], set()
    for r in db.execute(_LOTS, params):
        listed.add(r["id"])
        rows.append(
            {
                "lot": r["code"],
                "serial": bool(r["serial"]),
                "expires": r["expires_on"],
                "expired": _is_expired(r["expires_on"]),
                "in_house": q.dec(r["in_house"]),
                "available": q.dec(r["available"]),
                "unit": it.unit,
                "created_at": timefmt.local(r["created_at"]),
                "expiry_changes": r["changes"],
            }
        )
    changes = [
        ExpiryChange(it.code, r[1], bool(r[2]), r[3], r[4], r[5], r[6], r[7])
        for r in db.execute(_EXPIRY_CHANGES, params)
        if r[0] in listed
    ]
    return Lots(rows, changes)


# Opening balances already posted for an item at one place (status) and lot.
_OPENING_QTY = """
    SELECT total(qty) FROM move
     WHERE kind = 'opening' AND item_id = ? AND to_location_id = ? AND to_status = ?
       AND lot_id IS ?
"""


def opening_qty(
    db: sqlite3.Connection, *, item_id: int, location_id: int, status: str, lot_id: int | None
) -> Decimal:
    """The opening stock already posted for an item at one place, status and lot (or none).

    An import posts each opening balance once: this is what it compares a re-import with.
    """
    row = db.execute(_OPENING_QTY, (item_id, location_id, status, lot_id)).fetchone()
    return q.dec(int(row[0]))


def report(
    db: sqlite3.Connection, *, location: str | None = None, **options: Any
) -> list[reports.StockRow]:
    """The stock-by-status report (``reports.stock``; ``options`` are its filters), of
    every real location or of one: a real location, or a production order's place
    ``ORDER-<id>`` (its WIP).

    Raises:
        NotFound: an unknown location.
        RuleViolation: a virtual place (SUPPLIER, CUSTOMER, SCRAP, CONVERSION...): it
            holds no stock, only the other side of moves.
    """
    if location is not None:
        from mfgctl.domain.production import CONVERSION  # production is heavy to import

        place = locations.find(db, location)
        if place is None and str(location).strip().upper() == CONVERSION:
            # Created with an order's first completion; virtual before it exists too.
            place = locations.Location(0, CONVERSION, "", "adjustment")
        if place is not None and not place.internal and place.kind != "production":
            # The words of locations.get_internal, which every other command uses.
            raise RuleViolation(
                f"{place.code} is a virtual place ({place.kind}), not a stock location"
            )
    return reports.stock(db, location=location, **options)
