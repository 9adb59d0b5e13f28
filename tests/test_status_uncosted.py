"""``status``'s stock by status says in every format how many of the items are valued at
zero for want of a standard cost (``uncosted``), not only in JSON: held finished goods
without a ``cost`` must not look worthless."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make, tracking: lot}
boms:
  - item: F
    lines:
      - {item: A, qty: 1}
"""


def test_held_stock_without_a_standard_cost_is_counted_uncosted(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "1")
    ok(cli, "order", "create", "F", "3", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "3", "--lot", "L1")
    ok(cli, "inspect", "F", "--lot", "L1", "--hold")
    ok(cli, "stock", "receive", "A", "2", "--cost", "1")
    ok(cli, "inspect", "A", "--hold", "--qty", "2")
    out = ok(cli, "status", "--no-mrp", "-f", "csv").stdout
    stock = list(csv.DictReader(io.StringIO(out.split("\n\n")[0])))
    blocked = next(r for r in stock if r["status"] == "blocked")
    # F (no cost) and A (cost 1): 2 items, worth 2 at standard, one of them uncosted.
    assert blocked == {"status": "blocked", "items": "2", "value": "2", "uncosted": "1"}
    screen = ok(cli, "status", "--no-mrp").stdout
    assert "uncosted" in screen
