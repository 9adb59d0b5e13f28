"""MRP dates planned orders to the day, so it judges lateness to the day too (a planner
checked the engine by hand, tester t10):

* a bucket's need whose first requirement is inside the lead time gets a late order for
  what is needed by then and an order in time for the rest, so only the requirements
  that truly cannot be met are short (weekly and monthly buckets alike);
* a purchase order due later in the bucket than the requirement it serves is expedited,
  and the requirement is short meanwhile; ``expedite`` names a planned order only if it
  can arrive first;
* a production order in progress needs its materials from the run's start (not from
  the day the command runs), so a run with a given ``--start`` is the same every day;
* pegging goes through open production orders to the customer orders their output
  serves, so firming a plan does not hide the customer behind a component shortage;
* messages: an order in progress "cannot go on", an order that only rebuilds safety
  stock is not "short".
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from conftest import Cli, import_yaml, ok

from mfgctl import db as dbmod
from mfgctl.domain import mrp, mrp_data

START = "2025-06-02"  # a Monday


def run(cli: Cli, *args: object) -> dict:
    return json.loads(ok(cli, "mrp", "--start", START, *args, "-f", "json").stdout)


def planned(doc: dict) -> list[tuple]:
    return [(o["item"], o["qty"], o["release_date"], o["due_date"]) for o in doc["planned_orders"]]


def shortages(doc: dict) -> list[tuple]:
    names = {d["n"]: d["ref"] or d["label"] for d in doc["demands"]}
    return [(s["item"], s["qty"], s["first_date"], [names[n] for n in s["demands"]])
            for s in doc["shortages"]]  # fmt: skip


def messages(doc: dict, code: str) -> list[str]:
    return [e["message"] for e in doc["exceptions"] if e["code"] == code]


def test_a_bucket_is_split_where_the_lead_time_ends(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: WB, name: weekly, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
  - {code: MB, name: monthly, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 10}
demand:
  - {item: WB, qty: 10, due: 2025-06-03, kind: sales, ref: SO-TUE}
  - {item: WB, qty: 90, due: 2025-06-06, kind: sales, ref: SO-FRI}
  - {item: MB, qty: 10, due: 2025-06-11, kind: sales, ref: SO-EARLY}
  - {item: MB, qty: 90, due: 2025-06-30, kind: sales, ref: SO-LATE}
""")  # fmt: skip
    # Before: one order of 100 due on Tuesday, released Saturday: 100 short, SO-FRI
    # named, though an order released on the start day meets Friday.
    doc = run(cli, "--horizon", "14")
    assert [p for p in planned(doc) if p[0] == "WB"] == [
        ("WB", 10, "2025-05-31", "2025-06-03"),
        ("WB", 90, "2025-06-03", "2025-06-06"),
    ]
    assert [s for s in shortages(doc) if s[0] == "WB"] == [("WB", 10, "2025-06-03", ["SO-TUE"])]
    # A month bucket: the same, a month of demand is no longer late.
    doc = run(cli, "--horizon", "60", "--bucket", "month")
    assert [p for p in planned(doc) if p[0] == "MB"] == [
        ("MB", 10, "2025-06-01", "2025-06-11"),
        ("MB", 90, "2025-06-20", "2025-06-30"),
    ]
    assert [s for s in shortages(doc) if s[0] == "MB"] == [("MB", 10, "2025-06-11", ["SO-EARLY"])]
    [late] = [m for m in messages(doc, "inside_lead_time") if "MB" in m]
    assert late.startswith("planned 1 (MB): 10 MB needed 2025-06-11")
    # The bucket's net requirement and planned receipts stay the whole 100; both orders
    # are released in it (the late one counts at the start).
    grid = json.loads(
        ok(cli, "mrp", "grid", "MB", "--start", START, "--horizon", "60", "--bucket", "month",
           "-f", "json").stdout
    )  # fmt: skip
    june = grid["buckets"][0]
    assert (june["net"], june["planned_receipts"], june["planned_releases"]) == (100, 100, 100)


def test_a_receipt_later_in_the_week_than_its_need_is_expedited(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: LP, name: late po, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 30}
  - {code: E, name: gap, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2}
demand:
  - {item: LP, qty: 10, due: 2025-06-03, kind: sales, ref: SO-LP}
  - {item: E, qty: 20, due: 2025-06-11, kind: sales, ref: SO-E}
purchase_orders:
  - {item: LP, qty: 10, due: 2025-06-07, supplier: X}
  - {item: E, qty: 20, due: 2025-06-18, supplier: X}
