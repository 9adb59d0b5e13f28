"""Reservations: claims on ``available`` stock for a reference.

A reservation holds a quantity of an item at one real location (and lot) for a
reference: a production order (``ORDER-12``, with its ``order_id``) or anything else
(a customer order, a transfer). *Free* stock is available minus what open reservations
hold; it never goes below zero, because every reservation is checked and written in
the caller's one ``BEGIN IMMEDIATE`` transaction, and ``ledger.post`` refuses a move
out of ``available`` that would leave less than is reserved there.

An open reservation past its ``until_on`` date (inclusive) is *expired*: it stops
counting and is listed as expired. ``qty`` is what was reserved and ``remaining`` what
the claim still holds: cancelling sets it to 0; consumption lowers it (``consumed`` at
0); a production order's claims beyond what its materials still lack are lowered too
(``trim_order``, after every consumption: ``cancelled`` at 0).

Picking: stock is reserved first-expired (lot ``expires_on``, lots without a date
last), then first-in (lot ``created_at``, then the first move that brought the item
to the location), all or nothing unless partial. A lot whose expiry date is before
today is never picked (nor an order's or a reference's reservation of it, by
consumption and shipping): expired material is used only after someone decides what
to do with it, and a command naming one is refused (``refuse_expired``).
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, ledger, locations
from mfgctl.domain.items import Item
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

ORDER_REF = re.compile(r"ORDER-[0-9]+", re.IGNORECASE)


def today() -> str:
    """Today's local date as stored in ``until_on``: a claim counts through that day."""
    return date.today().isoformat()


@dataclass(frozen=True, slots=True)
class Reservation:
    """One reservation row; ``status`` is its state, or ``expired`` for an open one
    past its date."""

    id: int
    item: str
    unit: str
    location: str
    lot: str | None
    qty: Decimal
    remaining: Decimal
    ref: str
    order_id: int | None
    priority: int
    until_on: str | None
    status: str
    created_at: str
    user: str

    @property
    def counts(self) -> bool:
        return self.status == "open" and self.remaining > 0

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "location": self.location,
            "lot": self.lot,
            "qty": self.qty,
            "remaining": self.remaining,
            "unit": self.unit,
            "ref": self.ref,
            "order": self.order_id,
            "priority": self.priority,
            "until": self.until_on,
            "status": self.status,
            "created_at": timefmt.local(self.created_at),
            "user": self.user,
        }


COLUMNS = [
    "id", "item", "location", "lot", "qty", "remaining", "unit", "ref", "order",
    "priority", "until", "status", "created_at", "user",
]  # fmt: skip

_SELECT = """
    SELECT r.id, i.code AS item, i.unit, l.code AS location, lt.code AS lot, r.qty,
           r.remaining, r.ref, r.order_id, r.priority, r.until_on, r.created_at, r.user,
           CASE WHEN r.state = 'open' AND r.until_on IS NOT NULL AND r.until_on < :today
                THEN 'expired' ELSE r.state END AS status
      FROM reservation AS r
      JOIN item AS i ON i.id = r.item_id
      JOIN location AS l ON l.id = r.location_id
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
"""


def _from_row(r: sqlite3.Row) -> Reservation:
    return Reservation(
        id=r["id"],
        item=r["item"],
        unit=r["unit"],
        location=r["location"],
        lot=r["lot"],
        qty=q.dec(r["qty"]),
        remaining=q.dec(r["remaining"]),
        ref=r["ref"],
        order_id=r["order_id"],
        priority=r["priority"],
        until_on=r["until_on"],
        status=r["status"],
        created_at=r["created_at"],
        user=r["user"],
    )


# -- free stock ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stock:
    """Available stock of an item at one location and lot, with what is reserved."""

    location_id: int
    location: str
    lot_id: int | None
    lot: str | None
    available: Decimal
    reserved: Decimal

    @property
    def free(self) -> Decimal:
        return self.available - self.reserved


