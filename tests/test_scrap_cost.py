"""Scrapped output's material is carried by the good units, also when the scrap is
booked in a completion of its own: the next completion with good units carries it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: L, name: lead, type: component, unit: pcs, make_or_buy: buy, cost: 0.1}
  - {code: T, name: T, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: T
    lines:
      - {item: L, qty: 2}
"""


@pytest.mark.parametrize("split", [True, False])
def test_good_units_carry_the_scrap_however_it_is_booked(
    cli: Cli, initdb: Path, tmp_path: Path, split: bool
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    for args in (("stock", "receive", "L", "20", "--cost", "0.1"),
                 ("order", "create", "T", "10", "--due", "2030-01-10"),
                 ("order", "release", "1"), ("consume", "1")):  # fmt: skip
        ok(cli, *args)
    if split:
        ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
        ok(cli, "order", "complete", "1", "--qty", "8")
    else:
        ok(cli, "order", "complete", "1", "--qty", "8", "--scrap", "2", "--reason", "bad")
    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    (t,) = [r for r in rows if r["item"] == "T"]
    # 20 L at 0.10 = 2.00 of material for 8 good units: 0.25 each.
    assert (t["qty"], t["average_cost"], t["value"]) == (8, Decimal("0.25"), 2)
