"""``status``'s cost of every finished item (``costing.unit_costs``, which costs most
subtrees as their need times a cost per unit worked out once per item) gives exactly
the unit cost ``bom cost`` (``costing.roll_up``, the tree walked node by node) gives
each item: on random plants where most subtrees are linear (output quantities that
divide evenly, no fixed quantity, no stage cost) and some are not, on a deep plant whose
quantities outgrow the 60 digits the walk computes with, and through the CLI."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mfgctl import db as dbmod
from mfgctl.cli import app
from mfgctl.domain import costing, items
from mfgctl.domain.bomtree import BomCycle

MAKE = 5  # M0..M4 are made (M0 and M1 finished); B0..B3 bought, B4 bought with a BOM
BOUGHT = 5
QTYS = ["1", "2", "0.5", "0.125", "1.234567", "3", "0.333333"]
OUTPUTS = ["1", "10", "2.5", "0.5", "4", "3", "7"]
SCRAPS = ["0", "0", "5", "12.5", "33.333333"]
COSTS = ["", ", cost: 0", ", cost: 0.7", ", cost: 3.1416", ", cost: 12", ", cost: 0.000001"]
# (work centre, setup, run): none, a centre without a rate, rated with and without minutes.
STAGES = [None, ("FREE", 15, 2), ("WC", 0, 0), ("WC", 15, 2), ("WC", 0, 0.5)]


@st.composite
def plants(draw: st.DrawFn) -> str:
    out = [
        "workcenters:",
        "  - {code: WC, name: Rated, rate: 37.5}",
        "  - {code: FREE, name: No rate}",
        "items:",
    ]
    for n in range(MAKE):
        kind = "finished" if n < 2 else "subassembly"
        out.append(
            f"  - {{code: M{n}, name: Made {n}, type: {kind}, unit: pcs, make_or_buy: make}}"
        )
    for n in range(BOUGHT):
        unit = draw(st.sampled_from(["pcs", "kg"]))
        out.append(
            f"  - {{code: B{n}, name: Bought {n}, type: component, unit: {unit}, "
            f"make_or_buy: buy{draw(st.sampled_from(COSTS))}}}"
        )
    out.append("boms:")
    parents = [f"M{n}" for n in range(MAKE)] + [f"B{BOUGHT - 1}"]
    for n, parent in enumerate(parents):
        output = draw(st.sampled_from(OUTPUTS))
        out += [f"  - item: {parent}", f"    output_qty: {output}", "    lines:"]
        below = [f"M{k}" for k in range(n + 1, MAKE)] if parent.startswith("M") else []
        children = below + [f"B{k}" for k in range(BOUGHT if parent.startswith("M") else 3)]
        picked = draw(st.lists(st.sampled_from(children), min_size=1, max_size=4, unique=True))
        for child in picked:
            qty = draw(st.sampled_from(QTYS))
            scrap = draw(st.sampled_from(SCRAPS))
            fixed = draw(st.sampled_from(["0", "0", "0", "1", "0.5"]))
            # A phantom line passes through a made item's BOM, or through B4's.
            through = child.startswith("M") or child == f"B{BOUGHT - 1}"
            phantom = through and draw(st.booleans())
            out.append(
                f"      - {{item: {child}, qty: {qty}, scrap_pct: {scrap}, fixed_qty: {fixed}, "
                f"phantom: {'true' if phantom else 'false'}}}"
            )
    out.append("routings:")
    for n in range(MAKE):
        stage = draw(st.sampled_from(STAGES))
        if stage is not None:
            wc, setup, run = stage
            out += [
                f"  - item: M{n}",
                "    stages:",
                f"      - {{name: work, workcenter: {wc}, setup_min: {setup}, run_min: {run}}}",
            ]
    if out[-1] == "routings:":
        out.pop()
    return "\n".join(out) + "\n"


def _load(plant: str, tmp: str) -> Path:
    path, data = Path(tmp) / "plant.db", Path(tmp) / "plant.yaml"
    data.write_text(plant, encoding="utf-8")
    runner = CliRunner()
    for args in (["init"], ["import", str(data)]):
        r = runner.invoke(app, ["--db", str(path), *args])
        assert r.exit_code == 0, (r.stderr, plant)
    return path


def _both(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(unit_costs, roll_up one by one) of every made item, as printed (str)."""
    conn = dbmod.connect(path)
    try:
        made = [it for it in items.all_items(conn) if it.make_or_buy == "make"]
        together = costing.unit_costs(conn, made)
        alone = {it.code: costing.roll_up(conn, it.code)["unit_cost"] for it in made}
    finally:
        conn.close()
    return (
        {k: str(v) for k, v in together.items()},
        {k: str(v) for k, v in alone.items()},
    )