# Available stock of an item at real locations, per location and lot, in picking order:
# first-expired (no date last), then first-in (lot created, then first move in). Lots
# expired before :today are left out: they are never picked.
_AVAILABLE = """
    SELECT b.location_id, l.code AS location, b.lot_id, lt.code AS lot, b.qty,
           (SELECT ifnull(sum(r.remaining), 0) FROM reservation AS r
             WHERE r.state = 'open' AND r.item_id = b.item_id
               AND r.location_id = b.location_id AND r.lot_id IS b.lot_id
               AND (r.until_on IS NULL OR r.until_on >= :today)) AS reserved
      FROM balance AS b
      JOIN location AS l ON l.id = b.location_id
      LEFT JOIN lot AS lt ON lt.id = b.lot_id
     WHERE b.item_id = :item AND b.status = 'available' AND b.qty > 0
       AND l.kind = 'internal' AND l.active = 1
       AND (:location IS NULL OR b.location_id = :location)
       AND (:lot IS NULL OR b.lot_id = :lot)
       AND (lt.expires_on IS NULL OR lt.expires_on >= :today)
     ORDER BY lt.expires_on IS NULL, lt.expires_on, lt.created_at,
              (SELECT min(m.seq) FROM move AS m
                WHERE m.item_id = b.item_id AND m.to_location_id = b.location_id
                  AND m.to_status = 'available' AND m.lot_id IS b.lot_id),
              l.code
"""


def unavailable(
    db: sqlite3.Connection, item: Item, *, lot_id: int | None = None, location_id: int | None = None
) -> str:
    """What of the item is in stock but not ``available`` (pending inspection, awaiting
    release, blocked...), by status: ``"3 awaiting_release, 1 blocked"``, or ``""``.
    For refusals that say why stock on the shelf cannot be taken."""
    rows = db.execute(
        "SELECT status, sum(qty) FROM balance WHERE item_id = ? AND status IS NOT NULL "
        "AND status <> 'available' AND qty > 0 AND (? IS NULL OR lot_id = ?) "
        "AND (? IS NULL OR location_id = ?) GROUP BY status ORDER BY status",
        (item.id, lot_id, lot_id, location_id, location_id),
    ).fetchall()
    return ", ".join(f"{q.fmt(q.dec(n))} {st}" for st, n in rows)


def is_expired(lot: ledger.Lot | None) -> bool:
    """Whether a lot's expiry date is before today (a lot is usable on its date)."""
    return bool(lot and lot.expires_on and lot.expires_on < today())


def refuse_expired(item: Item, lot: ledger.Lot | None) -> None:
    """Refuse a command that names an expired lot (or serial) to take it from stock.

    Raises:
        RuleViolation: the lot's expiry date is before today.
    """
    if lot is None or not is_expired(lot):
        return
    word, option = ("serial", "--serial") if lot.serial else ("lot", "--lot")
    raise RuleViolation(
        f"{item.code} {word} {lot.code} expired on {lot.expires_on}: expired stock is not "
        f"used; hold it (mfgctl inspect {item.code} {option} {lot.code} --hold) or remove "
        f"it (mfgctl stock adjust {item.code} --remove QTY {option} {lot.code} --reason ...)"
    )


# Available stock of an item at real locations in lots expired before :today.
_EXPIRED = """
    SELECT lt.code, lt.expires_on, sum(b.qty)
      FROM balance AS b
      JOIN location AS l ON l.id = b.location_id
      JOIN lot AS lt ON lt.id = b.lot_id
     WHERE b.item_id = :item AND b.status = 'available' AND b.qty > 0
       AND l.kind = 'internal' AND l.active = 1
       AND (:location IS NULL OR b.location_id = :location)
       AND lt.expires_on < :today
     GROUP BY lt.id ORDER BY lt.expires_on, lt.code
"""


