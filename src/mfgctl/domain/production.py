"""Production: an order's materials consumed into its WIP, output completed into stock,
and the order closed with its yield and consumption variance.

Double entry, with the order's own place ``ORDER-<id>`` as its WIP account:

- *consume* (kind ``consume``): a component moves from stock (``available``) into
  ``ORDER-<id>``. The order's own reservations are taken first (their ``remaining``
  lowered, ``consumed`` at 0), then free stock, first-expired first-in; a lot expired
  before today is never taken (nor a reservation of it), and naming one is refused
  (``reservations.refuse_expired``). Then what its
  reservations hold beyond what each material still lacks is released
  (``trim_reservations``): consuming another lot, or a substitute, never leaves the
  order claiming stock it no longer needs.
- *scrap* (kind ``scrap``): a component leaves the order's WIP (or stock, for the order)
  for ``SCRAP``, with a reason.
- *complete*: the product is made: it comes into ``ORDER-<id>`` from the virtual place
  ``CONVERSION`` (kind ``make``) and moves out of it into stock (kind ``output``; scrapped
  output goes to ``SCRAP``). The components used for that output are used up: their share
  of WIP moves from ``ORDER-<id>`` to ``CONVERSION`` (kind ``relieve``), the frozen
  requirement for the output made (a serial-tracked material's in whole serials), never
  more than the WIP holds. The completion's row (table ``completion``) records its
  moves' range, its good units and their unit cost: the relieved material at the
  components' averages then (domain/valuation.py).
- *close*: what is left in the order's WIP is returned to stock (kind ``return``) when
  asked, else used up into ``CONVERSION`` too; leftover reservations are freed.

``CONVERSION`` is where materials turn into products: its balance per item is what has
been used up (components, positive) and made (products, negative). Every item's ledger
still sums to zero and the order's place holds exactly its WIP. ``CONVERSION`` is an
``adjustment``-kind virtual place because the schema's kinds have no better fit (and a
``production`` one would count as WIP in the stock report).

Every move carries the order's place code as its ``ref``: the order's consumed lots and
its output can always be traced.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import codes, items, ledger, locations, orders, reservations, valuation
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Move, Place
from mfgctl.domain.orders import Order
from mfgctl.errors import InvalidInput, RuleViolation

CONVERSION = "CONVERSION"
MICRO = Decimal(1).scaleb(-q.PLACES)


def _micro(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_UP)


# -- places ------------------------------------------------------------------------------


def _conversion(db: sqlite3.Connection) -> Place:
    """The virtual place where materials are used up into products (created once)."""
    found = locations.find(db, CONVERSION)
    if found is None:
        cur = db.execute(
            "INSERT INTO location (code, name, kind) VALUES (?, ?, 'adjustment')",
            (CONVERSION, "Production conversion (virtual): materials used up, products made"),
        )
        found = locations.Location(cur.lastrowid, CONVERSION, "", "adjustment")  # type: ignore[arg-type]
    elif found.internal or found.kind == "production":
        raise RuleViolation(
            f"location {found.code} is {'an' if found.internal else 'a'} {found.kind} location, "
            "but mfgctl needs that code for its production conversion place: rename it "
            f"first with `mfgctl location rename {found.code} NEW`"
        )
    return Place(found)


def _wip(db: sqlite3.Connection, order: Order) -> Place:
    return Place(locations.get(db, order.location))


def _lot_by_id(db: sqlite3.Connection, lot_id: int | None) -> Lot | None:
    if lot_id is None:
        return None
    r = db.execute(
        "SELECT id, code, serial, expires_on FROM lot WHERE id = ?", (lot_id,)
    ).fetchone()
    return Lot(r[0], r[1], bool(r[2]), r[3])


# -- what an order has consumed, made and holds --------------------------------------------

# Per item, the net quantity an order used: consumed into its WIP (or scrapped straight from
# stock for it), less what was returned from its WIP to stock.
_CONSUMED = """
    SELECT m.item_id,
           sum(CASE WHEN m.kind = 'consume' AND m.to_location_id = :loc THEN m.qty
                    WHEN m.kind = 'scrap' AND m.from_status IS NOT NULL THEN m.qty
                    WHEN m.kind = 'return' AND m.from_location_id = :loc THEN -m.qty
                    ELSE 0 END)
      FROM move AS m
     WHERE m.ref = :ref AND m.kind IN ('consume', 'scrap', 'return')
     GROUP BY m.item_id
"""
# Per item, what reached the order's WIP: consumed into it less returned from it. Scrap
# straight from stock is use (``_CONSUMED``) but never reached the WIP: the order still
# needs that material, so what is left to bring in is counted from this.
_DELIVERED = """
    SELECT m.item_id,
           sum(CASE WHEN m.kind = 'consume' AND m.to_location_id = :loc THEN m.qty
                    WHEN m.kind = 'return' AND m.from_location_id = :loc THEN -m.qty
                    ELSE 0 END)
      FROM move AS m
     WHERE m.ref = :ref AND m.kind IN ('consume', 'return')
     GROUP BY m.item_id
"""
# The order's output: good units into stock, scrapped units out of its place.
_OUTPUT = """
    SELECT ifnull(sum(CASE WHEN kind = 'output' THEN qty ELSE 0 END), 0),
           ifnull(sum(CASE WHEN kind = 'scrap' AND from_location_id = :loc THEN qty ELSE 0 END), 0)
      FROM move WHERE ref = :ref AND item_id = :item AND kind IN ('output', 'scrap')
