"""Release: finished goods become sellable only when every release criterion is met.

An item's ``release_criteria`` name what must be true of a lot (or serial) before its
stock may leave ``awaiting_release`` for ``available``: ``[inspection, labeling,
packaging, documentation]``. Each criterion is met by a *sign-off* of that lot
(``release_signoff``: who, when, a note, the quantity it covers), except
``inspection``, which is met by a recorded pass inspection of the lot
(``domain.quality``), never by a signature.

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
- A sign-off is counted the same way (``signoff_coverage``), per criterion: it covers
  every unit of the lot in ``awaiting_release`` when it is recorded (after the ledger's
  move ``through_seq``; its ``qty``). Units reaching ``awaiting_release`` later need a
  new sign-off of that criterion, which covers everything then waiting; units leaving
  other than by a release use it up first; a release uses up what it moves. Signing
  off when nothing awaits release, or when a sign-off already covers all of it, is
  refused. Every sign-off stays recorded. (A sign-off from before schema 13, when one
  held for the whole lot, took effect at the upgrade: see ``migrations``.)

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
    """A recorded sign-off: it covers ``qty`` (base unit), what awaited release then."""

    item: str
    lot: str
    criterion: str
    note: str | None
    user: str
    at: str
    qty: Decimal
    unit: str
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
            "qty": self.qty,
            "note": self.note,
            "user": self.user,
            "at": timefmt.local(self.at),
        }


# The lot's moves in and out of ``awaiting_release`` (transfers between two
# awaiting_release places do not count) and its sign-offs, each after the last move it
# saw, in ledger order.
_SIGNOFF_HISTORY = """
    SELECT m.seq, 0 AS tie, m.qty,
           CASE WHEN m.to_status IS 'awaiting_release' THEN 'in' ELSE 'out' END AS event,
           NULL AS criterion
      FROM move AS m
     WHERE m.item_id = :item AND m.lot_id = :lot
       AND (m.from_status IS 'awaiting_release') <> (m.to_status IS 'awaiting_release')
    UNION ALL
    SELECT s.through_seq, s.id, NULL, 'signed', s.criterion FROM release_signoff AS s
     WHERE s.item_id = :item AND s.lot_id = :lot
     ORDER BY 1, 2
"""


@dataclass(frozen=True, slots=True)
class SignoffCoverage:
    """How much of a lot awaits release, and how much of that each criterion's
    sign-offs cover (only criteria signed off at least once are keys)."""

    waiting: Decimal
    covered: dict[str, Decimal]


def signoff_coverage(db: sqlite3.Connection, item: Item, lot: Lot) -> SignoffCoverage:
    """The lot's ``awaiting_release`` stock and, per criterion, the part of it its
    sign-offs cover, replayed from the ledger (see the module docstring)."""
    waiting = Decimal(0)
    covered: dict[str, Decimal] = {}
    for row in db.execute(_SIGNOFF_HISTORY, {"item": item.id, "lot": lot.id}):
        if row["event"] == "signed":
            covered[row["criterion"]] = max(waiting, Decimal(0))
            continue
        n = q.dec(row["qty"])
        if row["event"] == "in":
            waiting += n
        else:
            waiting -= n
            # A release moves covered units; anything else may have taken covered ones.
            covered = {c: max(Decimal(0), v - n) for c, v in covered.items()}
    waiting = max(waiting, Decimal(0))
    return SignoffCoverage(waiting, {c: min(v, waiting) for c, v in covered.items()})


def _last_signoff(db: sqlite3.Connection, item: Item, lot: Lot, criterion: str) -> sqlite3.Row:
    """The lot's latest sign-off of ``criterion`` (one exists)."""
    return db.execute(
        "SELECT user, at FROM release_signoff WHERE item_id = ? AND lot_id = ? "
        "AND criterion = ? ORDER BY through_seq DESC, id DESC LIMIT 1",
        (item.id, lot.id, criterion),
    ).fetchone()


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

    ``inspection`` is met when a pass covers that much, any other criterion when its
    sign-offs cover that much (and, with nothing awaiting release, only once the lot
    has passed, or been signed off: the criterion is still open).
    """
    signed = signoff_coverage(db, item, lot)
    met, unmet = [], []
    for criterion in item.release_criteria:
        if criterion == INSPECTION:
            cov = coverage(db, item, lot)
            amount = cov.waiting if qty is None else qty
            ok = cov.passed >= amount > 0 or (amount == 0 and quality.passed(db, item, lot))
        else:
            amount = signed.waiting if qty is None else qty
            covered = signed.covered.get(criterion)
            ok = covered is not None and (covered >= amount > 0 or amount == 0)
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
    """Sign off one release criterion of a lot (or serial): the sign-off covers every
    unit of the lot awaiting release now (at every location).

    Raises:
        RuleViolation: the item has no such criterion (the message lists its criteria),
            the criterion is ``inspection`` (met by a pass inspection), nothing of the
            lot awaits release (the message says where its stock is), or a sign-off of
            that criterion already covers all of it.
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
    cov = signoff_coverage(db, it, lot_row)
    if cov.waiting <= 0:
        stock = quality.stock_of(db, it, lot_row)
        if not stock:
            raise RuleViolation(f"{what} has no stock: nothing awaits release to sign off")
        where = ", ".join(f"{s} at {lc} ({q.fmt(n)} {it.unit})" for lc, s, n in stock)
        raise RuleViolation(
            f"{what} has nothing awaiting release to sign off for {name}: it is {where}"
        )
    if cov.covered.get(name, Decimal(0)) >= cov.waiting:
        last = _last_signoff(db, it, lot_row, name)
        raise RuleViolation(
            f"criterion {name} of {what} was already signed off by {last['user']} on "
            f"{timefmt.local(last['at'])} for the {q.fmt(cov.waiting)} {it.unit} awaiting "
            "release: only units reaching awaiting_release after it need a new sign-off"
        )
    note = codes.text(note, what="note", required=False)
    stamp = timefmt.now()
    db.execute(
        "INSERT INTO release_signoff "
        "(item_id, lot_id, criterion, note, user, at, qty, through_seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) FROM move))",
        (it.id, lot_row.id, name, note, user, stamp, q.to_micro(cov.waiting)),
    )
    return Signoff(
        it.code, lot_row.code, name, note, user, stamp, cov.waiting, it.unit, lot_row.serial
    )