def expired(db: sqlite3.Connection, item: Item, *, location_id: int | None = None) -> str:
    """What of the item is available but in expired lots, for refusals that say why
    stock on the shelf is not taken: ``"5 kg lot OLD (expired 2026-10-31)"`` or ``""``."""
    params = {"item": item.id, "location": location_id, "today": today()}
    return ", ".join(
        f"{q.fmt(q.dec(n))} {item.unit} lot {code} (expired {on})"
        for code, on, n in db.execute(_EXPIRED, params)
    )


def available_stock(
    db: sqlite3.Connection, item: Item, *, location_id: int | None = None, lot_id: int | None = None
) -> list[Stock]:
    """The item's available stock per location and lot, in picking order; lots expired
    before today are left out (see ``refuse_expired`` for one named)."""
    params = {"item": item.id, "location": location_id, "lot": lot_id, "today": today()}
    return [
        Stock(
            r["location_id"],
            r["location"],
            r["lot_id"],
            r["lot"],
            q.dec(r["qty"]),
            q.dec(r["reserved"]),
        )
        for r in db.execute(_AVAILABLE, params)
    ]


def free_qty(db: sqlite3.Connection, item: Item) -> Decimal:
    """Free stock of an item over every real location and lot."""
    return sum((s.free for s in available_stock(db, item)), Decimal(0))


def pick(stock: Sequence[Stock], qty: Decimal) -> list[tuple[Stock, Decimal]]:
    """Take ``qty`` from free stock in the given (picking) order; may fall short."""
    taken: list[tuple[Stock, Decimal]] = []
    left = qty
    for s in stock:
        if left <= 0:
            break
        take = min(s.free, left)
        if take > 0:
            taken.append((s, take))
            left -= take
    return taken


# -- writing ---------------------------------------------------------------------------

_INSERT = """
    INSERT INTO reservation (item_id, location_id, lot_id, qty, remaining, ref, order_id,
                             priority, until_on, state, created_at, user)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
"""


def _insert(
    db: sqlite3.Connection,
    item: Item,
    s: Stock,
    amount: Decimal,
    *,
    ref: str,
    user: str,
    order_id: int | None = None,
    priority: int = 0,
    until_on: str | None = None,
) -> int:
    micro = q.to_micro(amount)
    cur = db.execute(
        _INSERT,
        (
            item.id,
            s.location_id,
            s.lot_id,
            micro,
            micro,
            ref,
            order_id,
            priority,
            until_on,
            timefmt.now(),
            user,
        ),
    )
    return cur.lastrowid  # type: ignore[return-value]


def get(db: sqlite3.Connection, reservation_id: int) -> Reservation:
    if not 0 < reservation_id < 2**63:  # beyond SQLite's integers: no such id
        raise NotFound(f"no reservation {reservation_id} (see mfgctl reserve list)")
    row = db.execute(f"{_SELECT} WHERE r.id = :id", {"id": reservation_id, "today": today()})
    found = row.fetchone()
    if found is None:
        raise NotFound(f"no reservation {reservation_id} (see mfgctl reserve list)")
    return _from_row(found)


