"""The stock ledger: double entry for things.

Every change of stock is a *move*: a quantity of an item (and lot) taken out of one
place and put into another. A place is a location plus, for real locations, a status
(``STORES/available``, ``QC/pending_inspection``); virtual places (``SUPPLIER``,
``CUSTOMER``, ``ADJUSTMENT``, ...) have none. So the sum over all places of every item
is always zero, a balance is moves in minus moves out, and history is a query.

Moves are immutable (the database refuses UPDATE and DELETE on them). The
``balance`` table (item x place x lot) is updated in the same transaction as each
move, so reports read balances, never the whole ledger; ``mfgctl check`` proves the two
agree. ``seq`` orders the ledger; ``effective_at`` may be back-dated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, locations
from mfgctl.domain.items import Item
from mfgctl.domain.locations import Location
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

# The most one place may hold of an item, in micro-units (q.MAX_VALUE base units).
MAX_BALANCE = int(q.MAX_VALUE) * q.SCALE

STATUSES = (
    "pending_inspection",
    "available",
    "awaiting_release",
    "blocked",
    "rejected",
    "rework",
)


def parse_status(value: str, *, what: str = "status") -> str:
    text = value.strip().lower().replace("-", "_")
    if text not in STATUSES:
        raise InvalidInput(f"{what} must be one of {', '.join(STATUSES)}; got {value!r}")
    return text


@dataclass(frozen=True, slots=True)
class Place:
    """Where a unit is: a location, and its status if the location is real."""

    location: Location
    status: str | None = None

    @property
    def label(self) -> str:
        return f"{self.location.code}/{self.status}" if self.status else self.location.code


def place(db: sqlite3.Connection, location: str, status: str | None = "available") -> Place:
    """A real location with a status (``status`` validated), or a virtual place."""
    loc = locations.get(db, location)
    if not loc.internal:
        return Place(loc)
    return Place(locations.get_internal(db, location), parse_status(status or "available"))


def real_place(
    db: sqlite3.Connection, location: str | None, status: str | None = "available"
) -> Place:
    """A real, active location with a status; refuses a virtual place. ``location``
    None: the default, ``STORES`` (whose refusal, once it was renamed, says so).

    For operations on physical stock (receive, count, adjust): receiving "into"
    CUSTOMER or counting SUPPLIER would post a move that no shelf holds.
    """
    if location is None:
        loc = locations.get_internal(db, locations.DEFAULT, default=True)
    else:
        loc = locations.get_internal(db, location)
    return Place(loc, parse_status(status or "available"))


def virtual(db: sqlite3.Connection, code: str) -> Place:
    return Place(locations.virtual(db, code))


@dataclass(frozen=True, slots=True)
class Lot:
    id: int
    code: str
    serial: bool
    expires_on: str | None


@dataclass(frozen=True, slots=True)
class Move:
    """One ledger row."""

    seq: int
    item: str
    lot: str | None
    qty: Decimal
    source: str
    target: str
    kind: str
    effective_at: str
    user: str
    reason: str | None = None
    ref: str | None = None
    unit_cost: Decimal | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "effective_at": timefmt.local(self.effective_at),
            "item": self.item,
            "lot": self.lot,
            "qty": self.qty,
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "user": self.user,
            "reason": self.reason,
            "ref": self.ref,
        }


# -- lots ------------------------------------------------------------------------------


def find_lot(db: sqlite3.Connection, item: Item, code: str) -> Lot | None:
    row = db.execute(
        "SELECT id, code, serial, expires_on FROM lot WHERE item_id = ? AND code = ?",
        (item.id, code.strip()),
    ).fetchone()
    return None if row is None else Lot(row[0], row[1], bool(row[2]), row[3])


def get_lot(db: sqlite3.Connection, item: Item, code: str) -> Lot:
    found = find_lot(db, item, code)
    if found is None:
        word = "serial" if item.tracking == "serial" else "lot"
        raise NotFound(f"{item.code} has no {word} {code.strip()!r}")
    return found


def check_new_serials(db: sqlite3.Connection, item: Item, serials: list[str]) -> None:
    """Serials about to be created: none given twice, none that already exists."""
    seen: set[str] = set()
    for s in serials:
        if s.upper() in seen:
            raise InvalidInput(f"serial {s} is given twice")
        seen.add(s.upper())
        if find_lot(db, item, s) is not None:
            raise RuleViolation(f"serial {s} of {item.code} already exists")


def ensure_lot(
    db: sqlite3.Connection, item: Item, code: str, *, expires_on: date | None = None
) -> Lot:
    """The lot of this item with this code, created if new; a serial must be new."""
    word = "serial" if item.tracking == "serial" else "lot"
    lot_code = codes.lot_code(code, what=word)
    expires = expires_on.isoformat() if expires_on else None
    found = find_lot(db, item, lot_code)
    if found is not None:
        if expires and found.expires_on and found.expires_on != expires:
            word = "serial" if found.serial else "lot"
            raise RuleViolation(
                f"{word} {found.code} of {item.code} expires {found.expires_on}, not "
                f"{expires}; to change its expiry date: mfgctl stock expiry {item.code} "
                f"{found.code} --expires {expires} --reason ..."
            )
        if expires and not found.expires_on:
            db.execute("UPDATE lot SET expires_on = ? WHERE id = ?", (expires, found.id))
            found = Lot(found.id, found.code, found.serial, expires)
        return found
    cur = db.execute(
        "INSERT INTO lot (item_id, code, serial, expires_on, created_at) VALUES (?, ?, ?, ?, ?)",
        (item.id, lot_code, int(item.tracking == "serial"), expires, timefmt.now()),
    )
    return Lot(cur.lastrowid, lot_code, item.tracking == "serial", expires)  # type: ignore[arg-type]


def change_expiry(
    db: sqlite3.Connection, lot: Lot, expires_on: str | None, *, reason: str, user: str
) -> str:
    """Change a lot's (or serial's) expiry date (``None``: none) and record the change
    in ``lot_expiry_change`` (old and new date, reason, who, when), in the caller's
    transaction. Once a lot has an expiry date (given at receipt, ``ensure_lot``) it
    changes only here, with its history. Returns the stored time of the change. The
    caller checks that the date differs."""
    at = timefmt.now()
    db.execute("UPDATE lot SET expires_on = ? WHERE id = ?", (expires_on, lot.id))
    db.execute(
        "INSERT INTO lot_expiry_change (lot_id, old_expires, new_expires, reason, user, "
        "changed_at) VALUES (?, ?, ?, ?, ?, ?)",
        (lot.id, lot.expires_on, expires_on, reason, user, at),
    )
    return at


def in_house(db: sqlite3.Connection, item: Item, lot: Lot) -> Decimal:
    """How much of a lot is at real locations, in any status."""
    row = db.execute(
        "SELECT ifnull(sum(qty), 0) FROM balance "
        "WHERE item_id = ? AND lot_id = ? AND status IS NOT NULL",
        (item.id, lot.id),
    ).fetchone()
    return q.dec(row[0])


# -- balances and posting ----------------------------------------------------------------


def balance(db: sqlite3.Connection, item: Item, where: Place, lot: Lot | None = None) -> Decimal:
    row = db.execute(
        "SELECT qty FROM balance WHERE item_id = ? AND location_id = ? AND status IS ? "
        "AND lot_id IS ?",
        (item.id, where.location.id, where.status, lot.id if lot else None),
    ).fetchone()
    return q.dec(row[0] if row else 0)


# One place's moves of an item (and lot), as signed changes, in ledger order.
_PLACE_DELTAS = """
    SELECT seq, effective_at,
           (CASE WHEN to_location_id = :loc AND to_status IS :status THEN qty ELSE 0 END)
         - (CASE WHEN from_location_id = :loc AND from_status IS :status THEN qty ELSE 0 END)
           AS delta
      FROM move
     WHERE item_id = :item AND lot_id IS :lot
       AND ((to_location_id = :loc AND to_status IS :status)
            OR (from_location_id = :loc AND from_status IS :status))
