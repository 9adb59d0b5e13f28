"""An MRP plan as rows and documents: the shortage report, planned orders, exceptions,
the time-phased grid of one item, and the JSON document for scripts.

Pure functions of a ``mrp.Plan``: quantities leave here as exact Decimals in the
item's base unit, dates as ISO text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from decimal import Decimal
from itertools import islice
from typing import Any

from mfgctl import qty as q
from mfgctl.domain.mrp import Bucket, Plan, PlannedOrder, Record, Shortage

SHORTAGE_COLUMNS = [
    "item", "name", "short", "unit", "first_short", "demands", "orders", "pending_inspection",
]  # fmt: skip
PLANNED_COLUMNS = ["planned", "item", "kind", "qty", "unit", "release", "due", "for"]
EXCEPTION_COLUMNS = ["code", "item", "date", "message"]
# Micro-units to a document's number.
Number = Callable[[int], Any]
GRID_MEASURES = (
    ("gross", "gross requirements"),
    ("scheduled_receipts", "scheduled receipts"),
    ("projected_on_hand", "projected on hand"),
    ("net", "net requirements"),
    ("planned_receipts", "planned order receipts"),
    ("planned_releases", "planned order releases"),
)


def _keep(only: Collection[str] | None, item: str) -> bool:
    return not only or item.upper() in only


def _unit(plan_units: dict[str, str], item: str) -> str:
    return plan_units.get(item.upper(), "")


# The most demands (or orders) a text report names in one cell; the rest are counted.
# On a large plant a raw material's shortage endangers thousands of customer orders:
# the JSON document and ``mrp explain`` list every one.
NAMED = 5


def named(labels: Iterable[str], total: int, sep: str = "; ") -> str:
    """The first ``NAMED`` of ``labels`` joined, and how many more of ``total`` there
    are (``labels`` may stop after the first ``NAMED``)."""
    shown = sep.join(islice(labels, NAMED))
    return shown if total <= NAMED else f"{shown}{sep}and {total - NAMED:,} more"


def shortages_for(plan: Plan, only: Collection[str] | None = None) -> list[Shortage]:
    """The plan's shortages of the items in ``only`` (all without it), and those that
    endanger a demand or production order of theirs: asked about a finished item, the
    report names the component shortage that will make it late."""
    if not only:
        return list(plan.shortages)
    return [
        s
        for s in plan.shortages
        if s.item.upper() in only or any(r.item.upper() in only for r in s.roots)
    ]


def shortage_rows(
    plan: Plan, units: dict[str, str], names: dict[str, str], only: Collection[str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for s in shortages_for(plan, only):
        demands = [r for r in s.roots if r.kind != "order"]
        orders = [r for r in s.roots if r.kind == "order"]
        rows.append(
            {
                "item": s.item,
                "name": names.get(s.item.upper(), ""),
                "short": q.dec(s.qty),
                "unit": _unit(units, s.item),
                "first_short": s.first_date.isoformat(),
                "demands": named((r.label for r in demands), len(demands)),
                "orders": named((f"ORDER-{r.id}" for r in orders), len(orders), ", "),
                "pending_inspection": q.dec(s.inspection),
            }
        )
    return rows


def pegging(o: PlannedOrder, number: Number = q.exact) -> list[dict[str, Any]]:
    """What the order covers, one level up: each requirement with the parent planned
    order it comes from (follow ``planned_order`` up to reach every level), or the
    top-level demand it is (an index into the document's ``demands``)."""
    return [
        {
            "qty": number(qty),
            "for": e.source,
            "planned_order": e.order.id if e.order is not None else None,
            "demand": e.roots[0] if e.order is None and len(e.roots) == 1 else None,
        }
        for qty, e in o.pegging
    ]


def planned_rows(
    plan: Plan, units: dict[str, str], only: Collection[str] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "planned": o.id,
            "item": o.item,
            "kind": o.kind,
            "qty": q.dec(o.qty),
            "unit": _unit(units, o.item),
            "release": o.release.isoformat(),
            "due": o.due.isoformat(),
            "for": named((plan.roots[n].label for n in o.demands), len(o.demands)),
        }
        for o in sorted(plan.planned, key=lambda o: (o.release, o.id))
        if _keep(only, o.item)
    ]


def exception_rows(plan: Plan, only: Collection[str] | None = None) -> list[dict[str, Any]]:
    return [e.as_dict() for e in plan.exceptions if _keep(only, e.item)]