"""
_WIP_LOTS = """
    SELECT lot_id, qty FROM balance
     WHERE item_id = ? AND location_id = ? AND status IS NULL AND qty > 0
     ORDER BY lot_id IS NULL, lot_id
"""


def _per_item(db: sqlite3.Connection, order: Order, sql: str) -> dict[int, Decimal]:
    loc = locations.get(db, order.location)
    rows = db.execute(sql, {"ref": order.reference, "loc": loc.id})
    return {item_id: q.dec(total) for item_id, total in rows}


def consumed(db: sqlite3.Connection, order: Order) -> dict[int, Decimal]:
    """Per item id, what the order has used (consumed and scrapped for it, less returns):
    its actual material, for variance and cost."""
    return _per_item(db, order, _CONSUMED)


def delivered(db: sqlite3.Connection, order: Order) -> dict[int, Decimal]:
    """Per item id, what reached the order's WIP (consumed less returned): what counts
    against its requirement when working out what it still needs."""
    return _per_item(db, order, _DELIVERED)


@dataclass(frozen=True, slots=True)
class Output:
    good: Decimal
    scrapped: Decimal

    @property
    def made(self) -> Decimal:
        return self.good + self.scrapped


def output(db: sqlite3.Connection, order: Order) -> Output:
    """What the order has completed: good units into stock, and scrapped units."""
    loc = locations.get(db, order.location)
    product = items.get(db, order.item)
    good, scrapped = db.execute(
        _OUTPUT, {"ref": order.reference, "loc": loc.id, "item": product.id}
    ).fetchone()
    return Output(q.dec(good), q.dec(scrapped))


_OUTPUT_LOTS = """
    SELECT lt.code AS lot, m.kind, tl.code AS location, m.to_status AS status,
           sum(m.qty) AS qty, min(m.seq) AS first_move
      FROM move AS m
      JOIN location AS tl ON tl.id = m.to_location_id
      LEFT JOIN lot AS lt ON lt.id = m.lot_id
     WHERE m.item_id = :item AND m.from_location_id = :loc AND m.kind IN ('output', 'scrap')
     GROUP BY lt.code, m.kind, tl.code, m.to_status
     ORDER BY first_move
"""
OUTPUT_LOT_COLUMNS = ["lot", "kind", "location", "status", "qty"]


def output_lots(db: sqlite3.Connection, order: Order) -> list[dict[str, Any]]:
    """The order's output by lot or serial: where it went (stock, or SCRAP) and how much."""
    loc = locations.get(db, order.location)
    product = items.get(db, order.item)
    return [
        {
            "lot": r["lot"],
            "kind": r["kind"],
            "location": r["location"],
            "status": r["status"],
            "qty": q.dec(r["qty"]),
        }
        for r in db.execute(_OUTPUT_LOTS, {"item": product.id, "loc": loc.id})
    ]


def wip_lots(db: sqlite3.Connection, order: Order, item: Item) -> list[tuple[Lot | None, Decimal]]:
    """What the order's place holds of an item, per lot."""
    loc = locations.get(db, order.location)
    return [
        (_lot_by_id(db, lot_id), q.dec(amount))
        for lot_id, amount in db.execute(_WIP_LOTS, (item.id, loc.id))
    ]


def wip_qty(db: sqlite3.Connection, order: Order, item: Item) -> Decimal:
    return sum((n for _lot, n in wip_lots(db, order, item)), Decimal(0))


# -- the state machine -------------------------------------------------------------------


def start(db: sqlite3.Connection, order: object, *, user: str) -> tuple[Order, list[Move]]:
    """Start a released order (released -> in_progress).

    If the item is set to ``backflush``, its materials are consumed at once, all or
    nothing (a shortage refuses the start). Returns the order and those moves.
    """
    found = order if isinstance(order, Order) else orders.get(db, order)
    started = orders.transition(db, found, "in_progress", user=user)
    if not items.get(db, started.item).backflush:
        return started, []
    return backflush(db, started.id, user=user)


def _running(db: sqlite3.Connection, order: object, *, user: str, doing: str) -> Order:
    """The order, started if it was only released; refused in any other state."""
    found = orders.get(db, order)
    if found.state == "released":
        # Started by the consuming command itself: no automatic backflush on top of it.
        return orders.transition(db, found, "in_progress", user=user)
    if found.state != "in_progress":
        hint = {
            "planned": f" (release it first: mfgctl order release {found.id})",
            "completed": " (what is left in its WIP can still be scrapped: "
            f"mfgctl consume {found.id} --item I --scrap Q --reason R)",
        }.get(found.state, "")
        raise RuleViolation(
            f"order {found.id} is {found.state}: only a released or started order can {doing}{hint}"
        )
    return found


# -- consumption -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Take:
    """One planned move out of stock: from a reservation of the order, or free stock."""

    location: str
    lot_id: int | None
    qty: Decimal
    reservation: int | None = None


_ORDER_RESERVATIONS = """
    SELECT r.id, r.location_id, l.code, r.lot_id, r.remaining
      FROM reservation AS r
      JOIN location AS l ON l.id = r.location_id
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
     WHERE r.order_id = :order AND r.item_id = :item AND r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (:location IS NULL OR r.location_id = :location)
       AND (:lot IS NULL OR r.lot_id = :lot)
       AND (lt.expires_on IS NULL OR lt.expires_on >= :today)
     ORDER BY lt.expires_on IS NULL, lt.expires_on, r.id
"""


