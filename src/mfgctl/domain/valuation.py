"""Stock valuation: a perpetual moving-average cost per item, replayed from the ledger.

*Valued stock* is what sits at real locations (any status) and in production orders'
WIP (their ``ORDER-<id>`` places). A move between two valued places (a transfer, an
inspection, a consumption into WIP, output into stock) changes no value. A move into
valued stock from a virtual place is an *inflow*, one out of it an *outflow*.

The method, per item (one average over all its lots, locations and statuses), replaying
the ledger in effective-date order (the sequence number breaking ties, as
``stock history`` lists it)::

    inflow of q at cost c onto Q on hand at average A:  A := (Q*A + q*c) / (Q + q)
    outflow of any q:                                   A unchanged, Q := Q - q

- The cost ``c`` of an inflow is the move's unit cost: ``stock receive --cost``, a
  purchase order's cost (``purchase receive``), an opening balance's ``cost``, a
  customer return's (the average when its shipment left, set by ``shipping``).
- An inflow without a cost (a receipt without ``--cost``, a count or adjustment that
  adds, an opening balance without ``cost``) comes in at the current average, so the
  average does not change; if the item has none yet, at its standard cost (``cost``);
  with neither, at zero (the item's ``basis`` says ``none``).
- Output of a production order: each completion's good units come in at the cost of
  the materials that completion relieved from the order's WIP (at their averages then),
  divided over the good units and rounded half-even to a millionth. That unit cost is
  worked out when the completion is posted and stored with it (table ``completion``,
  ``record_completion``): a receipt back-dated to before a completion moves the
  component's average from that date on, but not the cost of output already made. Scrapped
  output is made and scrapped at once and never enters valued stock: its material is
  carried by the good units. A completion that only scraps passes its relieved material
  to the order's next completion with good units; once the order has made good units,
  it passes it at once to the item's stock on hand (``carried``: an inflow of value
  without quantity, ``A := (Q*A + carried) / Q``), so scrap booked after the good units
  costs what it costs booked with them. With nothing of the item on hand then, nothing
  can carry it and it is a loss, like scrap. A completion that relieved no
  material and carries none is an inflow without a cost (above). Material used up when
  an order is closed ("left in WIP at close") leaves stock as a loss, like scrap.
- The average is kept to a millionth (half-even), like every stored money amount;
  values are exact products ``qty x average``, so an item's value by status sums to its
  total exactly.

So an item's average depends only on its own rows: the moves that cross the valued
boundary and, for a made item, its completions (which stand for the completion's own
``make`` and ``scrap`` moves of the product, and carry a scrap-only one's material).
The replay reads that one stream, per item
or for all, and ``as_of`` is the same replay stopped at that moment; ``v_valuation``
(domain/views.py) replays the same stream in SQL. The average uses today's standard
costs where it needs one (the history of item costs is not kept).
"""

from __future__ import annotations

import bisect
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import items

PRECISION = 60
MICRO = Decimal(1).scaleb(-q.PLACES)
VALUED = ("internal", "production")
# The report's value columns, in the order the issue lists the statuses.
STATUS_COLUMNS = (
    "available",
    "wip",
    "pending_inspection",
    "blocked",
    "rejected",
    "rework",
    "awaiting_release",
)
COLUMNS = ["item", "name", "unit", "qty", "average_cost", "value", *STATUS_COLUMNS, "basis"]

# Some items only (a separate text, not an OR: with one SQLite reads them by index).
_SOME_ITEMS = "AND m.item_id IN (SELECT value FROM json_each(:items))"
_SOME_COMPLETIONS = "AND c.item_id IN (SELECT value FROM json_each(:items))"


