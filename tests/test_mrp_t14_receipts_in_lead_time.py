"""A receipt that comes before any new order could is expedited, never doubled by a new
order (tester t14):

* a production order firmed late, dated by when its materials can come (``mrp firm``),
  counts from the start in the next run: a new order of the item could not come before
  it either (its cumulative lead time), so no second order is planned for the gap;
* with period order quantity, a purchase order due within the lead time is not bought
  again: the period's need counts it, as the net requirement does.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

START = "2026-12-03"  # a Thursday


def run(cli: Cli, *args: object) -> dict:
    return json.loads(ok(cli, "mrp", "--start", START, *args, "-f", "json").stdout)


def planned(doc: dict) -> list[tuple]:
    return [(o["item"], o["qty"], o["release_date"], o["due_date"]) for o in doc["planned_orders"]]


def messages(doc: dict, code: str) -> list[str]:
    return [e["message"] for e in doc["exceptions"] if e["code"] == code]


def test_a_firmed_late_order_dated_by_its_materials_is_not_planned_again(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 3}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
demand:
  - {item: P, qty: 10, due: 2026-12-04, kind: sales, ref: SO-1}
""")  # fmt: skip
    doc = run(cli, "--horizon", "28")
    assert planned(doc) == [
        ("P", 10, "2026-12-01", "2026-12-04"),
        ("C", 10, "2026-11-26", "2026-12-01"),
    ]
    firm = json.loads(
        ok(cli, "mrp", "firm", "--all", "--start", START, "--horizon", "28", "-f", "json").stdout
    )
    # P's materials come 12-08 (C released now, 5 days), so P comes 12-11.
    assert [(f["item"], f["due"]) for f in firm] == [("P", "2026-12-11"), ("C", "2026-12-08")]
    doc = run(cli, "--horizon", "28")
    # Before: P 10 planned again for SO-1 (and C 10 for it): 20 P coming for 10 sold.
    assert planned(doc) == []
    assert [(s["item"], s["qty"], s["first_date"]) for s in doc["shortages"]] == [
        ("P", 10, "2026-12-04")
    ]
    [chase] = [m for m in messages(doc, "expedite") if m.startswith("ORDER-1")]
    assert chase == (
        "ORDER-1 due 2026-12-11 is needed on 2026-12-04: expedite it (nothing else can "
        "arrive before it: short until it comes)"
    )


def test_period_order_quantity_counts_a_receipt_due_within_the_lead_time(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: X, name: X, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 14,
     lot_sizing: period, period_days: 14}
demand:
  - {item: X, qty: 23, due: 2026-12-06, kind: sales, ref: SO-1}
  - {item: X, qty: 5, due: 2026-12-28, kind: sales, ref: SO-2}
""")  # fmt: skip
    ok(cli, "purchase", "add", "X", "21", "--due", "2026-12-14")
    for bucket in ("day", "week"):
        doc = run(cli, "--horizon", "42", "--bucket", bucket)
        # 23 needed 12-06 against PO-1's 21 (due before a new order could come, so
        # expedited): 2 more, for the period 12-06..12-19; SO-2 (12-28) gets its own.
        # Before: 23 in daily and weekly buckets, PO-1's 21 bought twice.
        assert [p[:2] for p in planned(doc)] == [("X", 2), ("X", 5)], bucket
    # A month bucket nets its whole month at once: 23 + 5 - 21.
    assert [p[:2] for p in planned(run(cli, "--horizon", "42", "--bucket", "month"))] == [("X", 7)]


def test_an_assemble_to_order_items_open_order_surplus_covers_its_forecast(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """An order of 9 K for a sale of 5 brings 4 K before the forecast of 10: as 4 K on
    the shelf would, they cover 4 of it, and only 6 are passed to the components."""
    import_yaml(cli, tmp_path, """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2}
  - {code: K, name: K, type: finished, unit: pcs, make_or_buy: make,
     method: assemble_to_order, lead_time_days: 2}
boms:
  - {item: K, lines: [{item: C, qty: 1}]}
demand:
  - {item: K, qty: 5, due: 2026-12-10, kind: sales, ref: SO-1}
  - {item: K, qty: 10, due: 2026-12-21, kind: forecast}
""")  # fmt: skip
    ok(cli, "stock", "receive", "C", "100")
    ok(cli, "order", "create", "K", "9", "--due", "2026-12-10")

    def gross_of_c() -> list:
        grid = json.loads(
            ok(
                cli, "mrp", "grid", "C", "--start", "2026-12-07", "--horizon", "28", "-f", "json"
            ).stdout
        )
        return [b["gross"] for b in grid["buckets"] if b["gross"]]

    # Before: 9 (the order's materials) and 10 (the whole forecast): 19 C for 15 K.
    assert gross_of_c() == [9, 6]
    # An order due after the forecast does not cover it: the sale gets a planned order
    # of 5, and the week of 12-21 needs the order's 9 and the whole forecast's 10.
    ok(cli, "order", "update", "1", "--due", "2026-12-22")
    assert gross_of_c() == [5, 19]


def test_a_receipt_needed_before_the_start_is_needed_now(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """A late planned order of P needs C on its release date, before the start: the
    purchase order of C is needed now, dated the start, as the shortage is."""
    import_yaml(cli, tmp_path, """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 3}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
