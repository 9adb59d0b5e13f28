"""Stock pending inspection is not counted by MRP unless asked (``--include-inspection``),
but a shortage it could cover says so: the shortage report's ``pending_inspection``, an
``in_inspection`` exception naming the command, and ``status``'s replenish line."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: R, name: Resin, type: raw, unit: kg, make_or_buy: buy, lead_time_days: 30,
     inspect_on_receipt: true}
boms:
  - {item: P, lines: [{item: R, qty: 1}]}
"""


def _shop(cli: Cli, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "R", "6")  # into pending_inspection
    ok(cli, "demand", "add", "P", "10", "--due", day(7), "--kind", "sales", "--ref", "SO-1")


def test_shortage_names_stock_pending_inspection(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    _shop(cli, tmp_path)
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    [short] = doc["shortages"]
    assert (short["item"], short["qty"], short["pending_inspection"]) == ("R", 10, 6)
    [message] = [e for e in doc["exceptions"] if e["code"] == "in_inspection"]
    assert message["item"] == "R"
    assert message["message"] == (
        f"6 R pending inspection could cover 6 of the 10 short from {day(6)}: inspect it "
        "(mfgctl inspect R --pass) or plan with --include-inspection to count it"
    )
    table = ok(cli, "mrp", "-f", "csv").stdout
    assert "pending_inspection" in table.splitlines()[0]
    [row] = [line for line in table.splitlines() if line.startswith("R,")]
    assert row.startswith(f"R,Resin,10,kg,{day(6)},") and row.endswith(",6")


def test_included_inspection_is_no_longer_mentioned(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    _shop(cli, tmp_path)
    doc = json.loads(ok(cli, "mrp", "--include-inspection", "-f", "json").stdout)
    [short] = doc["shortages"]
    assert (short["item"], short["qty"], short["pending_inspection"]) == ("R", 4, 0)
    assert not [e for e in doc["exceptions"] if e["code"] == "in_inspection"]


def test_no_message_without_a_shortage(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    _shop(cli, tmp_path)
    ok(cli, "stock", "receive", "R", "20", "--location", "STORES")
    ok(cli, "inspect", "R", "--pass", "--qty", "20")
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    assert doc["shortages"] == []
    assert not [e for e in doc["exceptions"] if e["code"] == "in_inspection"]


def test_status_counts_inspection_when_asked(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    _shop(cli, tmp_path)
    plain = json.loads(ok(cli, "status", "-f", "json").stdout)
    [short] = [r for r in plain["replenish"] if r["action"] == "short" and r["item"] == "R"]
    assert short["qty"] == 10
    assert short["for"].endswith(" (6 pending inspection)")
    counted = json.loads(ok(cli, "status", "--include-inspection", "-f", "json").stdout)
    [short] = [r for r in counted["replenish"] if r["action"] == "short" and r["item"] == "R"]
    assert short["qty"] == 4
    assert "pending inspection" not in short["for"]