"""
_BALANCE_AT = f"SELECT ifnull(sum(delta), 0) FROM ({_PLACE_DELTAS}) WHERE effective_at <= :at"
_DELTAS_AFTER = f"""
    SELECT delta FROM ({_PLACE_DELTAS} AND effective_at > :at) ORDER BY effective_at, seq
"""


def _place_params(item: Item, where: Place, lot: Lot | None, at: str) -> dict[str, Any]:
    return {
        "item": item.id,
        "loc": where.location.id,
        "status": where.status,
        "lot": lot.id if lot else None,
        "at": at,
    }


def balance_at(
    db: sqlite3.Connection, item: Item, where: Place, at: str, lot: Lot | None = None
) -> Decimal:
    """The balance of a place as of a stored moment (moves effective at or before it)."""
    params = _place_params(item, where, lot, at)
    return q.dec(db.execute(_BALANCE_AT, params).fetchone()[0])


def _moves_after(db: sqlite3.Connection, item: Item, at: str) -> bool:
    """Whether any move of the item is effective after ``at`` (index-only lookup)."""
    row = db.execute(
        "SELECT 1 FROM move WHERE item_id = ? AND effective_at > ? LIMIT 1", (item.id, at)
    ).fetchone()
    return row is not None


def lowest_from(
    db: sqlite3.Connection, item: Item, where: Place, at: str, lot: Lot | None = None
) -> Decimal:
    """The lowest balance of a place from a stored moment on: the most a move
    back-dated to that moment can take out without making a later balance negative."""
    params = _place_params(item, where, lot, at)
    running = low = db.execute(_BALANCE_AT, params).fetchone()[0]
    for (delta,) in db.execute(_DELTAS_AFTER, params):
        running += delta
        low = min(low, running)
    return q.dec(low)


# Open reservations that still count (not past their `until_on`) at one key.
_RESERVED = """
    SELECT ifnull(sum(remaining), 0), group_concat(DISTINCT ref)
      FROM reservation
     WHERE state = 'open' AND remaining > 0 AND item_id = :item AND location_id = :loc
       AND lot_id IS :lot AND (until_on IS NULL OR until_on >= :today)
       AND id NOT IN (SELECT value FROM json_each(:excluding))