def _not_available_note(
    db: sqlite3.Connection, item: Item, lot: Lot | None, location: locations.Location | None
) -> str:
    listed = reservations.unavailable(db, item, lot_id=lot.id if lot else None)
    where = location.id if location else None
    old = "" if lot else reservations.expired(db, item, location_id=where)
    return (f"; not available: {listed}" if listed else "") + (
        f"; not used, expired: {old}" if old else ""
    )


def plan_takes(
    db: sqlite3.Connection,
    order: Order,
    item: Item,
    amount: Decimal,
    *,
    location: locations.Location | None = None,
    lot: Lot | None = None,
) -> list[Take]:
    """Where ``amount`` of ``item`` comes from: the order's reservations first, then free
    available stock (first-expired, first-in).

    Raises:
        RuleViolation: not enough reserved and free available stock (nothing moved).
    """
    takes, left, reserved_total, free_total = _gather(db, order, item, amount, location, lot)
    if left > 0:
        where = (f" lot {lot.code}" if lot else "") + (f" at {location.code}" if location else "")
        raise RuleViolation(
            f"not enough available {item.code}{where} for order {order.id}: need "
            f"{q.fmt(amount)} {item.unit}, reserved for the order {q.fmt(reserved_total)}, "
            f"free {q.fmt(free_total)}{_not_available_note(db, item, lot, location)}; nothing was "
            f"consumed (receive or release the stock, or consume less)"
        )
    return takes


def _gather(
    db: sqlite3.Connection,
    order: Order,
    item: Item,
    amount: Decimal,
    location: locations.Location | None = None,
    lot: Lot | None = None,
) -> tuple[list[Take], Decimal, Decimal, Decimal]:
    """As much of ``amount`` as the order's reservations and free stock give: the takes,
    what is left, and the reserved and free totals."""
    params = {
        "order": order.id,
        "item": item.id,
        "today": reservations.today(),
        "location": location.id if location else None,
        "lot": lot.id if lot else None,
    }
    takes: list[Take] = []
    left = amount
    reserved_total = Decimal(0)
    for rid, _loc_id, loc_code, lot_id, remaining in db.execute(_ORDER_RESERVATIONS, params):
        have = q.dec(remaining)
        reserved_total += have
        if left > 0:
            take = min(have, left)
            takes.append(Take(loc_code, lot_id, take, rid))
            left -= take
    stock = reservations.available_stock(
        db, item, location_id=location.id if location else None, lot_id=lot.id if lot else None
    )
    free_total = sum((s.free for s in stock), Decimal(0))
    for s, take in reservations.pick(stock, left):
        takes.append(Take(s.location, s.lot_id, take))
        left -= take
    return takes, left, reserved_total, free_total


def _post_takes(
    db: sqlite3.Connection,
    order: Order,
    item: Item,
    takes: Sequence[Take],
    *,
    target: Place,
    kind: str,
    user: str,
    reason: str | None = None,
) -> list[Move]:
    moves = []
    for t in takes:
        source = ledger.real_place(db, t.location, "available")
        lot = _lot_by_id(db, t.lot_id)
        moves.append(
            ledger.post(
                db,
                item=item,
                qty=t.qty,
                source=source,
                target=target,
                kind=kind,
                user=user,
                lot=lot,
                reason=reason,
                ref=order.reference,
                using_reservations=[t.reservation] if t.reservation else (),
            )
        )
        if t.reservation is not None:
            db.execute(
                "UPDATE reservation SET remaining = remaining - ?, "
                "state = CASE WHEN remaining - ? = 0 THEN 'consumed' ELSE state END "
                "WHERE id = ?",
                (q.to_micro(t.qty), q.to_micro(t.qty), t.reservation),
            )
    return moves


