"""A made material (a subassembly an order consumes) is compared at its *material*
standard: its rolled-up material cost with no stage cost at any level. Its actual cost
is its moving average, which comes from completions valued at the material they
relieved and so never holds stage (labour) cost; a standard with stage cost in it made
the order's cost variance mostly labour left out of the actual. Numbers by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from conftest import day, import_yaml, ok

SHOP = """
items:
  - {code: G, name: Gift pack, type: finished, unit: pcs, make_or_buy: make}
  - {code: F, name: Final unit, type: finished, unit: pcs, make_or_buy: make}
  - {code: S, name: Sub assembly, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: P, name: Part, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: R, name: Resistor, type: component, unit: pcs, make_or_buy: buy, cost: 0.5}
boms:
  - item: S
    lines:
      - {item: P, qty: 2}
      - {item: R, qty: 1}
  - item: F
    lines:
      - {item: S, qty: 1}
      - {item: R, qty: 3}
  - item: G
    lines:
      - {item: F, qty: 1}
routings:
  - item: S
    stages:
      - {name: assembly, workcenter: WC, setup_min: 10, run_min: 5}
  - item: F
    stages:
      - {name: final, workcenter: WC, setup_min: 0, run_min: 6}
"""


def as_json(cli, *args: object) -> object:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


def nodes(node: dict) -> dict[str, dict]:
    found = {node["item"]: node}
    for child in node["children"]:
        found.update(nodes(child))
    return found


def setup(cli, tmp_path: Path) -> None:
    ok(cli, "workcenter", "add", "WC", "--rate", "60")  # 1 a minute
    import_yaml(cli, tmp_path, SHOP)


def test_bom_cost_shows_the_material_only_cost_beside_the_full_cost(cli, initdb, tmp_path):
    setup(cli, tmp_path)
    s = as_json(cli, "bom", "cost", "S")
    # 2 P x 1 + 1 R x 0.5 = 2.5 of material; 10 + 5 = 15 min at 1 a minute = 15.
    assert (s["material_cost"], s["stage_cost"], s["cost"]) == (Decimal("2.5"), 15, Decimal("17.5"))
    assert s["unit_cost"] == Decimal("17.5")  # the totals are as before
    assert (s["material_only_cost"], s["material_only_unit_cost"]) == (Decimal("2.5"),) * 2

    g = nodes(as_json(cli, "bom", "cost", "G"))
    # F = 1 S (17.5) + 3 R (1.5) + 6 min (6) = 25; with no stage cost at any level
    # 2.5 + 1.5 = 4. G has no routing: cost 25, material only 4.
    assert (g["F"]["cost"], g["F"]["material_only_unit_cost"]) == (25, 4)
    assert (g["G"]["cost"], g["G"]["material_only_cost"]) == (25, 4)
    # A bought leaf: its price either way (R here is F's own line, 3 x 0.5).
    assert g["P"]["material_only_unit_cost"] == 1 and g["R"]["material_only_cost"] == Decimal("1.5")

    tree = ok(cli, "bom", "cost", "G").stdout
    assert "F Final unit  1 pcs  cost 25 = 25/pcs" in tree
    assert "material only 4 = 4/pcs" in tree
    rows = ok(cli, "bom", "cost", "S", "-f", "csv").stdout.splitlines()
    head = rows[0].split(",")
    first = dict(zip(head, rows[1].split(","), strict=True))
    assert (first["cost"], first["material_only_unit_cost"]) == ("17.5", "2.5")


def test_an_order_compares_a_made_material_with_its_material_standard(cli, initdb, tmp_path):
    setup(cli, tmp_path)
    # P comes in above its standard: 1.2 (standard 1); R at its standard 0.5.
    ok(cli, "stock", "receive", "P", "20", "--cost", "1.2")
    ok(cli, "stock", "receive", "R", "40", "--cost", "0.5")
    # 4 S: 8 P x 1.2 + 4 R x 0.5 = 11.6 relieved, so S's average is 2.9 (no stage cost).
    ok(cli, "order", "create", "S", "4", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "4")
    assert as_json(cli, "bom", "cost", "S")["unit_cost"] == Decimal("17.5")

    # 4 F use all 4 S (at 2.9: 11.6) and 12 R (6); 3 are made so far.
    ok(cli, "order", "create", "F", "4", "--due", day(5))
    ok(cli, "order", "release", "2")
    ok(cli, "consume", "2")
    ok(cli, "order", "complete", "2", "--qty", "3")
    rows = {r["part"]: r for r in as_json(cli, "order", "show", "2")["cost"]}
    # S at its material standard 2.5 (not 17.5): planned 4 x 2.5 = 10, standard for 3
    # made 7.5, actual 11.6, variance 4.1 = one S over (2.9) + 3 x 0.4 above standard.
    # (With the stage cost in it was standard 52.5, variance -40.9: labour, not material.)
    assert rows["S"] == {
        "part": "S",
        "std_unit_cost": Decimal("2.5"),
        "planned": 10,
        "standard": Decimal("7.5"),
        "actual": Decimal("11.6"),
        "variance": Decimal("4.1"),
    }
    # R: 12 planned at 0.5 = 6, 9 for 3 made = 4.5, actual 12 x 0.5 = 6.
    assert (rows["R"]["standard"], rows["R"]["actual"]) == (Decimal("4.5"), 6)
    # F's own stages stay their own row: 6 min a unit at 1 a minute, 18 for 3 made.
    assert (rows["stages"]["planned"], rows["stages"]["standard"]) == (24, 18)
    assert rows["total"]["standard"] == 30 and rows["total"]["actual"] == Decimal("35.6")

    ok(cli, "order", "complete", "2", "--qty", "1")
    r = ok(cli, "order", "close", "2", "-f", "json")
    closed = {row["item"]: row for row in json.loads(r.stdout, parse_float=Decimal)}
    # All 4 made: S standard 4 x 2.5 = 10 against 11.6 - the price of P, nothing else.
    assert closed["S"]["std_unit_cost"] == Decimal("2.5")
    assert (closed["S"]["standard_cost"], closed["S"]["actual_cost"]) == (10, Decimal("11.6"))
    assert closed["S"]["cost_variance"] == Decimal("1.6") and closed["S"]["variance"] == 0
    assert closed["R"]["cost_variance"] == 0
    # Standard 10 + 6 + 24 stages = 40; actual 11.6 + 6 + 24 = 41.6.
    assert "Order 2 cost: actual 41.6, standard 40, variance +1.6" in r.stderr