def own_output(indent: int) -> str:
    """SQL: the move ``m`` is one that a completion row stands for: a ``make`` or
    ``scrap`` move of the product inside that completion's seq range. Completions never
    overlap (each is one command's consecutive moves), so only the last one starting at
    or before the move can hold it: one lookup by primary key. The view
    (domain/views.py) uses the same text; lines after the first are indented by
    ``indent``."""
    lines = [
        "(m.kind IN ('make', 'scrap') AND EXISTS (",
        "    SELECT 1 FROM (SELECT item_id, last_seq FROM completion WHERE first_seq <= m.seq",
        "                    ORDER BY first_seq DESC LIMIT 1) AS own",
        "     WHERE own.last_seq >= m.seq AND own.item_id = m.item_id))",
    ]
    return ("\n" + " " * indent).join(lines)


@dataclass
class Replay:
    """The moving average of every item replayed, and its history.

    ``average`` and ``on_hand`` (micro-units) are as of the end of the replay;
    ``basis`` says where an item's average comes from: ``average`` (costed inflows),
    ``standard`` (only the item's standard cost so far) or ``none`` (no cost known).
    """

    history: bool = False  # keep each inflow's average, for ``average_at``
    average: dict[int, Decimal] = field(default_factory=dict)
    on_hand: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    basis: dict[int, str] = field(default_factory=dict)
    # Per item: (effective_at, seq) of each inflow and the average after it (millionths).
    _keys: dict[int, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    _values: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def average_at(self, item_id: int, effective_at: str, seq: int) -> Decimal | None:
        """The item's average in effect at a move (after every inflow before it); needs
        a replay with ``history``."""
        micro = self.micro_at(item_id, effective_at, seq)
        return None if micro is None else _money(micro)

    def micro_at(self, item_id: int, effective_at: str, seq: int) -> int | None:
        """``average_at`` in millionths."""
        keys = self._keys.get(item_id, [])
        n = bisect.bisect_right(keys, (effective_at, seq))
        return self._values[item_id][n - 1] if n else None


def _money(micro: int) -> Decimal:
    """Millionths -> a Decimal with exponent -6 (``3`` is ``3.000000``), as quantized."""
    sign, digits, _ = Decimal(micro).as_tuple()
    return Decimal((sign, digits, -q.PLACES))


def _half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (denominator > 0) rounded half-even to an integer.

    The same number as the Decimal quotient (to 60 digits) quantized half-even: with
    denominators below 10**40 an exact quotient that is not a tie lies further from one
    than the 60-digit rounding can move it.
    """
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient & 1):
        quotient += 1
    return quotient


# The replay's stream, in replay order: every move that crosses the valued boundary
# (``d`` +1 in, -1 out) except those a completion stands for, each completion with
# good units as one inflow (at its first seq), and each scrap-only completion that
# carries its material onto the stock on hand as an inflow of that value without
# quantity (``d`` 2, the value in millionths in the cost column). ``{at}`` is NULL
# unless the history is kept (a million strings cost a third of a second).
# ``{valued_to}``/``{valued_from}`` test whether a place is valued (``_valued_test``).
_STREAM = """
    SELECT seq, at, item_id, qty, unit_cost, d FROM (
        SELECT m.effective_at AS sort_at, m.seq, {at} AS at, m.item_id, m.qty, m.unit_cost,
               {valued_to} - {valued_from} AS d
          FROM move AS m
         WHERE (:as_of IS NULL OR m.effective_at <= :as_of) {items}
           AND {valued_to} <> {valued_from}
           AND NOT {own_output}
        UNION ALL
        SELECT c.effective_at, c.first_seq, {c_at}, c.item_id, c.good, c.unit_cost, 1
          FROM completion AS c
         WHERE c.good > 0 AND (:as_of IS NULL OR c.effective_at <= :as_of) {c_items}
        UNION ALL
        SELECT c.effective_at, c.first_seq, {c_at}, c.item_id, 0, c.carried, 2
          FROM completion AS c
         WHERE c.good = 0 AND c.carried > 0
           AND (:as_of IS NULL OR c.effective_at <= :as_of) {c_items}
    )
     ORDER BY sort_at, seq
"""


# Place ids below this fit a mask of valued places in one SQLite integer.
_MASK_BITS = 62


def _valued_test(db: sqlite3.Connection) -> tuple[str, str]:
    """SQL that gives 1 when a move's place (to, from) is valued, else 0.

    The valued places are few: when their ids are small, a bit of a mask (``(mask >>
    id) & 1``), which SQLite works out far faster than a join with ``location`` or an
    ``IN`` test on each of a million moves; else an ``IN`` test.
    """
    ids = [
        int(r[0])
        for r in db.execute("SELECT id FROM location WHERE kind IN ('internal', 'production')")
    ]
    if all(0 <= i < _MASK_BITS for i in ids):
        # Exact for any id: a shift by 62 or more, or a negative one (a left shift),
        # leaves bit 0 clear.
        mask = sum(1 << i for i in set(ids))
        return (f"(({mask} >> m.to_location_id) & 1)", f"(({mask} >> m.from_location_id) & 1)")
    valued = "(SELECT id FROM location WHERE kind IN ('internal', 'production'))"
    return (f"(m.to_location_id IN {valued})", f"(m.from_location_id IN {valued})")


def replay(
    db: sqlite3.Connection,
    *,
    as_of: str | None = None,
    item_ids: list[int] | None = None,
    history: bool = False,
) -> Replay:
    """Replay the ledger's inflows and outflows up to ``as_of`` (a stored moment).

    ``item_ids`` limits the replay to those items (an item's average depends only on
    its own moves and completions); ``history`` keeps every average for ``average_at``.

    The replay runs on integers (quantities and averages in millionths, each new
    average an integer division rounded half-even), one plain tuple per row and no
    object per row.
    """
    import json

    params = {"as_of": as_of, "items": None if item_ids is None else json.dumps(item_ids)}
    valued_to, valued_from = _valued_test(db)
    only = "" if item_ids is None else "AND id IN (SELECT value FROM json_each(:items))"
    standard: dict[int, int] = dict(
        db.execute(f"SELECT id, std_cost FROM item WHERE std_cost IS NOT NULL {only}", params)
    )
    state = Replay(history=history)
    average: dict[int, int] = {}
    on_hand = state.on_hand
    basis = state.basis
    keys, values = state._keys, state._values
    cur = db.cursor()
    cur.row_factory = None  # plain tuples
    stream = _STREAM.format(
        at="m.effective_at" if history else "NULL",
        c_at="c.effective_at" if history else "NULL",
        valued_to=valued_to,
        valued_from=valued_from,
        own_output=own_output(15),
        items="" if item_ids is None else _SOME_ITEMS,
        c_items="" if item_ids is None else _SOME_COMPLETIONS,
    )
    cur.execute(stream, params)
    for seq, at, item_id, micro, cost, d in cur:
        if d > 0:  # an inflow
            held = on_hand[item_id]
            if d == 2:  # a scrap-only completion's material, carried by what is on hand
                current = average.get(item_id)
                if held > 0 and current is not None:  # else nothing carries it: a loss
                    average[item_id] = _half_even(held * current + cost * q.SCALE, held)
                    basis[item_id] = "average"
                    if history:
                        keys[item_id].append((at, seq))
                        values[item_id].append(average[item_id])
                continue
            on_hand[item_id] = held + micro
            current = average.get(item_id)
            if cost is None:
                if current is not None:
                    continue  # at the current average: nothing changes
                if item_id in standard:
                    cost, basis[item_id] = standard[item_id], "standard"
                else:
                    cost, basis[item_id] = 0, "none"
            else:
                basis[item_id] = "average"
            if held <= 0 or current is None:
                new = cost
            else:  # _half_even, inlined: half a million calls
                whole = held + micro
                new, rest = divmod(held * current + micro * cost, whole)
                if 2 * rest > whole or (2 * rest == whole and new & 1):
                    new += 1
            average[item_id] = new
            if history:
                keys[item_id].append((at, seq))
                values[item_id].append(new)
        else:
            on_hand[item_id] -= micro
    with localcontext(prec=PRECISION):
        state.average = {i: _money(a) for i, a in average.items()}
    return state


def averages(db: sqlite3.Connection, item_ids: list[int]) -> Replay:
    """The moving averages of some items, now and at each move (a replay of their own
    rows, with its history)."""
    return replay(db, item_ids=sorted(set(item_ids)), history=True)


# -- completions ----------------------------------------------------------------------------


_RELIEVED = """
    SELECT item_id, qty FROM move
     WHERE seq BETWEEN :first AND :last AND kind = 'relieve' AND reason IS NULL
     ORDER BY seq
"""
# An order's completions after its last one with good units that only scrapped and
# carried nothing at once (``carried`` NULL: before its first good units, or stored
# before schema 17).
_SCRAP_ONLY_SINCE_GOOD = """
    SELECT first_seq, last_seq, effective_at FROM completion
     WHERE order_id = :order AND good = 0 AND carried IS NULL
       AND first_seq > ifnull((SELECT max(first_seq) FROM completion
                                WHERE order_id = :order AND good > 0), 0)
     ORDER BY first_seq
"""
_MADE_GOOD = "SELECT 1 FROM completion WHERE order_id = :order AND good > 0 LIMIT 1"
_INSERT_COMPLETION = """
    INSERT INTO completion (first_seq, last_seq, order_id, item_id, good, unit_cost,
                            effective_at, carried)
    VALUES (:first, :last, :order_id, :item_id, :good, :unit_cost, :effective_at, :carried)
"""


def record_completion(
    db: sqlite3.Connection, *, order_id: int, item_id: int, first_seq: int, last_seq: int, good: int
) -> int | None:
    """Store a completion just posted: its moves are ``first_seq`` (its first ``make``)
    to ``last_seq`` (its last relieve), ``good`` micro-units of ``item_id`` made. The
    unit cost is the material it relieved, and with good units that of the order's
    scrap-only completions since its last good one that carried nothing, each at the
    components' averages in effect when relieved (a replay of just those components),
    over the good units, rounded half-even; returns it (millionths), or None without
    good units or material.

    A completion that only scraps, of an order that has made good units before, carries
    its material at once (``carried``: its value in millionths, rounded half-even): no
    later completion may come to carry it.
    """
    effective_at = db.execute(
        "SELECT effective_at FROM move WHERE seq = ?", (first_seq,)
    ).fetchone()[0]
    # This completion's relieved material, and (when it makes good units) that of the
    # order's completions since its last good one that only scrapped: scrapped output's
    # material is carried by the good units, also when it was booked on its own. Each
    # at the components' averages when it was relieved.
    spans = [(first_seq, last_seq, effective_at)]
    if good > 0:
        spans = [*db.execute(_SCRAP_ONLY_SINCE_GOOD, {"order": order_id}), *spans]
    carries = good == 0 and db.execute(_MADE_GOOD, {"order": order_id}).fetchone() is not None
    cost = carried = None
    if good > 0 or carries:
        material = relieved_value(db, spans, as_of=effective_at)
        if good > 0 and material is not None:
            cost = _half_even(material, good)
        elif carries:
            carried = _half_even(material or 0, q.SCALE)
    db.execute(
        _INSERT_COMPLETION,
        {
            "first": first_seq,
            "last": last_seq,
            "order_id": order_id,
            "item_id": item_id,
            "good": good,
            "unit_cost": cost,
            "effective_at": effective_at,
            "carried": carried,
        },
    )
    return cost


def relieved_value(
    db: sqlite3.Connection, spans: list[tuple[int, int, str]], *, as_of: str
) -> int | None:
    """The material the completions ``spans`` (first seq, last seq, effective_at)
    relieved, each at the components' averages in effect when relieved (a replay of
    just those components up to ``as_of``), in millionths x micro-units; None when
    they relieved nothing."""
    relieved_at = [
        (int(i), int(n), at, first)
        for first, last, at in spans
        for i, n in db.execute(_RELIEVED, {"first": first, "last": last})
    ]
    if not relieved_at:
        return None
    components = sorted({i for i, _n, _at, _f in relieved_at})
    state = replay(db, as_of=as_of, item_ids=components, history=True)
    return sum(n * (state.micro_at(i, at, first) or 0) for i, n, at, first in relieved_at)


# -- the report ------------------------------------------------------------------------------

_BALANCES_NOW = """
    SELECT b.item_id, CASE WHEN l.kind = 'production' THEN 'wip' ELSE b.status END, sum(b.qty)
      FROM balance AS b JOIN location AS l ON l.id = b.location_id
     WHERE l.kind IN ('internal', 'production')
     GROUP BY 1, 2
