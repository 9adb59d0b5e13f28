"""Checks that prove the stock figures can be trusted.

Each check returns its problems as values (it never stops at the first), so
``mfgctl check`` can print them all: every item's balances sum to zero over all
places (double entry), the ``balance`` table equals the ledger, and no real location
holds negative stock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mfgctl import qty as q

_LEDGER_BALANCES = """
    SELECT item_id, location_id, ifnull(status, '') AS status, ifnull(lot_id, 0) AS lot_id,
           sum(qty) AS qty FROM (
        SELECT item_id, to_location_id AS location_id, to_status AS status, lot_id, qty FROM move
        UNION ALL
        SELECT item_id, from_location_id, from_status, lot_id, -qty FROM move
    ) GROUP BY 1, 2, 3, 4
"""
_TABLE_BALANCES = """
    SELECT item_id, location_id, ifnull(status, '') AS status, ifnull(lot_id, 0) AS lot_id, qty
      FROM balance
"""


@dataclass(frozen=True, slots=True)
class Problem:
    check: str
    subject: str
    message: str

    def as_row(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "message": self.message}


def _names(db: sqlite3.Connection) -> tuple[dict[int, str], dict[int, str]]:
    item_codes = dict(db.execute("SELECT id, code FROM item").fetchall())
    loc_codes = dict(db.execute("SELECT id, code FROM location").fetchall())
    return item_codes, loc_codes


def ledger_sums_to_zero(db: sqlite3.Connection) -> list[Problem]:
    item_codes, _ = _names(db)
    rows = db.execute("SELECT item_id, sum(qty) FROM balance GROUP BY item_id HAVING sum(qty) <> 0")
    return [
        Problem("zero_sum", item_codes.get(i, str(i)), f"balances sum to {q.fmt(q.dec(s))}, not 0")
        for i, s in rows
    ]


def balances_equal_ledger(db: sqlite3.Connection) -> list[Problem]:
    item_codes, loc_codes = _names(db)
    ledger = {tuple(r[:4]): r[4] for r in db.execute(_LEDGER_BALANCES)}
    table = {tuple(r[:4]): r[4] for r in db.execute(_TABLE_BALANCES)}
    problems = []
    for key in sorted(set(ledger) | set(table)):
        want, have = ledger.get(key, 0), table.get(key, 0)
        if want != have:
            item_id, loc_id, status, lot_id = key
            where = f"{loc_codes.get(loc_id, loc_id)}{'/' + status if status else ''}"
            problems.append(
                Problem(
                    "balance",
                    f"{item_codes.get(item_id, item_id)} at {where} lot {lot_id or '-'}",
                    f"balance table says {q.fmt(q.dec(have))}, ledger says {q.fmt(q.dec(want))}",
                )
            )
    return problems


def no_negative_stock(db: sqlite3.Connection) -> list[Problem]:
    item_codes, loc_codes = _names(db)
    rows = db.execute(
        "SELECT item_id, location_id, status, qty FROM balance WHERE status IS NOT NULL AND qty < 0"
    )
    return [
        Problem(
            "negative",
            f"{item_codes.get(i, i)} at {loc_codes.get(loc, loc)}/{st}",
            f"negative stock {q.fmt(q.dec(amount))}",
        )
        for i, loc, st, amount in rows
    ]


CHECKS = (ledger_sums_to_zero, balances_equal_ledger, no_negative_stock)


def run(db: sqlite3.Connection) -> list[Problem]:
    """Every check; an empty list means the stock figures are consistent."""
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(db))
    return problems
