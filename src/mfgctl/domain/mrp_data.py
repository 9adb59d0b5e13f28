"""MRP's data access: read one consistent ``mrp.Snapshot`` from the database.

Everything the planning run uses is read here, in one read transaction (the caller's
snapshot), and turned into the integer micro-units the engine computes in. What is
read:

* every item's planning data and every active BOM (lines as exact rates, BOM scrap and
  the line's unit conversion included);
* free stock per item: available minus what open, unexpired reservations hold (for any
  reference); stock pending inspection; finished goods awaiting release; lots past
  their expiry date left out;
* open demand (less what was shipped against it; a sales order's ``reserved``: what
  reservations for its reference hold of it); open purchase orders (the quantity
  not yet received) and open production orders (planned, released, in progress: the
  output still expected) as scheduled receipts;
* what each open production order still needs of each material: its requirement
  (frozen at release, else exploded from its BOM revision) less what it consumed and
  what is reserved for it (that stock is no longer free), from its start date: its due
  date less the item's manufacturing lead time, or, once it is in progress, the run's
  start (it needs them now).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal
from math import gcd
from operator import attrgetter
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import bom, items
from mfgctl.domain.bom import Revision
from mfgctl.domain.mrp import Component, DemandIn, OrderNeed, Part, Receipt, Snapshot
from mfgctl.domain.orders import coverage
from mfgctl.domain.reports import EXPECTED_OUTPUT
from mfgctl.errors import InvalidInput

_MICRO = q.SCALE

# Stock by status, lots past their expiry date left out (they are never used without a
# decision: reservations.available_stock skips them, so no plan may count on them).
_FREE = """
    SELECT b.item_id,
           sum(CASE WHEN b.status = 'available' THEN b.qty ELSE 0 END),
           sum(CASE WHEN b.status = 'pending_inspection' THEN b.qty ELSE 0 END),
           sum(CASE WHEN b.status = 'awaiting_release' THEN b.qty ELSE 0 END)
      FROM balance AS b
      LEFT JOIN lot AS l ON l.id = b.lot_id
     WHERE b.status IN ('available', 'pending_inspection', 'awaiting_release')
       AND (l.expires_on IS NULL OR l.expires_on >= :today)
     GROUP BY b.item_id
"""
_RESERVED = """
    SELECT r.item_id, sum(r.remaining) FROM reservation AS r
      LEFT JOIN lot AS l ON l.id = r.lot_id
     WHERE r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (l.expires_on IS NULL OR l.expires_on >= :today)
     GROUP BY r.item_id
"""
_OPEN_ORDERS = f"""
    SELECT o.id, o.item_id, o.bom_id, o.qty, o.due_on, o.state, o.location_id,
           {EXPECTED_OUTPUT} AS expected
      FROM production_order AS o
     WHERE o.state IN ('planned', 'released', 'in_progress')
"""
# What of each item reached each open order's WIP (as production.delivered, for every
# order): scrap straight from stock never did, so the order still needs it.
_CONSUMED = """
    SELECT o.id, m.item_id,
           sum(CASE WHEN m.kind = 'consume' AND m.to_location_id = o.location_id THEN m.qty
                    WHEN m.kind = 'return' AND m.from_location_id = o.location_id THEN -m.qty
                    ELSE 0 END)
      FROM production_order AS o
      JOIN location AS l ON l.id = o.location_id
      JOIN move AS m ON m.ref = l.code AND m.kind IN ('consume', 'return')
     WHERE o.state IN ('planned', 'released', 'in_progress')
     GROUP BY o.id, m.item_id
"""
# Open demand and what has been shipped against it (a partly shipped sales order still
# needs only the rest), and shipped sales orders: what they shipped still consumed
# their bucket's forecast.
_OPEN_DEMAND = """
    SELECT d.id, d.item_id, d.qty,
           ifnull((SELECT sum(s.qty) FROM shipment AS s WHERE s.demand_id = d.id), 0),
           d.due_on, d.kind, d.ref
      FROM demand AS d
     WHERE d.state = 'open' OR (d.state = 'shipped' AND d.kind = 'sales')
     ORDER BY d.id
