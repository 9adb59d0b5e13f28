"""A lot's expiry date bounds what it covers wherever MRP counts it (tester t11): stock
reserved for a customer order, or for a production order, covers it only if the lot is
still good on the order's date (shipping and consumption pass over an expired lot's
reservation), and stock pending inspection counts (``--include-inspection``, the
``in_inspection`` exception) only through its lot's expiry date."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok


def plan(cli: Cli, *args: object) -> dict:
    return json.loads(ok(cli, "mrp", "--horizon", "60", *args, "-f", "json").stdout)


def buys(doc: dict, item: str) -> list[tuple]:
    return [(o["qty"], o["due_date"]) for o in doc["planned_orders"] if o["item"] == item]


def test_a_reservation_in_a_lot_expiring_before_the_sale_does_not_cover_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: G, name: Glue, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     purchase_lead_time_days: 2}
""")  # fmt: skip
    ok(cli, "stock", "receive", "G", "10", "--lot", "A", "--expires", day(9))
    ok(cli, "stock", "receive", "G", "10", "--lot", "B")
    ok(cli, "demand", "add", "G", "5", "--due", day(5), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "demand", "add", "G", "12", "--due", day(14), "--kind", "sales", "--ref", "SO-2")
    # SO-1 takes 5 of A; A's other 5 are gone after day 9; B's 10 leave SO-2 2 short.
    assert buys(plan(cli), "G") == [(2, day(14))]
    before = json.loads(ok(cli, "atp", "G", "-f", "json").stdout)["rows"]
    # Reserving 3 kg of lot A for SO-2 changed nothing real: A is expired on day 14.
    # Before this fix MRP bought nothing and ATP turned from -2 to +1.
    ok(cli, "reserve", "G", "3", "--for", "SO-2", "--lot", "A")
    doc = plan(cli)
    assert buys(doc, "G") == [(2, day(14))]
    # ... and the planner is told (tester t12/t13: the reservation was dropped silently).
    assert [e["message"] for e in doc["exceptions"] if e["code"] == "reserved_expiring"] == [
        f"3 G reserved for SO-2 in lot A expire on {day(9)}, before SO-2 is due on {day(14)}: "
        "they will not be shipped, so they do not cover it; reserve from a lot good by then "
        "(mfgctl reserve cancel, then mfgctl reserve G QTY --for SO-2 --lot LOT)"
    ]
    after = json.loads(ok(cli, "atp", "G", "-f", "json").stdout)["rows"]
    assert [r["cumulative"] for r in after][-1] == [r["cumulative"] for r in before][-1] == -2
    # A reservation in the good lot does cover it.
    ok(cli, "reserve", "cancel", "1")
    ok(cli, "reserve", "G", "3", "--for", "SO-2", "--lot", "B")
    assert buys(plan(cli), "G") == [(2, day(14))]  # still 2: the reservation is not new stock
    assert json.loads(ok(cli, "atp", "G", "-f", "json").stdout)["over_committed"] == [day(14)]


def test_an_order_reservation_in_a_lot_expiring_before_its_start(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, mfg_lead_time_days: 2}
  - {code: R, name: Resin, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     purchase_lead_time_days: 3}
boms:
  - {item: P, lines: [{item: R, qty: 1}]}
""")  # fmt: skip
    ok(cli, "stock", "receive", "R", "6", "--lot", "A", "--expires", day(20))
    ok(cli, "order", "create", "P", "6", "--due", day(40))  # starts on day 38
    ok(cli, "order", "release", "1")  # reserves lot A
    # Before: "No requirements" for R: the reservation was taken to cover the order.
    doc = plan(cli)
    assert buys(doc, "R") == [(6, day(38))]
    assert [s["item"] for s in doc["shortages"]] == []


def test_pending_inspection_counts_only_through_its_expiry(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, """
items:
  - {code: MIC, name: Mic, type: component, unit: pcs, make_or_buy: buy, tracking: lot,
     inspect_on_receipt: true, purchase_lead_time_days: 10}
""")  # fmt: skip
    ok(cli, "stock", "receive", "MIC", "8", "--lot", "Q", "--expires", day(2))
    ok(cli, "stock", "receive", "MIC", "3", "--lot", "OK")
    ok(cli, "demand", "add", "MIC", "10", "--due", day(5), "--kind", "sales", "--ref", "SO-1")
    doc = plan(cli)
    [short] = doc["shortages"]
    # Only lot OK's 3 are still good on day 5: they could cover 3, not 8 or 10.
    assert (short["qty"], short["pending_inspection"]) == (10, 3)
    [message] = [e["message"] for e in doc["exceptions"] if e["code"] == "in_inspection"]
    assert message.startswith("3 MIC pending inspection could cover 3 of the 10 short")
    # Counted: lot Q is lost to expiry before day 5.
    counted = plan(cli, "--include-inspection")
    assert [s["qty"] for s in counted["shortages"]] == [7]
    assert [e["ref"] for e in counted["exceptions"] if e["code"] == "expires_unused"] == ["lot Q"]
