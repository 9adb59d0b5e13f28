"""The MRP engine on hand-worked cases: single-item records for each lot-sizing rule
(with safety stock and a scheduled receipt) asserted bucket by bucket, multi-level
plans (low-level codes, lead-time offsets, scrap, phantoms, substitutes, pegging),
manufacturing methods, forecast consumption, and every exception.

Weekly buckets from Monday 2027-03-01; ``wk(k)`` is the Wednesday of week k.
Quantities in the engine are micro-units: ``u(n)`` is n base units.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mfgctl.domain import mrp_report
from mfgctl.domain.mrp import (
    Component,
    DemandIn,
    OrderNeed,
    Part,
    Plan,
    Receipt,
    Settings,
    Snapshot,
    lot_sizes,
    plan,
)

START = date(2027, 3, 1)
U = 1_000_000


def u(n: float | int) -> int:
    return round(n * U)


def wk(k: int, weekday: int = 2) -> date:
    return START + timedelta(days=7 * k + weekday)


def line(child: str, qty: int | float = 1, **kw: object) -> Component:
    return Component(child, u(qty), U, **kw)  # type: ignore[arg-type]


def run(
    parts: list[Part],
    boms: dict[str, tuple[Component, ...]] | None = None,
    *,
    free: dict[str, int] | None = None,
    demands: list[DemandIn] | None = None,
    receipts: list[Receipt] | None = None,
    needs: list[OrderNeed] | None = None,
    horizon: int = 35,
    bucket: str = "week",
    inspection: dict[str, int] | None = None,
    include_inspection: bool = False,
) -> Plan:
    snap = Snapshot(
        parts={p.code.upper(): p for p in parts},
        boms=boms or {},
        free={k: u(v) for k, v in (free or {}).items()},
        inspection={k: u(v) for k, v in (inspection or {}).items()},
        demands=demands or [],
        receipts=receipts or [],
        order_needs=needs or [],
    )
    return plan(snap, Settings(START, horizon, bucket, include_inspection))


def sales(n: int, item: str, qty: float, due: date, ref: str | None = None) -> DemandIn:
    return DemandIn(n, item, u(qty), due, "sales", ref)


def forecast(n: int, item: str, qty: float, due: date) -> DemandIn:
    return DemandIn(n, item, u(qty), due, "forecast")


def grid(p: Plan, item: str) -> dict[str, list[float]]:
    """The dense record of an item: measure -> one number per bucket."""
    buckets = mrp_report.dense_buckets(p, p.record(item))
    keys = ("gross", "scheduled_receipts", "projected_on_hand", "net", "planned_receipts",
            "planned_releases")  # fmt: skip
    return {k: [float(b[k]) for b in buckets] for k in keys}


def orders(p: Plan, item: str) -> list[tuple[float, date, date]]:
    return [(o.qty / U, o.release, o.due) for o in p.planned if o.item == item]


def codes(p: Plan) -> set[tuple[str, str]]:
    return {(e.code, e.item) for e in p.exceptions}


# -- one item, each lot-sizing rule --------------------------------------------------------
#
# Item A: 20 free, safety stock 5, lead time 7 days; gross 10, 15, 0, 20, 10 in weeks
# 0-4; a purchase order of 10 due in week 1.

GROSS = [10, 15, 0, 20, 10]


def single(**planning: object) -> Plan:
    part = Part("A", lead_time_days=7, safety_stock=u(5), **planning)  # type: ignore[arg-type]
    demand = [sales(k + 1, "A", q, wk(k)) for k, q in enumerate(GROSS) if q]
    return run(
        [part],
        free={"A": 20},
        demands=demand,
        receipts=[Receipt("purchase", 1, "A", u(10), wk(1, 0))],
    )


def test_lot_for_lot_record() -> None:
    p = single()
    assert grid(p, "A") == {
        "gross": [10, 15, 0, 20, 10],
        "scheduled_receipts": [0, 10, 0, 0, 0],
        "projected_on_hand": [10, 5, 5, 5, 5],
        "net": [0, 0, 0, 20, 10],
        "planned_receipts": [0, 0, 0, 20, 10],
        "planned_releases": [0, 0, 20, 10, 0],
    }
    # Due the day stock falls short, released 7 days earlier.
    assert orders(p, "A") == [(20, wk(2), wk(3)), (10, wk(3), wk(4))]
    assert p.exceptions == [] and p.shortages == []


def test_fixed_order_quantity_record() -> None:
    p = single(lot_sizing="fixed", fixed_order_qty=u(25))
    g = grid(p, "A")
    assert g["net"] == [0, 0, 0, 20, 5]
    assert g["planned_receipts"] == [0, 0, 0, 25, 25]
    assert g["projected_on_hand"] == [10, 5, 5, 10, 25]


def test_fixed_quantity_smaller_than_the_need_orders_several_lots() -> None:
    p = single(lot_sizing="fixed", fixed_order_qty=u(8))
    # Week 3 needs 20: three lots of 8, all due the same day; week 4 needs 10 - 4 = 6: one.
    assert orders(p, "A") == [(8, wk(2), wk(3))] * 3 + [(8, wk(3), wk(4))]
    assert grid(p, "A")["projected_on_hand"] == [10, 5, 5, 9, 7]


def test_minimum_order_quantity_and_multiple_record() -> None:
    p = single(moq=u(30), order_multiple=u(4))
    g = grid(p, "A")
    # 20 -> at least 30 -> a multiple of 4: 32; week 4: 17 - 10 = 7 >= 5, no order.
    assert g["planned_receipts"] == [0, 0, 0, 32, 0]
    assert g["projected_on_hand"] == [10, 5, 5, 17, 7]


def test_maximum_order_quantity_splits_the_need() -> None:
    p = single(max_order_qty=u(8), order_multiple=u(3))
    # Lots of at most 8 that are multiples of 3: 6. Week 3: 20 = 6 + 6 + 6 + 2 -> 3;
    # week 4: 6 - 10 = -4, need 9 = 6 + 3.
    assert [q for q, _r, _d in orders(p, "A")] == [6, 6, 6, 3, 6, 3]
    g = grid(p, "A")
    assert g["planned_receipts"] == [0, 0, 0, 21, 9]
    assert g["projected_on_hand"] == [10, 5, 5, 6, 5]


def test_period_order_quantity_record() -> None:
    p = single(lot_sizing="period", period_days=14)
    g = grid(p, "A")
    # Week 3's order covers weeks 3 and 4 (both start within 14 days of 03-24).
    assert g["planned_receipts"] == [0, 0, 0, 30, 0]
    assert g["projected_on_hand"] == [10, 5, 5, 15, 5]
    assert g["net"] == [0, 0, 0, 20, 0]


def test_period_order_quantity_rounded_to_the_multiple() -> None:
    p = single(lot_sizing="period", period_days=14, order_multiple=u(12))
    assert grid(p, "A")["planned_receipts"] == [0, 0, 0, 36, 0]


def test_safety_stock_alone_is_replenished_in_the_first_bucket() -> None:
    p = run([Part("A", lead_time_days=0, safety_stock=u(5))], free={"A": 2})
    assert orders(p, "A") == [(3, START, START)]
    assert p.shortages == []  # safety stock is not a shortage


@pytest.mark.parametrize(
    ("planning", "need", "lots"),
    [
        ({}, 7, [7]),
        ({"lot_sizing": "fixed", "fixed_order_qty": 10}, 25, [10, 10, 10]),
        ({"moq": 10}, 3, [10]),
        ({"order_multiple": 6}, 13, [18]),
        ({"moq": 10, "order_multiple": 4}, 3, [12]),
        ({"max_order_qty": 10}, 25, [10, 10, 5]),
        ({"max_order_qty": 10, "moq": 4}, 21, [10, 10, 4]),
        ({"max_order_qty": 10, "order_multiple": 4}, 21, [8, 8, 8]),
        ({"lot_sizing": "fixed", "fixed_order_qty": 15, "max_order_qty": 10}, 12, [10, 5]),
    ],
)
def test_lot_sizes(planning: dict[str, int | str], need: int, lots: list[int]) -> None:
    values = {k: (u(v) if isinstance(v, int) else v) for k, v in planning.items()}
    part = Part("A", **values)  # type: ignore[arg-type]
    assert lot_sizes(part, u(need)) == [u(n) for n in lots]


# -- inspection stock ------------------------------------------------------------------------


def test_stock_pending_inspection_counts_only_when_asked() -> None:
    kw = {"free": {"A": 2}, "inspection": {"A": 5}, "demands": [sales(1, "A", 6, wk(1))]}
    assert orders(run([Part("A")], **kw), "A") == [(4, wk(1), wk(1))]  # type: ignore[arg-type]
    assert orders(run([Part("A")], include_inspection=True, **kw), "A") == []  # type: ignore[arg-type]


# -- several levels ----------------------------------------------------------------------------


def test_an_item_used_at_two_levels_is_netted_once_after_its_parents() -> None:
    parts = [
        Part("TOP", make_or_buy="make", lead_time_days=7),
        Part("A", make_or_buy="make", lead_time_days=7),
        Part("B", lead_time_days=0),
    ]
    boms = {"TOP": (line("A"), line("B")), "A": (line("B"),)}
    p = run(parts, boms, free={"B": 4}, demands=[sales(1, "TOP", 10, wk(3), "SO-9")])
    assert p.levels == {"TOP": 0, "A": 1, "B": 2}
    # TOP due 03-24, released 03-17: A and B (from TOP) needed 03-17; A released 03-10:
    # B (from A) needed 03-10. B's 4 in stock go to the first requirement.
    assert orders(p, "TOP") == [(10, wk(2), wk(3))]
    assert orders(p, "A") == [(10, wk(1), wk(2))]
    assert orders(p, "B") == [(6, wk(1), wk(1)), (10, wk(2), wk(2))]
    assert grid(p, "B")["gross"][:3] == [0, 10, 10]


def test_lead_time_offset_across_three_levels_and_scrap() -> None:
    parts = [
        Part("HD", make_or_buy="make", lead_time_days=2),
        Part("PCB", make_or_buy="make", lead_time_days=5),
        Part("CHIP", lead_time_days=10),
    ]
    boms = {
        "HD": (line("PCB"),),
        # 2 chips per PCB with 10 % scrap, plus 1 per order (setup loss).
        "PCB": (Component("CHIP", u(2) * 110, 100 * U, fixed=u(1)),),
    }
    p = run(parts, boms, demands=[sales(1, "HD", 10, date(2027, 3, 31), "SO-1")], horizon=42)
    assert orders(p, "HD") == [(10, date(2027, 3, 29), date(2027, 3, 31))]
    assert orders(p, "PCB") == [(10, date(2027, 3, 24), date(2027, 3, 29))]
    assert orders(p, "CHIP") == [(23, date(2027, 3, 14), date(2027, 3, 24))]
    # The chip is pegged, through PCB and HD, to the sales order.
    [chip] = [o for o in p.planned if o.item == "CHIP"]
    assert [r.ref for r in p.roots_of(chip.demands)] == ["SO-1"]
    assert [e.source for _q, e in chip.pegging] == ["planned 2 (PCB)"]


def test_a_phantom_passes_its_components_through() -> None:
    parts = [
        Part("TOP", make_or_buy="make", lead_time_days=3),
        Part("KIT", make_or_buy="make", lead_time_days=9),
        Part("SCREW"),
    ]
    boms = {"TOP": (line("KIT", 2, phantom=True),), "KIT": (line("SCREW", 3),)}
    p = run(parts, boms, demands=[sales(1, "TOP", 5, wk(2))])
    assert orders(p, "KIT") == []  # never planned
    assert orders(p, "SCREW") == [(30, wk(2) - timedelta(3), wk(2) - timedelta(3))]
    # A phantom's own stock is not used: production orders pass phantoms through whole,
    # and a plan that used it would ask for the difference again once it is firmed.
    p = run(parts, boms, free={"KIT": 100}, demands=[sales(1, "TOP", 5, wk(2))])
    assert orders(p, "SCREW") == [(30, wk(2) - timedelta(3), wk(2) - timedelta(3))]


def test_a_substitute_with_free_stock_is_used_first() -> None:
    parts = [Part("TOP", make_or_buy="make"), Part("R1", lead_time_days=4), Part("R2")]
    boms = {"TOP": (line("R1", 2, substitutes=("R2",)),)}
    p = run(parts, boms, free={"R1": 3, "R2": 4}, demands=[sales(1, "TOP", 5, wk(2), "SO-5")])
    # 10 x R1 needed: 3 from stock, 4 from R2's stock, 3 planned.
    assert orders(p, "R1") == [(3, wk(2) - timedelta(4), wk(2))]
    assert orders(p, "R2") == []
    assert grid(p, "R2")["gross"][2] == 4
    [sub] = [e for e in p.exceptions if e.code == "substitute"]
    assert sub.item == "R1" and sub.ref == "R2"
    assert "use 4 R2 (a substitute with free stock)" in sub.message


def test_pegging_reaches_every_sales_order() -> None:
    parts = [Part("HD", make_or_buy="make"), Part("CHIP", lead_time_days=3)]
    boms = {"HD": (line("CHIP", 2),)}
    demand = [sales(1, "HD", 4, wk(2), "SO-1"), sales(2, "HD", 1, wk(2, 4), "SO-2")]
    p = run(parts, boms, demands=demand)
    [chip] = [o for o in p.planned if o.item == "CHIP"]
    assert chip.qty == u(10)
    assert [r.ref for r in p.roots_of(chip.demands)] == ["SO-1", "SO-2"]
    short = {s.item: s for s in p.shortages}
    assert short == {}


# -- methods and forecast consumption --------------------------------------------------------


def test_sales_consume_forecast_within_a_bucket() -> None:
    demand = [
        forecast(1, "A", 50, wk(1, 0)),
        sales(2, "A", 30, wk(1, 3)),  # same week: 30 of the 50 forecast is now sales
        forecast(3, "A", 10, wk(2)),
        sales(4, "A", 15, wk(2, 3)),  # more sales than forecast: 15
        sales(5, "A", 7, wk(3)),  # no forecast that week: 7
    ]
    p = run([Part("A")], demands=demand)
    assert grid(p, "A")["gross"][:4] == [0, 50, 15, 7]


def test_make_to_order_plans_one_order_per_sales_order() -> None:
    part = Part("M", make_or_buy="make", method="make_to_order", safety_stock=u(9))
    demand = [
        sales(1, "M", 3, wk(1), "SO-1"),
        sales(2, "M", 4, wk(1, 3), "SO-2"),
        forecast(3, "M", 50, wk(2)),
    ]
    p = run([part], {"M": ()}, free={"M": 1}, demands=demand)
    # 1 in stock covers part of SO-1; forecast and safety stock are ignored.
    assert [(q, d) for q, _r, d in orders(p, "M")] == [(2, wk(1)), (4, wk(1, 3))]
    assert [[r.ref for r in p.roots_of(o.demands)] for o in p.planned] == [["SO-1"], ["SO-2"]]


def test_assemble_to_order_plans_components_from_forecast() -> None:
    parts = [
        Part("ATO", make_or_buy="make", method="assemble_to_order", lead_time_days=2),
        Part("PART", lead_time_days=1),
    ]
    boms = {"ATO": (line("PART", 3),)}
    demand = [forecast(1, "ATO", 10, wk(2)), sales(2, "ATO", 4, wk(2, 3), "SO-4")]
    p = run(parts, boms, demands=demand)
    # The assembly only for the sales order; its components for the forecast too.
    assert orders(p, "ATO") == [(4, wk(2, 3) - timedelta(2), wk(2, 3))]
    assert sum(q for q, _r, _d in orders(p, "PART")) == 3 * 10


# -- exceptions ----------------------------------------------------------------------------


def test_past_due_and_inside_lead_time() -> None:
    parts = [Part("A", lead_time_days=10), Part("B", lead_time_days=10)]
    demand = [sales(1, "A", 1, START - timedelta(3)), sales(2, "B", 1, START + timedelta(4))]
    p = run(parts, demands=demand)
    assert codes(p) == {("past_due", "A"), ("inside_lead_time", "B")}
    assert [(s.item, s.qty) for s in p.shortages] == [("A", U), ("B", U)]


def test_receipt_messages() -> None:
    parts = [Part(c, lead_time_days=1) for c in ("EXP", "DEL", "CAN", "OVR", "NOW")]
    p = run(
        parts,
        demands=[
            sales(1, "EXP", 5, wk(1)),
            sales(2, "DEL", 5, wk(3)),
            sales(3, "OVR", 5, wk(2)),
            sales(4, "NOW", 5, START),
        ],
        receipts=[
            Receipt("purchase", 1, "EXP", u(5), wk(3)),  # needed in week 1
            Receipt("purchase", 2, "DEL", u(5), wk(1)),  # not needed before week 3
            Receipt("purchase", 3, "CAN", u(5), wk(1)),  # never needed
            Receipt("production", 4, "OVR", u(5), START - timedelta(2)),  # late
            Receipt("production", 5, "NOW", u(5), START - timedelta(2)),  # late, needed now
        ],
    )
    assert {(e.code, e.ref) for e in p.exceptions} == {
        ("expedite", "PO-1"),
        ("delay", "PO-2"),
        ("cancel", "PO-3"),
        ("delay", "ORDER-4"),  # overdue, but not needed before week 2: not "chase it"
        ("overdue_receipt", "ORDER-5"),
    }
    by_code = {e.code: e for e in p.exceptions if e.item not in ("OVR", "NOW")}
    assert by_code["expedite"].message.startswith(f"PO-1 due {wk(3)} is needed on {wk(1)}")
    assert by_code["delay"].message == f"PO-2 due {wk(1)} is not needed before {wk(3)}: delay it"
    assert by_code["cancel"].ref == "PO-3"
    [overdue] = [e for e in p.exceptions if e.code == "overdue_receipt"]
    assert overdue.message == (
        f"ORDER-5 was due {START - timedelta(2)}: 5 NOW are overdue (counted as arriving "
        "now): chase it"
    )


def test_missing_planning_data() -> None:
    parts = [Part("MK", make_or_buy="make", lead_time_days=1), Part("BY", lead_time_days=0)]
    p = run(parts, demands=[sales(1, "MK", 1, wk(1)), sales(2, "BY", 1, wk(1))])
    assert codes(p) == {("no_bom", "MK"), ("no_lead_time", "BY")}


def test_an_open_order_that_cannot_start_for_want_of_material() -> None:
    parts = [Part("HD", make_or_buy="make"), Part("CHIP", lead_time_days=30)]
    need = OrderNeed(7, "HD", "CHIP", u(8), wk(1))
    p = run(parts, {"HD": (line("CHIP"),)}, free={"CHIP": 5}, needs=[need])
    [e] = [e for e in p.exceptions if e.code == "order_short"]
    assert e.ref == "ORDER-7"
    assert e.message == (
        f"ORDER-7 (HD) cannot start on {wk(1)}: 3 CHIP are not in stock and cannot arrive in time"
    )
    [short] = p.shortages
    assert (short.item, short.qty, [r.label for r in short.roots]) == (
        "CHIP",
        u(3),
        ["ORDER-7 (HD)"],
    )


def test_demand_beyond_the_horizon_is_left_out() -> None:
    p = run([Part("A")], demands=[sales(1, "A", 5, START + timedelta(35))], horizon=35)
    assert p.planned == [] and p.records == {}


def test_month_and_day_buckets() -> None:
    demand = [sales(1, "A", 2, date(2027, 3, 30)), sales(2, "A", 3, date(2027, 4, 2))]
    p = run([Part("A")], demands=demand, bucket="month", horizon=61)
    assert [s.isoformat() for s in p.calendar.starts] == ["2027-03-01", "2027-04-01"]
    assert grid(p, "A")["gross"] == [2, 3]
    p = run([Part("A")], demands=demand, bucket="day", horizon=40)
    assert len(p.calendar.starts) == 40
    assert orders(p, "A") == [(2, date(2027, 3, 30), date(2027, 3, 30)),
                              (3, date(2027, 4, 2), date(2027, 4, 2))]  # fmt: skip


def test_a_need_split_into_too_many_orders_is_capped_and_reported() -> None:
    part = Part("A", max_order_qty=u(1))
    lots = lot_sizes(part, u(5000))
    assert len(lots) == 1000 and lots[:999] == [u(1)] * 999 and lots[-1] == u(4001)
    p = run([part], demands=[sales(1, "A", 5000, wk(1))])
    assert len(p.planned) == 1000
    [e] = [e for e in p.exceptions if e.code == "too_many_lots"]
    assert e.message.startswith(f"A needs more than 1000 orders on {wk(1)}")
