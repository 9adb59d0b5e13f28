"""``mrp_data.load``: what a planning run reads, as the engine's integer rates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli

from mfgctl import db as dbmod
from mfgctl.domain import mrp_data
from mfgctl.domain.mrp import Component
from mfgctl.errors import InvalidInput

M = 1_000_000  # micro-units per base unit


@pytest.fixture
def kit(initdb: Path) -> Path:
    """KIT (2 made per BOM) <- 3 reels of WIRE (100 m each), 10 % scrap, 0.5 reel fixed,
    CABLE its substitute; BARE, an active make item whose BOM has no lines."""
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            item(conn, "KIT", make=True)
            item(conn, "wire", unit="m", units={"reel": "100"})
            item(conn, "CABLE", unit="m")
            item(conn, "OLD")
            item(conn, "BARE", make=True)
            line_fields = {"scrap_pct": "10", "fixed_qty": "0.5", "substitutes": ["CABLE"]}
            bom(conn, "KIT", [line("wire", 3, "reel", **line_fields)], output_qty=2)
            bom(conn, "BARE", [])
            conn.execute("UPDATE item SET active = 0 WHERE code = 'OLD'")
    finally:
        conn.close()
    return initdb


def load(path: Path) -> mrp_data.Snapshot:
    conn = dbmod.connect(path)
    try:
        return mrp_data.load(conn)
    finally:
        conn.close()


def test_a_line_becomes_an_exact_rate_with_unit_scrap_output_and_fixed_quantity(
    kit: Path,
) -> None:
    snap = load(kit)
    # Per KIT: 3 reels x 100 m / 2 made x 1.10 scrap = 165 m; plus, per order, 0.5 reel
    # (the fixed quantity is in the line's unit too) = 50 m.
    assert snap.boms["KIT"] == (
        Component(item="WIRE", num=165, den=1, fixed=50 * M, substitutes=("CABLE",)),
    )
    assert snap.boms["KIT"][0].need(2 * M) == 330 * M + 50 * M
    assert snap.boms["BARE"] == ()
    assert "OLD" not in snap.parts
    assert snap.parts["WIRE"].code == "wire" and snap.parts["WIRE"].unit == "m"


def test_a_line_whose_unit_cannot_convert_names_the_bom(kit: Path, cli: Cli) -> None:
    c = sqlite3.connect(kit)
    with c:
        c.execute("DELETE FROM item_unit WHERE unit = 'reel'")
    c.close()
    message = "BOM KIT revision A: unit 'reel' cannot convert to wire's base unit 'm'"
    with pytest.raises(InvalidInput, match=message):
        load(kit)
    r = cli("mrp", "--start", "2027-03-01")
    assert r.exit_code != 0
    assert r.stderr.strip().endswith(message)
