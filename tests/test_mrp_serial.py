"""A serial-tracked item is planned in whole units (each unit is its own serial): a
fractional need is rounded up, so every planned order can be firmed and received."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: S, name: Sensor, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5,
     tracking: serial, order_multiple: 0.5}
  - {code: M, name: Module, type: subassembly, unit: pcs, make_or_buy: make,
     method: make_to_order, lead_time_days: 1, tracking: serial}
  - {code: C, name: Chip, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - item: P
    lines:
      - {item: S, qty: 0.5}
      - {item: M, qty: 0.25}
  - item: M
    lines:
      - {item: C, qty: 1}
demand:
  - {item: P, qty: 3, due: 2030-01-23, kind: sales, ref: SO-1}
"""


def test_fractional_needs_of_serial_items_are_planned_in_whole_units(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    doc = json.loads(ok(cli, "mrp", "--start", "2030-01-07", "-f", "json").stdout)
    qty = {o["item"]: o["qty"] for o in doc["planned_orders"]}
    # 3 P need 1.5 S (order multiple 0.5, but a serial is whole: 2) and 0.75 M, made to
    # order, also rounded up to 1 (which needs 1 C).
    assert qty == {"P": 3, "S": 2, "M": 1, "C": 1}
    ok(cli, "mrp", "firm", "--all", "--start", "2030-01-07")
    received = ok(cli, "purchase", "receive", "1", "--serial", "S-1", "--serial", "S-2")
    assert "2 pcs S" in received.stderr