def reserve(
    db: sqlite3.Connection,
    *,
    item: str,
    qty: object,
    ref: str,
    user: str,
    unit: str | None = None,
    priority: int = 0,
    until: str | None = None,
    lot: str | None = None,
    location: str | None = None,
) -> list[Reservation]:
    """Reserve ``qty`` of an item for ``ref`` (not a production order), all or nothing.

    The stock is picked first-expired, first-in over the real locations (or only
    ``location``, only ``lot``); one reservation per location and lot it comes from.

    Raises:
        InvalidInput: a bad quantity, a fraction of a serial-tracked item.
        RuleViolation: not enough free stock (nothing is reserved).
    """
    it = items.get(db, item)
    amount = it.to_base(q.parse_qty(qty), unit)
    q.to_micro(amount, what=f"quantity in {it.unit}")
    items.check_whole(it, amount)
    reference = codes.text(ref, what="--for reference", limit=80)
    assert reference is not None
    priority = codes.priority(priority)
    if ORDER_REF.fullmatch(reference):
        raise InvalidInput(
            f"--for {reference} names a production order: reserve its materials with "
            f"mfgctl reserve {reference.split('-')[1]}"
        )
    until_on = None
    if until is not None:
        until_on = timefmt.parse_date(until, what="--until").isoformat()
        if until_on < today():
            raise InvalidInput(f"--until {until_on} is in the past")
    loc = locations.get_internal(db, location) if location else None
    lot_row = None
    if lot:
        if it.tracking == "none":
            raise InvalidInput(f"{it.code} is not lot- or serial-tracked: leave out --lot")
        lot_row = ledger.get_lot(db, it, lot)
        refuse_expired(it, lot_row)
    stock = available_stock(
        db, it, location_id=loc.id if loc else None, lot_id=lot_row.id if lot_row else None
    )
    taken = pick(stock, amount)
    got = sum((t for _s, t in taken), Decimal(0))
    if got < amount:
        where = (f" lot {lot_row.code}" if lot_row else "") + (f" at {loc.code}" if loc else "")
        available = sum((s.available for s in stock), Decimal(0))
        old = "" if lot_row else expired(db, it, location_id=loc.id if loc else None)
        raise RuleViolation(
            f"not enough free {it.code}{where} to reserve for {reference}: need "
            f"{q.fmt(amount)} {it.unit}, free {q.fmt(got)} (available {q.fmt(available)}, "
            f"reserved {q.fmt(available - got)}){f'; not used, expired: {old}' if old else ''}; "
            "nothing was reserved"
        )
    ids = [
        _insert(db, it, s, t, ref=reference, user=user, priority=priority, until_on=until_on)
        for s, t in taken
    ]
    return [get(db, i) for i in ids]


