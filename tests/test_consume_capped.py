"""``consume ORDER --qty Q`` backflushes each material's share of Q units of output, but
never more than the order still lacks of it (what was issued by hand counts), as for a
serial-tracked material: consuming beyond the requirement is ``consume --item``'s."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused

PLANT = """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: B, name: B, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: F
    lines:
      - {item: A, qty: 1}
      - {item: B, qty: 2}
"""


@pytest.fixture
def order(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """Order 1: 3 F (3 A, 6 B), released; 30 A and 30 B in stock."""
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "30", "--cost", "1")
    ok(cli, "stock", "receive", "B", "30", "--cost", "2")
    ok(cli, "order", "create", "F", "3", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    return initdb


def consumed(cli: Cli) -> dict[str, Decimal]:
    doc = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout, parse_float=Decimal)
    return {m["item"]: m["consumed"] for m in doc["materials"]}


def test_a_backflush_after_the_hand_issue_takes_only_what_is_lacking(cli: Cli, order: Path) -> None:
    ok(cli, "consume", "1", "--item", "A", "--qty", "2")
    r = ok(cli, "consume", "1", "--qty", "3", "-f", "json")
    assert [(m["item"], m["qty"]) for m in json.loads(r.stdout)] == [("A", 1), ("B", 6)]
    assert (
        "Note: order 1 lacked only 1 pcs of A, not its share 3 for --qty 3: took 1 "
        "(to issue more, mfgctl consume 1 --item A --qty Q)"
    ) in r.stderr
    assert "of B" not in r.stderr  # B took its whole share
    assert consumed(cli) == {"A": 3, "B": 6}
    assert "cost: actual 15 so far, planned 15" in ok(cli, "order", "show", "1").stderr


def test_a_backflush_for_more_than_the_order_takes_its_requirement(cli: Cli, order: Path) -> None:
    r = ok(cli, "consume", "1", "--qty", "9", "-f", "json")
    assert [(m["item"], m["qty"]) for m in json.loads(r.stdout)] == [("A", 3), ("B", 6)]
    assert "lacked only 3 pcs of A, not its share 9 for --qty 9" in r.stderr
    assert "lacked only 6 pcs of B, not its share 18 for --qty 9" in r.stderr
    assert consumed(cli) == {"A": 3, "B": 6}


def test_a_backflush_of_an_order_that_lacks_nothing_is_refused(cli: Cli, order: Path) -> None:
    ok(cli, "consume", "1", "--item", "A", "--qty", "3")
    ok(cli, "consume", "1", "--item", "B", "--qty", "6")
    err = refused(cli, order, "consume", "1", "--qty", "3")
    assert err == (
        "Error: order 1 has consumed all its materials already; record more with "
        "mfgctl consume 1 --item ITEM --qty Q\n"
    )
    # Issuing more than required is still possible, named.
    ok(cli, "consume", "1", "--item", "A", "--qty", "1")
    assert consumed(cli) == {"A": 4, "B": 6}


def test_a_share_within_what_is_lacking_says_nothing(cli: Cli, order: Path) -> None:
    r = ok(cli, "consume", "1", "--qty", "1", "-f", "json")
    assert [(m["item"], m["qty"]) for m in json.loads(r.stdout)] == [("A", 1), ("B", 2)]
    assert "Note" not in r.stderr
    r = ok(cli, "consume", "1", "--qty", "2", "-f", "json")
    assert [(m["item"], m["qty"]) for m in json.loads(r.stdout)] == [("A", 2), ("B", 4)]
    assert "Note" not in r.stderr
