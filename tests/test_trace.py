"""``mfgctl trace``: genealogy through every level, backward to the supplier receipt and
forward to every unit and its customer; the one-command recall and its idempotence."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, day, dump, ok, refused
from trace_story import build


@pytest.fixture
def plant(cli: Cli, initdb: Path) -> Path:
    """The story of trace_story, then S-1 reserved for and shipped to Sound Co (SO-1),
    S-2 reserved for SO-2 and still in STORES."""
    build(cli, initdb)
    ok(cli, "reserve", "HD", "1", "--for", "SO-1", "--lot", "S-1")
    ok(cli, "reserve", "HD", "1", "--for", "SO-2", "--lot", "S-2")
    ok(cli, "demand", "add", "HD", "1", "--due", day(10), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "ship", "HD", "1", "--to", "Sound Co", "--ref", "SO-1", "--serial", "S-1")
    return initdb


def tree(cli: Cli, *args: object) -> dict[str, Any]:
    return json.loads(ok(cli, "trace", *args, "-f", "json").stdout, parse_float=Decimal)


def nodes(node: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every node of a type in a tree, depth first."""
    found = [node] if node["type"] == kind else []
    for child in node.get("children", []):
        found += nodes(child, kind)
    return found


def test_backward_from_a_serial_reaches_the_supplier_receipt(cli: Cli, plant: Path) -> None:
    root = tree(cli, "S-1", "--backward")
    assert (root["type"], root["item"], root["lot"]) == ("serial", "HD", "S-1")
    [order2] = root["children"]
    assert (order2["type"], order2["order"], order2["made"]) == ("order", 2, 1)
    # Order 2 made 2 HD from 2 PCB of P1 and 4 screws (2 per HD, untracked).
    pcb, screw = order2["children"]
    assert (pcb["item"], pcb["lot"], pcb["consumed"]) == ("PCB", "P1", 2)
    assert (screw["type"], screw["item"], screw["consumed"]) == ("untracked", "SCREW", 4)
    # Order 1 made 4 PCB of P1 from 8 CHIP of C1 (2 per PCB).
    [order1] = pcb["children"]
    assert (order1["order"], order1["made"]) == (1, 4)
    [chip] = order1["children"]
    assert (chip["item"], chip["lot"], chip["consumed"]) == ("CHIP", "C1", 8)
    [receipt] = chip["children"]
    assert receipt["type"] == "receipt"
    assert (receipt["from"], receipt["supplier"], receipt["ref"], receipt["qty"]) == (
        "SUPPLIER",
        "ACME",
        "PO-1",
        10,
    )
    # The table form is a tree with the same story, line by line.
    text = ok(cli, "trace", "S-1").stdout
    assert "HD serial S-1" in text
    assert "CHIP lot C1: 8 pcs consumed" in text
    assert "received 10 pcs from SUPPLIER ACME (PO-1) into STORES/available" in text
    assert "SCREW (untracked, no lot to follow): 4 pcs consumed" in text


def test_forward_from_the_chip_lot_reaches_both_serials_and_the_customer(
    cli: Cli, plant: Path
) -> None:
    root = tree(cli, "C1", "--forward")
    # C1: 10 received, 8 consumed into order 1: 2 left in STORES.
    assert [n for n in root["children"] if n["type"] == "stock"] == [
        {"type": "stock", "location": "STORES", "status": "available", "qty": 2, "unit": "pcs"}
    ]
    [p1] = nodes(root, "lot")[1:]
    assert (p1["item"], p1["lot"], p1["made"]) == ("PCB", "P1", 4)
    serials = {s["lot"]: s for s in nodes(root, "serial")}
    assert sorted(serials) == ["S-1", "S-2"]
    assert serials["S-1"]["children"] == [
        {"type": "shipped", "customer": "Sound Co", "shipment": "SHIP-1", "ref": "SO-1",
         "qty": 1, "at": serials["S-1"]["children"][0]["at"], "unit": "pcs"}
    ]  # fmt: skip
    assert serials["S-2"]["children"] == [
        {"type": "stock", "location": "STORES", "status": "available", "qty": 1, "unit": "pcs"}
    ]
    # The other chip lot, C2, never went into anything and is not in the trace.
    assert "C2" not in json.dumps(root)
    text = ok(cli, "trace", "C1", "--forward").stdout
    assert "shipped to Sound Co: 1 pcs (SHIP-1, SO-1" in text
    assert "HD serial S-2: 1 pcs made" in text


