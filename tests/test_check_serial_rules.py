"""``mfgctl check`` finds what serial-tracked items hold from before today's rules:
fractions of a unit (``serial_fraction``, an error) and serial patterns that no longer
validate (``serial_pattern``, a warning). Entry refuses both now, so each test stores
the rows with raw SQL, as an older version would have."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok

SHOP = """
items:
  - {{code: HD, name: Hearing aid, type: finished, unit: pcs, make_or_buy: make,
     tracking: serial, serial_pattern: 'HD-{{yyyy}}-{{seq:05}}', lead_time_days: 2,
     planning_reviewed: {today}}}
  - {{code: SENSOR, name: Sensor, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, lead_time_days: 10, cost: 4, planning_reviewed: {today}}}
  - {{code: PCB, name: Board, type: component, unit: pcs, make_or_buy: buy, tracking: lot,
     lead_time_days: 10, cost: 2, planning_reviewed: {today}}}
boms:
  - {{item: HD, lines: [{{item: SENSOR, qty: 1}}, {{item: PCB, qty: 1}}]}}
stock:
  - {{item: SENSOR, qty: 2, serials: [S-1, S-2]}}
  - {{item: PCB, qty: 5, lot: B1}}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP.format(today=day(0)))
    return initdb


def tamper(path: Path, *sql: str) -> None:
    """Rows as an older mfgctl stored them."""
    c = sqlite3.connect(path)
    with c:
        for statement in sql:
            c.execute(statement)
    c.close()


def report(cli: Cli, *args: object) -> tuple[int, list[tuple[str, str, str, str]]]:
    r = cli("check", "-f", "json", *args)
    rows = json.loads(r.stdout)
    return r.exit_code, [(p["severity"], p["check"], p["subject"], p["message"]) for p in rows]


def test_the_serial_shop_is_clean(cli: Cli, shop: Path) -> None:
    assert report(cli) == (0, [])


def test_a_serial_item_with_a_fractional_balance_is_an_error(cli: Cli, shop: Path) -> None:
    # PCB held 5 of lot B1 with 2.5 reserved; then tracking became serial (before the
    # rule that tracking cannot change once an item has moves).
    ok(cli, "reserve", "add", "PCB", "2.5", "--for", "SO-9")
    ok(cli, "stock", "adjust", "PCB", "--remove", "2.5", "--lot", "B1", "--reason", "count")
    tamper(shop, "UPDATE item SET tracking = 'serial' WHERE code = 'PCB'")
    before = dump(shop)
    code, rows = report(cli)
    assert code == 4
    assert [r for r in rows if r[1] == "serial_fraction"] == [
        (
            "error",
            "serial_fraction",
            "PCB at STORES/available lot B1",
            "stock holds 2.5 pcs of serial-tracked PCB: not a whole number of units "
            "(one serial each)",
        ),
        (
            "error",
            "serial_fraction",
            "reservation 1",
            "open reservation 1 (SO-9) holds 2.5 pcs of serial-tracked PCB: not a whole "
            "number of units (one serial each)",
        ),
    ]
    r = cli("check")
    assert r.exit_code == 4
    assert r.stderr.startswith("Error: check: 2 errors")
    assert dump(shop) == before  # check only reads


def test_fractional_orders_and_demand_of_a_serial_item_are_errors(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "HD", "3", "--due", day(20))
    ok(cli, "order", "create", "HD", "2", "--due", day(20))  # stays whole
    ok(cli, "demand", "add", "HD", "2", "--due", day(30), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "purchase", "add", "SENSOR", "5", "--due", day(15))
    ok(cli, "purchase", "add", "SENSOR", "4", "--due", day(15))
    tamper(
        shop,
        "UPDATE production_order SET qty = 2500000 WHERE id = 1",
        "UPDATE demand SET qty = 1250000 WHERE id = 1",
        "UPDATE purchase_order SET qty = 4500000 WHERE id = 1",
        # What is still to come is whole: 3.5 ordered, 0.5 received.
        "UPDATE purchase_order SET qty = 3500000, received = 500000 WHERE id = 2",
    )
    code, rows = report(cli)
    assert code == 4
    assert rows == [
        (
            "error",
            "serial_fraction",
            "ORDER-1",
            "production order 1 (planned) holds 2.5 pcs of serial-tracked HD: not a whole "
            "number of units (one serial each)",
        ),
        (
            "error",
            "serial_fraction",
            "PO 1",
            "open purchase order 1 (still to come) holds 4.5 pcs of serial-tracked SENSOR: "
            "not a whole number of units (one serial each)",
        ),
        (
            "error",
            "serial_fraction",
            "demand 1",
            "open sales demand 1 holds 1.25 pcs of serial-tracked HD: not a whole number of "
            "units (one serial each)",
        ),
    ]
    # Closed records are history: a cancelled order or demand is no longer reported.
    ok(cli, "order", "cancel", "1")
    ok(cli, "demand", "cancel", "1")
    ok(cli, "purchase", "cancel", "1")
    assert report(cli) == (0, [])


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("HD {seq}", "serial_pattern 'HD {seq}': serial 'HD 1' may only contain"),
        ("HD-{seq}-{dd}", "serial_pattern 'HD-{seq}-{dd}': only {yyyy}, {yy}, {mm} and"),
        ("HD-{yyyy}", "serial_pattern 'HD-{yyyy}' needs exactly one {seq}"),
        ("HD-{seq:070}", "serial_pattern 'HD-{seq:070}': the number is padded to 70 digits"),
    ],
)
def test_a_stored_serial_pattern_that_no_longer_validates_is_a_warning(
    cli: Cli, shop: Path, pattern: str, why: str
) -> None:
    tamper(shop, f"UPDATE item SET serial_pattern = '{pattern}' WHERE code = 'HD'")
    code, rows = report(cli)
    assert code == 0  # a warning: exit 0 unless --strict
    assert len(rows) == 1
    severity, check, subject, message = rows[0]
    assert (severity, check, subject) == ("warning", "serial_pattern", "HD")
    assert message.startswith(why), message
    assert message.endswith(
        "; order complete --auto-serials refuses it: give HD another "
        "(mfgctl item update HD --serial-pattern TEXT)"
    )
    assert cli("check", "--strict").exit_code == 4
    # The command the message names clears it.
    ok(cli, "item", "update", "HD", "--serial-pattern", "HD-{seq:05}")
    assert report(cli) == (0, [])


def test_a_deactivated_items_pattern_is_left_out(cli: Cli, shop: Path) -> None:
    tamper(shop, "UPDATE item SET serial_pattern = 'HD {seq}', active = 0 WHERE code = 'HD'")
    assert report(cli) == (0, [])