""")  # fmt: skip
    for bucket in ("week", "month", "day"):
        doc = run(cli, "--horizon", "28", "--bucket", bucket)
        assert [s for s in shortages(doc) if s[0] == "LP"] == [
            ("LP", 10, "2025-06-03", ["SO-LP"])
        ], bucket
        assert (
            "PO-1 due 2025-06-07 is needed on 2025-06-03: expedite it (nothing else can "
            "arrive before it: short until it comes)"
        ) in messages(doc, "expedite"), bucket
    # E: a planned order released in time covers the gap until PO-2 comes.
    doc = run(cli, "--horizon", "28")
    assert [p for p in planned(doc) if p[0] == "E"] == [("E", 20, "2025-06-09", "2025-06-11")]
    assert (
        "PO-2 due 2025-06-18 is needed on 2025-06-11: expedite it, or release planned 1 (E), "
        "planned to cover the gap (then PO-2 comes early: delay it)"
    ) in messages(doc, "expedite")


PLANT = """
items:
  - {code: FG, name: finished, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 7}
  - {code: C, name: comp, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 14}
boms:
  - {item: FG, lines: [{item: C, qty: 2}]}
"""


def test_an_order_in_progress_needs_its_materials_from_the_start(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT + "stock:\n  - {item: C, qty: 4}\n")
    ok(cli, "order", "create", "FG", "5", "--due", "2025-06-20")
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "order", "start", "1")
    ok(cli, "consume", "1", "--item", "C", "--qty", "3")  # lacks 10 - 3 - 1 reserved = 6
    # Before: dated the day the command ran (2026 or later), out of this 2025 horizon,
    # so nothing was planned and nothing short.
    doc = run(cli, "--horizon", "56")
    assert planned(doc) == [("C", 6, "2025-05-19", "2025-06-02")]
    assert shortages(doc) == [("C", 6, "2025-06-02", ["ORDER-1 (FG)"])]
    assert messages(doc, "order_short") == [
        "ORDER-1 (FG) cannot go on 2025-06-02: 6 C are not in stock and cannot arrive in time"
    ]
    atp = json.loads(ok(cli, "atp", "C", "--start", START, "-f", "json").stdout)
    assert [(r["date"], r["committed"]) for r in atp["rows"]] == [(START, 6)]
    # The same run whatever day it is made on: the snapshot does not depend on today.
    conn = dbmod.connect(initdb)
    try:
        settings = mrp.settings(start=START, horizon=56)
        plans = [mrp.plan(mrp_data.load(conn, today=date(2025, 6, d)), settings) for d in (2, 9)]
    finally:
        conn.close()
    assert [[(o.item, o.qty, o.due) for o in p.planned] for p in plans] == [
        [("C", 6_000_000, date(2025, 6, 2))]
    ] * 2


def test_pegging_goes_through_a_firmed_order_to_its_customer(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT + """demand:
  - {item: FG, qty: 10, due: 2025-06-18, kind: sales, ref: SO-77}
""")  # fmt: skip
    before = run(cli, "--horizon", "35")
    assert shortages(before) == [("C", 20, "2025-06-11", ["SO-77"])]
    ok(cli, "mrp", "firm", "1", "--start", START, "--horizon", "35")  # FG -> ORDER-1
    after = run(cli, "--horizon", "35")
    # Before this fix the component's shortage named only ORDER-1.
    assert shortages(after) == [("C", 20, "2025-06-11", ["SO-77", "ORDER-1 (FG)"])]
    [order] = after["planned_orders"]
    labels = {d["n"]: d["label"] for d in after["demands"]}
    assert [labels[n] for n in order["demands"]] == [
        "sales 1 SO-77 (FG due 2025-06-18)",
        "ORDER-1 (FG)",
    ]
    text = ok(cli, "mrp", "explain", "C", "--start", START, "--horizon", "35").stdout
    assert "20 pcs for ORDER-1, needed 2025-06-11, whose output serves" in text


def test_a_late_order_for_safety_stock_alone_is_not_called_short(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: S, name: safe, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 4}
stock:
  - {item: S, qty: 3}
""")  # fmt: skip
    doc = run(cli, "--horizon", "28")
    assert doc["shortages"] == []
    assert messages(doc, "inside_lead_time") == [
        "planned 1 (S): 1 S needed 2025-06-02 should have been released 2025-05-26 (7 days "
        "lead time): stock stays below its safety stock (4) until it arrives unless expedited "
        "(released now: 2025-06-09, in time for what it serves)"
    ]


