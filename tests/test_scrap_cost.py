"""What completions relieve and cost: scrapped output's material is carried by the good
units, also when the scrap is booked in a completion of its own (the next completion with
good units carries it); and an order completed in parts relieves exactly its
requirement, no millionth left in WIP by rounding each part."""

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


def test_an_order_completed_in_parts_relieves_exactly_its_requirement(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy}
  - {code: B, name: B, type: component, unit: pcs, make_or_buy: buy}
  - {code: G, name: G, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: G
    output_qty: 3
    lines:
      - {item: A, qty: 1}
      - {item: B, qty: 2}
""",
    )
    for args in (("stock", "receive", "A", "10", "--cost", "3"),
                 ("stock", "receive", "B", "10", "--cost", "3"),
                 ("order", "create", "G", "3", "--due", "2030-01-10"),
                 ("order", "release", "1"), ("consume", "1")):  # fmt: skip
        ok(cli, *args)
    relieved: dict[str, list[str]] = {"A": [], "B": []}
    for _ in range(3):
        rows = json.loads(ok(cli, "order", "complete", "1", "--qty", "1", "-f", "json").stdout)
        for r in rows:
            if r["kind"] == "relieve":
                relieved[r["item"]].append(str(r["qty"]))
    # Each part's share is of everything made so far, less what was relieved before:
    # 1/3 of 1 A is 0.333333, 0.333334, 0.333333 (not 0.333333 three times).
    assert relieved == {"A": ["0.333333", "0.333334", "0.333333"],
                        "B": ["0.666667", "0.666666", "0.666667"]}  # fmt: skip
    wip = json.loads(ok(cli, "stock", "--location", "ORDER-1", "-f", "json").stdout)
    assert wip == []
    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    (g,) = [r for r in rows if r["item"] == "G"]
    assert (g["qty"], g["value"]) == (3, 9)
