"""A component lot used in two orders whose outputs went into a third (a diamond):
forward and backward traces item by item, and a recall that blocks exactly the units in
house, lists exactly the shipped ones, and changes nothing the second time.

RES lot R1 (100, from supplier ACME by PO-1) -> order 1: 10 AMP of lot A1 (4 RES each:
40 used) and order 2: 5 FLT of lot F1 (6 RES each: 30 used); R1 keeps 30 in STORES.
Order 3 makes 3 BOX (serials B-1..B-3) from 1 AMP + 1 FLT each: A1 keeps 7, F1 keeps 2.
B-1 is shipped to Tonwerk (SO-7); B-2 and B-3 stay in STORES.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, day, dump, ok


def item(cli: Cli, code: str, kind: str, make: str, tracking: str) -> None:
    ok(cli, "item", "add", code, "--name", code.title(), "--type", kind, "--unit", "pcs",
       "--make-or-buy", make, "--tracking", tracking)  # fmt: skip


@pytest.fixture
def diamond(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    item(cli, "RES", "component", "buy", "lot")
    item(cli, "AMP", "subassembly", "make", "lot")
    item(cli, "FLT", "subassembly", "make", "lot")
    item(cli, "BOX", "finished", "make", "serial")
    boms = tmp_path / "boms.yaml"
    boms.write_text(
        "boms:\n"
        "  - {item: AMP, revision: A, lines: [{item: RES, qty: 4}]}\n"
        "  - {item: FLT, revision: A, lines: [{item: RES, qty: 6}]}\n"
        "  - {item: BOX, revision: A, lines: [{item: AMP, qty: 1}, {item: FLT, qty: 1}]}\n"
    )
    ok(cli, "import", boms)
    ok(cli, "purchase", "add", "RES", "100", "--due", day(1), "--supplier", "ACME")
    ok(cli, "purchase", "receive", "1", "--lot", "R1")
    for n, (code, qty, lot) in enumerate((("AMP", 10, "A1"), ("FLT", 5, "F1")), start=1):
        ok(cli, "order", "create", code, qty, "--due", day(3))
        ok(cli, "order", "release", n)
        ok(cli, "consume", n)
        ok(cli, "order", "complete", n, "--qty", qty, "--lot", lot)
    ok(cli, "order", "create", "BOX", "3", "--due", day(5))
    ok(cli, "order", "release", "3")
    ok(cli, "consume", "3")
    ok(cli, "order", "complete", "3", "--qty", "3", "--serial", "B-1", "--serial", "B-2",
       "--serial", "B-3")  # fmt: skip
    ok(cli, "ship", "BOX", "1", "--to", "Tonwerk", "--ref", "SO-7", "--serial", "B-1")
    return initdb


def tree(cli: Cli, *args: object) -> dict[str, Any]:
    return json.loads(ok(cli, "trace", *args, "-f", "json").stdout, parse_float=Decimal)


def walk(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict]]:
    """Every node with the lots and orders above it."""
    here = (*path, node.get("lot") or f"{node['type']}")
    out = [(here, node)]
    for child in node.get("children", []):
        out += walk(child, here)
    return out


def test_forward_through_both_branches_to_every_box(cli: Cli, diamond: Path) -> None:
    root = tree(cli, "R1", "--item", "RES", "--forward")
    lots = {(n["item"], n["lot"]) for _p, n in walk(root) if n["type"] in ("lot", "serial")}
    assert lots == {
        ("RES", "R1"), ("AMP", "A1"), ("FLT", "F1"),
        ("BOX", "B-1"), ("BOX", "B-2"), ("BOX", "B-3"),
    }  # fmt: skip
    # Every box is reached through both branches: in full the first time, marked as a
    # repeat (its subtree already shown) the second.
    for serial, where in (("B-1", "shipped"), ("B-2", "stock"), ("B-3", "stock")):
        found = [(p, n) for p, n in walk(root) if n["type"] == "serial" and n["lot"] == serial]
        assert {p[2] for p, _n in found} == {"A1", "F1"}, serial  # R1 > order > A1|F1 > ...
        full = [n for _p, n in found if not n.get("repeat")]
        assert [[c["type"] for c in n["children"]] for n in full] == [[where]]
        assert len(found) == 2
    shipped = [n for _p, n in walk(root) if n["type"] == "shipped"]
    assert {(n["customer"], n["qty"]) for n in shipped} == {("Tonwerk", 1)}
    # R1 itself: 100 received, 40 + 30 used, 30 left in stores.
    assert [c for c in root["children"] if c["type"] == "stock"] == [
        {"type": "stock", "location": "STORES", "status": "available", "qty": 30, "unit": "pcs"}
    ]


def test_backward_from_a_box_reaches_the_resistor_lot_through_both_branches(
    cli: Cli, diamond: Path
) -> None:
    root = tree(cli, "B-2", "--item", "BOX", "--backward")
    found = [(p, n) for p, n in walk(root) if n["type"] == "lot" and n["lot"] == "R1"]
    assert {p[2] for p, _n in found} == {"A1", "F1"}  # B-2 > order > A1|F1 > order > R1
    assert len(found) == 2
    assert {(n["item"], n["lot"]) for _p, n in walk(root) if n["type"] == "lot"} == {
        ("AMP", "A1"), ("FLT", "F1"), ("RES", "R1"),
    }  # fmt: skip
    receipts = [n for _p, n in walk(root) if n["type"] == "receipt"]
    assert receipts and all("ACME" in json.dumps(n) for n in receipts)


def test_recall_blocks_exactly_the_units_in_house(cli: Cli, diamond: Path) -> None:
    recall = ("trace", "R1", "--item", "RES", "--forward", "--hold", "--reason", "drifting")
    done = json.loads(ok(cli, *recall, "-f", "json").stdout, parse_float=Decimal)
    blocked = {(u["item"], u["lot"], u["qty"]) for u in done["in_house"]}
    # In house: 30 RES of R1, 7 AMP of A1, 2 FLT of F1, boxes B-2 and B-3.
    assert blocked == {
        ("RES", "R1", 30), ("AMP", "A1", 7), ("FLT", "F1", 2),
        ("BOX", "B-2", 1), ("BOX", "B-3", 1),
    }  # fmt: skip
    assert {(u["customer"], u["lot"]) for u in done["shipped"]} == {("Tonwerk", "B-1")}
    stock = json.loads(ok(cli, "stock", "--by-lot", "-f", "json").stdout, parse_float=Decimal)
    held = {(r["item"], r["lot"]): (r["available"], r["blocked"]) for r in stock}
    assert held == {
        ("RES", "R1"): (0, 30), ("AMP", "A1"): (0, 7), ("FLT", "F1"): (0, 2),
        ("BOX", "B-2"): (0, 1), ("BOX", "B-3"): (0, 1),
    }  # fmt: skip
    before = dump(diamond)
    ok(cli, *recall)
    assert dump(diamond) == before