demand:
  - {item: P, qty: 10, due: 2026-12-04, kind: sales, ref: SO-1}
""")  # fmt: skip
    ok(cli, "purchase", "add", "C", "10", "--due", "2026-12-05")
    doc = run(cli, "--horizon", "28")
    [chase] = [e for e in doc["exceptions"] if e["code"] == "expedite"]
    # Before: "is needed on 2026-12-01", two days before the plan begins.
    assert (chase["date"], chase["message"]) == (
        START,
        "PO-1 due 2026-12-05 is needed now (since 2026-12-01): expedite it (nothing else can "
        "arrive before it: short until it comes)",
    )
    assert [(s["item"], s["first_date"]) for s in doc["shortages"]] == [
        ("C", START),
        ("P", "2026-12-04"),
    ]


def test_with_materials_in_stock_a_new_order_still_beats_a_later_receipt(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """C takes 30 days to buy but is in stock: a new order of P comes in its own 3 days,
    before the open order due 12-20, so the gap before it is planned, not left short."""
    import_yaml(cli, tmp_path, """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 30}
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 3}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
demand:
  - {item: P, qty: 10, due: 2026-12-08, kind: sales, ref: SO-1}
  - {item: P, qty: 10, due: 2026-12-21, kind: sales, ref: SO-2}
stock:
  - {item: C, qty: 100}
""")  # fmt: skip
    ok(cli, "order", "create", "P", "10", "--due", "2026-12-20")
    doc = run(cli, "--horizon", "28")
    assert planned(doc) == [("P", 10, "2026-12-05", "2026-12-08")]
    assert doc["shortages"] == []


def test_a_little_stock_of_a_material_does_not_make_a_new_order_beat_a_firmed_one(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """One C on the shelf, ten needed: a new order of P waits for C as the firmed one
    does, so the next run plans no second P (tester t18 #1)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: C, name: Component, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 10}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
stock:
  - {item: C, qty: 1}
demand:
  - {item: P, qty: 10, due: 2026-12-02, kind: sales, ref: SO-1}
""")  # fmt: skip
    opts = ("--start", "2026-12-01", "--horizon", "30")
    firm = json.loads(ok(cli, "mrp", "firm", "--all", *opts, "-f", "json").stdout)
    assert [(f["item"], f["qty"], f["due"]) for f in firm] == [
        ("P", 10, "2026-12-13"),
        ("C", 9, "2026-12-11"),
    ]
    doc = json.loads(ok(cli, "mrp", *opts, "-f", "json").stdout)
    # Before: P 10 and C 10 planned again, 20 P coming for 10 sold.
    assert doc["planned_orders"] == []
    assert [(s["item"], s["qty"]) for s in doc["shortages"]] == [("P", 10)]


def test_a_shortfall_is_owed_until_supply_comes(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    """SO-1's 5 are short until PO-1 comes and then take 5 of it first, so SO-2 is short
    4 until the late planned order comes: both are endangered (tester t18 #2)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: B, name: Bought, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 10,
     lot_sizing: period, period_days: 28}
demand:
  - {item: B, qty: 5, due: 2026-12-02, kind: sales, ref: SO-1}
  - {item: B, qty: 20, due: 2026-12-09, kind: sales, ref: SO-2}
  - {item: B, qty: 7, due: 2026-12-20, kind: sales, ref: SO-3}
purchase_orders:
  - {item: B, qty: 21, due: 2026-12-08}
""")  # fmt: skip
    doc = json.loads(
        ok(cli, "mrp", "--start", "2026-12-01", "--horizon", "40", "-f", "json").stdout
    )
    names = {d["n"]: d["ref"] for d in doc["demands"]}
    # Before: short 5, SO-1 only.
    assert [(s["item"], s["qty"], s["first_date"], [names[n] for n in s["demands"]])
            for s in doc["shortages"]] == [("B", 9, "2026-12-02", ["SO-1", "SO-2"])]  # fmt: skip


def test_expedite_offers_a_new_order_only_if_its_materials_could_come(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """A new FG order needs B, 20 days away: none placed now arrives by 12-06, so the
    open order is to be expedited and nothing else offered (tester t20 #3)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: B, name: part B, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 20}
  - {code: FG, name: fg, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
boms:
  - {item: FG, lines: [{item: B, qty: 1}]}
demand:
  - {item: FG, qty: 10, due: 2026-12-06, kind: sales, ref: SO-1}
""")  # fmt: skip
    ok(cli, "order", "create", "FG", "10", "--due", "2026-12-15")
    doc = run(cli, "--horizon", "28")
    [chase] = [m for m in messages(doc, "expedite") if m.startswith("ORDER-1")]
    # Before: "(or order anew by 2026-12-04: that arrives in time)".
    assert chase == (
        "ORDER-1 due 2026-12-15 is needed on 2026-12-06: expedite it (nothing else can "
        "arrive before it: short until it comes)"
    )
    # With B on the shelf, a new FG order comes in time: it is planned (and B for the
    # open order, which the shelf no longer covers).
    ok(cli, "stock", "receive", "B", "10")
    doc = run(cli, "--horizon", "28")
    assert [p[0] for p in planned(doc)] == ["FG", "B"]
