"""Why MRP planned what it planned for one item, in words and a small tree.

``explain(plan, item)`` returns nested ``{"text": ..., "children": [...]}`` nodes:
the item's planning data, what stock and scheduled receipts covered first, each
planned order with the requirements it serves traced up through the parents' planned
orders to the top-level demands, and the item's shortage with the demands it
endangers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mfgctl.domain.mrp import Element, Plan, PlannedOrder, _n

MAX_CHILDREN = 25  # per node: a common part serves hundreds of orders


def _node(text: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    kids = children or []
    if len(kids) > MAX_CHILDREN:
        kids = [*kids[:MAX_CHILDREN], _node(f"... and {len(kids) - MAX_CHILDREN} more")]
    return {"text": text, "children": kids}


def _why(plan: Plan, e: Element, qty: int, unit: str, seen: frozenset[int]) -> dict[str, Any]:
    """A requirement and, upwards, the planned orders and demands behind it."""
    parent = e.order
    if parent is None or parent.id in seen:
        roots = plan.roots_of(e.roots)
        if all(r.kind == "safety_stock" for r in roots):
            return _node(f"{_n(qty)} {unit} kept as {e.source}")
        text = f"{_n(qty)} {unit} for {e.source}, needed {e.due}"
        # An open production order's output pegged to demands (peg_through_orders).
        served = [r for r in roots if r.kind not in ("order", "safety_stock")]
        if e.source.startswith("ORDER-") and served:
            return _node(text + ", whose output serves", [_node(r.label) for r in served])
        return _node(text)
    parent_unit = plan.snapshot.parts[parent.item.upper()].unit
    up = [_why(plan, pe, pq, parent_unit, seen | {parent.id}) for pq, pe in parent.pegging]
    text = (
        f"{_n(qty)} {unit} for {parent.label}: {_n(parent.qty)} {parent_unit} released "
        f"{parent.release}, needed {e.due}"
    )
    return _node(text, up)


def _order(plan: Plan, o: PlannedOrder, unit: str) -> dict[str, Any]:
    start = plan.settings.start
    late = ""
    if o.due < start:
        late = " - past due"
    elif o.release < start:
        # What the run's inside_lead_time message says it means (short, or only safety
        # stock waits, or release it now).
        said = next(
            (e.message for e in plan.exceptions
             if e.code == "inside_lead_time" and e.ref == o.label),
            "",
        )  # fmt: skip
        effect = said.partition("lead time): ")[2] or "short unless expedited"
        late = f" - should have been released before the start: {effect}"
    text = f"{o.label}: {o.kind} {_n(o.qty)} {unit}, release {o.release}, due {o.due}{late}"
    served = sum(q for q, _e in o.pegging)
    kids = [_why(plan, e, q, unit, frozenset({o.id})) for q, e in o.pegging]
    if o.qty > served:
        kids.append(_node(f"{_n(o.qty - served)} {unit} more than needed (lot size)"))
    return _node(text, kids)


def explain(plan: Plan, item: str) -> dict[str, Any]:
    """The explanation tree of ``item`` (an upper-cased code of the snapshot)."""
    part = plan.snapshot.parts[item]
    record = plan.record(item)
    unit = part.unit
    head = (
        f"{part.code} ({part.name}): {part.make_or_buy}, {part.method.replace('_', ' ')}, "
        f"low-level code {record.level}, lead time {part.lead_time_days} days, "
        f"free stock {_n(record.on_hand)} {unit}, safety stock {_n(record.safety_stock)} {unit}"
    )
    children = []
    covered: dict[str, int] = defaultdict(int)
    lost = []
    for e in record.elements:
        if not e.roots and e.order is None:  # stock of a lot expiring unused (mrp.expire)
            lost.append(_node(f"{_n(e.qty)} {unit} of {e.source}, unused: gone on {e.due}"))
            continue
        for label, qty, order in e.supplied:
            if order is None:
                covered[label] += qty
    if covered:
        children.append(
            _node(
                "Netted first",
                [
                    _node(f"{_n(q)} {unit} from {'free stock' if k == 'stock' else k}")
                    for k, q in covered.items()
                ],
            )
        )
    if lost:
        children.append(_node("Lost to expiry", lost))
    mine = [o for o in plan.planned if o.item == part.code]
    if mine:
        children.append(
            _node(
                f"Planned orders ({len(mine)})",
                [_order(plan, o, unit) for o in mine],
            )
        )
    else:
        children.append(_node("No planned orders: stock and receipts cover every requirement"))
    for s in plan.shortages:
        if s.item == part.code:
            children.append(
                _node(
                    f"Short {_n(s.qty)} {unit} from {s.first_date}, endangering",
                    [_node(r.label) for r in s.roots],
                )
            )
    for e in plan.exceptions:
        if e.item == part.code:
            children.append(_node(f"{e.code}: {e.message}"))
    if not record.elements:
        children.append(_node("No requirements within the horizon"))
    return _node(head, children)
