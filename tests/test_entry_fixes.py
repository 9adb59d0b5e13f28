"""Planning entry fixes from a tester's review: a serial-tracked item is ordered and
demanded in whole units (``purchase add``, ``demand add`` and the YAML ``purchase_orders:``
and ``demand:`` sections); an item with open demand, purchase orders or production
orders cannot be deactivated, and ``check`` warns about such records of an item
deactivated before that rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, day, ok, refused

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
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    ok(cli, "import", path)
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
