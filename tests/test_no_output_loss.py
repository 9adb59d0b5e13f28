"""An order finished with no output will never make any: what it used is a loss, and it
shows where a cost accountant looks: its cost variance (``order close``, ``order
show``) and ``report variance``."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
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


@pytest.fixture
def plant(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "20", "--cost", "1")
    return initdb


def dead_order(cli: Cli, n: str) -> None:
    """Order N: 3 F, 2 A consumed, finished short with no output."""
    ok(cli, "order", "create", "F", "3", "--due", "2030-12-10")
    ok(cli, "order", "release", n)
    ok(cli, "consume", n, "--item", "A", "--qty", "2")
    ok(cli, "order", "complete", n, "--final")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_closing_an_order_that_made_nothing_shows_its_loss(cli: Cli, plant: Path) -> None:
    dead_order(cli, "1")
    shown = ok(cli, "order", "show", "1")  # completed: no "so far"
    assert "cost: actual 2, standard 0, variance +2 (nothing made)" in shown.stderr
    r = ok(cli, "order", "close", "1", "-f", "csv")
    [row] = csv_rows(r.stdout)
    assert (row["item"], row["used_up"], row["actual_cost"], row["cost_variance"]) == (
        "A",
        "2",
        "2",
        "2",
    )
    assert "Order 1 cost: actual 2, standard 0, variance +2 (nothing made)\n" in r.stderr
    doc = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout, parse_float=Decimal)
    total = next(c for c in doc["cost"] if c["part"] == "total")
    assert (total["actual"], total["standard"], total["variance"]) == (2, 0, 2)
    rows = csv_rows(ok(cli, "report", "variance", "--all", "--min-orders", "1", "-f", "csv").stdout)
    assert rows == [
        {
            "item": "F", "revision": "A", "component": "A", "unit": "pcs", "orders": "1",
            "made": "0", "planned": "0", "actual": "2", "substituted": "0", "variance": "2",
            "variance_pct": "", "planned_per_unit": "", "actual_per_unit": "", "flagged": "yes",
        }
    ]  # fmt: skip


def test_an_open_order_that_made_nothing_has_no_variance_yet(cli: Cli, plant: Path) -> None:
    ok(cli, "order", "create", "F", "3", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "A", "--qty", "2")
    assert "cost: actual 2 so far, planned 3" in ok(cli, "order", "show", "1").stderr


def test_its_loss_counts_in_the_items_variance(cli: Cli, plant: Path) -> None:
    ok(cli, "order", "create", "F", "10", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "10")
    dead_order(cli, "2")
    ok(cli, "order", "close", "2")
    rows = json.loads(
        ok(cli, "report", "variance", "--min-orders", "2", "-f", "json").stdout,
        parse_float=Decimal,
    )
    # 10 made, 10 planned, 12 used: the 2 the dead order used up are +20 %.
    assert [
        (r["orders"], r["made"], r["planned"], r["actual"], r["variance_pct"], r["flagged"])
        for r in rows
    ] == [(2, 10, 10, 12, 20, True)]
    assert rows[0]["actual_per_unit"] == Decimal("1.2")


def test_an_order_that_gave_all_back_is_not_in_the_variance_report(cli: Cli, plant: Path) -> None:
    dead_order(cli, "1")
    ok(cli, "order", "close", "1", "--return-unconsumed")
    out = ok(cli, "report", "variance", "--all", "--min-orders", "1", "-f", "json").stdout
    assert json.loads(out) == []
