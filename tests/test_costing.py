"""``mfgctl bom cost`` and an order's actual cost against standard (``order show``,
``order close``), with numbers worked by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from conftest import day, dump, refused

SHOP = """
items:
  - {code: TOP, name: Top unit, type: finished, unit: pcs, make_or_buy: make}
  - {code: SUB, name: Sub assembly, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: BOARD, name: Board, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: KIT, name: Screw kit, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: CHIP, name: Chip, type: component, unit: pcs, make_or_buy: buy, cost: 0.40}
  - {code: PCB, name: Bare PCB, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: SOLDER, name: Solder, type: raw, unit: kg, make_or_buy: buy, cost: 50}
  - {code: SCREW, name: Screw, type: component, unit: pcs, make_or_buy: buy, cost: 0.05}
  - {code: NUT, name: Nut, type: component, unit: pcs, make_or_buy: buy}
  - {code: CASE, name: Case, type: component, unit: pcs, make_or_buy: buy, cost: 1.50}
  - {code: LABEL, name: Label, type: packaging, unit: pcs, make_or_buy: buy, cost: 0.20}
boms:
  - item: TOP
    lines:
      - {item: SUB, qty: 2}
      - {item: KIT, qty: 1, phantom: true}
      - {item: CASE, qty: 1, scrap_pct: 10}
      - {item: LABEL, qty: 1, fixed_qty: 5}
  - item: SUB
    output_qty: 10
    lines:
      - {item: CHIP, qty: 30, scrap_pct: 5}
      - {item: BOARD, qty: 10}
  - item: BOARD
    lines:
      - {item: PCB, qty: 1}
      - {item: SOLDER, qty: 2, unit: g}
  - item: KIT
    lines:
      - {item: SCREW, qty: 4}
      - {item: NUT, qty: 4}
routings:
  - item: TOP
    stages:
      - {name: assembly, workcenter: ASSY, setup_min: 30, run_min: 2}