"""
# What open, unexpired reservations for a reference (not a production order) hold, per
# item and reference: stock set aside for a customer order covers its sales demand.
# The free stock of each lot with an expiry date not yet past: available less what
# open, unexpired reservations of the lot hold.
_EXPIRING = """
    SELECT l.item_id, l.code, l.expires_on,
           sum(b.qty) - ifnull((SELECT sum(r.remaining) FROM reservation AS r
                                 WHERE r.lot_id = l.id AND r.state = 'open'
                                   AND r.remaining > 0
                                   AND (r.until_on IS NULL OR r.until_on >= :today)), 0)
      FROM lot AS l
      JOIN balance AS b ON b.lot_id = l.id AND b.status = 'available'
     WHERE l.expires_on >= :today
     GROUP BY l.id
"""
# The same for stock pending inspection (on hand only with include_inspection).
_EXPIRING_INSPECTION = """
    SELECT l.item_id, l.code, l.expires_on, sum(b.qty)
      FROM lot AS l
      JOIN balance AS b ON b.lot_id = l.id AND b.status = 'pending_inspection'
     WHERE l.expires_on >= :today
     GROUP BY l.id
"""
_REF_RESERVED = """
    SELECT r.item_id, r.ref, l.expires_on, l.code, sum(r.remaining) FROM reservation AS r
      LEFT JOIN lot AS l ON l.id = r.lot_id
     WHERE r.order_id IS NULL AND r.ref IS NOT NULL AND r.state = 'open' AND r.remaining > 0
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (l.expires_on IS NULL OR l.expires_on >= :today)
     GROUP BY r.item_id, r.ref, r.lot_id
"""
# By the lot's expiry date: a reservation covers the order only if its lot is still good
# on the order's start (consumption passes over an expired lot's reservation).
_ORDER_RESERVED = """
    SELECT r.order_id, r.item_id, l.expires_on, sum(r.remaining) FROM reservation AS r
      LEFT JOIN lot AS l ON l.id = r.lot_id
     WHERE r.order_id IS NOT NULL AND r.state = 'open'
       AND (r.until_on IS NULL OR r.until_on >= :today)
       AND (l.expires_on IS NULL OR l.expires_on >= :today)
     GROUP BY r.order_id, r.item_id, l.expires_on
"""


_ITEMS = """
    SELECT id, code, name, unit, make_or_buy, method, purchase_lead_time_days,
           mfg_lead_time_days, safety_stock, lot_sizing, fixed_order_qty, moq,
           max_order_qty, order_multiple, period_days, active, tracking
      FROM item
"""
# Every active BOM's lines (a BOM without lines as one row of NULLs), in line order.
_ACTIVE_LINES = """
    SELECT p.code, b.revision, b.output_qty, l.id, c.code, l.qty, l.unit, l.scrap_pct,
           l.fixed_qty, l.phantom
      FROM bom AS b
      JOIN item AS p ON p.id = b.item_id
      LEFT JOIN bom_line AS l ON l.bom_id = b.id
      LEFT JOIN item AS c ON c.id = l.child_id
     WHERE b.active = 1
     ORDER BY b.id, l.position
"""
_ACTIVE_SUBSTITUTES = """
    SELECT s.line_id, i.code
      FROM bom_substitute AS s
      JOIN item AS i ON i.id = s.item_id
      JOIN bom_line AS l ON l.id = s.line_id
      JOIN bom AS b ON b.id = l.bom_id
     WHERE b.active = 1
     ORDER BY s.line_id, s.position
