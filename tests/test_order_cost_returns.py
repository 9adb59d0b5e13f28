"""An order's actual cost takes material returned from its WIP back at what it cost
coming in (the average of what was consumed into the WIP of that item), not at the
moving average of the day of the return: an order that took 10 and gave the same 10
back cost nothing, however the average moved meanwhile."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: F
    lines:
      - {item: A, qty: 1}
"""


def cost_rows(cli: Cli, order: str) -> dict[str, tuple[Decimal, Decimal]]:
    doc = json.loads(ok(cli, "order", "show", order, "-f", "json").stdout, parse_float=Decimal)
    return {r["part"]: (r["standard"], r["actual"]) for r in doc["cost"]}


def close_row(cli: Cli, order: str) -> dict[str, str]:
    r = ok(cli, "order", "close", order, "--return-unconsumed", "-f", "csv")
    [row] = list(csv.DictReader(io.StringIO(r.stdout)))
    return row


def test_material_taken_and_given_back_costs_nothing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "1")
    ok(cli, "order", "create", "F", "10", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")  # 10 A into WIP at 1
    ok(cli, "stock", "receive", "A", "10", "--cost", "9")  # the average is 5 now
    ok(cli, "order", "complete", "1", "--final")
    row = close_row(cli, "1")
    # Returned at 1, as it came in (it was -40: 10 in at 1, 10 back at 5).
    assert (row["returned"], row["actual_cost"]) == ("10", "0")
    assert cost_rows(cli, "1")["total"] == (0, 0)


def test_a_part_returned_leaves_at_the_wips_own_average(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "1")
    ok(cli, "order", "create", "F", "15", "--due", "2030-12-10")
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "consume", "1", "--item", "A", "--qty", "10")  # at 1
    ok(cli, "stock", "receive", "A", "10", "--cost", "3")  # average 2
    ok(cli, "consume", "1", "--item", "A", "--qty", "5")  # at 2: the WIP holds 15 worth 20
    ok(cli, "stock", "receive", "A", "5", "--cost", "20")  # average 5.6
    ok(cli, "order", "complete", "1", "--qty", "8")  # relieves 8 of the 15 (10.666667)
    ok(cli, "order", "complete", "1", "--final")
    row = close_row(cli, "1")
    # The 7 returned take the rest of the WIP's 20: 9.333333, not 7 x 5.6 = 39.2.
    assert (row["returned"], row["standard_cost"], row["actual_cost"], row["cost_variance"]) == (
        "7",
        "8",
        "10.666667",
        "2.666667",
    )
