"""What a planner saw go wrong in a month's run, each checked by hand:

* finished goods awaiting release (made, waiting for a sign-off) are stock to plan with,
  not a reason to make the order again;
* a shipped sales order still consumed its week's forecast: shipping it does not bring
  the forecast back;
* units rejected at a routing stage are not coming: the order's expected output (MRP,
  ATP, ``stock``'s ``on_order``) drops by them, so the shortfall is planned.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

START = "2027-03-01"


def planned(cli: Cli) -> list[tuple[str, str, object]]:
    doc = json.loads(ok(cli, "mrp", "--start", START, "-f", "json").stdout)
    return [(o["item"], o["kind"], o["qty"]) for o in doc["planned_orders"]]


def atp(cli: Cli, item: str) -> dict:
    return json.loads(ok(cli, "atp", item, "--start", START, "-f", "json").stdout)


AWAITING = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2,
     tracking: lot, release_criteria: [labeling]}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
boms:
  - {item: P, lines: [{item: A, qty: 1}]}
stock:
  - {item: A, qty: 15}
demand:
  - {item: P, qty: 15, due: 2027-03-19, kind: sales, ref: SO-103}
"""


def test_output_awaiting_release_is_not_planned_again(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, AWAITING)
    assert planned(cli) == [("P", "make", 15)]
    ok(cli, "mrp", "firm", "--all", "--start", START)
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    assert planned(cli) == []
    ok(cli, "order", "complete", "1", "--qty", "15", "--lot", "L1")  # awaiting_release
    # 15 P made, waiting for their labeling sign-off: they cover SO-103.
    assert planned(cli) == []
    promise = atp(cli, "P")
    assert promise["free"] == 15 and promise["over_committed"] == []


FORECAST = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: buy, lead_time_days: 1}
stock:
  - {item: P, qty: 30}
demand:
  - {item: P, qty: 30, due: 2027-03-10, kind: forecast}
  - {item: P, qty: 10, due: 2027-03-10, kind: sales, ref: SO-1}
"""


def test_a_shipped_sales_order_still_consumes_its_weeks_forecast(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # The week needs 30 (10 sold + 20 forecast left) and 30 are in stock. Shipping the 10
    # leaves 20 in stock for the 20 of forecast left: still nothing to buy (before, the
    # forecast came back whole and 10 were bought).
    import_yaml(cli, tmp_path, FORECAST)
    assert planned(cli) == []
    ok(cli, "ship", "P", "4", "--to", "Cust", "--ref", "SO-1")  # partly: 6 still owed
    assert planned(cli) == []
    ok(cli, "ship", "P", "6", "--to", "Cust", "--ref", "SO-1")  # SO-1 shipped
    assert planned(cli) == []
    ok(cli, "ship", "P", "5", "--to", "Cust 2")  # no order: 15 left for the 20
    assert planned(cli) == [("P", "buy", 5)]


REJECTS = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
boms:
  - {item: P, lines: [{item: A, qty: 1}]}
routings:
  - {item: P, stages: [{name: asm}, {name: test}]}
stock:
  - {item: A, qty: 10}
demand:
  - {item: P, qty: 10, due: 2027-03-10, kind: sales, ref: SO-1}
"""


def test_units_rejected_at_a_stage_are_not_expected_any_more(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, REJECTS)
    ok(cli, "order", "create", "P", "10", "--due", "2027-03-08")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "advance", "1", "--stage", "asm", "--good", "10")
    ok(cli, "order", "advance", "1", "--stage", "test", "--good", "7", "--rejected", "3",
       "--reason", "dead")  # fmt: skip
    (row,) = json.loads(ok(cli, "stock", "--item", "P", "-f", "json").stdout)
    assert row["on_order"] == 7  # at most 7 good can come out of the order
    # SO-1 wants 10: the 3 missing P are planned, and their 3 A bought.
    assert sorted(planned(cli)) == [("A", "buy", 3), ("P", "make", 3)]
    # Once the 3 are booked as scrap too, they are not subtracted twice.
    ok(cli, "order", "complete", "1", "--qty", "7", "--scrap", "3", "--reason", "dead")
    assert sorted(planned(cli)) == [("A", "buy", 3), ("P", "make", 3)]
