"""The completions of a ledger written before schema 12, found again for its migration;
and (``carry_late_scrap``, schema 17) the material of scrap booked after an order's
last good units, carried by them.

Before schema 12 a completion's cost was not stored: the valuation replay found each
completion's moves by grouping consecutive seqs (``_completions``, kept here only for
this) and costed its output at the components' averages of that moment. ``backfill``
replays the whole ledger once in (effective_at, seq) order, as ``valuation.replay``
does now, and at each completion stores its row (as ``valuation.record_completion``
costs it: the relieved material at the averages then, the averages of made components
coming from the rows already stored, and a scrap-only completion's material carried by
the order's next good one), then lets it in as the new replay will. So the report after
the migration is the report before it, but for the rounding of each unit cost to a
millionth before it enters the average, and for scrap booked apart from the good units,
which they now carry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from mfgctl import qty as q
from mfgctl.domain import valuation

# Every move of a completion (make, output, scrap, relieve), in seq order.
_MOVES = """
    SELECT m.seq, m.effective_at, m.item_id, m.qty, m.kind, m.ref, m.reason
      FROM move AS m
     WHERE m.kind IN ('make', 'output', 'scrap', 'relieve')
     ORDER BY m.seq
"""
# What the old replay read: moves across the valued boundary and a completion's moves.
_STREAM = """
    SELECT m.seq, m.effective_at, m.item_id, m.qty, m.unit_cost,
           {valued_to} - {valued_from} AS d
      FROM move AS m
     WHERE {valued_to} <> {valued_from} OR m.kind IN ('make', 'output', 'relieve')
     ORDER BY m.effective_at, m.seq
"""
_ORDERS = """
    SELECT l.code, o.id FROM production_order AS o JOIN location AS l ON l.id = o.location_id
"""


@dataclass(frozen=True, slots=True)
class _Move:
    seq: int
    effective_at: str
    item_id: int
    qty: int
    kind: str
    ref: str | None
    reason: str | None


@dataclass(slots=True)
class _Completion:
    """The moves of one ``order complete``: the product made, its good units, and the
    components relieved from the order's WIP for them."""

    ref: str | None
    product: int
    last: int
    effective_at: str
    makes: list[int] = field(default_factory=list)
    scraps: list[int] = field(default_factory=list)
    good: int = 0
    relieved: list[tuple[int, int]] = field(default_factory=list)  # (item id, micro)


def _completions(moves: list[_Move]) -> dict[int, _Completion]:
    """Group the completions' moves (by seq: one command's moves are consecutive) and
    return them keyed by the seq of their first ``make`` move."""
    groups: dict[int, _Completion] = {}
    cur: _Completion | None = None
    relieving = False
    for m in moves:
        follows = cur is not None and m.ref == cur.ref and m.seq == cur.last + 1
        if m.kind == "make":
            if not (follows and not relieving and cur is not None and cur.product == m.item_id):
                cur, relieving = _Completion(m.ref, m.item_id, m.seq, m.effective_at), False
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
            cur.relieved.append((m.item_id, m.qty))
        else:
            cur = None
            continue
        cur.last = m.seq
    return groups