@settings(max_examples=60, deadline=None)
@given(plant=plants())
def test_fast_roll_up_equals_the_tree_walk(plant: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        together, alone = _both(_load(plant, tmp))
    assert together == alone, plant


LINEAR = """
items:
  - {code: TOP, name: Top, type: finished, unit: pcs, make_or_buy: make}
  - {code: SUB, name: Sub, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: KIT, name: Kit, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: CHIP, name: Chip, type: component, unit: pcs, make_or_buy: buy, cost: 0.4}
  - {code: SOLDER, name: Solder, type: raw, unit: kg, make_or_buy: buy, cost: 50}
  - {code: SCREW, name: Screw, type: component, unit: pcs, make_or_buy: buy, cost: 0.05}
boms:
  - item: TOP
    lines:
      - {item: SUB, qty: 2}
      - {item: KIT, qty: 1, phantom: true}
  - item: SUB
    output_qty: 10
    lines:
      - {item: CHIP, qty: 30, scrap_pct: 5}
      - {item: SOLDER, qty: 2, unit: g}
  - item: KIT
    lines:
      - {item: SCREW, qty: 4}
"""


def test_a_linear_plant_costs_as_worked_by_hand(tmp_path: Path) -> None:
    # SUB per unit: (30 x 1.05 x 0.4 + 0.002 x 50) / 10 = (12.6 + 0.1) / 10 = 1.27;
    # TOP: 2 SUB + 4 SCREW (phantom KIT) = 2.54 + 0.2 = 2.74.
    together, alone = _both(_load(LINEAR, str(tmp_path)))
    assert together == alone == {"TOP": "2.74", "SUB": "1.27", "KIT": "0.2"}


def _deep(levels: int) -> str:
    """A chain M0 -> M1 -> ... whose every line has 6 decimals and a scrap of 8 digits,
    ending in two parts of the same price whose quantities add up to 1: the quantities
    down the chain outgrow the 60 digits the walk computes with (it rounds them up to
    the micro-unit), when the cost per unit of the last level is short (1)."""
    out = ["items:"]
    for n in range(levels):
        out.append(
            f"  - {{code: M{n}, name: M{n}, type: subassembly, unit: pcs, make_or_buy: make}}"
        )
    out += [
        "  - {code: P, name: P, type: component, unit: pcs, make_or_buy: buy, cost: 1}",
        "  - {code: Q, name: Q, type: component, unit: pcs, make_or_buy: buy, cost: 1}",
        "boms:",
    ]
    for n in range(levels):
        out += [f"  - item: M{n}", "    lines:"]
        if n + 1 < levels:
            out.append(f"      - {{item: M{n + 1}, qty: 1.234567, scrap_pct: 12.345678}}")
        else:
            out += ["      - {item: P, qty: 0.123457}", "      - {item: Q, qty: 0.876543}"]
    return "\n".join(out) + "\n"


def test_quantities_beyond_sixty_digits_cost_as_the_walk_rounds_them(tmp_path: Path) -> None:
    for levels in range(2, 9):
        with tempfile.TemporaryDirectory() as tmp:
            together, alone = _both(_load(_deep(levels), tmp))
        assert together == alone, levels
        assert Decimal(together["M0"]) > 0


def test_status_json_cost_is_bom_cost(tmp_path: Path) -> None:
    path = _load(LINEAR, str(tmp_path))
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(path), "status", "--no-mrp", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    cost = json.loads(r.stdout)["cost"]
    assert [(c["item"], c["unit_cost"]) for c in cost] == [("TOP", 2.74)]
    r = runner.invoke(app, ["--db", str(path), "bom", "cost", "TOP", "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["unit_cost"] == 2.74


def test_a_bom_cycle_is_named_as_before(tmp_path: Path) -> None:
    path = _load(LINEAR, str(tmp_path))
    raw = sqlite3.connect(path)
    with raw:  # KIT -> TOP closes TOP -> KIT -> TOP, written past the import's checks
        raw.execute(
            "INSERT INTO bom_line (bom_id, position, child_id, qty, unit) "
            "SELECT b.id, 99, t.id, 1000000, 'pcs' FROM bom b JOIN item k ON k.id = b.item_id, "
            "item t WHERE k.code = 'KIT' AND b.active = 1 AND t.code = 'TOP'"
        )
    raw.close()
    conn = dbmod.connect(path)
    try:
        made = [it for it in items.all_items(conn) if it.type == "finished"]
        try:
            costing.unit_costs(conn, made)
        except BomCycle as e:
            assert str(e).startswith("BOM cycle: TOP -> KIT -> TOP;"), str(e)
        else:
            raise AssertionError("no BomCycle")
    finally:
        conn.close()
    r = CliRunner().invoke(app, ["--db", str(path), "status", "--no-mrp"])
    assert r.exit_code == 1
    assert "BOM cycle: TOP -> KIT -> TOP" in r.stderr
