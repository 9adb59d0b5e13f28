"""The lot and serial master: every lot and serial number an item has had, with its
expiry date, whether it still holds stock or not.

A lot row outlives its stock: a serial shipped to a customer, a lot used up or
scrapped stay recorded, so a number is never given twice (``order complete
--auto-serials`` numbers after the highest serial recorded, ``production.next_serials``)
and a recall can still name them. The export writes the lots that hold no stock at a
real location as ``lots:`` records (the others are in its ``stock:`` records), and the
import recreates them without stock (``ledger.ensure_lot``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

# Every lot of every item, by item code and lot code (codes case-insensitively).
_ALL = """
    SELECT i.code AS item, i.tracking, l.code, l.serial, l.expires_on
      FROM lot AS l JOIN item AS i ON i.id = l.item_id
     ORDER BY i.code, l.code
"""


@dataclass(frozen=True, slots=True)
class LotRecord:
    """One lot or serial number of an item, as the lot master holds it."""

    item: str
    code: str
    serial: bool
    expires: date | None
    # The item is tracked as this lot is (lot-tracked for a lot, serial-tracked for a
    # serial): false only when the item's tracking changed after the lot was recorded.
    tracked: bool


def master(db: sqlite3.Connection) -> list[LotRecord]:
    """Every lot and serial of every item, ordered by item and code."""
    return [
        LotRecord(
            r["item"],
            r["code"],
            bool(r["serial"]),
            date.fromisoformat(r["expires_on"]) if r["expires_on"] else None,
            r["tracking"] == ("serial" if r["serial"] else "lot"),
        )
        for r in db.execute(_ALL)
    ]