def backfill(db: sqlite3.Connection) -> int:
    """Store a ``completion`` row for every completion in the ledger; return how many.

    A group whose ``ref`` names no production order (not written by ``order
    complete``) gets no row: its moves stay plain moves, as the new replay reads them.
    """
    orders = {str(code): int(i) for code, i in db.execute(_ORDERS)}
    groups = {
        seq: g
        for seq, g in _completions([_Move(*r) for r in db.execute(_MOVES)]).items()
        if g.ref in orders
    }
    skip = {s for g in groups.values() for s in (*g.makes, *g.scraps)}
    standard: dict[int, int] = dict(
        db.execute("SELECT id, std_cost FROM item WHERE std_cost IS NOT NULL")
    )
    average: dict[int, int] = {}
    on_hand: dict[int, int] = {}

    def inflow(item_id: int, micro: int, cost: int | None) -> None:
        held = on_hand.get(item_id, 0)
        on_hand[item_id] = held + micro
        current = average.get(item_id)
        if cost is None:
            if current is not None:
                return
            cost = standard.get(item_id, 0)
        if held <= 0 or current is None:
            average[item_id] = cost
        else:
            average[item_id] = valuation._half_even(held * current + micro * cost, held + micro)

    rows = []
    # Per order, the material its scrap-only completions relieved since its last good
    # one (value in millionths x micro-units): the next good completion carries it, as
    # ``valuation.record_completion`` does.
    carried: dict[int, int] = {}
    valued_to, valued_from = valuation._valued_test(db)
    stream = _STREAM.format(valued_to=valued_to, valued_from=valued_from)
    for seq, _at, item_id, micro, cost, d in db.execute(stream):
        group = groups.get(seq)
        if group is not None:
            order = orders[str(group.ref)]
            material = sum(n * average.get(i, 0) for i, n in group.relieved)
            if group.good <= 0:
                carried[order] = carried.get(order, 0) + material
                price = None
            elif group.relieved or order in carried:
                price = valuation._half_even(material + carried.pop(order, 0), group.good)
            else:
                price = None
            rows.append(
                (seq, group.last, order, group.product, group.good, price, group.effective_at)
            )
            if group.good > 0:
                inflow(group.product, group.good, price)
        if seq in skip:
            continue
        if d > 0:
            inflow(item_id, micro, cost)
        elif d < 0:
            on_hand[item_id] = on_hand.get(item_id, 0) - micro
    db.executemany(
        "INSERT INTO completion (first_seq, last_seq, order_id, item_id, good, unit_cost, "
        "effective_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


# Scrap-only completions after their order's good units that no later good completion
# carried: before schema 17 their material left stock as a loss. In replay order, so a
# made component's carry is in place before an output made of it is costed. Left out:
# those after which (in replay order) a stored cost read the item's average (see
# ``carry_late_scrap``): a completion that relieved the item, or a customer return of
# a shipment of it.
_UNCARRIED = """
    SELECT c.first_seq, c.last_seq, c.effective_at FROM completion AS c
     WHERE c.good = 0 AND c.carried IS NULL
       AND EXISTS (SELECT 1 FROM completion AS g
                    WHERE g.order_id = c.order_id AND g.good > 0 AND g.first_seq < c.first_seq)
       AND NOT EXISTS (SELECT 1 FROM completion AS g
                        WHERE g.order_id = c.order_id AND g.good > 0 AND g.first_seq > c.first_seq)
       AND NOT EXISTS (SELECT 1 FROM move AS m
                        WHERE m.item_id = c.item_id AND m.kind = 'relieve' AND m.reason IS NULL
                          AND (m.effective_at > c.effective_at
                               OR (m.effective_at = c.effective_at AND m.seq > c.first_seq)))
       AND NOT EXISTS (SELECT 1 FROM move AS r JOIN move AS s
                          ON s.ref = r.ref AND s.kind = 'ship' AND s.item_id = r.item_id
                        WHERE r.item_id = c.item_id AND r.kind = 'customer_return'
                          AND (s.effective_at > c.effective_at
                               OR (s.effective_at = c.effective_at AND s.seq > c.first_seq)))
     ORDER BY c.effective_at, c.first_seq
"""


def carry_late_scrap(db: sqlite3.Connection) -> int:
    """Set ``carried`` of every scrap-only completion booked after its order's last good
    units, as ``valuation.record_completion`` sets it now (the material it relieved at
    the components' averages then); return how many. A scrap-only completion that a
    later good one carried keeps ``carried`` NULL (its material is in that one's cost).

    Also NULL (the scrap stays the loss it was booked as) when, after it in replay
    order, a stored cost read the item's average: a completion that relieved the item
    (its output's unit cost) or a customer return of a shipment of it (its cost when
    shipped). Carrying it would raise the average those costs were worked out at
    without raising them: the relieve or shipment would take the item out at the new
    average and the output or return bring back the old one, and the difference would
    be neither in stock nor a loss. Left alone, every value stays as the older mfgctl
    booked it, so valuation = receipts - shipments at cost - losses still holds.
    The caller lifts the table's append-only trigger around it."""
    found = db.execute(_UNCARRIED).fetchall()
    for first, last, at in found:
        material = valuation.relieved_value(db, [(first, last, at)], as_of=at)
        db.execute(
            "UPDATE completion SET carried = ? WHERE first_seq = ?",
            (valuation._half_even(material or 0, q.SCALE), first),
        )
    return len(found)
