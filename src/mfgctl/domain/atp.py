"""Available to promise: what of an item sales can still promise, by date. A pure
function of an ``mrp.Snapshot``.

Cumulative ATP with look-ahead, one row per date on which something happens within
the horizon (the start date first, then every receipt and commitment date):

* supply: **free** stock (available - reserved) and finished goods awaiting release
  (not stock pending inspection, and safety stock is not held back) plus scheduled
  receipts: open purchase orders' open quantity and open production orders' expected
  output, on their due dates;
* committed: open **sales** orders, less what reservations for their reference hold
  (that stock is out of free stock already; forecasts promise nothing and are left out), and
  what open production orders still need of the item (as MRP counts it), on their
  dates;
* expiring: the stock of lots that expire within the horizon before the commitments
  use it (first expired, first used), gone the day after the expiry date;
* anything due before the start counts on the start date; anything due on or after
  the end of the horizon (start + horizon days) is left out;
* ``cumulative`` = free + receipts - committed - expiring up to and including the date;
  ``atp`` = the smallest cumulative on this or any later date, never below zero: what
  can still be promised for delivery on that date without breaking a later commitment.

A date with a negative cumulative is *over-committed*: promises already made there
cannot all be kept from the stock and receipts known.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mfgctl import qty as q
from mfgctl.domain.mrp import Snapshot, expiries
from mfgctl.errors import NotFound

COLUMNS = ["date", "receipts", "committed", "cumulative", "atp", "expiring"]  # new ones last


@dataclass(frozen=True, slots=True)
class Row:
    day: date
    receipts: int
    committed: int
    cumulative: int
    atp: int
    expiring: int = 0

    def as_row(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "receipts": q.dec(self.receipts),
            "committed": q.dec(self.committed),
            "cumulative": q.dec(self.cumulative),
            "atp": q.dec(self.atp),
            "expiring": q.dec(self.expiring),
        }


@dataclass(frozen=True, slots=True)
class Atp:
    item: str
    unit: str
    start: date
    horizon_days: int
    free: int
    rows: tuple[Row, ...]

    @property
    def over_committed(self) -> tuple[Row, ...]:
        """The rows whose cumulative is below zero."""
        return tuple(r for r in self.rows if r.cumulative < 0)

    def title(self) -> str:
        return (
            f"Available to promise: {self.item} from {self.start} for {self.horizon_days} "
            f"days, free stock {q.fmt(q.dec(self.free))} {self.unit}"
        )

    def document(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "unit": self.unit,
            "start": self.start.isoformat(),
            "horizon_days": self.horizon_days,
            "free": q.dec(self.free),
            "rows": [r.as_row() for r in self.rows],
            "over_committed": [r.day.isoformat() for r in self.over_committed],
        }


def atp(snap: Snapshot, item: str, *, start: date, horizon_days: int) -> Atp:
    """The ATP rows of ``item`` from ``start`` for ``horizon_days``.

    Raises:
        NotFound: an unknown or inactive item.
    """
    key = item.strip().upper()
    part = snap.parts.get(key)
    if part is None:
        raise NotFound(f"unknown or inactive item {item!r}")
    end = start + timedelta(days=horizon_days)
    receipts: dict[date, int] = defaultdict(int)
    committed: dict[date, int] = defaultdict(int)
    for r in snap.receipts:
        if r.item == key and r.due < end:
            receipts[max(r.due, start)] += r.qty
    for d in snap.demands:
        if d.item == key and d.kind == "sales" and d.due < end and d.qty > d.reserved:
            # Stock reserved for the order is out of free stock already: only the rest.
            committed[max(d.due, start)] += d.qty - d.reserved
    for n in snap.order_needs:
        needed = n.needed_on(start)
        if n.item == key and needed < end:
            committed[max(needed, start)] += n.qty
    # Stock of lots that expire before the commitments use it (first expired first) is
    # gone the day after the expiry date.
    expiring: dict[date, int] = defaultdict(int)
    for day, _lot, qty in expiries(snap.expiring.get(key, ()), sorted(committed.items())):
        if day < end:
            expiring[max(day, start)] += qty
    free = snap.free.get(key, 0) + snap.ready.get(key, 0)  # awaiting release: sellable soon
    days = sorted({start} | set(receipts) | set(committed) | set(expiring))
    running = free
    cumulative = []
    for d in days:
        running += receipts.get(d, 0) - committed.get(d, 0) - expiring.get(d, 0)
        cumulative.append(running)
    rows: list[Row] = []
    floor = None
    for d, cum in zip(reversed(days), reversed(cumulative), strict=True):
        floor = cum if floor is None else min(floor, cum)
        rows.append(
            Row(
                d,
                receipts.get(d, 0),
                committed.get(d, 0),
                cum,
                max(floor, 0),
                expiring.get(d, 0),
            )
        )
    rows.reverse()
    return Atp(part.code, part.unit, start, horizon_days, free, tuple(rows))


def over_committed_line(result: Atp) -> str | None:
    """One line naming the over-committed dates, or None."""
    rows = result.over_committed
    if not rows:
        return None
    first, worst = rows[0], min(rows, key=lambda r: (r.cumulative, r.day))
    text = (
        f"Over-committed: {result.item} cumulative goes negative on {first.day} "
        f"({q.fmt(q.dec(first.cumulative))} {result.unit})"
    )
    if worst is not first:
        text += f", lowest {q.fmt(q.dec(worst.cumulative))} on {worst.day}"
    return text + ": expedite receipts or move commitments"