def _bucket_dict(plan: Plan, index: int, b: Bucket, x: Number = q.exact) -> dict[str, Any]:
    # ``v and x(v)``: most of a large plan's bucket figures are 0, written as it is.
    return {
        "start": plan.calendar.iso[index],
        "gross": b.gross and x(b.gross),
        "scheduled_receipts": b.scheduled and x(b.scheduled),
        "projected_on_hand": b.on_hand and x(b.on_hand),
        "net": b.net and x(b.net),
        "planned_receipts": b.planned_receipts and x(b.planned_receipts),
        "planned_releases": b.planned_releases and x(b.planned_releases),
    }


def dense_buckets(plan: Plan, record: Record) -> list[dict[str, Any]]:
    """Every bucket of the horizon, projected on hand carried over quiet ones."""
    out = []
    on_hand = record.on_hand
    for index in range(len(plan.calendar.starts)):
        b = record.buckets.get(index)
        if b is None:
            b = Bucket(on_hand=on_hand)
        elif b.gross == b.scheduled == b.net == b.planned_receipts == 0:
            b = Bucket(on_hand=on_hand, planned_releases=b.planned_releases)
        on_hand = b.on_hand
        out.append(_bucket_dict(plan, index, b))
    return out


def record_dict(
    plan: Plan, record: Record, *, dense: bool = False, number: Number = q.exact
) -> dict[str, Any]:
    if dense:
        buckets = dense_buckets(plan, record)
    else:
        buckets = [_bucket_dict(plan, i, b, number) for i, b in sorted(record.buckets.items())]
    return {
        "item": record.item,
        "low_level_code": record.level,
        "on_hand": number(record.on_hand),
        "safety_stock": number(record.safety_stock),
        "lead_time_days": record.lead_time_days,
        "buckets": buckets,
    }


def document(
    plan: Plan,
    *,
    fingerprint: str,
    only: Collection[str] | None = None,
    lazy: bool = False,
    number: Number = q.exact,
) -> dict[str, Any]:
    """The whole run for scripts (``mrp --format json``).

    Each top-level demand (sales order, forecast, open production order, safety stock)
    is written once, in ``demands``; a planned order's ``demands`` lists, by their
    ``n``, every one it serves through every level, and its ``pegging`` the
    requirements it covers one level up. ``lazy``: the long lists are generators, for
    ``render.write_json`` to write as they come. ``number`` turns micro-units into
    the document's numbers (exact Decimals or ints; the CLI's writer passes
    ``render.micro_number``, the same digits without a Decimal each).
    """
    s = plan.settings
    x = number
    orders = (
        {
            "id": o.id,
            "item": o.item,
            "kind": o.kind,
            "qty": x(o.qty),
            "release_date": o.release.isoformat(),
            "due_date": o.due.isoformat(),
            "demands": o.demands,
            "pegging": pegging(o, x),
        }
        for o in plan.planned
        if _keep(only, o.item)
    )
    records = (
        record_dict(plan, r, number=x)
        for _k, r in sorted(plan.records.items(), key=lambda kv: (kv[1].level, kv[0]))
        if _keep(only, r.item)
    )
    demands = (r.as_dict() for r in plan.roots)
    return {
        "start": s.start.isoformat(),
        "bucket": s.bucket,
        "horizon_days": s.horizon_days,
        "include_inspection": s.include_inspection,
        "fingerprint": fingerprint,
        "demands": demands if lazy else list(demands),
        "planned_orders": orders if lazy else list(orders),
        "records": records if lazy else list(records),
        "shortages": [
            {
                "item": sh.item,
                "qty": q.dec(sh.qty),
                "first_date": sh.first_date.isoformat(),
                "pending_inspection": q.dec(sh.inspection),
                "demands": [r.n for r in sh.roots],
                "planned_orders": list(sh.planned),
            }
            for sh in shortages_for(plan, only)
        ],
        "exceptions": exception_rows(plan, only),
    }


def grid_rows(plan: Plan, item: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The classic time-phased record: one row per measure, one column per bucket."""
    record = plan.record(item)
    buckets = dense_buckets(plan, record)
    columns = ["measure", *(b["start"] for b in buckets)]
    rows = []
    for key, label in GRID_MEASURES:
        row: dict[str, Any] = {"measure": label}
        for b in buckets:
            value: Decimal = b[key]
            row[b["start"]] = value
        rows.append(row)
    return columns, rows
