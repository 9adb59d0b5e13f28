"""``costing.unit_costs`` (what ``status`` shows for every finished item at once) gives
exactly the unit cost ``bom cost`` (``costing.roll_up``) gives each item alone: on random
plants with output quantities that do not divide evenly, scrap, fixed quantities,
phantoms, bought items with and without a cost, and stage costs at work-centre rates."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mfgctl import db as dbmod
from mfgctl.cli import app
from mfgctl.domain import costing, items

MAKE = 4  # M0..M3 are made (M0 finished), B0..B3 bought
QTYS = ["1", "2", "0.5", "0.333333", "3"]


@st.composite
def plants(draw: st.DrawFn) -> str:
    out = ["workcenters:", "  - {code: WC, rate: 37.5}", "items:"]
    for n in range(MAKE):
        kind = "finished" if n == 0 else "subassembly"
        out.append(
            f"  - {{code: M{n}, name: Made {n}, type: {kind}, unit: pcs, make_or_buy: make}}"
        )
    for n in range(4):
        cost = draw(st.sampled_from(["", ", cost: 0.7", ", cost: 3.1416", ", cost: 12"]))
        out.append(
            f"  - {{code: B{n}, name: Bought {n}, type: component, unit: pcs, "
            f"make_or_buy: buy{cost}}}"
        )
    out.append("boms:")
    for n in range(MAKE):
        output = draw(st.sampled_from(["1", "3", "7", "2.5"]))
        out += [f"  - item: M{n}", f"    output_qty: {output}", "    lines:"]
        children = [f"M{k}" for k in range(n + 1, MAKE)] + [f"B{k}" for k in range(4)]
        picked = draw(st.lists(st.sampled_from(children), min_size=1, max_size=4, unique=True))
        for child in picked:
            qty = draw(st.sampled_from(QTYS))
            scrap = draw(st.sampled_from(["0", "5", "12.5"]))
            fixed = draw(st.sampled_from(["0", "1", "0.5"]))
            phantom = child.startswith("M") and draw(st.booleans())
            out.append(
                f"      - {{item: {child}, qty: {qty}, scrap_pct: {scrap}, fixed_qty: {fixed}, "
                f"phantom: {'true' if phantom else 'false'}}}"
            )
    out.append("routings:")
    for n in range(MAKE):
        setup, run = draw(st.sampled_from([(0, 0), (15, 2), (30, 0.5)]))
        out += [
            f"  - item: M{n}",
            "    stages:",
            f"      - {{name: work, workcenter: WC, setup_min: {setup}, run_min: {run}}}",
        ]
    return "\n".join(out) + "\n"


@settings(max_examples=30, deadline=None)
@given(plant=plants())
def test_together_equals_one_by_one(plant: str) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        path, data = Path(tmp) / "plant.db", Path(tmp) / "plant.yaml"
        data.write_text(plant, encoding="utf-8")
        for args in (["init"], ["import", str(data)]):
            r = runner.invoke(app, ["--db", str(path), *args])
            assert r.exit_code == 0, (r.stderr, plant)
        conn = dbmod.connect(path)
        try:
            made = [it for it in items.all_items(conn) if it.make_or_buy == "make"]
            together = costing.unit_costs(conn, made)
            alone = {it.code: costing.roll_up(conn, it.code)["unit_cost"] for it in made}
        finally:
            conn.close()
    assert together == alone, plant
