"""A serial-tracked material moves in whole serials through production: consumption
refuses a fraction of one, backflush and completion relief round to whole units, so an
order's WIP never holds part of a serial and ``check`` stays clean; a frozen requirement
left fractional by an older version is reported. Also: the hint when a completed order
is asked to scrap more than its WIP holds."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused

# 10 P from a BOM that makes 3 from one serial panel S: the order requires 4 panels.
SHOP = """
items:
  - {code: S, name: Panel, type: component, unit: pcs, make_or_buy: buy, tracking: serial,
     cost: 10}
  - {code: P, name: Prod, type: finished, unit: pcs, make_or_buy: make}
boms:
  - {item: P, output_qty: 3, lines: [{item: S, qty: 1}]}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def receive_panels(cli: Cli) -> None:
    ok(cli, "stock", "receive", "S", "4", "--serials", "A1,A2,A3,A4")


def released_order(cli: Cli) -> None:
    ok(cli, "order", "create", "P", "10", "--due", "2026-12-31")
    ok(cli, "order", "release", "1")


def serial_fractions(cli: Cli) -> tuple[int, list[tuple[str, str]]]:
    r = cli("check", "-f", "json")
    rows = json.loads(r.stdout)
    return r.exit_code, [
        (p["subject"], p["message"]) for p in rows if p["check"] == "serial_fraction"
    ]


def held(path: Path, place: str) -> dict[str, Decimal]:
    """Per serial of S, what ``place`` holds of it (available status at a real place)."""
    c = sqlite3.connect(path)
    try:
        rows = c.execute(
            "SELECT lt.code, b.qty FROM balance AS b JOIN item AS i ON i.id = b.item_id "
            "JOIN location AS l ON l.id = b.location_id JOIN lot AS lt ON lt.id = b.lot_id "
            "WHERE i.code = 'S' AND l.code = ? AND b.qty <> 0",
            (place,),
        ).fetchall()
    finally:
        c.close()
    return {code: Decimal(qty) / 1_000_000 for code, qty in rows}


def valuation_of_p(cli: Cli) -> tuple[Decimal, Decimal]:
    """P's value and average cost in ``report valuation``."""
    rows = json.loads(ok(cli, "report", "valuation", "--item", "P", "-f", "json").stdout)
    return Decimal(str(rows[0]["value"])), Decimal(str(rows[0]["average_cost"]))


def test_partial_completions_relieve_whole_serials_and_cost_adds_up(cli: Cli, shop: Path) -> None:
    receive_panels(cli)
    released_order(cli)
    ok(cli, "consume", "1")
    assert held(shop, "ORDER-1") == {f"A{n}": 1 for n in range(1, 5)}
    # 3 of 10: the share 4 x 3/10 = 1.2 panels is rounded up to 2 whole serials.
    ok(cli, "order", "complete", "1", "--qty", "3")
    assert held(shop, "ORDER-1") == {"A3": 1, "A4": 1}
    assert serial_fractions(cli) == (0, [])
    # Those 3 carry the 2 panels relieved: 20 / 3 each (to the millionth).
    assert valuation_of_p(cli)[1] == Decimal("6.666667")
    # The other 7 complete the order: the rest of the requirement, 2 panels.
    r = ok(cli, "order", "complete", "1", "--qty", "7")
    assert "order 1 is completed" in r.stderr
    assert held(shop, "ORDER-1") == {}
    assert serial_fractions(cli) == (0, [])
    # The output's cost is exactly the 4 panels consumed at 10.
    assert valuation_of_p(cli) == (Decimal(40), Decimal(4))
    show = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    total = next(row for row in show["cost"] if row["part"] == "total")
    assert Decimal(str(total["actual"])) == Decimal(40)


def test_relief_never_takes_more_than_the_wip_holds(cli: Cli, shop: Path) -> None:
    receive_panels(cli)
    released_order(cli)
    ok(cli, "consume", "1", "--item", "S", "--qty", "1")
    # 6 of 10 would relieve ceil(2.4) = 3 panels; the WIP holds 1: that one is relieved.
    ok(cli, "order", "complete", "1", "--qty", "6")
    assert held(shop, "ORDER-1") == {}
    assert serial_fractions(cli) == (0, [])
    assert valuation_of_p(cli)[1] == Decimal("1.666667")  # 10 / 6


