"""A lot past its expiry date is never used without a decision (release, backflush and
ship skip it), so MRP, ATP and can-build do not count on it either."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: R, name: Resin, type: raw, unit: kg, make_or_buy: buy, lead_time_days: 3,
     tracking: lot}
boms:
  - {item: P, lines: [{item: R, qty: 1}]}
"""


def test_expired_stock_is_planned_around(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "R", "5", "--lot", "OLD", "--expires", day(-1))
    ok(cli, "stock", "receive", "R", "2", "--lot", "NEW", "--expires", day(300))
    ok(cli, "demand", "add", "P", "4", "--due", day(20), "--kind", "sales", "--ref", "SO-1")
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    # 4 P need 4 kg; only NEW's 2 kg count: 2 kg are bought.
    assert sorted((o["item"], o["qty"]) for o in doc["planned_orders"]) == [("P", 4), ("R", 2)]
    assert json.loads(ok(cli, "atp", "R", "-f", "json").stdout)["free"] == 2
    built = json.loads(ok(cli, "mrp", "can-build", "P", "3", "--max", "-f", "json").stdout)
    assert built["max"] == 2