def _share(required: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    return _micro(required * part / whole)


@dataclass(frozen=True, slots=True)
class Capped:
    """A material whose share of ``consume --qty`` output was more than the order still
    lacked of it: only ``took`` was consumed."""

    item: Item
    share: Decimal
    took: Decimal


def backflush(
    db: sqlite3.Connection, order: object, *, user: str, qty: object = None
) -> tuple[Order, list[Move]]:
    """Consume every material of an order into its WIP (``backflush_capped`` without the
    materials it capped)."""
    found, moves, _capped = backflush_capped(db, order, user=user, qty=qty)
    return found, moves


def backflush_capped(
    db: sqlite3.Connection, order: object, *, user: str, qty: object = None
) -> tuple[Order, list[Move], list[Capped]]:
    """Consume every material of an order into its WIP: for ``qty`` of output (each
    material's frozen requirement in proportion), or else what each still lacks (a
    substitute already consumed in its place counts, see ``covered``). A serial-tracked
    material moves in whole serials: its amount is rounded up. For ``qty``, no material
    takes more than the order still lacks of it (what was issued by hand, or by an
    earlier backflush, counts): those capped are returned with their share and what
    they took. Consuming beyond the requirement is ``consume_item``'s, named.

    A material short of stock (reserved for the order, then free) takes the rest from
    its substitutes, in the line's order, one for one (as MRP plans them): their stock
    reserved for the order first, then free stock; the moves name the substitute.

    A released order is started. All or nothing: a material that its substitutes cannot
    make up for either refuses the whole backflush (the caller's transaction rolls back
    the moves of the materials before it).
    """
    found = _running(db, order, user=user, doing="consume materials")
    materials = orders.materials(db, found)
    done = covered(db, found, materials)
    if qty is not None:
        product = items.get(db, found.item)
        amount = q.parse_qty(qty, what="--qty")
        q.to_micro(amount, what=f"--qty in {product.unit}")
    wip = _wip(db, found)
    moves: list[Move] = []
    # First every material takes its own stock, then a short one its substitutes': a
    # substitute that is a material of the order too keeps what its own line needs
    # (as ``order release`` reserves). Each take is posted before the next is planned,
    # so two materials sharing an item never count the same free stock twice.
    short: list[tuple[orders.Material, Decimal, Decimal]] = []
    capped: list[Capped] = []
    for m in materials:
        lacks = items.whole_up(m.item, max(m.qty - done[m.position], Decimal(0)))
        if qty is not None:
            # The share (whole serials: rounded up), never beyond what the order lacks.
            share = items.whole_up(m.item, _share(m.qty, amount, found.qty))
            need = min(share, lacks)
            if need < share:
                capped.append(Capped(m.item, share, need))
        else:
            need = lacks
        if need <= 0:
            continue
        subs = orders.substitute_items(db, m)
        takes, left, _reserved, _free = _gather(db, found, m.item, need)
        if left > 0 and not subs:
            plan_takes(db, found, m.item, need)  # raises, naming what is short
        moves += _post_takes(db, found, m.item, takes, target=wip, kind="consume", user=user)
        if left > 0:
            short.append((m, need, left))
    for m, need, left in short:
        subs = orders.substitute_items(db, m)
        for sub in subs:
            if left <= 0:
                break
            sub_takes, left, _r, _f = _gather(db, found, sub, left)
            moves += _post_takes(db, found, sub, sub_takes, target=wip, kind="consume", user=user)
        if left > 0:
            names = ", ".join(s.code for s in subs)
            raise RuleViolation(
                f"not enough available {m.item.code} for order {found.id}: need "
                f"{q.fmt(need)} {m.item.unit}; its own stock and its substitutes' ({names}), "
                f"reserved for the order or free, give {q.fmt(need - left)}"
                f"{_not_available_note(db, m.item, None, None)}; nothing was consumed (receive or "
                "release the stock, or consume less)"
            )
    if not moves:
        raise RuleViolation(
            f"order {found.id} has consumed all its materials already; record more with "
            f"mfgctl consume {found.id} --item ITEM --qty Q"
        )
    trim_reservations(db, found)
    return found, moves, capped


def covered(
    db: sqlite3.Connection, order: Order, materials: Sequence[orders.Material] | None = None
) -> dict[int, Decimal]:
    """Per material (by position), how much of it has reached the order's WIP: its own,
    and its substitutes' beyond what they are needed for themselves
    (``orders.coverage``). Scrap straight from stock does not count: it never arrived."""
    found = orders.materials(db, order) if materials is None else materials
    rows = [(m.item.id, m.qty, [s.id for s in orders.substitute_items(db, m)]) for m in found]
    cover = orders.coverage(rows, delivered(db, order))
    return {m.position: Decimal(c) for m, c in zip(found, cover, strict=True)}


def trim_reservations(db: sqlite3.Connection, order: Order) -> list[reservations.Reservation]:
    """Release what the order's reservations hold beyond what its materials still lack
    (required less ``covered``: what reached its WIP, substitutes included), so an
    order never claims stock it will not consume. Called wherever consumption is
    written; see ``reservations.trim_order`` for which reservations are lowered.
    Returns them, as they are now."""
    mats = orders.materials(db, order)
    have = covered(db, order, mats)
    rows = [(m.item.id, m.qty, [s.id for s in orders.substitute_items(db, m)]) for m in mats]
    lacking = [items.whole_up(m.item, max(m.qty - have[m.position], Decimal(0))) for m in mats]
    return reservations.trim_order(db, order.id, materials=rows, lacking=lacking)


def _material_item(db: sqlite3.Connection, order: Order, item: str) -> Item:
    it = items.get(db, item)
    for m in orders.materials(db, order):
        if m.item.id == it.id or it.code.upper() in (s.upper() for s in m.substitutes):
            return it
    names = ", ".join(m.item.code for m in orders.materials(db, order))
    raise RuleViolation(
        f"{it.code} is not a material of order {order.id} nor a substitute of one "
        f"(materials: {names})"
    )


def consume_item(
    db: sqlite3.Connection,
    order: object,
    *,
    item: str,
    user: str,
    qty: object = None,
    scrap: object = None,
    reason: str | None = None,
    lot: str | None = None,
    location: str | None = None,
    from_stock: bool = False,
    unit: str | None = None,
) -> tuple[Order, list[Move]]:
    """Record the actual use of one component (``qty``) and/or its scrap (``scrap``).

    Use may be more or less than the frozen requirement. Scrap goes to ``SCRAP`` with a
    reason, out of the order's WIP, or out of stock with ``from_stock``. A completed order
    (not yet closed) takes only scrap out of its WIP: what is left there before the close.
    """
    if qty is None and scrap is None:
        raise InvalidInput("give --qty (used) or --scrap (scrapped), or both")
    found = orders.get(db, order)
    # A completed order's leftover WIP may still be scrapped before its close (a recall
    # found it bad, say): nothing is consumed, so only scrap out of the WIP is allowed.
    if not (found.state == "completed" and qty is None and not from_stock):
        found = _running(db, order, user=user, doing="consume materials")
    it = _material_item(db, found, item)
    loc = locations.get_internal(db, location) if location else None
    lot_row = None
    if lot:
        if it.tracking == "none":
            raise InvalidInput(f"{it.code} is not lot- or serial-tracked: leave out --lot")
        lot_row = ledger.get_lot(db, it, lot)
        if qty is not None or from_stock:
            reservations.refuse_expired(it, lot_row)
    why = codes.text(reason, what="--reason", required=False)
    if scrap is not None and not why:
        raise InvalidInput(f"scrap of {it.code} needs a --reason (say why it was scrapped)")
    wip = _wip(db, found)
    moves: list[Move] = []
    if qty is not None:
        amount = it.to_base(q.parse_qty(qty, what="--qty"), unit)
        q.to_micro(amount, what=f"--qty in {it.unit}")
        items.check_whole(it, amount, what="--qty")
        takes = plan_takes(db, found, it, amount, location=loc, lot=lot_row)
        moves += _post_takes(db, found, it, takes, target=wip, kind="consume", user=user)
    if scrap is not None:
        amount = it.to_base(q.parse_qty(scrap, what="--scrap"), unit)
        q.to_micro(amount, what=f"--scrap in {it.unit}")
        items.check_whole(it, amount, what="--scrap")
        bin_ = ledger.virtual(db, "SCRAP")
        if from_stock:
            takes = plan_takes(db, found, it, amount, location=loc, lot=lot_row)
            moves += _post_takes(
                db, found, it, takes, target=bin_, kind="scrap", user=user, reason=why
            )
        else:
            moves += _take_from_wip(
                db, found, it, amount, target=bin_, kind="scrap", user=user, reason=why, lot=lot_row
            )
    trim_reservations(db, found)
    return found, moves


def _take_from_wip(
    db: sqlite3.Connection,
    order: Order,
    item: Item,
    amount: Decimal,
    *,
    target: Place,
    kind: str,
    user: str,
    reason: str | None = None,
    lot: Lot | None = None,
) -> list[Move]:
    held = [
        (lt, n) for lt, n in wip_lots(db, order, item) if lot is None or (lt and lt.id == lot.id)
    ]
    total = sum((n for _lt, n in held), Decimal(0))
    if total < amount:
        lot_text = f" lot {lot.code}" if lot else ""
        if order.state == "completed":
            # A completed order consumes nothing more: its WIP is all it can scrap.
            hint = f"a completed order scraps only what its WIP holds: scrap {q.fmt(total)} or less"
        else:
            hint = "consume it first, or scrap from stock with --from-stock"
        raise RuleViolation(
            f"order {order.id} holds only {q.fmt(total)} {item.unit} of {item.code}{lot_text} "
            f"in its WIP ({order.location}), not {q.fmt(amount)}; {hint}"
        )
    source = _wip(db, order)
    moves, left = [], amount
    for lt, n in held:
        if left <= 0:
            break
        take = min(n, left)
        moves.append(
            ledger.post(
                db,
                item=item,
                qty=take,
                source=source,
                target=target,
                kind=kind,
                user=user,
                lot=lt,
                reason=reason,
                ref=order.reference,
            )
        )
        left -= take
    return moves


# -- completion ----------------------------------------------------------------------------

_SEQ = re.compile(r"\{seq(?::0?(\d+))?\}")


def _dates(pattern: str, today: date) -> str:
    text = pattern.replace("{yyyy}", f"{today.year:04d}").replace("{yy}", f"{today.year % 100:02d}")
    return text.replace("{mm}", f"{today.month:02d}")


def format_serial(pattern: str, seq: int, today: date) -> str:
    """A serial from an item's pattern: ``{yyyy}``, ``{yy}``, ``{mm}``, ``{seq:05}``."""
    return _SEQ.sub(lambda m: f"{seq:0{int(m.group(1) or 0)}d}", _dates(pattern, today))


def _serial_regex(pattern: str, today: date) -> re.Pattern[str]:
    """A regex matching the serials a pattern gives today; group 1 is the sequence."""
    # split() with one group gives [text, width, text, ...]: each width becomes (\d+).
    pieces = _SEQ.split(_dates(pattern, today))
    regex = "".join(re.escape(p) if n % 2 == 0 else r"(\d+)" for n, p in enumerate(pieces))
    return re.compile(regex, re.IGNORECASE)


def next_serials(db: sqlite3.Connection, item: Item, count: int, *, today: date) -> list[str]:
    """``count`` new serials from the item's pattern, numbered after the highest in use."""
    pattern = item.serial_pattern
    if not pattern:
        raise RuleViolation(
            f"{item.code} has no serial pattern: give --serial for each unit, or set one with "
            f"mfgctl item update {item.code} --serial-pattern '{item.code}-{{yyyy}}-{{seq:05}}'"
        )
    if not _SEQ.search(pattern):
        raise RuleViolation(f"{item.code} serial pattern {pattern!r} has no {{seq}} part")
    regex = _serial_regex(pattern, today)
    top = 0
    for (code,) in db.execute("SELECT code FROM lot WHERE item_id = ?", (item.id,)):
        m = regex.fullmatch(code)
        if m:
            top = max(top, int(m.group(1)))
    return [format_serial(pattern, top + n, today) for n in range(1, count + 1)]


def output_status(item: Item) -> str:
    """Where finished output lands: inspection first, then release, else available."""
    if item.inspect_on_receipt:
        return "pending_inspection"
    if item.release_criteria:
        return "awaiting_release"
    return "available"


@dataclass(frozen=True, slots=True)
class Completion:
    order: Order
    good: Decimal
    scrapped: Decimal
    status: str
    lots: list[str]
    moves: list[Move]
    # Reservations the order held, cancelled as it became completed.
    freed: list[reservations.Reservation] = field(default_factory=list)
    location: str = ""  # the code of the location the good output went to, as stored


def complete(
    db: sqlite3.Connection,
    order: object,
    *,
    qty: object,
    user: str,
    scrap: object = None,
    lot: str | None = None,
    serials: Sequence[str] = (),
    auto_serials: bool = False,
    location: str | None = None,
    final: bool = False,
    reason: str | None = None,
) -> Completion:
    """Complete ``qty`` good units (and ``scrap`` scrapped ones) of an in-progress order.

    The output comes out of the order's place into stock (see ``output_status``); the
    components' frozen requirement for the units made is relieved from the WIP (never
    more than it holds). The order is ``completed`` when its output reaches its quantity,
    or with ``final`` (alone, with no output, it finishes the order short as it stands).
    """
    found = orders.get(db, order)
    if found.state != "in_progress":
        hint = {
            "released": f" (start it: mfgctl order start {found.id})",
            "planned": f" (release and start it first: mfgctl order release {found.id})",
        }.get(found.state, "")
        raise RuleViolation(
            f"order {found.id} is {found.state}: only a started order can complete output{hint}"
        )
    product = items.get(db, found.item)
    good = product.to_base(q.parse_qty(qty, what="--qty", allow_zero=True), None)
    if good:
        q.to_micro(good, what=f"--qty in {product.unit}")
    bad = Decimal(0)
    if scrap is not None:
        bad = q.parse_qty(scrap, what="--scrap")
        q.to_micro(bad, what=f"--scrap in {product.unit}")
    done = output(db, found)
    if good + bad <= 0:
        if not final:
            raise InvalidInput(
                "give a --qty (or --scrap) greater than zero, or --final alone to finish "
                "the order short"
            )
        # Finished short: nothing more is made; close returns or uses up the WIP.
        current, freed = _completed(
            db,
            found,
            user,
            f"finished short: {q.fmt(done.good)} good, {q.fmt(done.scrapped)} scrapped "
            f"of {q.fmt(found.qty)}",
        )
        return Completion(current, good, bad, output_status(product), [], [], freed)
    left = found.qty - done.made
    if good:
        _within_route(db, found, done.good, good, product)
    if good + bad > left:
        raise RuleViolation(
            f"order {found.id} has {q.fmt(left)} {product.unit} of {product.code} left to "
            f"complete ({q.fmt(done.good)} completed, {q.fmt(done.scrapped)} scrapped of "
            f"{q.fmt(found.qty)}): cannot complete {q.fmt(good + bad)}"
        )
    why = codes.text(reason, what="--reason", required=False)
    if bad and not why:
        why = "scrapped at completion"
    # Which lots (serials) the good output gets.
    lot_codes: list[str] = []
    if product.tracking == "serial":
        if lot:
            raise InvalidInput(f"{product.code} is serial-tracked: give --serial, not --lot")
        if good != good.to_integral_value():
            raise InvalidInput(f"{product.code} is serial-tracked: complete whole units")
        if auto_serials and serials:
            raise InvalidInput("give --serial or --auto-serials, not both")
        if auto_serials:
            lot_codes = next_serials(db, product, int(good), today=date.today())
        else:
            lot_codes = [codes.lot_code(s, what="serial") for s in serials]
            if len(lot_codes) != good:
                raise InvalidInput(
                    f"{product.code} is serial-tracked: --qty {q.fmt(good)} needs as many "
                    f"serials, got {len(lot_codes)} (or use --auto-serials)"
                )
            ledger.check_new_serials(db, product, lot_codes)
    elif product.tracking == "lot":
        if serials or auto_serials:
            raise InvalidInput(f"{product.code} is lot-tracked: give --lot, not serials")
        if not lot:
            raise InvalidInput(f"{product.code} is lot-tracked: give --lot for the output")
        lot_codes = [lot]
    elif lot or serials or auto_serials:
        raise InvalidInput(
            f"{product.code} is not lot- or serial-tracked: leave out --lot/--serial"
        )
    status = output_status(product)
    target = ledger.real_place(db, location, status)
    conv, wip = _conversion(db), _wip(db, found)
    moves: list[Move] = []
    post = dict(item=product, user=user, ref=found.reference)

    def make_and_move(amount: Decimal, lot_row: Lot | None, to: Place, kind: str) -> None:
        moves.append(
            ledger.post(db, qty=amount, source=conv, target=wip, kind="make", lot=lot_row, **post)
        )  # type: ignore[arg-type]
        moves.append(
            ledger.post(
                db,
                qty=amount,
                source=wip,
                target=to,
                kind=kind,
                lot=lot_row,
                reason=why if kind == "scrap" else None,
                **post,
            )  # type: ignore[arg-type]
        )

    if good:
        if product.tracking == "serial":
            for s in lot_codes:
                make_and_move(Decimal(1), ledger.ensure_lot(db, product, s), target, "output")
        else:
            lot_row = ledger.ensure_lot(db, product, lot_codes[0]) if lot_codes else None
            make_and_move(good, lot_row, target, "output")
    if bad:
        bin_ = ledger.virtual(db, "SCRAP")
        if product.tracking == "serial":
            if bad != bad.to_integral_value():
                raise InvalidInput(f"{product.code} is serial-tracked: scrap whole units")
            # Scrapped units get serials of their own, so the ledger stays per serial.
            for _n in range(int(bad)):
                code = f"{found.reference}-SCRAP-{_next_scrap_no(db, product, found)}"
                make_and_move(Decimal(1), ledger.ensure_lot(db, product, code), bin_, "scrap")
        else:
            lot_row = ledger.ensure_lot(db, product, lot_codes[0]) if lot_codes else None
            make_and_move(bad, lot_row, bin_, "scrap")
    moves += _relieve(db, found, good + bad, user=user)
    # Its output's cost, fixed now (valuation reads it instead of the make/scrap moves).
    valuation.record_completion(
        db,
        order_id=found.id,
        item_id=product.id,
        first_seq=moves[0].seq,
        last_seq=moves[-1].seq,
        good=q.to_micro(good),
    )
    after = output(db, found)
    current = orders.get(db, found.id)
    freed: list[reservations.Reservation] = []
    if final or after.made >= found.qty:
        current, freed = _completed(
            db,
            current,
            user,
            f"{q.fmt(after.good)} good, {q.fmt(after.scrapped)} scrapped of {q.fmt(found.qty)}",
        )
    return Completion(current, good, bad, status, lot_codes, moves, freed, target.location.code)


def _completed(
    db: sqlite3.Connection, order: Order, user: str, note: str
) -> tuple[Order, list[reservations.Reservation]]:
    """The order made completed, and the reservations it held cancelled: a completed
    order consumes nothing more (only its WIP may still be scrapped), so stock it held
    is free for other work at once, not at its close."""
    current = orders.transition(db, order, "completed", user=user, note=note)
    return current, reservations.cancel_for_order(db, order.id)


def _within_route(
    db: sqlite3.Connection, order: Order, completed: Decimal, good: Decimal, product: Item
) -> None:
    """Good output never exceeds what passed the order's last stage, once its stages are
    tracked (any progress recorded): units rejected at a stage, or not through yet, are
    not finished goods. An order whose stages nobody records is not held to them.

    Raises:
        RuleViolation: more good output than the last stage passed.
    """
    from mfgctl.domain import stages  # stages builds on orders, as this module does

    route = stages.order_stages(db, order)
    if not route or not any(s.good or s.rejected for s in route):
        return
    last = route[-1]
    if completed + good > last.good:
        can = max(last.good - completed, Decimal(0))
        rejected = sum((s.rejected for s in route), Decimal(0))
        raise RuleViolation(
            f"order {order.id} has {q.fmt(last.good)} {product.unit} {product.code} through "
            f"its last stage ({last.name}; {q.fmt(rejected)} rejected on the way) and "
            f"{q.fmt(completed)} completed: cannot complete {q.fmt(good)} good (at most "
            f"{q.fmt(can)}; record the stages first with mfgctl order advance {order.id})"
        )


def _next_scrap_no(db: sqlite3.Connection, product: Item, order: Order) -> int:
    prefix = f"{order.reference}-SCRAP-"
    n = db.execute(
        "SELECT count(*) FROM lot WHERE item_id = ? AND code LIKE ? || '%'", (product.id, prefix)
    ).fetchone()[0]
    return int(n) + 1


def _relieve(db: sqlite3.Connection, order: Order, made: Decimal, *, user: str) -> list[Move]:
    """Use up the components' share of WIP for ``made`` units of output.

    Each material's share comes from its own WIP first; what that lacks, from the WIP of
    its substitutes (in the line's order of preference, one for one, as MRP plans them),
    once every material has taken its own: a substitute consumed in a material's place
    is used up by the output it went into, not left in WIP until the order closes.
    """
    conv = _conversion(db)
    moves: list[Move] = []
    short: list[tuple[orders.Material, Decimal]] = []
    # The share of everything made so far less that of what was made before, so the
    # shares of an order completed in parts add up to its requirement: no millionths
    # left in WIP by rounding each part (``made`` is already among the output).
    # A serial-tracked material's cumulative share is rounded up to whole serials: a
    # serial that output made so far has started on is used (it cannot be half in WIP);
    # the final completion's share is the whole requirement, so the parts add up.
    after = output(db, order).made
    before = after - made
    for m in orders.materials(db, order):
        need = items.whole_up(m.item, _share(m.qty, after, order.qty)) - items.whole_up(
            m.item, _share(m.qty, before, order.qty)
        )
        share = min(need, wip_qty(db, order, m.item))
        if share > 0:
            moves += _take_from_wip(
                db, order, m.item, share, target=conv, kind="relieve", user=user
            )
        if need > share and m.substitutes:
            short.append((m, need - share))
    for m, left in short:
        for sub in orders.substitute_items(db, m):
            if left <= 0:
                break
            take = min(left, wip_qty(db, order, sub))
            if take > 0:
                moves += _take_from_wip(
                    db, order, sub, take, target=conv, kind="relieve", user=user
                )
                left -= take
    return moves


# -- closing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Closing:
    order: Order
    yield_pct: Decimal
    good: Decimal
    variance: list[dict[str, Any]]
    returned: list[Move]
    used_up: list[Move]
    freed: list[reservations.Reservation]


VARIANCE_COLUMNS = [
    "item",
    "unit",
    "required",
    "consumed",
    "substituted",
    "variance",
    "returned",
    "used_up",
]


def variance_rows(db: sqlite3.Connection, order: Order) -> list[dict[str, Any]]:
    """Per material: requirement for the output made, what was used of it and the
    difference. A listed substitute used in its place counts as use of the material
    (``orders.usage``, as ``order show`` and ``report variance`` count it; the part it
    gave is ``substituted``); then each other item the order used beyond standing in
    for a material, required 0, so the rows add up to all the order used."""
    made = output(db, order).made
    used = consumed(db, order)
    mats = orders.materials(db, order)
    ids = {c.upper(): items.get(db, c).id for m in mats for c in m.substitutes}
    lines = [(m.item.id, m.qty, [ids[c.upper()] for c in m.substitutes]) for m in mats]
    of_material, substituted, left = orders.usage(lines, used)
    others = items.by_ids(db, [i for i, n in left.items() if n])
    rows = []
    for it, required, actual, given in [
        *(
            (m.item, _share(m.qty, made, order.qty), use, sub)
            for m, use, sub in zip(mats, of_material, substituted, strict=True)
        ),
        *((it, Decimal(0), left[it.id], Decimal(0)) for it in sorted(others, key=_code)),
    ]:
        rows.append(
            {
                "item": it.code,
                "unit": it.unit,
                "required": required,
                "consumed": actual,
                "substituted": given,
                "variance": actual - required,
            }
        )
    return rows


def _code(it: Item) -> str:
    return it.code


def _wip_items(db: sqlite3.Connection, order: Order) -> list[Item]:
    """Every item with stock in the order's WIP: its materials first (in BOM order),
    then anything else consumed into it (a substitute), by code."""
    loc = locations.get(db, order.location)
    mats = [m.item for m in orders.materials(db, order)]
    own = {it.id for it in mats}
    held = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT item_id FROM balance "
            "WHERE location_id = ? AND status IS NULL AND qty > 0",
            (loc.id,),
        )
    ]
    others = [it for it in items.by_ids(db, held) if it.id not in own and it.code != order.item]
    return [*mats, *sorted(others, key=lambda it: it.code)]