def test_recall_blocks_in_house_units_lists_shipped_and_is_idempotent(
    cli: Cli, plant: Path
) -> None:
    r = cli("trace", "C1", "--forward", "--hold", "--reason", "ACME recall 7", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    # In house: C1 2, P1 2 and S-2 1, each blocked by one hold inspection.
    assert [(x["item"], x["lot"], x["qty"], x["status"], x["action"]) for x in doc["in_house"]] == [
        ("CHIP", "C1", 2, "available", "blocked"),
        ("PCB", "P1", 2, "available", "blocked"),
        ("HD", "S-2", 1, "available", "blocked"),
    ]
    # Reservations 1-3 are orders 1 and 2's own (CHIP; PCB, SCREW), 4 is SO-1's, 5 SO-2's.
    assert [(c["id"], c["ref"], c["remaining"]) for c in doc["reservations_cancelled"]] == [
        (5, "SO-2", 1)
    ]
    assert [(s["customer"], s["lot"], s["shipment"], s["ref"]) for s in doc["shipped"]] == [
        ("Sound Co", "S-1", "SHIP-1", "SO-1")
    ]
    records = json.loads(ok(cli, "inspect", "list", "--item", "HD", "-f", "json").stdout)
    held = [(i["lot"], i["result"], i["from_status"], i["to_status"], i["note"]) for i in records]
    assert held == [("S-2", "hold", "available", "blocked", "recall C1: ACME recall 7")]
    assert "reservations cancelled: 5 (SO-2, 1)" in json.dumps(doc["in_house"])
    hd = json.loads(ok(cli, "stock", "--item", "HD", "-f", "json").stdout)[0]
    assert (hd["blocked"], hd["available"], hd["reserved"]) == (1, 0, 0)
    assert ok(cli, "reserve", "list", "-f", "json").stdout.strip() == "[]"

    # A second recall changes nothing and says everything is already blocked.
    before = dump(plant)
    again = cli("trace", "C1", "--forward", "--hold", "--reason", "ACME recall 7", "-f", "json")
    assert again.exit_code == 0, again.stderr
    assert dump(plant) == before
    doc2 = json.loads(again.stdout)
    assert {x["action"] for x in doc2["in_house"]} == {"already blocked"}
    assert doc2["inspections"] == [] and doc2["reservations_cancelled"] == []
    assert doc2["shipped"] == doc["shipped"]
    assert "0 place(s) blocked now" in again.stderr
    check = cli("check")
    assert check.exit_code == 0 and "0 errors" in check.stderr


def test_recall_lists_wip_rework_and_rejected(cli: Cli, initdb: Path) -> None:
    build(cli, initdb, release=False)  # S-1 and S-2 wait in awaiting_release
    ok(cli, "inspect", "HD", "--serial", "S-1", "--rework")
    ok(cli, "inspect", "HD", "--serial", "S-2", "--fail")
    # A third order (1 HD) consumes 1 PCB of P1 and has made nothing yet: P1 is in its WIP.
    ok(cli, "order", "create", "HD", "1", "--due", day(6))
    ok(cli, "order", "release", "3")
    ok(cli, "consume", "3")
    r = cli("trace", "P1", "--forward", "--hold", "--reason", "bad solder", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = {(x["lot"], x["where"]): x for x in json.loads(r.stdout)["in_house"]}
    # P1: 4 made, 2 into order 2, 1 into order 3: 1 left in STORES, 1 in ORDER-3's WIP.
    assert (rows["P1", "STORES"]["qty"], rows["P1", "STORES"]["action"]) == (1, "blocked")
    wip = rows["P1", "ORDER-3"]
    assert (wip["qty"], wip["status"], wip["action"]) == (1, "wip (in_progress)", "check")
    assert "mfgctl consume 3 --item PCB --lot P1 --scrap 1" in wip["detail"]
    assert (rows["S-1", "STORES"]["status"], rows["S-1", "STORES"]["action"]) == ("rework", "check")
    assert (rows["S-2", "STORES"]["action"]) == "already rejected"
    assert cli("check").exit_code == 0


def test_an_untracked_item_cannot_be_traced(cli: Cli, initdb: Path) -> None:
    build(cli, initdb)
    err = refused(cli, initdb, "trace", "X", "--item", "SCREW")
    assert "SCREW is not lot- or serial-tracked" in err
    err = refused(cli, initdb, "trace", "NOPE")
    assert "no lot or serial 'NOPE'" in err and "trace follows lots and serials" in err


def test_wrong_flag_combinations_are_usage_errors(cli: Cli, initdb: Path) -> None:
    build(cli, initdb)
    before = dump(initdb)
    assert cli("trace", "C1", "--hold", "--reason", "x").exit_code == 2
    assert cli("trace", "C1", "--forward", "--hold").exit_code == 2
    assert cli("trace", "C1", "--forward", "--backward").exit_code == 2
    assert cli("trace", "C1", "--forward", "--reason", "x").exit_code == 2
    assert dump(initdb) == before


def test_a_recall_refused_for_its_reason_changes_nothing(cli: Cli, initdb: Path) -> None:
    build(cli, initdb)
    err = refused(cli, initdb, "trace", "C1", "--forward", "--hold", "--reason", "x" * 121)
    assert "--reason is longer than 120 characters" in err


def test_the_genealogy_query_works_as_a_view(cli: Cli, plant: Path) -> None:
    import sqlite3

    from mfgctl.domain.trace import GENEALOGY

    with sqlite3.connect(plant) as c:
        c.execute(f"CREATE TEMP VIEW genealogy AS {GENEALOGY}")
        rows = c.execute(
            "SELECT o.code, ii.code, il.code, g.input_qty / 1000000, oi.code, ol.code, "
            "       g.output_qty / 1000000 "
            "  FROM genealogy AS g JOIN location AS o ON o.id = g.order_location_id "
            "  JOIN item AS ii ON ii.id = g.input_item_id "
            "  LEFT JOIN lot AS il ON il.id = g.input_lot_id "
            "  JOIN item AS oi ON oi.id = g.output_item_id "
            "  LEFT JOIN lot AS ol ON ol.id = g.output_lot_id ORDER BY 1, 2, 6"
        ).fetchall()
    c.close()
    # Order 1: 8 CHIP of C1 -> 4 PCB of P1. Order 2: 2 PCB of P1 and 4 untracked SCREW ->
    # one HD each of S-1 and S-2 (every input linked to every output).
    assert rows == [
        ("ORDER-1", "CHIP", "C1", 8, "PCB", "P1", 4),
        ("ORDER-2", "PCB", "P1", 2, "HD", "S-1", 1),
        ("ORDER-2", "PCB", "P1", 2, "HD", "S-2", 1),
        ("ORDER-2", "SCREW", None, 4, "HD", "S-1", 1),
        ("ORDER-2", "SCREW", None, 4, "HD", "S-2", 1),
    ]