"""
# NOT INDEXED: the planner would walk move_item_time for every item and fetch each of a
# million moves from the table (4.7 s); one scan of the table takes 1.5 s.
_BALANCES_AS_OF = """
    SELECT item_id, CASE WHEN kind = 'production' THEN 'wip' ELSE status END, sum(qty) FROM (
        SELECT m.item_id, l.kind, m.to_status AS status, m.qty
          FROM move AS m NOT INDEXED JOIN location AS l ON l.id = m.to_location_id
         WHERE m.effective_at <= :as_of AND l.kind IN ('internal', 'production')
        UNION ALL
        SELECT m.item_id, l.kind, m.from_status, -m.qty
          FROM move AS m NOT INDEXED JOIN location AS l ON l.id = m.from_location_id
         WHERE m.effective_at <= :as_of AND l.kind IN ('internal', 'production')
    ) GROUP BY 1, 2
"""


def report(
    db: sqlite3.Connection, *, as_of: str | None = None, item: str | None = None
) -> list[dict[str, Any]]:
    """Per item: valued quantity, moving-average cost, value, and value by status.

    ``as_of`` is a local date or date-time as a user types it (a date means the end of
    that day): the ledger is replayed up to then. Quantities come from the balances
    (now) or the ledger summed up to ``as_of``; each status's value is its quantity x
    the average, so the statuses sum to the item's value exactly. Items with no valued
    stock are left out.
    """
    stamp = timefmt.parse_moment(as_of, what="--as-of", end_of_day=True) if as_of else None
    only = items.get(db, item) if item else None
    state = replay(db, as_of=stamp, item_ids=[only.id] if only else None)
    held: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUS_COLUMNS, 0))
    rows_sql = _BALANCES_AS_OF if stamp else _BALANCES_NOW
    for item_id, status, micro in db.execute(rows_sql, {"as_of": stamp}):
        if only is None or item_id == only.id:
            held[item_id][status] += micro
    catalogue = {r[0]: r[1:] for r in db.execute("SELECT id, code, name, unit FROM item")}
    rows = []
    with localcontext(prec=PRECISION):
        for item_id, by_status in held.items():
            total = sum(by_status.values())
            if total == 0:
                continue
            code, name, unit = catalogue[item_id]
            average = state.average.get(item_id, Decimal(0))
            row: dict[str, Any] = {
                "item": code,
                "name": name,
                "unit": unit,
                "qty": q.dec(total),
                "average_cost": _exact(average),
                "value": _exact(q.dec(total) * average),
            }
            for status in STATUS_COLUMNS:
                row[status] = _exact(q.dec(by_status[status]) * average)
            row["basis"] = state.basis.get(item_id, "none")
            rows.append(row)
    rows.sort(key=lambda r: r["item"].upper())
    return rows


def _exact(value: Decimal) -> Decimal:
    """An exact value without trailing zeros (``44.000000`` -> ``44``)."""
    return value.normalize() if value else Decimal(0)


def total(rows: list[dict[str, Any]]) -> Decimal:
    with localcontext(prec=PRECISION):
        return _exact(sum((r["value"] for r in rows), Decimal(0)))