"""


def reserved(
    db: sqlite3.Connection,
    item_id: int,
    location_id: int,
    lot_id: int | None,
    *,
    excluding: Collection[int] = (),
) -> tuple[Decimal, list[str]]:
    """What open, unexpired reservations hold of an item at a location (and lot), and
    their references. ``excluding`` leaves out those reservations (their own use)."""
    import json

    row = db.execute(
        _RESERVED,
        {
            "item": item_id,
            "loc": location_id,
            "lot": lot_id,
            "today": date.today().isoformat(),
            "excluding": json.dumps(sorted(excluding)),
        },
    ).fetchone()
    refs = sorted(row[1].split(",")) if row[1] else []
    return q.dec(row[0]), refs


def _bump(
    db: sqlite3.Connection, item_id: int, where: Place, lot_id: int | None, delta: int
) -> int:
    """Add ``delta`` to one balance; returns the new balance (micro-units)."""
    key = (item_id, where.location.id, where.status, lot_id)
    found = db.execute(
        "UPDATE balance SET qty = qty + ? WHERE item_id = ? AND location_id = ? "
        "AND status IS ? AND lot_id IS ? RETURNING qty",
        (delta, *key),
    ).fetchone()
    if found is not None:
        return int(found[0])
    db.execute(
        "INSERT INTO balance (item_id, location_id, status, lot_id, qty) VALUES (?, ?, ?, ?, ?)",
        (*key, delta),
    )
    return delta


def effective(when: str | None) -> str:
    """Stored text for an effective date typed by a user; refuses the future."""
    if when is None:
        return timefmt.now()
    stamp = timefmt.parse_moment(when, what="--date")
    if stamp > timefmt.now():
        raise InvalidInput(f"--date {when} is in the future: back-dating only")
    return stamp


def post(
    db: sqlite3.Connection,
    *,
    item: Item,
    qty: Decimal,
    source: Place,
    target: Place,
    kind: str,
    user: str,
    lot: Lot | None = None,
    reason: str | None = None,
    ref: str | None = None,
    effective_at: str | None = None,
    unit_cost: Decimal | None = None,
    using_reservations: Collection[int] = (),
) -> Move:
    """Write one move and its two balance changes. The caller holds the transaction.

    A move out of ``available`` may not leave less there than open reservations hold
    (free stock never goes below zero). ``using_reservations`` names reservations whose
    claim this move itself uses (consuming them): their stock may be taken.

    Raises:
        RuleViolation: the source is a real place without that much stock, or the
            stock it would take is reserved for something else.
    """
    micro = q.to_micro(qty)
    if micro <= 0:
        raise InvalidInput(f"quantity must be greater than zero, got {q.fmt(qty)}")
    if item.tracking != "none" and lot is None and (source.status or target.status):
        word = "serial" if item.tracking == "serial" else "lot"
        raise InvalidInput(f"{item.code} is {word}-tracked: give the {word}")
    if source.status is not None:
        have = balance(db, item, source, lot)
        if have < qty:
            lot_text = f" lot {lot.code}" if lot else ""
            raise RuleViolation(
                f"not enough {item.code}{lot_text} at {source.label}: "
                f"need {q.fmt(qty)} {item.unit}, have {q.fmt(have)}"
            )
        if source.status == "available":
            lot_id = lot.id if lot else None
            held, refs = reserved(
                db, item.id, source.location.id, lot_id, excluding=using_reservations
            )
            if have - qty < held:
                lot_text = f" lot {lot.code}" if lot else ""
                raise RuleViolation(
                    f"{item.code}{lot_text} at {source.label} is reserved for "
                    f"{', '.join(refs)}: need {q.fmt(qty)} {item.unit}, have {q.fmt(have)}, "
                    f"reserved {q.fmt(held)}, free {q.fmt(have - held)}; cancel a reservation "
                    f"first (mfgctl reserve list --item {item.code})"
                )
        if effective_at is not None and _moves_after(db, item, effective_at):
            # Back-dated: the stock must have been there then and stay there until now,
            # or the ledger would show negative stock for some past day.
            low = lowest_from(db, item, source, effective_at, lot)
            if low < qty:
                lot_text = f" lot {lot.code}" if lot else ""
                raise RuleViolation(
                    f"not enough {item.code}{lot_text} at {source.label} on "
                    f"{timefmt.local(effective_at)}: need {q.fmt(qty)} {item.unit}, but the "
                    f"balance from then on falls to {q.fmt(low)}"
                )
    stamp = timefmt.now()
    cur = db.execute(
        "INSERT INTO move (item_id, lot_id, qty, from_location_id, from_status, to_location_id, "
        "to_status, kind, unit_cost, effective_at, recorded_at, user, reason, ref) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item.id,
            lot.id if lot else None,
            micro,
            source.location.id,
            source.status,
            target.location.id,
            target.status,
            kind,
            None if unit_cost is None else q.to_micro(unit_cost, what="cost"),
            effective_at or stamp,
            stamp,
            user,
            reason,
            ref,
        ),
    )
    lot_id = lot.id if lot else None
    _bump(db, item.id, source, lot_id, -micro)
    after = _bump(db, item.id, target, lot_id, micro)
    if target.status is not None and after >= MAX_BALANCE:
        # What one place holds stays a quantity mfgctl reads back (an export's opening
        # balance is re-imported), far below SQLite's 64-bit limit. The caller's
        # transaction is rolled back: nothing of the command stays.
        lot_text = f" lot {lot.code}" if lot else ""
        raise RuleViolation(
            f"{item.code}{lot_text} at {target.label} would hold {q.fmt(q.dec(after))} "
            f"{item.unit}: more than one place can hold (limit {q.MAX_VALUE:,})"
        )
    return Move(
        seq=cur.lastrowid,  # type: ignore[arg-type]
        item=item.code,
        lot=lot.code if lot else None,
        qty=qty,
        source=source.label,
        target=target.label,
        kind=kind,
        effective_at=effective_at or stamp,
        user=user,
        reason=reason,
        ref=ref,
        unit_cost=unit_cost,
    )


def all_moves(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM move").fetchone()[0]
