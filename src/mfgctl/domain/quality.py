"""Quality inspection: recorded decisions that move stock between statuses.

An *inspection* is a quality decision on stock of one item (and lot) at one location:
who decided, when, the result, a note, measurements, and the ledger move that carried
it out. A status change is a move between two places of the same location
(``QC/pending_inspection`` -> ``QC/available``), so the stock report and the ledger
always agree with the decisions.

The decisions are data (``DECISIONS``): each names the statuses it may take stock from
and the status it puts it into.

=========  ===========================================  ==================================
decision   from                                         to
=========  ===========================================  ==================================
pass       pending_inspection, awaiting_release         available, or awaiting_release
                                                        when the item has release criteria
fail       pending_inspection, rework, awaiting_release rejected
rework     pending_inspection, awaiting_release         rework
reworked   rework                                       pending_inspection
hold       available, pending_inspection,               blocked
           awaiting_release
unblock    blocked                                      the status it was held from
=========  ===========================================  ==================================

Reworked units come back through inspection, never straight to available: the
``reworked`` decision ("the rework is done") returns them to ``pending_inspection``, and
they are then passed, failed or sent to rework again. The schema records it as a
``pass`` result out of ``rework`` (a pass of the rework, not of the units); the records
list it as ``reworked`` (``listed_result``), so a pass is always a pass of the units.

A ``pass`` of stock already in ``awaiting_release`` (say, the final inspection of
finished goods that came out of production) records the pass without a move: the stock
stays in ``awaiting_release`` until it is released (``domain.release``).

``unblock`` returns stock to the status it was held from, read from the hold and
unblock records of that lot at that location; blocked stock without such a record
(blocked by an import, an adjustment or a count, or moved in from another location) goes
to ``pending_inspection``: what nobody can vouch for is inspected again. Blocked stock
that left other than by an unblock (an adjustment, a count, a move elsewhere) is assumed
to be the held units first, since nobody recorded which units they were.

A partial unblock (``qty`` less than all the blocked stock) does not record which units
it frees either, so it assumes the least trusted ones (``UNBLOCK_ORDER``): first those
that go back to ``pending_inspection`` (held from it, or vouched for by no hold record),
then those held from ``awaiting_release``, and those held from ``available`` last; the
most recent hold first among equals. Units held from ``available`` are usable again
only once nothing less trusted is left blocked: an unblock never makes usable the units
that may be the ones nobody vouched for, and the answer does not depend on which hold
was recorded last.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, ledger, locations
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Place
from mfgctl.errors import InvalidInput, RuleViolation


@dataclass(frozen=True, slots=True)
class Decision:
    """One kind of quality decision: the result it records and the statuses it moves."""

    name: str
    result: str  # the value stored in inspection.result
    sources: tuple[str, ...]  # the statuses the stock may be taken from
    target: str | None  # None: decided per item (pass) or from the records (unblock)
    verb: str  # for messages: "nothing to {verb}"


DECISIONS: dict[str, Decision] = {
    d.name: d
    for d in (
        Decision("pass", "pass", ("pending_inspection", "awaiting_release"), None, "pass"),
        Decision(
            "fail", "fail", ("pending_inspection", "rework", "awaiting_release"), "rejected", "fail"
        ),
        Decision(
            "rework", "rework", ("pending_inspection", "awaiting_release"), "rework", "rework"
        ),
        Decision("reworked", "pass", ("rework",), "pending_inspection", "return from rework"),
        Decision(
            "hold",
            "hold",
            ("available", "pending_inspection", "awaiting_release"),
            "blocked",
            "hold",
        ),
        Decision("unblock", "unblock", ("blocked",), None, "unblock"),
    )
}

# Unblocked stock whose earlier status no record tells goes back to inspection.
UNBLOCK_DEFAULT = "pending_inspection"
# The order a partial unblock frees blocked stock in, by the status it goes back to: the
# least trusted first (see the module docstring).
UNBLOCK_ORDER = ("pending_inspection", "awaiting_release", "available")


@dataclass(frozen=True, slots=True)
class Inspection:
    """One inspection record (quantities in the item's base unit)."""

    id: int
    at: str
    user: str
    item: str
    lot: str | None
    location: str
    qty: Decimal
    unit: str
    result: str  # as listed: the decision's name (``reworked``, not the stored ``pass``)
    from_status: str
    to_status: str
    note: str | None
    measurements: dict[str, Decimal | str]
    move: int | None

    def as_row(self, *, flat: bool = False) -> dict[str, Any]:
        """A report row; ``flat`` writes measurements as ``name=value`` text (for tables)."""
        measured: Any = self.measurements
        if flat:
            measured = "; ".join(f"{k}={_value_text(v)}" for k, v in self.measurements.items())
        return {
            "id": self.id,
            "at": timefmt.local(self.at),
            "user": self.user,
            "item": self.item,
            "lot": self.lot,
            "location": self.location,
            "qty": self.qty,
            "result": self.result,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "note": self.note,
            "measurements": measured,
            "move": self.move,
        }


COLUMNS = [
    "id",
    "at",
    "user",
    "item",
    "lot",
    "location",
    "qty",
    "result",
    "from_status",
    "to_status",
    "note",
    "measurements",
    "move",
]


def listed_result(result: str, from_status: str) -> str:
    """The result as a record lists it: a stored ``pass`` out of ``rework`` is the
    ``reworked`` decision (the rework is done, the units wait for inspection again)."""
    return "reworked" if result == "pass" and from_status == "rework" else result


# -- measurements ------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.%/-]{0,39}")
# A plain decimal number, as typed: kept exactly, trailing zeros included (1.50 stays 1.50).
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def _value_text(value: Decimal | str) -> str:
    return format(value, "f") if isinstance(value, Decimal) else value


def parse_measurements(values: Iterable[str]) -> dict[str, Decimal | str]:
    """``NAME=VALUE`` texts -> an ordered mapping.

    A value that is a plain decimal number is kept as an exact Decimal, with the digits
    as typed (``1.50`` stays ``1.50``: the precision of a measurement is information);
    any other value is kept as text (``visual=ok``).
    """
    result: dict[str, Decimal | str] = {}
    for raw in values:
        name, sep, value = str(raw).partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InvalidInput(f"measurement {raw!r} must be NAME=VALUE (like sensitivity=-42.5)")
        if not _NAME.fullmatch(name):
            raise InvalidInput(
                f"measurement name {name!r} must start with a letter and use letters, digits "
                "and _ . % / - (up to 40 characters)"
            )
        if name.lower() in (n.lower() for n in result):
            raise InvalidInput(f"measurement {name} is given twice")
        if _NUMBER.fullmatch(value):
            if len(value) > 40:
                raise InvalidInput(f"measurement {name}={value[:37]}... has too many digits")
            result[name] = Decimal(value.lstrip("+"))
        else:
            result[name] = codes.text(value, what=f"measurement {name}", limit=100)  # type: ignore[assignment]
    return result


def measurements_json(values: Mapping[str, Decimal | str]) -> str:
    """JSON with numbers written exactly as their Decimal digits (no float round trip)."""
    parts = []
    for name, value in values.items():
        if isinstance(value, Decimal):
            text = format(value, "f")
            if text.startswith("."):
                text = "0" + text
            elif text.startswith("-."):
                text = "-0" + text[1:]
            encoded = text.rstrip(".") if text.endswith(".") else text
        else:
            encoded = json.dumps(value, ensure_ascii=False)
        parts.append(f"{json.dumps(name, ensure_ascii=False)}: {encoded}")
    return "{" + ", ".join(parts) + "}"


def read_measurements(text: str) -> dict[str, Decimal | str]:
    """The stored JSON back as exact values."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)  # type: ignore[no-any-return]


# -- finding the stock a decision applies to -------------------------------------------

_STOCK_OF = """
    SELECT l.code AS location, b.status, b.qty
      FROM balance AS b JOIN location AS l ON l.id = b.location_id
     WHERE b.item_id = :item AND b.lot_id IS :lot AND b.status IS NOT NULL AND b.qty > 0
       AND (:location IS NULL OR b.location_id = :location)
     ORDER BY l.code, b.status
"""


def describe(item: Item, lot: Lot | None) -> str:
    """``MIC-100 lot M-1`` / ``BT-7 serial S-9`` / ``SOLDER``: the stock a message names."""
    if lot is None:
        return item.code
    return f"{item.code} {'serial' if lot.serial else 'lot'} {lot.code}"


def _amount(item: Item, value: Decimal) -> str:
    return f"{q.fmt(value)} {item.unit}"


def stock_of(
    db: sqlite3.Connection, item: Item, lot: Lot | None, location_id: int | None = None
) -> list[tuple[str, str, Decimal]]:
    """(location, status, qty) of an item's (lot's) stock at real locations."""
    rows = db.execute(
        _STOCK_OF,
        {"item": item.id, "lot": lot.id if lot else None, "location": location_id},
    )
    return [(r["location"], r["status"], q.dec(r["qty"])) for r in rows]


def _resolve_lot(
    db: sqlite3.Connection, item: Item, lot: str | None, serial: str | None
) -> Lot | None:
    if lot and serial:
        raise InvalidInput("give --lot or --serial, not both")
    given = lot or serial
    if item.tracking == "none":
        if given:
            raise InvalidInput(
                f"{item.code} is not lot- or serial-tracked: leave out --lot/--serial"
            )
        return None
    if item.tracking == "lot":
        if serial:
            raise InvalidInput(f"{item.code} is lot-tracked: give --lot, not --serial")
        if not lot:
            raise InvalidInput(f"{item.code} is lot-tracked: give --lot")
    if item.tracking == "serial" and not given:
        raise InvalidInput(f"{item.code} is serial-tracked: give --serial")
    return ledger.get_lot(db, item, codes.lot_code(given, what="lot"))


_REWORK_HINT = "; reworked units go back to inspection with --reworked first"


def _source(
    db: sqlite3.Connection,
    item: Item,
    lot: Lot | None,
    decision: Decision,
    location: str | None,
    status: str | None,
) -> tuple[Place, Decimal]:
    """The one place (location and status) the decision takes stock from, and its stock.

    Refuses, naming where the stock is, when none of it is in a status the decision
    may take from, or when the choice is ambiguous (several locations or statuses).
    """
    sources = decision.sources
    if status is not None:
        status = ledger.parse_status(status, what="--status")
        if status not in decision.sources:
            hint = _REWORK_HINT if decision.name == "pass" and status == "rework" else ""
            raise InvalidInput(
                f"--{decision.name} takes stock from {' or '.join(decision.sources)}, "
                f"not from {status}{hint}"
            )
        sources = (status,)
    loc = locations.get_internal(db, location) if location is not None else None
    stock = stock_of(db, item, lot, loc.id if loc else None)
    what = describe(item, lot)
    at = f" at {loc.code}" if loc else ""
    wanted = " or ".join(sources)
    found = [s for s in stock if s[1] in sources]
    if not found:
        if not stock:
            raise RuleViolation(f"{what} has no stock{at}: nothing to {decision.verb}")
        if loc is not None:
            where = ", ".join(f"{s} ({_amount(item, n)})" for _, s, n in stock)
        else:
            where = ", ".join(f"{s} at {lc} ({_amount(item, n)})" for lc, s, n in stock)
        hint = ""
        if decision.name == "pass" and any(s == "rework" for _, s, _ in stock):
            hint = _REWORK_HINT
        raise RuleViolation(
            f"{what}{at} is {where}, not {wanted}: nothing to {decision.verb}{hint}"
        )
    places = sorted({lc for lc, _, _ in found})
    if len(places) > 1:
        where = ", ".join(f"{lc} ({s} {_amount(item, n)})" for lc, s, n in found)
        raise InvalidInput(f"{what} is {wanted} at several locations: {where}; give --location")
    statuses = [(s, n) for _, s, n in found]
    if len(statuses) > 1:
        where = ", ".join(f"{s} ({_amount(item, n)})" for s, n in statuses)
        raise InvalidInput(
            f"{what} at {places[0]} is in more than one status --{decision.name} takes from: "
            f"{where}; give --status"
        )
    return ledger.real_place(db, places[0], statuses[0][0]), statuses[0][1]


# Every move into or out of blocked stock of one item (lot) at one location, in ledger
# order, and the hold and unblock records that name their moves.
_BLOCKED_MOVES = """
    SELECT seq, qty, to_location_id = :loc AND to_status = 'blocked' AS arrived FROM move
     WHERE item_id = :item AND lot_id IS :lot
       AND ((to_location_id = :loc AND to_status = 'blocked')
            OR (from_location_id = :loc AND from_status = 'blocked'))
     ORDER BY seq
