"""Stock reports: the stock-by-status report and an item's history.

The stock report is the heart of mfgctl: per item, how much is physically in house
and how much of it can be used. ``physical`` is everything at real locations, in any
status; ``available`` is what passed inspection; ``expired`` is the part of it in lots
(or serials) past their expiry date, which no command takes; ``free`` is available less
expired and less reserved, what can still be promised. WIP is stock consumed into
production orders (their virtual places), not counted in ``physical``. The report reads
the ``balance`` table; ``as_of`` recomputes it from the ledger's effective dates instead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import items, ledger, locations
from mfgctl.domain.ledger import STATUSES

# Balances now: the table kept with every move.
_BALANCES_NOW = "SELECT item_id, location_id, status, lot_id, qty FROM balance"
# Balances at a past moment: the ledger summed up to it (both sides of each move).
_BALANCES_AS_OF = """
    SELECT item_id, location_id, status, lot_id, sum(qty) AS qty FROM (
        SELECT item_id, to_location_id AS location_id, to_status AS status, lot_id, qty
          FROM move WHERE effective_at <= :as_of
        UNION ALL
        SELECT item_id, from_location_id, from_status, lot_id, -qty
          FROM move WHERE effective_at <= :as_of
    ) GROUP BY item_id, location_id, status, lot_id
"""
# ``expired``: available stock at a real location in a lot whose expiry date ({expires}:
# the lot's date now, or the one in force then) is before :day.
_STOCK_QUERY = """
    WITH bal AS ({balances})
    SELECT b.item_id, {lot_column} AS lot, b.status, l.kind,
           CASE WHEN b.status = 'available' AND l.kind = 'internal' AND b.lot_id IS NOT NULL
                THEN ifnull({expires} < :day, 0) ELSE 0 END AS expired,
           sum(b.qty) AS qty
      FROM bal AS b
      JOIN location AS l ON l.id = b.location_id
      JOIN item AS i ON i.id = b.item_id
      LEFT JOIN lot AS lt ON lt.id = b.lot_id
     WHERE l.kind IN ('internal', 'production') AND b.qty <> 0
       AND (:item IS NULL OR i.code = :item)
       AND (:type IS NULL OR i.type = :type)
       AND (:location IS NULL OR l.code = :location)
     GROUP BY b.item_id, lot, b.status, l.kind, expired
"""
# A lot's expiry date as it stood at :as_of: the new date of the last change made by
# then, else the old date of the first change made after it, else its date now ('' in
# a change stands for "no expiry date", so that coalesce does not pass over it).
_EXPIRES_AS_OF = """nullif(coalesce(
        (SELECT ifnull(c.new_expires, '') FROM lot_expiry_change AS c
          WHERE c.lot_id = lt.id AND c.changed_at <= :as_of
          ORDER BY c.changed_at DESC, c.id DESC LIMIT 1),
        (SELECT ifnull(c.old_expires, '') FROM lot_expiry_change AS c
          WHERE c.lot_id = lt.id AND c.changed_at > :as_of
          ORDER BY c.changed_at, c.id LIMIT 1),
        lt.expires_on), '')"""

# What open, unexpired reservations hold, per item (and lot), at real locations, of
# lots not past their expiry date: a claim on an expired lot is never consumed or
# shipped, so it holds nothing usable (its stock counts as ``expired``).
_RESERVED = """
    SELECT r.item_id, {lot_column} AS lot, sum(r.remaining) AS qty
      FROM reservation AS r
      JOIN item AS i ON i.id = r.item_id
      JOIN location AS l ON l.id = r.location_id
      LEFT JOIN lot AS lt ON lt.id = r.lot_id
     WHERE r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (lt.expires_on IS NULL OR lt.expires_on >= :today)
       AND (:item IS NULL OR i.code = :item)
       AND (:type IS NULL OR i.type = :type)
       AND (:location IS NULL OR l.code = :location)
     GROUP BY r.item_id, lot
