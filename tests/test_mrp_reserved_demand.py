"""Stock reserved for a customer order's reference (``reserve ITEM QTY --for SO-2``) covers
that reference's sales demand: MRP and ATP count it once (out of free stock, and off the
demand), not twice. Before, 10 in stock, SO-2 for 8 and 8 reserved for SO-2 made MRP buy 6
and ATP report the item over-committed."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

ITEM = """
items:
  - {code: P, name: Part, type: finished, unit: pcs, make_or_buy: buy, lead_time_days: 5,
     cost: 1}
"""


def planned(cli: Cli) -> list[tuple[str, object]]:
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    return [(o["item"], o["qty"]) for o in doc["planned_orders"]]


def test_stock_reserved_for_the_order_covers_its_demand(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "P", "10")
    ok(cli, "demand", "add", "P", "8", "--due", day(20), "--kind", "sales", "--ref", "SO-2")
    assert planned(cli) == []
    ok(cli, "reserve", "P", "8", "--for", "so-2")  # any case, as ship --ref matches
    assert planned(cli) == []
    atp = json.loads(ok(cli, "atp", "P", "-f", "json").stdout)
    assert atp["free"] == 2 and atp["over_committed"] == []
    # Another order needs 5: the 2 left free cover 2 of them, 3 are bought.
    ok(cli, "demand", "add", "P", "5", "--due", day(21), "--kind", "sales", "--ref", "SO-3")
    assert planned(cli) == [("P", 3)]


def test_a_reservation_beyond_the_order_counts_only_up_to_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 10 reserved for SO-2, which orders 8: the 2 extra are held all the same (not free),
    # and SO-2 needs nothing more; SO-3's 5 are all bought.
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "P", "10")
    ok(cli, "demand", "add", "P", "8", "--due", day(20), "--kind", "sales", "--ref", "SO-2")
    ok(cli, "demand", "add", "P", "5", "--due", day(21), "--kind", "sales", "--ref", "SO-3")
    ok(cli, "reserve", "P", "10", "--for", "SO-2")
    assert planned(cli) == [("P", 5)]


def test_sales_covered_by_a_reservation_still_consume_the_forecast(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Forecast 10 and sales 8 in one week: the week needs 10, the larger. 8 of them are
    # reserved for the order, the 2 left free cover the rest: nothing to buy, as without
    # the reservation.
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "stock", "receive", "P", "10")
    ok(cli, "demand", "add", "P", "10", "--due", day(20), "--kind", "forecast")
    ok(cli, "demand", "add", "P", "8", "--due", day(20), "--kind", "sales", "--ref", "SO-2")
    assert planned(cli) == []
    ok(cli, "reserve", "P", "8", "--for", "SO-2")
    assert planned(cli) == []