"""
_HOLD_RECORDS = """
    SELECT move_seq, result, from_status, to_status FROM inspection
     WHERE item_id = :item AND lot_id IS :lot AND location_id = :loc
       AND result IN ('hold', 'unblock') AND move_seq IS NOT NULL
"""


def _take(parcels: list[list[Any]], amount: Decimal, *, unblocked_to: str | None = None) -> None:
    """Take ``amount`` out of the blocked parcels, the most recent first within each tier.

    An unblock takes the units held from the status it returned them to, then units
    nobody vouched for (the remainder an unblock sends to ``UNBLOCK_DEFAULT``), then the
    rest. Any other move out takes the vouched units first: which units left is not
    recorded, and assuming the vouched ones did never lets an unvouched unit skip
    inspection.
    """

    def tier(held: str | None) -> int:
        if unblocked_to is None:
            return 1 if held is None else 0
        return 0 if held == unblocked_to else 1 if held is None else 2

    for parcel in sorted(reversed(parcels), key=lambda p: tier(p[0])):  # stable: recent first
        if amount <= 0:
            return
        take = min(amount, parcel[1])
        parcel[1] -= take
        amount -= take


def _held_from(
    db: sqlite3.Connection, item: Item, lot: Lot | None, where: Place
) -> list[tuple[str | None, Decimal]]:
    """The blocked stock of a lot at a location as parcels, oldest first: the status a
    hold took it from, or None for units that came without a hold record.

    A replay of the ledger: a hold's move brings units it vouches for; any other move in
    (an adjustment, a count, a move from elsewhere) brings units nobody vouches for. An
    unblock takes back what was held from the status it returned to; any other move out
    (an adjustment, a count, a move elsewhere) is assumed to take the vouched units first,
    so that what is left without a record is inspected again.
    """
    params = {"item": item.id, "lot": lot.id if lot else None, "loc": where.location.id}
    records = {r["move_seq"]: r for r in db.execute(_HOLD_RECORDS, params)}
    parcels: list[list[Any]] = []
    for move in db.execute(_BLOCKED_MOVES, params):
        amount = q.dec(move["qty"])
        record = records.get(move["seq"])
        if move["arrived"]:
            held = record["from_status"] if record and record["result"] == "hold" else None
            parcels.append([held, amount])
        elif record is not None and record["result"] == "unblock":
            _take(parcels, amount, unblocked_to=record["to_status"])
        else:
            _take(parcels, amount)
        parcels = [p for p in parcels if p[1] > 0]
    return [(p[0], p[1]) for p in parcels]


def _unblock_targets(
    db: sqlite3.Connection, item: Item, lot: Lot | None, where: Place, amount: Decimal
) -> list[tuple[str, Decimal]]:
    """Split an unblocked quantity over the statuses it was held from, the least trusted
    first (``UNBLOCK_ORDER``; the most recent hold first among equals); what no hold
    record vouches for goes to ``UNBLOCK_DEFAULT``."""

    def rank(status: str) -> int:
        return UNBLOCK_ORDER.index(status) if status in UNBLOCK_ORDER else -1

    parcels = [(held or UNBLOCK_DEFAULT, n) for held, n in _held_from(db, item, lot, where)]
    left = amount
    split: dict[str, Decimal] = {}
    for status, held in sorted(reversed(parcels), key=lambda p: rank(p[0])):  # stable
        if left <= 0:
            break
        take = min(left, held)
        split[status] = split.get(status, Decimal(0)) + take
        left -= take
    if left > 0:
        split[UNBLOCK_DEFAULT] = split.get(UNBLOCK_DEFAULT, Decimal(0)) + left
    return list(split.items())


# -- the decision --------------------------------------------------------------------


def inspect(
    db: sqlite3.Connection,
    *,
    item: str,
    decision: str,
    user: str,
    lot: str | None = None,
    serial: str | None = None,
    location: str | None = None,
    qty: object = None,
    status: str | None = None,
    note: str | None = None,
    measurements: Iterable[str] = (),
) -> list[Inspection]:
    """Record a quality decision and move the stock it applies to.

    Args:
        decision: a key of ``DECISIONS`` (pass, fail, rework, reworked, hold, unblock).
        location: where the stock is; default the one location holding the item (lot)
            in a status the decision takes from.
        qty: how much (base unit); default all of it in that status at that location.
        status: the status to take from, when the stock is in several the decision allows.
        measurements: ``NAME=VALUE`` texts, stored exactly.

    Returns:
        The inspection records written: one, or for an unblock that returns stock to
        several earlier statuses, one per status.

    Raises:
        InvalidInput: bad quantity (a fraction of a serial-tracked item included),
            measurement, missing or needless lot/serial.
        NotFound: unknown item, lot or location.
        RuleViolation: no stock in a status the decision may take from (the message says
            where the stock is), or not that much of it.
    """
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}")
    rule = DECISIONS[decision]
    it = items.get(db, item)
    lot_row = _resolve_lot(db, it, lot, serial)
    measured = parse_measurements(measurements)
    note = codes.text(note, what="note", required=False)
    where, have = _source(db, it, lot_row, rule, location, status)
    amount = have if qty is None else it.to_base(q.parse_qty(qty, what="--qty"), None)
    q.to_micro(amount, what="--qty")
    if qty is not None:
        # A serial is one unit: half of it cannot be in one status and half in another.
        items.check_whole(it, amount, what="--qty")
    if amount > have:
        raise RuleViolation(
            f"only {_amount(it, have)} of {describe(it, lot_row)} at {where.location.code} "
            f"are {where.status}, not {q.fmt(amount)}"
        )
    if rule.name == "unblock":
        targets = _unblock_targets(db, it, lot_row, where, amount)
    elif rule.name == "pass":
        targets = [("awaiting_release" if it.release_criteria else "available", amount)]
    else:
        targets = [(rule.target or "", amount)]
    stamp = timefmt.now()
    records = []
    for to_status, part in targets:
        move = None
        if to_status != where.status:
            move = ledger.post(
                db,
                item=it,
                qty=part,
                source=where,
                target=ledger.real_place(db, where.location.code, to_status),
                lot=lot_row,
                kind="inspection",
                user=user,
                reason=f"inspection: {rule.name}" + (f" ({note})" if note else ""),
            )
        cur = db.execute(
            "INSERT INTO inspection (item_id, lot_id, location_id, qty, result, from_status, "
            "to_status, note, measurements, user, at, move_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                it.id,
                lot_row.id if lot_row else None,
                where.location.id,
                q.to_micro(part),
                rule.result,
                where.status,
                to_status,
                note,
                measurements_json(measured),
                user,
                stamp,
                move.seq if move else None,
            ),
        )
        records.append(
            Inspection(
                id=cur.lastrowid,  # type: ignore[arg-type]
                at=stamp,
                user=user,
                item=it.code,
                lot=lot_row.code if lot_row else None,
                location=where.location.code,
                qty=part,
                unit=it.unit,
                result=listed_result(rule.result, where.status or ""),
                from_status=where.status or "",
                to_status=to_status,
                note=note,
                measurements=measured,
                move=move.seq if move else None,
            )
        )
    return records


# -- the records -----------------------------------------------------------------------

_LIST = """
    SELECT n.id, n.at, n.user, i.code AS item, i.unit, t.code AS lot, l.code AS location,
           n.qty, n.result, n.from_status, n.to_status, n.note, n.measurements, n.move_seq
      FROM inspection AS n
      JOIN item AS i ON i.id = n.item_id
      JOIN location AS l ON l.id = n.location_id
      LEFT JOIN lot AS t ON t.id = n.lot_id
     WHERE (:item IS NULL OR n.item_id = :item)
       AND (:lot IS NULL OR t.code = :lot)
       AND (:since IS NULL OR n.at >= :since)
     ORDER BY n.at, n.id
