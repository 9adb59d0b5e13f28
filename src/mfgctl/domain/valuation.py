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
  purchase order's cost (``purchase receive``), an opening balance's ``cost``.
- An inflow without a cost (a receipt without ``--cost``, a count or adjustment that
  adds, an opening balance without ``cost``) comes in at the current average, so the
  average does not change; if the item has none yet, at its standard cost (``cost``);
  with neither, at zero (the item's ``basis`` says ``none``).
- Output of a production order: each completion's good units come in at the cost of
  the materials that completion relieved from the order's WIP (at their averages then),
  divided over the good units. Scrapped output is made and scrapped at once and never
  enters valued stock: its material is carried by the good units. A completion that
  relieved no material is an inflow without a cost (above). Material used up when an
  order is closed ("left in WIP at close") leaves stock as a loss, like scrap.
- The average is kept to a millionth (half-even), like every stored money amount;
  values are exact products ``qty x average``, so an item's value by status sums to its
  total exactly.

The average uses today's standard costs where it needs one (the history of item costs is
not kept). Nothing is stored: the replay reads the moves that cross the valued boundary
(plus a completion's moves, to find its output's cost), so ``as_of`` is the same replay
stopped at that moment.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
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
# The kinds of move a completion writes (the replay groups them first).
_COMPLETION_KINDS = "AND m.kind IN ('make', 'output', 'scrap', 'relieve')"
# Moves that cross the valued boundary, and every move of a completion (make, output,
# relieve) so that a completion's moves are found together; in replay order.
# ``{valued_to}``/``{valued_from}``: see ``_valued_test``.
_MOVES = """
    SELECT m.seq, m.effective_at, m.item_id, m.qty, m.kind, m.unit_cost, m.ref, m.reason,
           {valued_from} AS from_valued, {valued_to} AS to_valued
      FROM move AS m
     WHERE (:as_of IS NULL OR m.effective_at <= :as_of) {items} {kinds}
       AND ({valued_to} <> {valued_from} OR m.kind IN ('make', 'output', 'relieve'))
     ORDER BY m.effective_at, m.seq
"""


@dataclass(frozen=True, slots=True)
class _Move:
    seq: int
    effective_at: str
    item_id: int
    qty: int
    kind: str
    unit_cost: int | None
    ref: str | None
    reason: str | None
    from_valued: bool
    to_valued: bool


@dataclass(slots=True)
class _Completion:
    """The moves of one ``order complete``: the product made, its good units, and the
    components relieved from the order's WIP for them."""

    ref: str | None
    product: int
    last: int
    makes: list[int] = field(default_factory=list)
    scraps: list[int] = field(default_factory=list)
    good: int = 0
    relieved: list[_Move] = field(default_factory=list)


def _completions(moves: list[_Move]) -> dict[int, _Completion]:
    """Group the completions' moves (by seq: one command's moves are consecutive) and
    return them keyed by the seq of their first ``make`` move."""
    by_seq = sorted(moves, key=lambda m: m.seq)
    groups: dict[int, _Completion] = {}
    cur: _Completion | None = None
    relieving = False
    for m in by_seq:
        follows = cur is not None and m.ref == cur.ref and m.seq == cur.last + 1
        if m.kind == "make":
            if not (follows and not relieving and cur is not None and cur.product == m.item_id):
                cur, relieving = _Completion(m.ref, m.item_id, m.seq), False
                groups[m.seq] = cur
            cur.makes.append(m.seq)
        elif (
            follows
            and cur is not None
            and not relieving
            and m.item_id == cur.product
            and (m.kind in ("output", "scrap"))
        ):
            if m.kind == "output":
                cur.good += m.qty
            else:
                cur.scraps.append(m.seq)
        elif follows and cur is not None and m.kind == "relieve" and m.reason is None:
            # Relieves with a reason are an order's close using up its leftover WIP.
            relieving = True
            cur.relieved.append(m)
        else:
            cur = None
            continue
        cur.last = m.seq
    return groups


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
        keys = self._keys.get(item_id, [])
        n = bisect.bisect_right(keys, (effective_at, seq))
        return _money(self._values[item_id][n - 1]) if n else None


def _money(micro: int) -> Decimal:
    """Millionths -> the Decimal ``_round`` gives (exponent -6: ``3`` is ``3.000000``)."""
    sign, digits, _ = Decimal(micro).as_tuple()
    return Decimal((sign, digits, -q.PLACES))


def _round(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_EVEN)


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


