"""``consume ORDER --qty Q`` says of a material that lacks nothing that it took none,
never "lacked only 0 pcs ... took 0" (tester t20 #8)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: A, name: part A, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: B, name: part B, type: component, unit: kg, make_or_buy: buy, cost: 3}
  - {code: P, name: product, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: P
    lines: [{item: A, qty: 1, unit: pcs}, {item: B, qty: 0.5, unit: kg}]
"""


def test_a_material_that_lacks_nothing_is_said_to_take_none(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "100", "--cost", "2")
    ok(cli, "stock", "receive", "B", "100", "--cost", "3")
    ok(cli, "order", "create", "P", "10", "--due", "2030-12-20")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "A", "--qty", "10")  # all of A
    ok(cli, "consume", "1", "--qty", "5")  # 2.5 kg of B

    r = ok(cli, "consume", "1", "--qty", "10", "-f", "json")

    assert [(m["item"], m["qty"]) for m in json.loads(r.stdout)] == [("B", 2.5)]
    assert "lacked only 0" not in r.stderr and "took 0" not in r.stderr
    assert (
        "Note: order 1 has all its A already: took none of its share 10 for --qty 10 "
        "(to issue more, mfgctl consume 1 --item A --qty Q)\n"
    ) in r.stderr
    assert (
        "Note: order 1 lacked only 2.5 kg of B, not its share 5 for --qty 10: took 2.5 "
        "(to issue more, mfgctl consume 1 --item B --qty Q)\n"
    ) in r.stderr