"""


def records(
    db: sqlite3.Connection,
    *,
    item: str | None = None,
    lot: str | None = None,
    since: str | None = None,
) -> list[Inspection]:
    """Inspection records in time order, optionally of one item, lot (code), since a date."""
    item_id = items.get(db, item).id if item is not None else None
    lot_code = codes.lot_code(lot, what="--lot") if lot is not None else None
    since_at = timefmt.parse_moment(since, what="--since") if since is not None else None
    rows = db.execute(_LIST, {"item": item_id, "lot": lot_code, "since": since_at})
    return [
        Inspection(
            id=r["id"],
            at=r["at"],
            user=r["user"],
            item=r["item"],
            lot=r["lot"],
            location=r["location"],
            qty=q.dec(r["qty"]),
            unit=r["unit"],
            result=listed_result(r["result"], r["from_status"]),
            from_status=r["from_status"],
            to_status=r["to_status"],
            note=r["note"],
            measurements=read_measurements(r["measurements"]),
            move=r["move_seq"],
        )
        for r in rows
    ]


def passed(db: sqlite3.Connection, item: Item, lot: Lot) -> bool:
    """Whether a pass inspection of this lot is recorded (a pass of the units, not the
    return of reworked units to inspection)."""
    row = db.execute(
        "SELECT 1 FROM inspection WHERE item_id = ? AND lot_id = ? AND result = 'pass' "
        "AND from_status <> 'rework' LIMIT 1",
        (item.id, lot.id),
    ).fetchone()
    return row is not None