def test_backflush_for_part_of_the_output_takes_whole_panels(cli: Cli, shop: Path) -> None:
    receive_panels(cli)
    released_order(cli)
    r = ok(cli, "consume", "1", "--qty", "3", "-f", "json")
    moves = json.loads(r.stdout)
    assert [(m["item"], m["lot"], m["qty"]) for m in moves] == [("S", "A1", 1), ("S", "A2", 1)]
    assert held(shop, "ORDER-1") == {"A1": 1, "A2": 1}
    # 9 more would be ceil(3.6) = 4 panels, but the order lacks only 2.
    r = ok(cli, "consume", "1", "--qty", "9", "-f", "json")
    assert [(m["lot"], m["qty"]) for m in json.loads(r.stdout)] == [("A3", 1), ("A4", 1)]
    assert serial_fractions(cli) == (0, [])


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("--lot", "A1", "--qty", "0.5"), "--qty 0.5"),
        (("--qty", "1.5"), "--qty 1.5"),
        (("--lot", "A1", "--scrap", "0.5", "--reason", "cracked", "--from-stock"), "--scrap 0.5"),
    ],
)
def test_a_fraction_of_a_serial_is_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], what: str
) -> None:
    receive_panels(cli)
    released_order(cli)
    ok(cli, "order", "start", "1")
    err = refused(cli, shop, "consume", "1", "--item", "S", *args)
    assert err == (
        f"Error: S is serial-tracked: {what} pcs must be a whole number of units "
        "(one serial each)\n"
    )


def test_scrap_of_part_of_a_serial_in_wip_is_refused(cli: Cli, shop: Path) -> None:
    receive_panels(cli)
    released_order(cli)
    ok(cli, "consume", "1", "--item", "S", "--lot", "A1", "--qty", "1")
    err = refused(cli, shop, "consume", "1", "--item", "S", "--scrap", "0.25", "--reason", "x")
    assert "S is serial-tracked: --scrap 0.25 pcs must be a whole number" in err


def test_a_fractional_frozen_requirement_is_reported_and_consumed_whole(
    cli: Cli, shop: Path
) -> None:
    # Released by an older version: 10 P froze 3.333334 panels, none in stock.
    ok(cli, "order", "create", "P", "10", "--due", "2026-12-31")
    ok(cli, "order", "release", "1", "--partial")
    c = sqlite3.connect(shop)
    with c:
        c.execute("UPDATE order_material SET qty = 3333334 WHERE order_id = 1")
    c.close()
    r = ok(cli, "order", "show", "1", "-f", "json")
    assert json.loads(r.stdout)["materials"][0]["required"] == 3.333334
    code, rows = serial_fractions(cli)
    assert code == 4
    assert rows == [
        (
            "ORDER-1",
            "the requirement frozen on production order 1 (released) holds 3.333334 pcs of "
            "serial-tracked S: not a whole number of units (one serial each)",
        )
    ]
    receive_panels(cli)
    # The backflush takes whole serials: 3.333334 rounded up, no serial split.
    ok(cli, "consume", "1")
    assert held(shop, "ORDER-1") == {f"A{n}": 1 for n in range(1, 5)}
    assert held(shop, "STORES") == {}
    code, rows = serial_fractions(cli)
    assert [subject for subject, _m in rows] == ["ORDER-1"]  # only the frozen requirement
    # Its completion relieves whole serials too: 3.333334 x 3/10 is 1 to the millionth,
    # the final one the rest of the WIP.
    ok(cli, "order", "complete", "1", "--qty", "3")
    assert held(shop, "ORDER-1") == {"A2": 1, "A3": 1, "A4": 1}
    ok(cli, "order", "complete", "1", "--qty", "7")
    assert held(shop, "ORDER-1") == {}
    assert serial_fractions(cli) == (0, [])


LOT_SHOP = """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, tracking: lot, cost: 1}
  - {code: Q, name: Q, type: finished, unit: pcs, make_or_buy: make, tracking: lot}
boms:
  - {item: Q, lines: [{item: C, qty: 1}]}
"""


def test_scrap_beyond_a_completed_orders_wip_hints_what_it_can_do(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, LOT_SHOP)
    ok(cli, "stock", "receive", "C", "20", "--lot", "L1")
    ok(cli, "order", "create", "Q", "10", "--due", "2026-12-31")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "C", "--lot", "L1", "--qty", "14")
    err = refused(
        cli, initdb, "consume", "1", "--item", "C", "--lot", "L1", "--scrap", "15", "--reason", "x"
    )
    assert err.endswith("not 15; consume it first, or scrap from stock with --from-stock\n")
    ok(cli, "order", "complete", "1", "--qty", "10", "--lot", "Q1")
    err = refused(
        cli, initdb, "consume", "1", "--item", "C", "--lot", "L1", "--scrap", "5", "--reason", "x"
    )
    assert err == (
        "Error: order 1 holds only 4 pcs of C lot L1 in its WIP (ORDER-1), not 5; a "
        "completed order scraps only what its WIP holds: scrap 4 or less\n"
    )
    ok(cli, "consume", "1", "--item", "C", "--lot", "L1", "--scrap", "4", "--reason", "x")