# The replay's stream: every move that crosses the valued boundary (``d`` +1 in, -1
# out) and every move of a completion (``d`` 0 when it stays inside); in replay order.
# ``{at}`` is NULL unless the history is kept (a million strings cost a third of a
# second). ``{valued}`` tests whether a place is valued (``_valued_test``).
_STREAM = """
    SELECT m.seq, {at}, m.item_id, m.qty, m.unit_cost,
           {valued_to} - {valued_from} AS d
      FROM move AS m
     WHERE (:as_of IS NULL OR m.effective_at <= :as_of) {items}
       AND ({valued_to} <> {valued_from} OR m.kind IN ('make', 'output', 'relieve'))
     ORDER BY m.effective_at, m.seq
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

    ``item_ids`` limits the replay to those items (include what their completions
    relieve: see ``closure``); ``history`` keeps every average for ``average_at``.

    The replay runs on integers (quantities and averages in millionths, each new
    average an integer division rounded half-even), one plain tuple per move and no
    object per move; only a completion's cost is worked in Decimal (``_complete``).
    """
    import json

    params = {"as_of": as_of, "items": None if item_ids is None else json.dumps(item_ids)}
    some = "" if item_ids is None else _SOME_ITEMS
    # Completions first (few moves, held in memory), then the ledger streamed once.
    valued_to, valued_from = _valued_test(db)
    completion_moves = _MOVES.format(
        items=some, kinds=_COMPLETION_KINDS, valued_to=valued_to, valued_from=valued_from
    )
    groups = _completions([_Move(*r) for r in db.execute(completion_moves, params)])
    skip = {s for g in groups.values() for s in (*g.makes, *g.scraps)}
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
    at_sql = "m.effective_at" if history else "NULL"
    stream = _STREAM.format(at=at_sql, valued_to=valued_to, valued_from=valued_from, items=some)
    cur.execute(stream, params)
    for seq, at, item_id, micro, cost, d in cur:
        if groups:
            group = groups.get(seq)
            if group is not None and group.good > 0:
                _complete(state, average, group, (at, seq), standard)
            if seq in skip:
                continue
        if d > 0:  # an inflow
            held = on_hand[item_id]
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
        elif d < 0:
            on_hand[item_id] -= micro
    with localcontext(prec=PRECISION):
        state.average = {i: _money(a) for i, a in average.items()}
    return state


def _complete(
    state: Replay,
    average: dict[int, int],
    group: _Completion,
    at: tuple[str, int],
    standard: dict[int, int],
) -> None:
    """A completion's good units come in at the material it relieved (at the averages
    then) over the good units: worked in Decimal, as the module docstring says."""
    product = group.product
    held = state.on_hand[product]
    state.on_hand[product] = held + group.good
    current = average.get(product)
    with localcontext(prec=PRECISION):
        if not group.relieved:  # an inflow without a cost
            if current is not None:
                return
            if product in standard:
                cost, state.basis[product] = q.dec(standard[product]), "standard"
            else:
                cost, state.basis[product] = Decimal(0), "none"
        else:
            material = sum(
                (q.dec(r.qty) * q.dec(average.get(r.item_id, 0)) for r in group.relieved),
                Decimal(0),
            )
            cost = material / q.dec(group.good)
            state.basis[product] = "average"
        if held <= 0 or current is None:
            new = _round(cost)
        else:
            new = _round(
                (q.dec(held) * q.dec(current) + q.dec(group.good) * cost) / q.dec(held + group.good)
            )
        micro = int(new.scaleb(q.PLACES))
    average[product] = micro
    if state.history:
        state._keys[product].append(at)
        state._values[product].append(micro)


_PRODUCED_FROM = """
    SELECT DISTINCT m.item_id
      FROM production_order AS o
      JOIN location AS l ON l.id = o.location_id
      JOIN move AS m ON m.ref = l.code AND m.kind = 'relieve'
     WHERE o.item_id IN (SELECT value FROM json_each(:items))
"""


def closure(db: sqlite3.Connection, item_ids: list[int]) -> list[int]:
    """The items whose averages those of ``item_ids`` depend on: themselves and, for an
    item made in production orders, the components those orders relieved (at every
    depth)."""
    import json

    found = set(item_ids)
    todo = list(found)
    while todo:
        rows = db.execute(_PRODUCED_FROM, {"items": json.dumps(todo)}).fetchall()
        todo = [r[0] for r in rows if r[0] not in found]
        found.update(todo)
    return sorted(found)


def averages(db: sqlite3.Connection, item_ids: list[int]) -> Replay:
    """The moving averages of some items, now and at each move (a replay of what they
    depend on, with its history)."""
    return replay(db, item_ids=closure(db, item_ids), history=True)


# -- the report ------------------------------------------------------------------------------

_BALANCES_NOW = """
    SELECT b.item_id, CASE WHEN l.kind = 'production' THEN 'wip' ELSE b.status END, sum(b.qty)
      FROM balance AS b JOIN location AS l ON l.id = b.location_id
     WHERE l.kind IN ('internal', 'production')
     GROUP BY 1, 2
"""
_BALANCES_AS_OF = """
    SELECT item_id, CASE WHEN kind = 'production' THEN 'wip' ELSE status END, sum(qty) FROM (
        SELECT m.item_id, l.kind, m.to_status AS status, m.qty
          FROM move AS m JOIN location AS l ON l.id = m.to_location_id
         WHERE m.effective_at <= :as_of AND l.kind IN ('internal', 'production')
        UNION ALL
        SELECT m.item_id, l.kind, m.from_status, -m.qty
          FROM move AS m JOIN location AS l ON l.id = m.from_location_id
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
    state = (
        replay(db, as_of=stamp, item_ids=closure(db, [only.id]))
        if only
        else replay(db, as_of=stamp)
    )
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
