"""Release: finished goods become sellable only when every release criterion is met.

An item's ``release_criteria`` name what must be true of a lot (or serial) before its
stock may leave ``awaiting_release`` for ``available``: ``[inspection, labeling,
packaging, documentation]``. Each criterion is met by a *sign-off* of that lot
(``release_signoff``: who, when, a note), except ``inspection``, which is met by a
recorded pass inspection of the lot (``domain.quality``), never by a signature.

The criteria are checked for the quantity being released, not only for the lot:

- ``inspection`` covers what a pass vouches for. A pass accepts the lot as it stands when
  it is recorded (lot acceptance: the inspector chooses the sample), so it covers every
  unit of the lot then in ``awaiting_release`` or put there by the pass. Units that enter
  ``awaiting_release`` later without a pass (output completed into the lot afterwards,
  an adjustment, an unblock) are not covered until the lot passes again. Units that
  leave ``awaiting_release`` other than by a release (failed, reworked, held, counted
  out) are taken from the covered ones first: what nobody can vouch for is inspected
  again. A release uses up what it moves. The count is kept for the lot as a whole,
  replayed from the ledger and the inspection records (``coverage``).
- A sign-off is recorded once per lot and criterion (the schema allows one) and holds
  for the whole lot.

Releasing moves the lot's ``awaiting_release`` stock (all of it, or ``qty``) to
``available`` at the same location, one move per location. It is refused, naming the
lot, the quantity and the unmet criteria, while any criterion is unmet for that
quantity. Release works per lot: an item with release criteria should be lot- or
serial-tracked.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, items, ledger, locations, quality
from mfgctl.domain.items import Item
from mfgctl.domain.ledger import Lot, Move
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

# The criterion met by a recorded pass inspection instead of a sign-off.
INSPECTION = "inspection"


def find_lot(db: sqlite3.Connection, code: str, item: str | None = None) -> tuple[Item, Lot]:
    """The lot (or serial) with this code; ``item`` is needed only when several items
    have a lot with that code.

    Raises:
        NotFound: no such lot (of that item).
        InvalidInput: the code exists for several items and no item was given.
    """
    lot_code = codes.lot_code(code, what="lot")
    if item is not None:
        it = items.get(db, item)
        return it, ledger.get_lot(db, it, lot_code)
    owners = [
        r[0]
        for r in db.execute(
            "SELECT i.code FROM lot AS l JOIN item AS i ON i.id = l.item_id "
            "WHERE l.code = ? ORDER BY i.code",
            (lot_code,),
        )
    ]
    if not owners:
        raise NotFound(f"no lot or serial {lot_code!r}")
    if len(owners) > 1:
        raise InvalidInput(
            f"lot {lot_code} exists for several items ({', '.join(owners)}): give --item"
        )
    it = items.get(db, owners[0])
    return it, ledger.get_lot(db, it, lot_code)


@dataclass(frozen=True, slots=True)
class Signoff:
    item: str
    lot: str
    criterion: str
    note: str | None
    user: str
    at: str
    serial: bool = False

    @property
    def label(self) -> str:
        """``HS-1 lot H1`` or ``HD-200 serial S-1``, for messages."""
        return f"{self.item} {'serial' if self.serial else 'lot'} {self.lot}"

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "lot": self.lot,
            "criterion": self.criterion,
            "note": self.note,
            "user": self.user,
            "at": timefmt.local(self.at),
        }


def _signed(db: sqlite3.Connection, item: Item, lot: Lot) -> dict[str, tuple[str, str]]:
    """criterion -> (user, at) of the lot's sign-offs."""
    rows = db.execute(
        "SELECT criterion, user, at FROM release_signoff WHERE item_id = ? AND lot_id = ?",
        (item.id, lot.id),
    )
    return {r["criterion"]: (r["user"], r["at"]) for r in rows}