SIGNOFF_COLUMNS = ["item", "lot", "criterion", "qty", "note", "user", "at"]


def signoffs(db: sqlite3.Connection, lot: str, item: str | None = None) -> list[Signoff]:
    """Every sign-off recorded for a lot (or serial), oldest first: who signed which
    criterion, when, and how much awaited release then (what it covered).

    Raises:
        NotFound: no such lot (or serial) of the item.
        InvalidInput: the code belongs to several items and ``item`` is not given.
    """
    it, lot_row = find_lot(db, lot, item)
    rows = db.execute(
        "SELECT criterion, note, user, at, qty FROM release_signoff "
        "WHERE item_id = ? AND lot_id = ? ORDER BY through_seq, id",
        (it.id, lot_row.id),
    )
    return [
        Signoff(
            it.code,
            lot_row.code,
            r["criterion"],
            r["note"],
            r["user"],
            r["at"],
            q.dec(r["qty"]),
            it.unit,
            lot_row.serial,
        )
        for r in rows
    ]


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
        InvalidInput: a bad quantity, a fraction of a serial (one unit each).
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
    items.check_whole(it, amount, what="--qty")
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
    """One line: the lot, the unmet criteria, how much of the quantity a pass (and a
    criterion signed off before) covers, and the next steps."""
    what = quality.describe(it, lot_row)
    done = f" (met: {', '.join(met)})" if met else ""
    text = f"{what} cannot be released: criteria not met: {', '.join(unmet)}{done}"
    to_release = f"{q.fmt(amount)} {it.unit} to release{at}"
    signed = signoff_coverage(db, it, lot_row).covered
    # What each criterion covers: the part of the lot every one of them covers can go.
    covers = {c: signed.get(c, Decimal(0)) for c in it.release_criteria if c != INSPECTION}
    steps = []
    if INSPECTION in unmet:
        passed = coverage(db, it, lot_row).passed
        covers[INSPECTION] = passed
        if passed > 0:
            text += f"; a pass inspection covers only {q.fmt(passed)} of the {to_release}"
        else:
            text += f"; no pass inspection covers the {to_release}"
        steps.append(f"mfgctl inspect {it.code} --lot {lot_row.code} --pass")
    to_sign = [c for c in unmet if c != INSPECTION]
    for c in to_sign:
        if c not in signed:
            continue  # never signed off: "criteria not met" says it all
        if signed[c] > 0:
            text += f"; a sign-off of {c} covers only {q.fmt(signed[c])} of the {to_release}"
        else:
            text += f"; no sign-off of {c} covers the {to_release}"
    if to_sign:
        criterion = to_sign[0] if len(to_sign) == 1 else "CRITERION"
        steps.append(f"mfgctl release check {lot_row.code} {criterion}")
    covered = min(covers.values(), default=Decimal(0))
    alternative = (
        f", or release the covered part: mfgctl release {lot_row.code} --qty {q.fmt(covered)}"
        if covered > 0
        else ""
    )
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
