"""Planning entry fixes from a tester's review: a serial-tracked item is ordered and
demanded in whole units (``purchase add``, ``demand add`` and the YAML ``purchase_orders:``
and ``demand:`` sections); an item with open demand, purchase orders or production
orders cannot be deactivated, and ``check`` warns about such records of an item
deactivated before that rule."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok, refused

SHOP = """
items:
  - {code: SER, name: Serial part, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, units: {half: 0.5}}
  - {code: LOT, name: Lot part, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
  - {code: P, name: Part, type: component, unit: pcs, make_or_buy: buy}
  - {code: R, name: Product, type: subassembly, unit: pcs, make_or_buy: make}
boms:
  - item: R
    lines:
      - {item: P, qty: 1}
stock:
  - {item: P, qty: 15}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def whole(qty: str) -> str:
    return (
        f"Error: SER is serial-tracked: quantity {qty} pcs must be a whole number of units "
        "(one serial each)\n"
    )


# -- serial-tracked quantities are whole -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "qty"),
    [
        (("purchase", "add", "SER", "1.5", "--due", day(10)), "1.5"),
        (("purchase", "add", "SER", "3", "--unit", "half", "--due", day(10)), "1.5"),
        (("demand", "add", "SER", "0.5", "--due", day(10), "--kind", "sales"), "0.5"),
        (("demand", "add", "SER", "2.25", "--due", day(10), "--kind", "forecast"), "2.25"),
    ],
)
def test_a_fraction_of_a_serial_tracked_item_is_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], qty: str
) -> None:
    assert refused(cli, shop, *args) == whole(qty)


def test_whole_serial_quantities_and_fractions_of_other_items_are_fine(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "purchase", "add", "SER", "4", "--unit", "half", "--due", day(10))
    ok(cli, "demand", "add", "SER", "2", "--due", day(10), "--kind", "sales")
    ok(cli, "purchase", "add", "LOT", "1.5", "--due", day(10))
    ok(cli, "demand", "add", "P", "0.5", "--due", day(10), "--kind", "forecast")
    pos = json.loads(ok(cli, "purchase", "list", "-f", "json").stdout)
    assert [(p["item"], p["qty"]) for p in pos] == [("SER", 2), ("LOT", 1.5)]


def test_the_import_refuses_fractions_of_a_serial_tracked_item(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        f"purchase_orders:\n  - {{item: SER, qty: 2.5, due: {day(10)}}}\n"
        f"demand:\n  - {{item: SER, qty: 3, unit: half, due: {day(10)}, kind: forecast}}\n"
        f"  - {{item: SER, qty: 3, due: {day(10)}, kind: sales}}\n",
        encoding="utf-8",
    )
    err = refused(cli, shop, "import", path, one_line=False)
    tail = "must be a whole number of units (one serial each)"
    assert (
        f"{path}:2: purchase_orders[0].qty: SER is serial-tracked: quantity 2.5 pcs {tail}" in err
    )
    assert f"{path}:4: demand[0].qty: SER is serial-tracked: quantity 1.5 pcs {tail}" in err
    assert err.endswith("Error: import refused: 2 problems; nothing was written\n")


# -- an item with open work stays active --------------------------------------------------


def test_deactivate_refuses_an_item_with_open_demand_and_purchase_orders(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "demand", "add", "P", "10", "--due", day(20), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "purchase", "add", "P", "50", "--due", day(18))
    for args in (("item", "deactivate", "P"), ("item", "update", "P", "--no-active")):
        assert refused(cli, shop, *args) == (
            "Error: item P cannot be deactivated while it has open work (planning would "
            "leave it out): sales demand 1 (mfgctl demand cancel 1), purchase order 1 "
            "(mfgctl purchase cancel 1)\n"
        )
    ok(cli, "demand", "cancel", "1")
    ok(cli, "purchase", "cancel", "1")
    ok(cli, "item", "deactivate", "P")


def test_deactivate_names_open_production_orders_and_how_to_end_them(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "R", "2", "--due", day(20))
    ok(cli, "order", "create", "R", "1", "--due", day(20))
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    assert refused(cli, shop, "item", "deactivate", "R") == (
        "Error: item R cannot be deactivated while it has open work (planning would leave "
        "it out): production order 1 (mfgctl order complete 1 --final), production order 2 "
        "(mfgctl order cancel 2)\n"
    )
    ok(cli, "order", "complete", "1", "--final")
    ok(cli, "order", "cancel", "2")
    ok(cli, "item", "deactivate", "R")  # a completed order is no longer open


def test_many_open_records_are_counted_past_the_fifth(cli: Cli, shop: Path) -> None:
    for _ in range(7):
        ok(cli, "demand", "add", "P", "1", "--due", day(20), "--kind", "forecast")
    err = refused(cli, shop, "item", "deactivate", "P")
    assert "forecast 5 (mfgctl demand cancel 5) and 2 more (mfgctl demand list, " in err
    assert err.endswith("order list --item P)\n")


def test_check_warns_about_open_work_of_an_item_deactivated_before_the_rule(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "demand", "add", "LOT", "10", "--due", "2030-01-16", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "purchase", "add", "LOT", "50", "--due", "2030-01-14")
    ok(cli, "order", "create", "R", "2", "--due", "2030-01-20")
    assert "inactive_open" not in ok(cli, "check").stdout
    # An older mfgctl let them be deactivated (neither is in a BOM: no bom_inactive error).
    with sqlite3.connect(shop) as c:
        c.execute("UPDATE item SET active = 0 WHERE code IN ('LOT', 'R')")
    c.close()
    r = ok(cli, "check", "-f", "json")  # warnings only: exit 0
    found = [p for p in json.loads(r.stdout) if p["check"] == "inactive_open"]
    reactivate = "or reactivate {0} (mfgctl item update {0} --active)"
    assert found == [
        {
            "severity": "warning",
            "check": "inactive_open",
            "subject": "demand 1",
            "message": "open sales demand of 10 pcs LOT due 2030-01-16 (SO-1), but LOT is "
            "deactivated: planning leaves it out; end it (mfgctl demand cancel 1) "
            + reactivate.format("LOT"),
        },
        {
            "severity": "warning",
            "check": "inactive_open",
            "subject": "PO 1",
            "message": "open purchase order of 50 pcs LOT due 2030-01-14, but LOT is deactivated: "
            "planning leaves it out; end it (mfgctl purchase cancel 1) " + reactivate.format("LOT"),
        },
        {
            "severity": "warning",
            "check": "inactive_open",
            "subject": "ORDER-1",
            "message": "open production order of 2 pcs R due 2030-01-20, but R is deactivated: "
            "planning leaves it out; end it (mfgctl order cancel 1) " + reactivate.format("R"),
        },
    ]
    ok(cli, "demand", "cancel", "1")
    ok(cli, "purchase", "cancel", "1")
    ok(cli, "order", "cancel", "1")
    assert "inactive_open" not in ok(cli, "check").stdout