"""


class _Known:
    """What the loader needs of an item besides its ``Part``: its id, code, base unit,
    own units (for BOM lines in other units), manufacturing lead time and whether it
    is serial-tracked (required in whole units)."""

    __slots__ = ("code", "id", "mfg_lead_time_days", "serial", "unit", "units")

    def __init__(
        self,
        id: int,
        code: str,
        unit: str,
        units: dict[str, Decimal],
        mfg_lead: int,
        serial: bool = False,
    ) -> None:
        self.id = id
        self.code = code
        self.unit = unit
        self.units = units
        self.mfg_lead_time_days = mfg_lead
        self.serial = serial


def _component(
    child: str,
    qty: int,
    factor: tuple[int, int],
    scrap: int,
    fixed: int,
    output: int,
    phantom: bool,
    substitutes: tuple[str, ...],
    whole: bool = False,
) -> Component:
    """One BOM line as an exact rate per micro-unit of the parent, from the line's
    micro-unit quantity, scrap percentage, fixed quantity and the BOM's output, and
    the line unit's ``factor`` as an integer ratio (``Decimal.as_integer_ratio``).

    Integer ratios rather than ``Fraction``: the same exact numbers, several times
    faster on a plant's tens of thousands of lines."""
    fn, fd = factor
    # qty * factor * (100 + scrap) / 100 / output, every term in micro-units
    num = qty * fn * (100 * _MICRO + scrap)
    den = fd * 100 * _MICRO * output
    g = gcd(num, den)
    return Component(
        item=child,
        num=num // g,
        den=den // g,
        fixed=-(-fixed * fn // fd),
        phantom=phantom,
        substitutes=substitutes,
        whole=whole,
    )


class _Factors:
    """Each (item, unit)'s factor to the item's base unit as an integer ratio,
    computed once per pair; the error names the BOM whose line cannot convert."""

    def __init__(self, known: dict[str, _Known]) -> None:
        self.known = known
        self.cache: dict[tuple[str, str | None], tuple[int, int]] = {}

    def __call__(self, child: str, unit: str | None, item: str, revision: str) -> tuple[int, int]:
        found = self.cache.get((child, unit))
        if found is None:
            it = self.known[child]
            try:
                factor = items.unit_factor_of(it.code, it.unit, it.units, unit)
            except InvalidInput as e:
                raise InvalidInput(f"BOM {item} revision {revision}: {e}") from None
            found = self.cache[(child, unit)] = factor.as_integer_ratio()
        return found


def components(rev: Revision, factors: _Factors) -> tuple[Component, ...]:
    """A revision's lines as exact rates per micro-unit of the parent."""
    output = q.to_micro(rev.output_qty)
    return tuple(
        _component(
            line.item.upper(),
            q.to_micro(line.qty),
            factors(line.item.upper(), line.unit or None, rev.item, rev.revision),
            q.to_micro(line.scrap_pct),
            q.to_micro(line.fixed_qty),
            output,
            line.phantom,
            tuple(s.upper() for s in line.substitutes),
            factors.known[line.item.upper()].serial,
        )
        for line in rev.lines
    )


def _parts(db: sqlite3.Connection) -> tuple[dict[str, Part], dict[int, _Known], dict[str, _Known]]:
    """Every active item's planning data, and every item's ``_Known`` by id and by
    upper-cased code."""
    units: dict[int, dict[str, Decimal]] = {}
    for item_id, unit, factor in db.execute(
        "SELECT item_id, unit, factor FROM item_unit ORDER BY item_id, unit"
    ):
        units.setdefault(item_id, {})[unit] = q.dec(factor)
    parts: dict[str, Part] = {}
    by_id: dict[int, _Known] = {}
    for (
        id_,
        code,
        name,
        unit,
        make_or_buy,
        method,
        purchase_lead,
        mfg_lead,
        safety,
        lot_sizing,
        fixed,
        moq,
        max_qty,
        multiple,
        period,
        active,
        tracking,
    ) in db.execute(_ITEMS):
        serial = tracking == "serial"
        by_id[id_] = _Known(id_, code, unit, units.get(id_, {}), mfg_lead, serial)
        if active:
            parts[code.upper()] = Part(
                code=code,
                name=name,
                unit=unit,
                make_or_buy=make_or_buy,
                method=method or "make_to_stock",
                lead_time_days=purchase_lead if make_or_buy == "buy" else mfg_lead,
                safety_stock=safety,
                lot_sizing=lot_sizing,
                fixed_order_qty=fixed,
                moq=moq,
                max_order_qty=max_qty,
                order_multiple=multiple,
                period_days=period,
                serial=serial,
            )
    return parts, by_id, {k.code.upper(): k for k in by_id.values()}


def _active_boms(
    db: sqlite3.Connection, parts: Mapping[str, Part], factors: _Factors
) -> dict[str, tuple[Component, ...]]:
    """Every active item's active BOM, as ``Component`` rates."""
    subs: dict[int, list[str]] = {}
    for line_id, code in db.execute(_ACTIVE_SUBSTITUTES):
        subs.setdefault(line_id, []).append(code.upper())
    lines: dict[str, list[Component]] = {}
    for item, revision, output, line_id, child, qty, unit, scrap, fixed, phantom in db.execute(
        _ACTIVE_LINES
    ):
        key = item.upper()
        found = lines.setdefault(key, [])
        if line_id is None:
            continue  # a BOM without lines
        child = child.upper()
        found.append(
            _component(
                child,
                qty,
                factors(child, unit or None, item, revision),
                scrap,
                fixed,
                output,
                bool(phantom),
                tuple(subs.get(line_id, ())),
                factors.known[child].serial,
            )
        )
    return {key: tuple(found) for key, found in lines.items() if key in parts}


def load(db: sqlite3.Connection, *, today: date | None = None) -> Snapshot:
    """Everything an MRP run reads, now (``today`` decides expired reservations and
    the start of orders already in progress)."""
    today = today or date.today()
    parts, by_id, by_code = _parts(db)
    factors = _Factors(by_code)
    boms = _active_boms(db, parts, factors)
    params = {"today": today.isoformat()}
    free: dict[str, int] = {}
    inspection: dict[str, int] = {}
    ready: dict[str, int] = {}
    for item_id, available, pending, awaiting in db.execute(_FREE, params):
        key = by_id[item_id].code.upper()
        free[key] = available
        if pending:
            inspection[key] = pending
        if awaiting:
            ready[key] = awaiting
    for item_id, held in db.execute(_RESERVED, params):
        key = by_id[item_id].code.upper()
        free[key] = free.get(key, 0) - held
    expiring = _expiring(db, by_id, free, params, _EXPIRING)
    expiring_inspection = _expiring(db, by_id, inspection, params, _EXPIRING_INSPECTION)
    demands, stale = _demands(db, by_id, params)
    receipts = [
        Receipt("purchase", r[0], by_id[r[1]].code.upper(), r[2], date.fromisoformat(r[3]))
        for r in db.execute(
            "SELECT id, item_id, qty - received, due_on FROM purchase_order "
            "WHERE state = 'open' AND qty > received"
        )
    ]
    orders = db.execute(_OPEN_ORDERS).fetchall()
    for o in orders:
        if o[7] > 0:
            code = by_id[o[1]].code.upper()
            started = o[5] == "in_progress"
            receipts.append(
                Receipt("production", o[0], code, o[7], date.fromisoformat(o[4]), started)
            )
    return Snapshot(
        parts=parts,
        boms=boms,
        free=free,
        inspection=inspection,
        ready=ready,
        expiring=expiring,
        expiring_inspection=expiring_inspection,
        stale_reservations=tuple(stale),
        demands=demands,
        receipts=receipts,
        order_needs=_order_needs(db, orders, by_id, by_code, factors, boms, params),
    )


def _expiring(
    db: sqlite3.Connection,
    by_id: dict[int, _Known],
    free: dict[str, int],
    params: dict[str, str],
    query: str,
) -> dict[str, tuple[tuple[date, str, int], ...]]:
    """Per item, the stock ``query`` finds in lots with an expiry date (earliest
    first), never more in all than ``free`` holds of the item (what reservations hold
    beyond their own lots comes off the latest-expiring)."""
    found: dict[str, list[tuple[date, str, int]]] = defaultdict(list)
    for item_id, lot, expires_on, qty in db.execute(query, params):
        if qty > 0:
            key = by_id[item_id].code.upper()
            found[key].append((date.fromisoformat(expires_on), lot, qty))
    out: dict[str, tuple[tuple[date, str, int], ...]] = {}
    for key, lots in found.items():
        lots.sort()
        room = max(free.get(key, 0), 0)
        kept = []
        for day, lot, qty in lots:
            if room <= 0:
                break
            kept.append((day, lot, min(qty, room)))
            room -= min(qty, room)
        if kept:
            out[key] = tuple(kept)
    return out


def _demands(
    db: sqlite3.Connection, by_id: dict[int, _Known], params: dict[str, str]
) -> tuple[list[DemandIn], list[tuple[str, str, str, date, int, date]]]:
    """Open demand less what was shipped (``shipped``; a shipped sales order with
    nothing left, for the forecast its shipments consumed); a sales order's
    ``reserved`` is what reservations for its reference (case folded, as ``ship --ref``
    matches it) hold of its item, given to that reference's orders earliest due first,
    each from the lots still good on its due date (earliest expiring first): a lot that
    expires before the order is due does not cover it (it is not shipped)."""
    held: dict[tuple[int, str], list[list[Any]]] = defaultdict(list)
    for item_id, ref, expires_on, lot_code, qty in db.execute(_REF_RESERVED, params):
        held[(item_id, ref.casefold())].append([expires_on or "9999-12-31", qty, lot_code])
    for lots in held.values():
        lots.sort()
    out = []
    # Per (item, reference): the first due date its reservations did not cover.
    uncovered: dict[tuple[int, str], tuple[str, str]] = {}  # (due, the reference as typed)
    rows = sorted(db.execute(_OPEN_DEMAND), key=lambda r: (r[4], r[0]))
    for id_, item_id, ordered, shipped, due, kind, ref in rows:
        qty = max(ordered - shipped, 0)
        if qty <= 0 and not shipped:
            continue
        reserved = 0
        if kind == "sales" and ref and held:
            key = (item_id, ref.casefold())
            for lot in held.get(key, ()):
                if reserved == qty:
                    break
                if lot[0] >= due and lot[1] > 0:  # ISO dates compare as text
                    take = min(lot[1], qty - reserved)
                    lot[1] -= take
                    reserved += take
            if reserved < qty and key in held:
                uncovered.setdefault(key, (due, ref))
        code = by_id[item_id].code.upper()
        out.append(DemandIn(id_, code, qty, date.fromisoformat(due), kind, ref, reserved, shipped))
    out.sort(key=lambda d: d.id)
    # Reserved stock of a lot that expires before the reference's order it would serve.
    stale = [
        (by_id[key[0]].code.upper(), ref, code, date.fromisoformat(day), left,
         date.fromisoformat(due))
        for key, (due, ref) in uncovered.items()
        for day, left, code in held[key]
        if left > 0 and day < due
    ]  # fmt: skip
    return out, stale


def _order_needs(
    db: sqlite3.Connection,
    orders: list[sqlite3.Row],
    by_id: dict[int, _Known],
    by_code: dict[str, _Known],
    factors: _Factors,
    boms: dict[str, tuple[Component, ...]],
    params: dict[str, str],
) -> list[OrderNeed]:
    if not orders:
        return []
    from mfgctl.domain.mrp import explode

    frozen: dict[int, list[tuple[int, int, tuple[str, ...]]]] = defaultdict(list)
    for order_id, item_id, qty, subs in db.execute(
        "SELECT m.order_id, m.item_id, m.qty, m.substitutes FROM order_material AS m "
        "JOIN production_order AS o ON o.id = m.order_id "
        "WHERE o.state IN ('planned', 'released', 'in_progress') ORDER BY m.order_id, m.position"
    ):
        frozen[order_id].append((item_id, qty, tuple(s.upper() for s in json.loads(subs))))
    # Per order, per item: what it used, and (below) what it holds reserved.
    has: dict[int, dict[int, int]] = defaultdict(dict)
    for o, i, n in db.execute(_CONSUMED):
        has[o][i] = has[o].get(i, 0) + n
    held: dict[int, list[tuple[int, str | None, int]]] = defaultdict(list)
    for o, i, expires_on, n in db.execute(_ORDER_RESERVED, params):
        held[o].append((i, expires_on, n))
    revisions = bom.revisions_by_id(db, [o[2] for o in orders if o[0] not in frozen])
    needs = []
    for order_id, item_id, bom_id, qty, due_on, state, _loc, _expected in orders:
        product = by_id[item_id]
        # Its planned start; one in progress needs its materials now (OrderNeed.started).
        start = date.fromisoformat(due_on) - timedelta(days=product.mfg_lead_time_days)
        # Its reservations of lots still good when it starts (in progress: now).
        good = params["today"] if state == "in_progress" else start.isoformat()
        for i, expires_on, n in held.get(order_id, ()):
            if expires_on is None or expires_on >= good:
                mine = has[order_id]
                mine[i] = mine.get(i, 0) + n
        if order_id in frozen:
            materials = frozen[order_id]
        else:
            lines = components(revisions[bom_id], factors)
            materials = [
                (by_code[c.item].id, need, c.substitutes) for c, need in explode(lines, qty, boms)
            ]
        # What the order has used or holds of a material, its substitutes' included
        # (orders.coverage, as order reservations and consumption count it).
        rows = [
            (mat_id, required, [by_code[c].id for c in subs if c in by_code])
            for mat_id, required, subs in materials
        ]
        cover = coverage(rows, has.get(order_id, {}))
        for (mat_id, required, subs), done in zip(materials, cover, strict=True):
            left = required - done
            if left > 0:
                needs.append(
                    OrderNeed(
                        order_id,
                        product.code,
                        by_id[mat_id].code.upper(),
                        left,
                        start,
                        subs,
                        state == "in_progress",
                    )
                )
    return needs


def _astuple(cls: type) -> Callable[[Any], tuple]:
    """A record's field values as a plain tuple (C-speed, unlike dataclass repr)."""
    return attrgetter(*(f.name for f in fields(cls)))


def fingerprint(snap: Snapshot) -> str:
    """A digest of every input of a run: equal digests, equal plans (for one start)."""
    part, line = _astuple(Part), _astuple(Component)
    demand, receipt, need = _astuple(DemandIn), _astuple(Receipt), _astuple(OrderNeed)
    canonical = repr(
        (
            sorted((k, part(p)) for k, p in snap.parts.items()),
            sorted((k, [line(c) for c in lines]) for k, lines in snap.boms.items()),
            sorted(snap.free.items()),
            sorted(snap.inspection.items()),
            sorted(snap.ready.items()),
            # Only when there are any: runs saved before lots' expiry dates were read
            # keep their digest where nothing expires.
            *([sorted(snap.expiring.items())] if snap.expiring else []),
            *([sorted(snap.expiring_inspection.items())] if snap.expiring_inspection else []),
            *([sorted(snap.stale_reservations)] if snap.stale_reservations else []),
            sorted(demand(d) for d in snap.demands),
            sorted((r.source, r.id, receipt(r)) for r in snap.receipts),
            sorted((n.order_id, n.item, need(n)) for n in snap.order_needs),
        )
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