def close(
    db: sqlite3.Connection,
    order: object,
    *,
    user: str,
    return_unconsumed: bool = False,
    location: str | None = None,
) -> Closing:
    """Close a completed order: free its reservations, return its leftover WIP to stock
    (``return_unconsumed``) or use it up, and record its yield and consumption variance."""
    found = orders.get(db, order)
    if found.state != "completed":
        orders.transition(db, found, "closed", user=user)  # raises with the state's message
    target = ledger.real_place(db, location, "available") if return_unconsumed else None
    freed = reservations.cancel_for_order(db, found.id)
    returned: list[Move] = []
    used_up: list[Move] = []
    conv = _conversion(db)
    wip = _wip(db, found)
    per_item: dict[str, tuple[Decimal, Decimal]] = {}
    for it in _wip_items(db, found):
        back = up = Decimal(0)
        for lt, n in wip_lots(db, found, it):
            to_stock = target is not None
            move = ledger.post(
                db,
                item=it,
                qty=n,
                source=wip,
                target=target if to_stock else conv,  # type: ignore[arg-type]
                kind="return" if to_stock else "relieve",
                user=user,
                lot=lt,
                ref=found.reference,
                reason="unconsumed at close" if to_stock else "left in WIP at close",
            )
            if to_stock:
                returned.append(move)
                back += n
            else:
                used_up.append(move)
                up += n
        per_item[it.code] = (back, up)
    made = output(db, found)
    pct = _micro(made.good * 100 / found.qty).normalize()
    rows = variance_rows(db, found)
    # A substitute that only stood in for a material has no row of its own: what it
    # gives back or uses up at the close still gets one.
    shown = {r["item"] for r in rows}
    for code in sorted(set(per_item) - shown):
        it, zero = items.get(db, code), Decimal(0)
        rows.append(
            {
                "item": it.code,
                "unit": it.unit,
                "required": zero,
                "consumed": zero,
                "substituted": zero,
                "variance": zero,
            }
        )
    for r in rows:
        r["returned"], r["used_up"] = per_item.get(r["item"], (Decimal(0), Decimal(0)))
    listed = ", ".join(f"{r['item']} {_signed(r['variance'])}" for r in rows if r["variance"])
    note = (
        f"yield {q.fmt(pct)}% ({q.fmt(made.good)} of {q.fmt(found.qty)} {found.unit}); "
        f"variance: {listed or 'none'}"
    )
    closed = orders.transition(db, found, "closed", user=user, note=note)
    return Closing(closed, pct, made.good, rows, returned, used_up, freed)


def _signed(value: Decimal) -> str:
    return f"+{q.fmt(value)}" if value > 0 else q.fmt(value)