"""


@dataclass(frozen=True, slots=True)
class StockRow:
    """One line of the stock-by-status report (quantities in the item's base unit)."""

    item: str
    name: str
    type: str
    unit: str
    lot: str | None
    physical: Decimal
    available: Decimal
    reserved: Decimal
    free: Decimal
    expired: Decimal
    pending_inspection: Decimal
    awaiting_release: Decimal
    blocked: Decimal
    rejected: Decimal
    rework: Decimal
    wip: Decimal
    on_order: Decimal

    @staticmethod
    def columns(*, by_lot: bool = False) -> list[str]:
        """The report's columns, in order (known even when there are no rows)."""
        return [f.name for f in fields(StockRow) if by_lot or f.name != "lot"]

    def as_row(self, *, by_lot: bool = False) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every Decimal, which was most of the
        # time of a 10,000-row report.
        return {name: getattr(self, name) for name in _COLUMNS[by_lot]}


_COLUMNS = {by_lot: StockRow.columns(by_lot=by_lot) for by_lot in (False, True)}
# The sums behind one row: per status, WIP, and the expired part of available.
_CELL = (*STATUSES, "wip", "expired")


# The output an open production order ``o`` is still expected to give: its quantity
# less its good output and less what was lost: its scrapped output, or the units
# rejected at its routing stages if more (they can never become good output, and a
# shop may or may not book them as scrap too); never below zero. MRP reads it too.
EXPECTED_OUTPUT = """
    max(o.qty
        - ifnull((SELECT sum(m.qty) FROM move AS m
                   WHERE m.item_id = o.item_id AND m.from_location_id = o.location_id
                     AND m.kind = 'output'), 0)
        - max(ifnull((SELECT sum(m.qty) FROM move AS m
                       WHERE m.item_id = o.item_id AND m.from_location_id = o.location_id
                         AND m.kind = 'scrap'), 0),
              ifnull((SELECT sum(s.rejected) FROM order_stage AS s
                       WHERE s.order_id = o.id), 0)),
        0)
"""
# Still expected, per item: from open production orders, EXPECTED_OUTPUT; from open
# purchase orders, the quantity not yet received.
_ON_ORDER = f"""
    SELECT item_id, sum(expected) FROM (
        SELECT o.item_id, {EXPECTED_OUTPUT} AS expected
          FROM production_order AS o
          JOIN item AS i ON i.id = o.item_id
         WHERE o.state IN ('planned', 'released', 'in_progress')
           AND (:item IS NULL OR i.code = :item)
           AND (:type IS NULL OR i.type = :type)
        UNION ALL
        SELECT p.item_id, p.qty - p.received
          FROM purchase_order AS p
          JOIN item AS i ON i.id = p.item_id
         WHERE p.state = 'open'
           AND (:item IS NULL OR i.code = :item)
           AND (:type IS NULL OR i.type = :type)
    )
     GROUP BY item_id
"""


def stock(
    db: sqlite3.Connection,
    *,
    item: str | None = None,
    type: str | None = None,
    location: str | None = None,
    status: str | None = None,
    by_lot: bool = False,
    as_of: str | None = None,
    include_zero: bool = False,
) -> list[StockRow]:
    """The stock-by-status report, one row per item (or per item and lot).

    ``expired`` is the available stock in lots (or serials) whose expiry date is
    before today (before the day of ``as_of``, by the expiry date in force then): no
    command takes it. ``reserved`` is what open, unexpired reservations hold now (of
    the lot, at the location, when those are asked for) of lots not expired: a claim
    on an expired lot holds nothing usable. ``free`` is available less expired less
    reserved. A report ``as_of`` a moment shows no reservations (their history is not
    kept as moves), so there ``free`` is available less expired. ``on_order`` is the
    output still expected from open production orders (planned, released, in progress)
    plus what open purchase orders have not yet delivered, now; it is shown on per-item
    rows (not per lot, not for one location, not as of a past date).

    Args:
        item, type, location: restrict to one item, item type or real location.
        status: keep only rows with stock in that status.
        as_of: a local date or date-time; the report is computed from the ledger's
            effective dates up to then instead of from the current balances.
        include_zero: also list active items that have no stock at all.
    """
    item_code = items.get(db, item).code if item else None
    if type is not None:
        type = items.PARSERS["type"](type, "--type")
    location_code = locations.get(db, location).code if location else None
    status = ledger.parse_status(status, what="--status") if status else None
    today = date.today().isoformat()
    params: dict[str, Any] = {
        "item": item_code, "type": type, "location": location_code, "day": today
    }  # fmt: skip
    balances, expires = _BALANCES_NOW, "lt.expires_on"
    if as_of is not None:
        params["as_of"] = timefmt.parse_moment(as_of, what="--as-of", end_of_day=True)
        params["day"] = timefmt.local(params["as_of"])[:10]
        balances, expires = _BALANCES_AS_OF, _EXPIRES_AS_OF
    lot_column = "lt.code" if by_lot else "NULL"
    sql = _STOCK_QUERY.format(balances=balances, lot_column=lot_column, expires=expires)
    held: dict[tuple[int, str | None], int] = {}
    if as_of is None:
        reserved_sql = _RESERVED.format(lot_column=lot_column)
        for item_id, lot, amount in db.execute(reserved_sql, {**params, "today": today}):
            held[(item_id, lot)] = amount
    sums: dict[tuple[int, str | None], dict[str, int]] = {}
    on_order: dict[int, int] = {}
    if as_of is None and not by_lot and location_code is None:
        on_order = dict(db.execute(_ON_ORDER, params).fetchall())
        for item_id in on_order:
            sums.setdefault((item_id, None), dict.fromkeys(_CELL, 0))
    for item_id, lot, st, kind, expired, amount in db.execute(sql, params):
        cell = sums.setdefault((item_id, lot), dict.fromkeys(_CELL, 0))
        cell["wip" if kind == "production" else st] += amount
        if expired:
            cell["expired"] += amount
    catalogue = {
        r[0]: r[1:] for r in db.execute("SELECT id, code, name, type, unit, active FROM item")
    }
    if include_zero and not by_lot and location_code is None:
        for item_id, (code, _n, item_type, _u, active) in catalogue.items():
            if (
                active
                and (item_code is None or code == item_code)
                and (type is None or item_type == type)
            ):
                sums.setdefault((item_id, None), dict.fromkeys(_CELL, 0))
    rows = []
    for (item_id, lot), cell in sums.items():
        if status is not None and cell[status] == 0:
            continue
        code, name, item_type, unit, _active = catalogue[item_id]
        d = {k: q.dec(v) for k, v in cell.items()}
        reserved = q.dec(held.get((item_id, lot), 0))
        rows.append(
            StockRow(
                item=code,
                name=name,
                type=item_type,
                unit=unit,
                lot=lot,
                physical=sum((d[s] for s in STATUSES), Decimal(0)),
                available=d["available"],
                reserved=reserved,
                free=d["available"] - d["expired"] - reserved,
                expired=d["expired"],
                pending_inspection=d["pending_inspection"],
                awaiting_release=d["awaiting_release"],
                blocked=d["blocked"],
                rejected=d["rejected"],
                rework=d["rework"],
                wip=d["wip"],
                on_order=q.dec(on_order.get(item_id, 0)),
            )
        )
    rows.sort(key=lambda r: (r.item.upper(), r.lot or ""))
    return rows


HISTORY_COLUMNS = (
    "seq", "effective_at", "kind", "lot", "from", "to", "qty", "change", "balance",
    "user", "reason", "ref",
)  # fmt: skip
_HISTORY = """
    SELECT m.seq, m.effective_at, m.kind, lt.code AS lot, m.qty,
           fl.code AS from_code, fl.kind AS from_kind, m.from_status,
           tl.code AS to_code, tl.kind AS to_kind, m.to_status,
           m.user, m.reason, m.ref
      FROM move AS m
      JOIN location AS fl ON fl.id = m.from_location_id
      JOIN location AS tl ON tl.id = m.to_location_id
      LEFT JOIN lot AS lt ON lt.id = m.lot_id
     WHERE m.item_id = :item_id AND (:lot_id IS NULL OR m.lot_id = :lot_id)
     ORDER BY m.effective_at, m.seq
"""


def history(
    db: sqlite3.Connection,
    item: str,
    *,
    location: str | None = None,
    lot: str | None = None,
    since: str | None = None,
    as_of: str | None = None,
) -> list[dict[str, Any]]:
    """An item's moves in effective-date order, with the running in-house balance.

    The balance counts stock at real locations (or at ``location`` only): a receipt
    raises it, a shipment or scrap lowers it, a status change or transfer inside the
    scope shows a change of 0. ``since`` starts the list later, with the balance
    carried in; ``as_of`` ends it.
    """
    it = items.get(db, item)
    loc = locations.get(db, location).code.upper() if location else None
    lot_row = ledger.get_lot(db, it, lot) if lot else None
    start = timefmt.parse_moment(since, what="--since") if since else None
    end = timefmt.parse_moment(as_of, what="--as-of", end_of_day=True) if as_of else None

    def inside(code: str, kind: str) -> bool:
        return kind == "internal" and (loc is None or code.upper() == loc)

    running = 0
    rows = []
    params = {"item_id": it.id, "lot_id": lot_row.id if lot_row else None}
    for r in db.execute(_HISTORY, params):
        if end is not None and r["effective_at"] > end:
            break
        src_in, dst_in = inside(r["from_code"], r["from_kind"]), inside(r["to_code"], r["to_kind"])
        if loc is not None and not (src_in or dst_in):
            continue
        change = (r["qty"] if dst_in else 0) - (r["qty"] if src_in else 0)
        running += change
        if start is not None and r["effective_at"] < start:
            continue
        rows.append(
            {
                "seq": r["seq"],
                "effective_at": timefmt.local(r["effective_at"]),
                "kind": r["kind"],
                "lot": r["lot"],
                "from": f"{r['from_code']}/{r['from_status']}"
                if r["from_status"]
                else r["from_code"],
                "to": f"{r['to_code']}/{r['to_status']}" if r["to_status"] else r["to_code"],
                "qty": q.dec(r["qty"]),
                "change": q.dec(change),
                "balance": q.dec(running),
                "user": r["user"],
                "reason": r["reason"],
                "ref": r["ref"],
            }
        )
    return rows


# Stock at real locations, one row per item, location, status and lot.
_EXPORT_STOCK = """
    SELECT i.code AS item, l.code AS location, b.status, lt.code AS lot,
           ifnull(lt.serial, 0) AS serial, lt.expires_on, b.qty
      FROM balance AS b
      JOIN item AS i ON i.id = b.item_id
      JOIN location AS l ON l.id = b.location_id
      LEFT JOIN lot AS lt ON lt.id = b.lot_id
     WHERE l.kind = 'internal' AND b.status IS NOT NULL AND b.qty <> 0
     ORDER BY i.code COLLATE NOCASE, l.code COLLATE NOCASE, b.status, lt.code COLLATE NOCASE
"""


def balances_for_export(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every non-zero balance at a real location, as an export writes opening stock.

    Ordered by item, location, status and lot (codes case-insensitively). Each row has
    ``item``, ``location``, ``status``, ``lot`` (None if untracked), ``serial`` (the
    lot is a serial number), ``expires`` (a date or None) and ``qty`` (base unit).
    """
    return [
        {
            "item": r["item"],
            "location": r["location"],
            "status": r["status"],
            "lot": r["lot"],
            "serial": bool(r["serial"]),
            "expires": date.fromisoformat(r["expires_on"]) if r["expires_on"] else None,
            "qty": q.dec(r["qty"]),
        }
        for r in db.execute(_EXPORT_STOCK)
    ]