def test_a_late_order_raised_by_lot_sizing_still_serves_later_demands(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """A planned order that should have been released before the start arrives a lead
    time after the start if released now: what lot sizing adds to it covers later
    requirements (tester t11: with a minimum of 50, SO-2 was called short)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: A, name: moq, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3,
     moq: 50}
  - {code: P, name: period, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3,
     lot_sizing: period, period_days: 14}
demand:
  - {item: A, qty: 10, due: 2025-06-03, kind: sales, ref: SO-1}
  - {item: A, qty: 90, due: 2025-06-06, kind: sales, ref: SO-2}
  - {item: P, qty: 10, due: 2025-06-03, kind: sales, ref: SO-3}
  - {item: P, qty: 90, due: 2025-06-06, kind: sales, ref: SO-4}
  - {item: P, qty: 5, due: 2025-06-10, kind: sales, ref: SO-5}
""")  # fmt: skip
    doc = run(cli, "--horizon", "30")
    assert [p for p in planned(doc) if p[0] == "A"] == [
        ("A", 50, "2025-05-31", "2025-06-03"),
        ("A", 50, "2025-06-03", "2025-06-06"),
    ]
    assert [p for p in planned(doc) if p[0] == "P"] == [("P", 105, "2025-05-31", "2025-06-03")]
    # Released now, the late orders arrive on 06-05: only the requirements before that
    # are short.
    assert shortages(doc) == [
        ("A", 10, "2025-06-03", ["SO-1"]),
        ("P", 10, "2025-06-03", ["SO-3"]),
    ]


def test_order_short_names_what_the_order_makes(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: FG, name: FG, type: finished, unit: pcs, make_or_buy: make, mfg_lead_time_days: 2}
  - {code: SUB, name: SUB, type: subassembly, unit: pcs, make_or_buy: make,
     mfg_lead_time_days: 2}
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy,
     purchase_lead_time_days: 10}
boms:
  - {item: FG, lines: [{item: SUB, qty: 1}]}
  - {item: SUB, lines: [{item: C, qty: 2}]}