# The lot's history in and out of ``awaiting_release`` (transfers between two
# awaiting_release places do not count), with the passes recorded on stock already there
# (which move nothing), in the order it happened.
_HISTORY = """
    SELECT m.recorded_at AS at, m.seq, m.qty,
           CASE WHEN m.to_status IS NOT 'awaiting_release' THEN 'out'
                WHEN n.result = 'pass' AND n.from_status <> 'rework' THEN 'passed_in'
                ELSE 'in' END AS event
      FROM move AS m LEFT JOIN inspection AS n ON n.move_seq = m.seq
     WHERE m.item_id = :item AND m.lot_id = :lot
       AND (m.from_status IS 'awaiting_release') <> (m.to_status IS 'awaiting_release')
    UNION ALL
    SELECT n.at, NULL, n.qty, 'pass' FROM inspection AS n
     WHERE n.item_id = :item AND n.lot_id = :lot AND n.result = 'pass'
       AND n.from_status = 'awaiting_release' AND n.move_seq IS NULL
     ORDER BY at, seq
"""


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of a lot awaits release, and how much of that a pass vouches for."""

    waiting: Decimal
    passed: Decimal


def coverage(db: sqlite3.Connection, item: Item, lot: Lot) -> Coverage:
    """The lot's ``awaiting_release`` stock (every location) and the part of it covered
    by a pass inspection, replayed from its history (see the module docstring)."""
    waiting = passed = Decimal(0)
    for row in db.execute(_HISTORY, {"item": item.id, "lot": lot.id}):
        n = q.dec(row["qty"])
        if row["event"] == "out":
            waiting -= n
            # A release moves covered units; anything else may have taken covered ones.
            passed = max(Decimal(0), passed - n)
        elif row["event"] == "in":
            waiting += n
        elif row["event"] == "passed_in":
            waiting += n
            passed = waiting
        else:  # a pass of stock already awaiting release
            passed = waiting
    return Coverage(waiting=max(waiting, Decimal(0)), passed=min(passed, max(waiting, Decimal(0))))


def met_criteria(
    db: sqlite3.Connection, item: Item, lot: Lot, qty: Decimal | None = None
) -> tuple[list[str], list[str]]:
    """(met, unmet) criteria of a lot for releasing ``qty`` (default: all of it that
    awaits release), each in the item's order.

    ``inspection`` is met when a pass covers that much (and, with nothing awaiting
    release, only once the lot has passed: the criterion is still open).
    """
    signed = _signed(db, item, lot)
    met, unmet = [], []
    for criterion in item.release_criteria:
        if criterion == INSPECTION:
            cov = coverage(db, item, lot)
            amount = cov.waiting if qty is None else qty
            ok = cov.passed >= amount > 0 or (amount == 0 and quality.passed(db, item, lot))
        else:
            ok = criterion in signed
        (met if ok else unmet).append(criterion)
    return met, unmet


def sign_off(
    db: sqlite3.Connection,
    *,
    lot: str,
    criterion: str,
    user: str,
    item: str | None = None,
    note: str | None = None,
) -> Signoff:
    """Sign off one release criterion of a lot (or serial).

    Raises:
        RuleViolation: the item has no such criterion (the message lists its criteria),
            the criterion is ``inspection`` (met by a pass inspection), or it is
            already signed off.
    """
    it, lot_row = find_lot(db, lot, item)
    name = str(criterion).strip().lower()
    what = quality.describe(it, lot_row)
    if not it.release_criteria:
        raise RuleViolation(f"{it.code} has no release criteria: nothing to sign off")
    if name not in it.release_criteria:
        raise RuleViolation(
            f"{it.code} has no release criterion {criterion.strip()!r} "
            f"(its criteria: {', '.join(it.release_criteria)})"
        )
    if name == INSPECTION:
        raise RuleViolation(
            f"criterion inspection of {what} is met by a recorded pass inspection, not a "
            f"sign-off: run mfgctl inspect {it.code} --lot {lot_row.code} --pass"
        )
    signed = _signed(db, it, lot_row)
    if name in signed:
        by, at = signed[name]
        raise RuleViolation(
            f"criterion {name} of {what} was already signed off by {by} on {timefmt.local(at)}"
        )
    note = codes.text(note, what="note", required=False)
    stamp = timefmt.now()
    db.execute(
        "INSERT INTO release_signoff (item_id, lot_id, criterion, note, user, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (it.id, lot_row.id, name, note, user, stamp),
    )
    return Signoff(it.code, lot_row.code, name, note, user, stamp, lot_row.serial)


def release(
    db: sqlite3.Connection,
    *,
    lot: str,
    user: str,
    item: str | None = None,
    location: str | None = None,
    qty: object = None,
) -> list[Move]:
    """Move a lot's ``awaiting_release`` stock to ``available`` (at every location, or
    at ``location``) once every release criterion is met for that quantity.

    Args:
        qty: how much (base unit); default all of it that awaits release there. Taken
            from the locations in code order.

    Raises:
        InvalidInput: a bad quantity.
        RuleViolation: a criterion is unmet for that quantity (the message names the lot,
            the quantity, the unmet criteria and how much a pass covers), more is asked
            than awaits release, or nothing of the lot awaits release there (the message
            says where its stock is).
    """
    it, lot_row = find_lot(db, lot, item)
    what = quality.describe(it, lot_row)
    loc = locations.get_internal(db, location) if location is not None else None
    stock = quality.stock_of(db, it, lot_row, loc.id if loc else None)
    waiting = [(lc, n) for lc, s, n in stock if s == "awaiting_release"]
    at = f" at {loc.code}" if loc else ""
    if not waiting:
        if not stock:
            raise RuleViolation(f"{what} has no stock{at}: nothing to release")
        where = ", ".join(f"{s} at {lc} ({q.fmt(n)} {it.unit})" for lc, s, n in stock)
        raise RuleViolation(f"{what} has nothing awaiting release{at}: it is {where}")
    here = sum((n for _, n in waiting), Decimal(0))
    amount = here if qty is None else it.to_base(q.parse_qty(qty, what="--qty"), None)
    q.to_micro(amount, what="--qty")
    if amount > here:
        raise RuleViolation(
            f"only {q.fmt(here)} {it.unit} of {what} await release{at}, not {q.fmt(amount)}"
        )
    met, unmet = met_criteria(db, it, lot_row, amount)
    if unmet:
        raise RuleViolation(_refusal(db, it, lot_row, amount, at, met, unmet))
    reason = "release: " + (
        f"criteria met: {', '.join(met)}" if met else f"{it.code} has no release criteria"
    )
    moves = []
    left = amount
    for lc, n in waiting:
        if left <= 0:
            break
        part = min(n, left)
        left -= part
        moves.append(
            ledger.post(
                db,
                item=it,
                qty=part,
                source=ledger.real_place(db, lc, "awaiting_release"),
                target=ledger.real_place(db, lc, "available"),
                lot=lot_row,
                kind="release",
                user=user,
                reason=reason,
            )
        )
    return moves


def _refusal(
    db: sqlite3.Connection,
    it: Item,
    lot_row: Lot,
    amount: Decimal,
    at: str,
    met: list[str],
    unmet: list[str],
) -> str:
    """One line: the lot, the unmet criteria, how much of the quantity a pass covers,
    and the next steps."""
    what = quality.describe(it, lot_row)
    done = f" (met: {', '.join(met)})" if met else ""
    text = f"{what} cannot be released: criteria not met: {', '.join(unmet)}{done}"
    steps, alternative = [], ""
    if INSPECTION in unmet:
        passed = coverage(db, it, lot_row).passed
        to_release = f"{q.fmt(amount)} {it.unit} to release{at}"
        if passed > 0:
            text += f"; a pass inspection covers only {q.fmt(passed)} of the {to_release}"
            if unmet == [INSPECTION]:
                alternative = (
                    f", or release the covered part: mfgctl release {lot_row.code} "
                    f"--qty {q.fmt(passed)}"
                )
        else:
            text += f"; no pass inspection covers the {to_release}"
        steps.append(f"mfgctl inspect {it.code} --lot {lot_row.code} --pass")
    if any(c != INSPECTION for c in unmet):
        steps.append(f"mfgctl release check {lot_row.code} CRITERION")
    return f"{text}; next: {' and '.join(steps)}{alternative}"


@dataclass(frozen=True, slots=True)
class Waiting:
    """A lot with stock in ``awaiting_release``, and where it stands."""

    item: str
    lot: str | None
    qty: Decimal
    locations: tuple[str, ...]
    met: tuple[str, ...]
    unmet: tuple[str, ...]

    @property
    def releasable(self) -> bool:
        return self.lot is not None and not self.unmet

    def as_row(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "lot": self.lot,
            "qty": self.qty,
            "locations": list(self.locations),
            "met": list(self.met),
            "unmet": list(self.unmet),
            "releasable": self.releasable,
        }


_WAITING = """
    SELECT b.item_id, i.code AS item, b.lot_id, t.code AS lot, l.code AS location, b.qty
      FROM balance AS b
      JOIN item AS i ON i.id = b.item_id
      JOIN location AS l ON l.id = b.location_id
      LEFT JOIN lot AS t ON t.id = b.lot_id
     WHERE b.status = 'awaiting_release' AND b.qty > 0
       AND (:item IS NULL OR b.item_id = :item)
     ORDER BY i.code COLLATE NOCASE, t.code COLLATE NOCASE, l.code
"""


def waiting(db: sqlite3.Connection, *, item: str | None = None) -> list[Waiting]:
    """Every lot waiting in ``awaiting_release``, with its met and unmet criteria.

    Stock of an untracked item lists every criterion as unmet: release works per lot.
    """
    item_id = items.get(db, item).id if item is not None else None
    grouped: dict[tuple[int, int | None], list[sqlite3.Row]] = {}
    for row in db.execute(_WAITING, {"item": item_id}):
        grouped.setdefault((row["item_id"], row["lot_id"]), []).append(row)
    result = []
    for rows in grouped.values():
        it = items.get(db, rows[0]["item"])
        if rows[0]["lot"] is None:
            met, unmet = [], list(it.release_criteria) or ["lot (release works per lot)"]
        else:
            met, unmet = met_criteria(db, it, ledger.get_lot(db, it, rows[0]["lot"]))
        result.append(
            Waiting(
                item=it.code,
                lot=rows[0]["lot"],
                qty=sum((q.dec(r["qty"]) for r in rows), Decimal(0)),
                locations=tuple(r["location"] for r in rows),
                met=tuple(met),
                unmet=tuple(unmet),
            )
        )
    return result