"""


def shop(cli, tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP, encoding="utf-8")
    r = cli("import", path)
    assert r.exit_code == 0, r.stderr


def as_json(cli, *args: object) -> object:
    r = cli(*args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def by_item(node: dict) -> dict[str, dict]:
    found = {node["item"]: node}
    for child in node["children"]:
        found.update(by_item(child))
    return found


def test_bom_cost_of_a_three_level_bom_with_scrap_fixed_qty_and_phantom(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    root = as_json(cli, "bom", "cost", "TOP", "--qty", "10")
    nodes = by_item(root)
    # SUB: 10 TOP x 2 = 20, a batch of 20 of SUB's BOM (which makes 10):
    #   CHIP 20/10 x 30 x 1.05 = 63 x 0.40 = 25.2
    #   BOARD 20/10 x 10 = 20: PCB 20 x 2 = 40, SOLDER 20 x 2 g = 0.04 kg x 50 = 2 -> 42
    #   SUB = 25.2 + 42 = 67.2, 3.36 a unit
    assert (nodes["CHIP"]["qty"], nodes["CHIP"]["cost"]) == (63, Decimal("25.2"))
    assert nodes["SOLDER"]["qty"] == Decimal("0.04") and nodes["SOLDER"]["cost"] == 2
    assert (nodes["BOARD"]["cost"], nodes["BOARD"]["unit_cost"]) == (42, Decimal("2.1"))
    assert nodes["BOARD"]["source"] == "bom"
    assert (nodes["SUB"]["cost"], nodes["SUB"]["unit_cost"]) == (Decimal("67.2"), Decimal("3.36"))
    # KIT is a phantom: its components in its place, 10 x 4 SCREW x 0.05 = 2; NUT has no
    # cost at all (no standard, never received with a cost): 0, and said so.
    assert nodes["KIT"]["source"] == "phantom" and nodes["KIT"]["cost"] == 2
    assert (nodes["NUT"]["source"], nodes["NUT"]["cost"]) == ("none", 0)
    # CASE with 10 % scrap: 11 x 1.50 = 16.5; LABEL 10 + 5 fixed = 15 x 0.20 = 3.
    assert (nodes["CASE"]["qty"], nodes["CASE"]["cost"]) == (11, Decimal("16.5"))
    assert (nodes["LABEL"]["qty"], nodes["LABEL"]["cost"]) == (15, 3)
    # TOP = 67.2 + 2 + 16.5 + 3 = 88.7, 8.87 a unit; 30 + 2 x 10 = 50 minutes, no rate.
    assert root["cost"] == Decimal("88.7") and root["unit_cost"] == Decimal("8.87")
    assert root["material_cost"] == Decimal("88.7")
    assert (root["stage_minutes"], root["stage_cost"]) == (50, 0)
    assert root["uncosted"] == ["NUT"]


def test_the_fixed_quantity_weighs_on_a_smaller_batch(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    root = as_json(cli, "bom", "cost", "TOP")  # default: the BOM's output quantity, 1
    # SUB 2: CHIP 6.3 x 0.4 = 2.52, BOARD 2 x 2 + 0.004 kg x 50 = 4.2 -> 6.72
    # KIT 0.2, CASE 1.1 x 1.5 = 1.65, LABEL (1 + 5) x 0.2 = 1.2  -> 9.77
    assert root["qty"] == 1 and root["cost"] == Decimal("9.77")


def test_bom_cost_tree_and_notes(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    r = cli("bom", "cost", "TOP", "--qty", "10")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("TOP Top unit  10 pcs  cost 88.7 = 8.87/pcs")
    assert "stages 0 for 50 min" in lines[0]
    assert any("CASE Case  11 pcs x 1.5 (standard) = 16.5" in ln for ln in lines)
    assert any("KIT Screw kit  10 pcs  cost 2 = 0.2/pcs  [phantom]" in ln for ln in lines)
    assert any("NUT Nut  40 pcs x 0 (none) = 0" in ln for ln in lines)
    assert "stage(s) with time but no work-centre rate count as 0" in r.stderr
    assert "no cost known for NUT" in r.stderr


def test_a_bought_item_without_standard_cost_uses_its_moving_average(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    assert cli("stock", "receive", "NUT", "100", "--cost", "0.01").exit_code == 0
    assert cli("stock", "receive", "NUT", "100", "--cost", "0.03").exit_code == 0
    nodes = by_item(as_json(cli, "bom", "cost", "TOP", "--qty", "10"))
    # Average (100 x 0.01 + 100 x 0.03) / 200 = 0.02; 40 NUT = 0.8.
    assert (nodes["NUT"]["source"], nodes["NUT"]["unit_cost"]) == ("average", Decimal("0.02"))
    assert nodes["KIT"]["cost"] == Decimal("2.8")
    assert nodes["TOP"]["cost"] == Decimal("89.5")


def test_bom_cost_csv_has_a_row_per_node(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    r = cli("bom", "cost", "TOP", "--qty", "10", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0].startswith("level,item,name,qty,unit,source,unit_cost,material_cost")
    assert rows[1].startswith("0,TOP,Top unit,10,pcs,bom,8.87,88.7,50,0,88.7")
    # TOP, SUB, CHIP, BOARD, PCB, SOLDER, KIT, SCREW, NUT, CASE, LABEL under a header
    assert len(rows) == 1 + 11


def test_bom_cost_refusals(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    assert "unknown item 'NOPE'" in refused(cli, initdb, "bom", "cost", "NOPE")
    assert "--qty" in refused(cli, initdb, "bom", "cost", "TOP", "--qty", "-1")
    assert "CHIP" in refused(cli, initdb, "bom", "cost", "CHIP")


# -- an order's cost ------------------------------------------------------------------------


def order_shop(cli, tmp_path: Path) -> None:
    """BOARD orders: 1 PCB and 2 g of solder a board (standard 2 + 0.1 = 2.1 a board)."""
    shop(cli, tmp_path)
    # PCB: 10 @ 2.00 then 10 @ 2.60; SOLDER: 1 kg @ 50.
    assert cli("stock", "receive", "PCB", "10", "--cost", "2").exit_code == 0
    assert cli("stock", "receive", "SOLDER", "1", "--cost", "50").exit_code == 0
    assert cli("order", "create", "BOARD", "10", "--due", day(5)).exit_code == 0
    assert cli("order", "release", "1").exit_code == 0


def cost_rows(shown: dict) -> dict[str, dict]:
    return {r["part"]: r for r in shown["cost"]}


def test_order_cost_actual_against_standard_with_scrap(cli, initdb, tmp_path):
    order_shop(cli, tmp_path)
    # All 10 PCB consumed at the average 2.00; then 10 more PCB come in at 2.60. WIP is
    # stock on hand, so the average is (10 x 2 + 10 x 2.6) / 20 = 2.3: 2 PCB scrapped
    # from stock for the order cost 4.6.
    assert cli("consume", "1", "--item", "PCB", "--qty", "10").exit_code == 0
    assert cli("stock", "receive", "PCB", "10", "--cost", "2.6").exit_code == 0
    r = cli("consume", "1", "--item", "PCB", "--scrap", "2", "--reason", "cracked", "--from-stock")
    assert r.exit_code == 0, r.stderr
    assert cli("consume", "1", "--item", "SOLDER", "--qty", "0.02").exit_code == 0

    before = cost_rows(as_json(cli, "order", "show", "1"))
    # No output yet: planned 10 x 2.1 = 21; actual 20 + 4.6 + 1 = 25.6; no variance yet.
    assert before["total"]["planned"] == 21 and before["total"]["actual"] == Decimal("25.6")
    assert before["total"]["variance"] is None

    assert cli("order", "complete", "1", "--qty", "10").exit_code == 0
    shown = cost_rows(as_json(cli, "order", "show", "1"))
    # Standard for 10 made: PCB 10 x 2 = 20, SOLDER 0.02 kg x 50 = 1.
    # Actual: PCB 10 x 2 + 2 x 2.3 = 24.6, SOLDER 0.02 x 50 = 1.
    assert shown["PCB"] == {
        "part": "PCB",
        "std_unit_cost": 2,
        "planned": 20,
        "standard": 20,
        "actual": Decimal("24.6"),
        "variance": Decimal("4.6"),
    }
    assert (shown["SOLDER"]["standard"], shown["SOLDER"]["actual"]) == (1, 1)
    assert shown["SOLDER"]["variance"] == 0
    assert shown["stages"]["actual"] == 0
    assert shown["total"]["standard"] == 21 and shown["total"]["actual"] == Decimal("25.6")
    assert shown["total"]["variance"] == Decimal("4.6")

    r = cli("order", "show", "1")
    assert "Cost" in r.stdout
    assert "cost: actual 25.6, standard 21, variance +4.6" in r.stderr


def test_order_close_shows_the_cost_variance(cli, initdb, tmp_path):
    order_shop(cli, tmp_path)
    assert cli("consume", "1").exit_code == 0  # backflush: 10 PCB @ 2, 0.02 kg @ 50 = 21
    assert cli("order", "complete", "1", "--qty", "8", "--scrap", "1").exit_code == 0
    assert cli("order", "complete", "1", "--qty", "1").exit_code == 0
    r = cli("order", "close", "1", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = {row["item"]: row for row in json.loads(r.stdout, parse_float=Decimal)}
    # 10 made (9 good + 1 scrapped): standard = the requirement for 10 = what was used.
    assert rows["PCB"]["standard_cost"] == 20 and rows["PCB"]["actual_cost"] == 20
    assert rows["PCB"]["cost_variance"] == 0 and rows["PCB"]["variance"] == 0
    assert rows["SOLDER"]["cost_variance"] == 0
    assert "Order 1 cost: actual 21, standard 21, variance 0" in r.stderr


def test_order_close_with_extra_consumption(cli, initdb, tmp_path):
    order_shop(cli, tmp_path)
    assert cli("stock", "receive", "PCB", "10", "--cost", "2.6").exit_code == 0
    # PCB average now (10 x 2 + 10 x 2.6) / 20 = 2.3; 12 consumed for 10 boards.
    assert cli("consume", "1", "--item", "PCB", "--qty", "12").exit_code == 0
    assert cli("consume", "1", "--item", "SOLDER", "--qty", "0.02").exit_code == 0
    assert cli("order", "complete", "1", "--qty", "10").exit_code == 0
    before = dump(initdb)
    r = cli("order", "close", "1", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert dump(initdb) != before
    rows = {row["item"]: row for row in json.loads(r.stdout, parse_float=Decimal)}
    # Standard 10 x 2 = 20; actual 12 x 2.3 = 27.6; variance 7.6 (2 PCB over, and the
    # PCB average above standard).
    assert rows["PCB"]["variance"] == 2
    assert rows["PCB"]["standard_cost"] == 20
    assert rows["PCB"]["actual_cost"] == Decimal("27.6")
    assert rows["PCB"]["cost_variance"] == Decimal("7.6")
    assert "actual 28.6, standard 21, variance +7.6" in r.stderr


def test_stage_cost_at_the_work_centre_rate(cli, initdb, tmp_path):
    shop(cli, tmp_path)
    # ASSY at 45.60 an hour: 10 TOP take 30 + 2 x 10 = 50 min = 38.00 of stage cost
    # on top of the 88.7 of material.
    assert cli("workcenter", "add", "ASSY", "--rate", "45.60").exit_code == 0
    r = cli("bom", "cost", "TOP", "--qty", "10", "-f", "json")
    assert r.exit_code == 0, r.stderr
    root = json.loads(r.stdout, parse_float=Decimal)
    assert (root["stage_minutes"], root["stage_cost"]) == (50, 38)
    assert (root["cost"], root["unit_cost"]) == (Decimal("126.7"), Decimal("12.67"))
    assert "no work-centre rate" not in r.stderr
