"""Units and BOM fixes: an item's own unit may not redefine one, ``item update --units``
keeps the other units (``--remove-unit`` drops one, not while a BOM uses it), ``bom
explode`` buys a buy item as ``bom cost`` and MRP do, and the import shows a lead time
as written."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, ok, refused

# C1 counts in pcs and comes in boxes of 12; SUB's active BOM uses 1 box of it per 3.
SHOP = """
items:
  - {code: TOP, name: Top, type: finished, unit: pcs, make_or_buy: make}
  - {code: SUB, name: Sub, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: R1, name: Raw one, type: raw, unit: kg, make_or_buy: buy, cost: 10}
  - {code: C1, name: Comp one, type: component, unit: pcs, make_or_buy: buy, cost: 0.5,
     units: {box: 12}}
  - {code: C2, name: Comp two, type: component, unit: pcs, make_or_buy: buy, cost: 1}
boms:
  - item: TOP
    lines:
      - {item: SUB, qty: 1}
      - {item: R1, qty: 250, unit: g}
  - item: SUB
    output_qty: 3
    lines:
      - {item: C1, qty: 1, unit: box}
      - {item: C2, qty: 2}
"""


def load(cli: Cli, tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    ok(cli, "import", path)
    return path


def units_of(cli: Cli, code: str) -> dict[str, float]:
    return json.loads(ok(cli, "item", "show", code, "-f", "json").stdout)[0]["units"]


def explode(cli: Cli, item: str, qty: str) -> list[tuple[str, str, str]]:
    rows = json.loads(ok(cli, "bom", "explode", item, "--qty", qty, "-f", "json").stdout)
    return [(r["item"], r["make_or_buy"], str(r["qty"])) for r in rows]


def add_raw(cli: Cli, code: str, unit: str, *extra: str) -> None:
    ok(cli, "item", "add", code, "--name", code, "--type", "raw", "--unit", unit,
       "--make-or-buy", "buy", *extra)  # fmt: skip


# -- 8. the import shows a lead time as written --------------------------------------------


def test_import_shows_a_fractional_lead_time_as_written(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    path = tmp_path / "z.yaml"
    path.write_text(
        "items: [{code: X, name: x, type: raw, unit: pcs, make_or_buy: buy, "
        "lead_time_days: 1.0}]\n",
        encoding="utf-8",
    )
    err = refused(cli, initdb, "import", path, one_line=False)
    assert err.splitlines()[0] == (
        f"Error: {path}:1: items[0].lead_time_days: must be a whole number of days "
        "(0-99999), not 1.0"
    )
    err = refused(cli, initdb, "item", "add", "X", "--name", "x", "--type", "raw", "--unit",
                  "pcs", "--make-or-buy", "buy", "--lead-time-days", "1.0")  # fmt: skip
    assert err == "Error: lead_time_days must be a whole number of days (0-99999), not '1.0'\n"