""")  # fmt: skip
    ok(cli, "order", "create", "SUB", "10", "--due", "2025-06-05")
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "order", "start", "1")
    ok(cli, "order", "create", "FG", "10", "--due", "2025-06-06")
    doc = run(cli, "--horizon", "10")
    # Its requirement also carries FG's order (pegged through it): the label is still SUB.
    # ORDER-1 comes a day after FG's order needs it, and a new SUB order could not come
    # sooner (C takes 10 days): FG's order waits for it, no second SUB order is planned.
    assert messages(doc, "order_short") == [
        "ORDER-2 (FG) cannot start on 2025-06-04: 10 SUB are not in stock and cannot arrive in "
        "time",
        "ORDER-1 (SUB) cannot go on 2025-06-02: 20 C are not in stock and cannot arrive in time",
    ]
    assert [o["item"] for o in doc["planned_orders"]] == ["C"]


def test_a_dip_before_a_receipt_of_the_same_bucket_is_planned_for(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """A requirement on Tuesday before a receipt on Friday of the same week: the week
    ends covered, but stock dips in between, so an order in time covers the dip (as a
    daily plan does) and the receipt is to be expedited; nothing is short (tester t12:
    a monthly plan netted the receipt at the bucket's start and reported 20 short)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
  - {code: X, name: X, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7}
demand:
  - {item: A, qty: 10, due: 2025-06-10, kind: sales, ref: SO-1}
  - {item: X, qty: 20, due: 2025-06-11, kind: sales, ref: SO-2}
purchase_orders:
  - {item: A, qty: 10, due: 2025-06-13, supplier: V}
  - {item: X, qty: 20, due: 2025-06-25, supplier: V}
""")  # fmt: skip
    for bucket in ("day", "week", "month"):
        doc = run(cli, "--horizon", "56", "--bucket", bucket)
        assert planned(doc) == [
            ("A", 10, "2025-06-07", "2025-06-10"),
            ("X", 20, "2025-06-04", "2025-06-11"),
        ], bucket
        assert doc["shortages"] == [], bucket
        assert messages(doc, "expedite") == [
            "PO-1 due 2025-06-13 is needed on 2025-06-10: expedite it, or release planned 1 "
            "(A), planned to cover the gap (then PO-1 comes early: delay it)",
            "PO-2 due 2025-06-25 is needed on 2025-06-11: expedite it, or release planned 2 "
            "(X), planned to cover the gap (then PO-2 comes early: delay it)",
        ], bucket


def test_a_parent_bucket_is_split_where_its_components_would_be_late(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """The split looks at the cumulative lead time: P (1 day) of C (3 days) for sales on
    Wednesday and Saturday: P's week is split so that only Wednesday's C is late (tester
    t12: C was 100 short weekly, 10 daily)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: P, name: parent, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: C, name: comp, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
demand:
  - {item: P, qty: 10, due: 2025-06-04, kind: sales, ref: SO-WED}
  - {item: P, qty: 90, due: 2025-06-07, kind: sales, ref: SO-SAT}
""")  # fmt: skip
    for bucket in ("day", "week", "month"):
        doc = run(cli, "--horizon", "28", "--bucket", bucket)
        assert shortages(doc) == [("C", 10, "2025-06-03", ["SO-WED"])], bucket
        assert [p for p in planned(doc) if p[0] == "P"] == [
            ("P", 10, "2025-06-03", "2025-06-04"),
            ("P", 90, "2025-06-06", "2025-06-07"),
        ], bucket


def test_a_firmed_late_order_is_expedited_not_planned_again(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """Tester t12: firming a late order dated it on its impossible planned date, and the
    next run showed no shortage. It is now due when it can come; the next run plans
    nothing more for the gap (a new order could not come sooner: the receipt is to be
    expedited) and says only safety stock waits where that is so."""
    import_yaml(cli, tmp_path, """
items:
  - {code: X, name: x, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3,
     safety_stock: 10}
  - {code: Y, name: y, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3,
     safety_stock: 10}
stock:
  - {item: X, qty: 15}
  - {item: Y, qty: 5}
demand:
  - {item: X, qty: 10, due: 2025-06-03, kind: sales, ref: X-TUE}
  - {item: X, qty: 90, due: 2025-06-06, kind: sales, ref: X-FRI}
  - {item: Y, qty: 10, due: 2025-06-03, kind: sales, ref: Y-TUE}
  - {item: Y, qty: 90, due: 2025-06-06, kind: sales, ref: Y-FRI}
""")  # fmt: skip
    doc = run(cli, "--horizon", "21")
    # X's late 5 only keep safety stock until X-FRI's order: nothing is short for them.
    assert shortages(doc) == [("Y", 5, "2025-06-03", ["Y-TUE"])]
    assert messages(doc, "inside_lead_time") == [
        "planned 1 (X): 5 X needed 2025-06-03 should have been released 2025-05-31 (3 days "
        "lead time): stock stays below its safety stock (10) until it arrives unless "
        "expedited (released now: 2025-06-05, in time for what it serves)",
        "planned 3 (Y): 15 Y needed 2025-06-03 should have been released 2025-05-31 (3 days "
        "lead time): short unless expedited",
    ]
    # explain says the same as the exception (tester t13: it said "short" for every one).
    tree = ok(cli, "mrp", "explain", "X", "--start", START, "--horizon", "21").stdout
    assert "should have been released before the start: stock stays below its" in tree
    assert "short unless expedited" not in tree
    firmed = json.loads(
        ok(cli, "mrp", "firm", "--all", "--start", START, "--horizon", "21", "-f", "json").stdout
    )
    assert [(f["created"], f["due"], f["note"]) for f in firmed] == [
        ("PO-1", "2025-06-05",
         "late: planned due 2025-06-03; released on 2025-06-02 it comes 2025-06-05"),
        ("PO-2", "2025-06-06", None),
        ("PO-3", "2025-06-05",
         "late: planned due 2025-06-03; released on 2025-06-02 it comes 2025-06-05"),
        ("PO-4", "2025-06-06", None),
    ]  # fmt: skip
    again = run(cli, "--horizon", "21")
    assert planned(again) == []  # no second late order for the same gap
    assert shortages(again) == [("Y", 5, "2025-06-03", ["Y-TUE"])]  # still short: expedite
    assert messages(again, "expedite") == [
        # X-TUE is met from stock: only safety stock waits for PO-1.
        "PO-1 due 2025-06-05 is needed on 2025-06-03: expedite it (stock stays below its "
        "safety stock until it comes)",
        # Needed first for safety stock, but Y-TUE (06-03) is short until it comes too
        # (tester t13: the wording was decided on the first requirement alone).
        "PO-3 due 2025-06-05 is needed on 2025-06-02 to keep safety stock (10): expedite it "
        "(nothing else can arrive before it: short until it comes)",
    ]


def test_made_to_order_items_net_a_receipt_on_its_day_too(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """Tester t13: make-to-order and assemble-to-order items counted a production order
    due later in the week from the week's start: no order, 4 short, though an order in
    time could be planned (as a daily plan does)."""
    import_yaml(cli, tmp_path, """
items:
  - {code: A, name: ato, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2,
     method: assemble_to_order}
  - {code: T, name: mto, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2,
     method: make_to_order}
  - {code: C, name: comp, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2}
boms:
  - {item: A, lines: [{item: C, qty: 1}]}
  - {item: T, lines: [{item: C, qty: 1}]}
stock:
  - {item: C, qty: 100}
demand:
  - {item: A, qty: 4, due: 2025-06-10, kind: sales, ref: A-TUE}
  - {item: T, qty: 4, due: 2025-06-10, kind: sales, ref: T-TUE}
""")  # fmt: skip
    ok(cli, "order", "create", "T", "4", "--due", "2025-06-13")
    ok(cli, "order", "create", "A", "4", "--due", "2025-06-13")
    for bucket in ("day", "week", "month"):
        doc = run(cli, "--horizon", "28", "--bucket", bucket)
        assert doc["shortages"] == [], bucket
        assert sorted(p for p in planned(doc) if p[0] in "AT") == [
            ("A", 4, "2025-06-08", "2025-06-10"),
            ("T", 4, "2025-06-08", "2025-06-10"),
        ], bucket


def test_a_late_make_order_is_firmed_for_when_its_materials_let_it_come(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """Tester t13: a late make order was firmed at start + its own lead time, though its
    material, bought late too, comes later: it is dated when that material comes plus its
    lead time."""
    import_yaml(cli, tmp_path, """
items:
  - {code: FG, name: fg, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 5}
  - {code: C, name: c, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 4}
  - {code: K, name: kit, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 5}
  - {code: S, name: stocked, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 4}
boms:
  - {item: FG, lines: [{item: C, qty: 1}]}
  - {item: K, lines: [{item: S, qty: 1}]}
stock:
  - {item: S, qty: 10}
demand:
  - {item: FG, qty: 10, due: 2025-06-04, kind: sales, ref: SO-EARLY}
  - {item: K, qty: 10, due: 2025-06-04, kind: sales, ref: SO-KIT}
""")  # fmt: skip
    firmed = json.loads(
        ok(cli, "mrp", "firm", "--all", "--start", START, "--horizon", "35", "-f", "json").stdout
    )
    due = {f["item"]: f["due"] for f in firmed}
    # C bought now comes 06-06, FG 5 days after: 06-11. K's material is in stock: 06-07.
    assert (due["C"], due["FG"], due["K"]) == ("2025-06-06", "2025-06-11", "2025-06-07")


def test_an_overdue_receipt_is_chased_or_delayed_the_same_in_any_bucket(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """Tester t13: an overdue purchase order needed weeks later was told `delay` in day
    and week buckets but `overdue_receipt ... chase it` in month buckets."""
    import_yaml(cli, tmp_path, """
items:
  - {code: NOW, name: now, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
  - {code: LATER, name: later, type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 5}
demand:
  - {item: NOW, qty: 5, due: 2025-06-04, kind: sales, ref: SO-NOW}
  - {item: LATER, qty: 5, due: 2025-06-25, kind: sales, ref: SO-LATER}
purchase_orders:
  - {item: NOW, qty: 5, due: 2025-05-26, supplier: V}
  - {item: LATER, qty: 5, due: 2025-05-26, supplier: V}
""")  # fmt: skip
    for bucket in ("day", "week", "month"):
        doc = run(cli, "--horizon", "56", "--bucket", bucket)
        codes = sorted((e["item"], e["code"]) for e in doc["exceptions"])
        assert codes == [("LATER", "delay"), ("NOW", "overdue_receipt")], bucket


def test_a_past_due_demand_is_short_from_the_start(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    """Demand due before the start counts at the start: so does its shortage (tester
    t13 #10), and the in_inspection exception counts what is good on that day."""
    import_yaml(cli, tmp_path, """
items:
  - {code: PD, name: past due, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
demand:
  - {item: PD, qty: 10, due: 2025-05-20, kind: sales, ref: SO-OLD}
  - {item: PD, qty: 4, due: 2025-06-10, kind: sales, ref: SO-NEW}
""")  # fmt: skip
    doc = run(cli, "--horizon", "30")
    # Before: first_date 2025-05-20, twelve days before the plan begins.
    assert shortages(doc) == [("PD", 10, START, ["SO-OLD"])]
    table = ok(cli, "mrp", "--start", START, "--horizon", "30", "-f", "plain").stdout
    assert f"PD\tpast due\t10\tpcs\t{START}\t" in table
