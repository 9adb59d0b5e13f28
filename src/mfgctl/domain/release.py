"""Release: finished goods become sellable only when every release criterion is met.

An item's ``release_criteria`` name what must be true of a lot (or serial) before its
stock may leave ``awaiting_release`` for ``available``: ``[inspection, labeling,
packaging, documentation]``. Each criterion is met by a *sign-off* of that lot
(``release_signoff``: who, when, a note), except ``inspection``, which is met by a
recorded pass inspection of the lot (``domain.quality``), never by a signature.

Releasing moves the lot's ``awaiting_release`` stock to ``available`` at the same
location, one move per location. It is refused, listing the unmet criteria, while any
criterion is unmet. Release works per lot: an item with release criteria should be lot-
or serial-tracked.
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


def met_criteria(db: sqlite3.Connection, item: Item, lot: Lot) -> tuple[list[str], list[str]]:
    """(met, unmet) criteria of a lot, each in the item's order."""
    signed = _signed(db, item, lot)
    met, unmet = [], []
    for criterion in item.release_criteria:
        ok = quality.passed(db, item, lot) if criterion == INSPECTION else criterion in signed
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
) -> list[Move]:
    """Move a lot's ``awaiting_release`` stock to ``available`` (at every location, or
    at ``location``) once every release criterion is met.

    Raises:
        RuleViolation: a criterion is unmet (the message lists them), or nothing of the
            lot awaits release there (the message says where its stock is).
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
    met, unmet = met_criteria(db, it, lot_row)
    if unmet:
        done = f" (met: {', '.join(met)})" if met else ""
        steps = []
        if INSPECTION in unmet:
            steps.append(f"mfgctl inspect {it.code} --lot {lot_row.code} --pass")
        if any(c != INSPECTION for c in unmet):
            steps.append(f"mfgctl release check {lot_row.code} CRITERION")
        raise RuleViolation(
            f"{what} cannot be released: criteria not met: {', '.join(unmet)}{done}; "
            f"next: {' and '.join(steps)}"
        )
    reason = "release: " + (
        f"criteria met: {', '.join(met)}" if met else f"{it.code} has no release criteria"
    )
    return [
        ledger.post(
            db,
            item=it,
            qty=n,
            source=ledger.real_place(db, lc, "awaiting_release"),
            target=ledger.real_place(db, lc, "available"),
            lot=lot_row,
            kind="release",
            user=user,
            reason=reason,
        )
        for lc, n in waiting
    ]


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