@dataclass(frozen=True, slots=True)
class Need:
    """What an order still needs reserved of one material."""

    position: int
    item: Item
    required: Decimal
    consumed: Decimal
    reserved: Decimal
    # Items that may stand in for it, in order of preference (one for one).
    substitutes: tuple[Item, ...] = ()

    @property
    def open(self) -> Decimal:
        return max(self.required - self.consumed - self.reserved, Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderReservation:
    """The outcome of reserving an order: new reservations, and per material the
    quantity still short (0 when fully reserved)."""

    created: list[Reservation]
    short: dict[str, Decimal]


class Shortage(RuleViolation):
    """Reserving an order found materials short; ``rows`` is the shortage table."""

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class NeedPlan:
    """What reserving an order's needs would take, without writing: per need, the free
    stock picked (of its own item, then of its substitutes), and per position what is
    still short (0 when it is covered)."""

    takes: list[tuple[Need, Item, list[tuple[Stock, Decimal]]]]
    short: dict[int, Decimal]


def plan_needs(db: sqlite3.Connection, needs: Sequence[Need]) -> NeedPlan:
    """The free stock that would cover what each need still lacks (nothing is written).

    Each need first takes its own item's free stock; then, once every need has, what a
    need still lacks comes from its substitutes' free stock left over (in order of
    preference, one for one). Free stock is never counted twice. ``reserve_needs``
    reserves exactly this; ``orders.material_rows`` reports its ``short``.
    """
    planned: dict[tuple[int, int, int | None], Decimal] = defaultdict(Decimal)

    def take(item: Item, qty: Decimal) -> list[tuple[Stock, Decimal]]:
        """Free stock of ``item`` not yet planned in this call, picked for ``qty``."""
        stock = [
            replace(s, reserved=s.reserved + planned[(item.id, s.location_id, s.lot_id)])
            for s in available_stock(db, item)
        ]
        taken = pick(stock, qty)
        for s, t in taken:
            planned[(item.id, s.location_id, s.lot_id)] += t
        return taken

    plans: list[tuple[Need, Item, list[tuple[Stock, Decimal]]]] = []
    short: dict[int, Decimal] = {}
    for need in needs:
        taken = take(need.item, need.open)
        plans.append((need, need.item, taken))
        short[need.position] = need.open - sum((t for _s, t in taken), Decimal(0))
    for need in needs:
        for sub in need.substitutes:
            if short[need.position] <= 0:
                break
            taken = take(sub, short[need.position])
            if taken:
                plans.append((need, sub, taken))
                short[need.position] -= sum((t for _s, t in taken), Decimal(0))
    return NeedPlan(plans, short)


def reserve_needs(
    db: sqlite3.Connection,
    *,
    order_id: int,
    ref: str,
    priority: int,
    needs: Sequence[Need],
    user: str,
    partial: bool,
) -> OrderReservation:
    """Reserve what each need still lacks (``plan_needs``: its own item's free stock,
    then its substitutes' left over, reserved under the substitute's code), all or
    nothing unless ``partial``.

    Raises:
        Shortage: something is short and not ``partial`` (nothing is reserved).
    """
    plan = plan_needs(db, needs)
    short = plan.short
    shortage_rows = [
        {
            "item": need.item.code,
            "unit": need.item.unit,
            "required": need.required,
            "reserved": need.reserved,
            "to_reserve": need.open,
            "free": need.open - short[need.position],
            "short": short[need.position],
        }
        for need in needs
        if short[need.position] > 0
    ]
    if shortage_rows and not partial:
        listed = ", ".join(f"{r['item']} {q.fmt(r['short'])} {r['unit']}" for r in shortage_rows)
        shorts = [n for n in needs if short[n.position] > 0]
        old = "; ".join(f"{n.item.code} {text}" for n in shorts if (text := expired(db, n.item)))
        # In house but not available yet (waiting for inspection or release, blocked):
        # the way on is the quality step, not a new purchase.
        waiting = "; ".join(
            f"{n.item.code} {text}" for n in shorts if (text := unavailable(db, n.item))
        )
        raise Shortage(
            f"order {order_id} is short of {listed}; nothing was reserved (receive the "
            f"stock, or reserve what is free with --partial)"
            + (f"; in stock but not available: {waiting} (see mfgctl inspect)" if waiting else "")
            + (f"; not used, expired: {old}" if old else ""),
            shortage_rows,
        )
    created = []
    for _need, item, taken in plan.takes:
        for s, t in taken:
            created.append(
                _insert(db, item, s, t, ref=ref, user=user, order_id=order_id, priority=priority)
            )
    return OrderReservation(
        [get(db, i) for i in created], {n.item.code: short[n.position] for n in needs}
    )


def _json(values: list[int]) -> str:
    import json

    return json.dumps(values)


def reserved_for_order(db: sqlite3.Connection, order_id: int) -> dict[int, Decimal]:
    """Per item id, what open, unexpired reservations of an order hold."""
    rows = db.execute(
        "SELECT item_id, sum(remaining) FROM reservation WHERE order_id = ? AND state = 'open' "
        "AND (until_on IS NULL OR until_on >= ?) GROUP BY item_id",
        (order_id, today()),
    )
    return {item_id: q.dec(total) for item_id, total in rows}


def needed(
    materials: Sequence[tuple[int, Decimal, Sequence[int]]],
    lacking: Sequence[Decimal],
    held: Mapping[int, Decimal],
) -> dict[int, Decimal]:
    """Per item id, how much of what an order holds reserved its materials still need.

    ``materials``: (item id, required, substitutes' item ids) in position order, as for
    ``orders.coverage``; ``lacking``: what each still lacks once what reached its WIP is
    counted (its own, and its substitutes' beyond their own need); ``held``: what the
    order's open reservations hold per item id. Each material keeps its own item's
    reservations first, up to what it lacks; then what it still lacks keeps its
    substitutes' reservations left over (in the line's order, one for one): the way
    ``reserve_needs`` reserved them. The rest (an item no material needs) is not needed.
    """
    spare = {i: Decimal(n) for i, n in held.items()}
    keep: dict[int, Decimal] = defaultdict(Decimal)
    left = [max(Decimal(n), Decimal(0)) for n in lacking]
    for n, (item_id, _required, _subs) in enumerate(materials):
        take = min(spare.get(item_id, Decimal(0)), left[n])
        if take > 0:
            keep[item_id] += take
            spare[item_id] -= take
            left[n] -= take
    for n, (item_id, _required, subs) in enumerate(materials):
        for sub in subs:
            if left[n] <= 0:
                break
            take = min(spare.get(sub, Decimal(0)), left[n]) if sub != item_id else 0
            if take > 0:
                keep[sub] += take
                spare[sub] -= take
                left[n] -= take
    return dict(keep)


# An order's open, unexpired reservations in the reverse of the order ``consume`` takes
# them (production._ORDER_RESERVATIONS): lots expired before today (never consumed),
# then lots without an expiry date, then the latest expiring, then the newest
# reservation; what the order would take first is kept.
_ORDER_OPEN_LAST_FIRST = """
    SELECT r.id, r.item_id, r.remaining
      FROM reservation AS r
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
     WHERE r.order_id = :order AND r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
     ORDER BY ifnull(lt.expires_on < :today, 0) DESC, lt.expires_on IS NULL DESC,
              lt.expires_on DESC, r.id DESC
"""


def trim_order(
    db: sqlite3.Connection,
    order_id: int,
    *,
    materials: Sequence[tuple[int, Decimal, Sequence[int]]],
    lacking: Sequence[Decimal],
) -> list[Reservation]:
    """Lower an order's open reservations to what its materials still lack (``needed``).

    Per item, what it holds beyond that is released from the reservations the order
    would consume last (see ``_ORDER_OPEN_LAST_FIRST``); a reservation lowered to 0 is
    ``cancelled``, as ``order close`` frees it; ``qty`` keeps what was reserved. The
    consumption that made the excess already took the order's reservations of the lot
    and location it came from first, so the excess is held elsewhere. Expired
    reservations hold nothing and are left alone. Returns the reservations lowered,
    as they are now.
    """
    held = reserved_for_order(db, order_id)
    keep = needed(materials, lacking, held)
    over = {i: n - keep.get(i, Decimal(0)) for i, n in held.items()}
    lowered: list[int] = []
    for rid, item_id, remaining in db.execute(
        _ORDER_OPEN_LAST_FIRST, {"order": order_id, "today": today()}
    ).fetchall():
        excess = over.get(item_id, Decimal(0))
        if excess <= 0:
            continue
        release = min(excess, q.dec(remaining))
        over[item_id] = excess - release
        db.execute(
            "UPDATE reservation SET remaining = remaining - :n, "
            "state = CASE WHEN remaining - :n = 0 THEN 'cancelled' ELSE state END "
            "WHERE id = :id",
            {"n": q.to_micro(release), "id": rid},
        )
        lowered.append(rid)
    return [get(db, i) for i in lowered]


# A reference's open reservations of an item (not a production order's) in the reverse
# of the order shipping takes them (shipping.plan: first-expired first-in): first those
# that hold nothing (past their --until date, or of a lot past its expiry date), then
# lots without an expiry date, then the latest expiring, then the newest reservation.
_REF_OPEN_LAST_FIRST = """
    SELECT r.id, r.ref, r.remaining,
           (r.until_on IS NOT NULL AND r.until_on < :today)
           OR ifnull(lt.expires_on < :today, 0) AS dead
      FROM reservation AS r
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
     WHERE r.item_id = :item AND r.order_id IS NULL AND r.state = 'open' AND r.remaining > 0
     ORDER BY dead DESC, lt.expires_on IS NULL DESC, lt.expires_on DESC,
              r.until_on IS NULL DESC, r.until_on DESC, r.id DESC
"""


def trim_ref(
    db: sqlite3.Connection, item_id: int, ref: str, keep: Decimal
) -> list[tuple[Reservation, Decimal]]:
    """Lower a reference's open reservations of an item (``ref`` matched case folded,
    as ``ship --ref`` matches it; never a production order's) so that those still
    holding stock hold at most ``keep``.

    What they hold beyond it is released from the reservations a shipment would take
    last (see ``_REF_OPEN_LAST_FIRST``); one lowered to 0 is ``cancelled`` (``qty``
    keeps what was reserved). Reservations that hold nothing (past ``--until``, or of
    an expired lot) are left alone, unless ``keep`` is 0: then every open one of the
    reference is cancelled. Returns each reservation lowered, as it is now, with what
    was released of it.
    """
    mine = ref.casefold()
    rows = [
        (rid, q.dec(remaining), bool(dead))
        for rid, r_ref, remaining, dead in db.execute(
            _REF_OPEN_LAST_FIRST, {"item": item_id, "today": today()}
        )
        if r_ref is not None and r_ref.casefold() == mine
    ]
    excess = sum((n for _rid, n, dead in rows if not dead), Decimal(0)) - keep
    released: list[tuple[int, Decimal]] = []
    for rid, remaining, dead in rows:
        if dead:
            if keep <= 0:
                released.append((rid, remaining))
            continue
        if excess <= 0:
            break
        n = min(excess, remaining)
        excess -= n
        released.append((rid, n))
    for rid, n in released:
        db.execute(
            "UPDATE reservation SET remaining = remaining - :n, "
            "state = CASE WHEN remaining - :n = 0 THEN 'cancelled' ELSE state END "
            "WHERE id = :id",
            {"n": q.to_micro(n), "id": rid},
        )
    return [(get(db, rid), n) for rid, n in sorted(released)]


# -- listing and cancelling ---------------------------------------------------------------


def list_reservations(
    db: sqlite3.Connection,
    *,
    item: str | None = None,
    ref: str | None = None,
    order_id: int | None = None,
    include_closed: bool = False,
) -> list[Reservation]:
    """Open and expired reservations (also cancelled and consumed with ``include_closed``)."""
    item_id = items.get(db, item).id if item else None
    sql = (
        f"{_SELECT} WHERE (:item IS NULL OR r.item_id = :item) "
        "AND (:ref IS NULL OR r.ref = :ref COLLATE NOCASE) "
        "AND (:order IS NULL OR r.order_id = :order) "
        "AND (:all OR r.state = 'open') ORDER BY r.id"
    )
    params = {
        "item": item_id,
        "ref": ref.strip() if ref else None,
        "order": order_id,
        "all": int(include_closed),
        "today": today(),
    }
    return [_from_row(r) for r in db.execute(sql, params)]


def _cancel(db: sqlite3.Connection, ids: list[int]) -> None:
    db.execute(
        "UPDATE reservation SET state = 'cancelled', remaining = 0 "
        "WHERE id IN (SELECT value FROM json_each(?))",
        (_json(ids),),
    )


def cancel(
    db: sqlite3.Connection,
    *,
    reservation_id: int | None = None,
    ref: str | None = None,
    order_id: int | None = None,
) -> list[Reservation]:
    """Cancel one reservation, or every open one of a reference or of an order.

    Returns the reservations as they were before cancelling (what was released).

    Raises:
        NotFound: no such reservation, or nothing open for the reference/order.
        RuleViolation: the reservation is already cancelled or consumed.
    """
    if reservation_id is not None:
        found = get(db, reservation_id)
        if found.status in ("cancelled", "consumed"):
            raise RuleViolation(f"reservation {found.id} is already {found.status}")
        targets = [found]
    else:
        targets = list_reservations(db, ref=ref, order_id=order_id)
        if not targets:
            what = f"reference {ref.strip()}" if ref else f"order {order_id}"
            raise NotFound(f"no open reservation for {what} (see mfgctl reserve list)")
    _cancel(db, [r.id for r in targets])
    return targets


def cancel_for_order(db: sqlite3.Connection, order_id: int) -> list[Reservation]:
    """Cancel every open reservation of an order (none is fine)."""
    targets = list_reservations(db, order_id=order_id)
    _cancel(db, [r.id for r in targets])
    return targets
