"""Usage variance counts a listed substitute used in a material's place as use of that
material (``orders.coverage``'s rule): ``report variance``, ``report yield``'s materials
and ``order show``'s variance agree, and the substitute keeps a row of its own only for
what it covered of no material.

The shop: kit K is made of 2 LEAD per unit, LEAD2 listed as its substitute. Every
number below is worked out by hand in a comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok

SHOP = """\
items:
  - {code: LEAD, name: Lead, type: component, unit: pcs, make_or_buy: buy, cost: 0.5}
  - {code: LEAD2, name: Lead alt, type: component, unit: pcs, make_or_buy: buy, cost: 0.6}
  - {code: K, name: Kit, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: K
    lines:
      - {item: LEAD, qty: 2, substitutes: [LEAD2]}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def report(cli: Cli, *args: object) -> dict | list:
    return json.loads(ok(cli, "report", *args, "-f", "json").stdout)


def shown(cli: Cli, order: int) -> list[tuple]:
    """``order show``'s materials: (item, consumed, substituted, variance) per row."""
    body = json.loads(ok(cli, "order", "show", order, "-f", "json").stdout)
    return [(m["item"], m["consumed"], m["substituted"], m["variance"]) for m in body["materials"]]


def order_of_ten(cli: Cli, n: int, *consume: object) -> None:
    """Order n: 10 K (requires 10 x 2 = 20 LEAD), released, consumed (a backflush, or
    what ``consume`` is given), 10 good K completed."""
    ok(cli, "order", "create", "K", "10", "--due", day(10))
    ok(cli, "order", "release", n, "--partial")
    ok(cli, "consume", n, *consume)
    ok(cli, "order", "complete", n, "--qty", "10")


def test_a_substitute_used_one_for_one_is_no_variance(cli: Cli, shop: Path) -> None:
    # Only LEAD2 in stock: each backflush takes 20 LEAD2 for the 20 LEAD of its order.
    ok(cli, "stock", "receive", "LEAD2", "1000", "--cost", "0.6")
    for n in (1, 2, 3):
        order_of_ten(cli, n)
    # Three orders: planned 3 x 20 = 60; actual 0 LEAD + 60 LEAD2 covering it = 60, all
    # of it substituted; variance 0: nothing flagged, and LEAD2 covered LEAD in full, so
    # it has no row of its own (before: LEAD -60 = -100 % flagged, LEAD2 +60).
    assert report(cli, "variance") == []
    assert report(cli, "variance", "--all") == [
        {
            "item": "K", "revision": "A", "component": "LEAD", "unit": "pcs", "orders": 3,
            "made": 30, "planned": 60, "actual": 60, "substituted": 60, "variance": 0,
            "variance_pct": 0, "planned_per_unit": 2, "actual_per_unit": 2, "flagged": False,
        }
    ]  # fmt: skip
    # Per order: required 20, planned 20 (10 of 10 made), actual 20 of which 20 LEAD2.
    assert report(cli, "yield", "--order", 1)["materials"] == [
        {"order": 1, "component": "LEAD", "unit": "pcs", "required": 20, "planned": 20,
         "actual": 20, "substituted": 20, "scrapped": 0, "variance": 0, "variance_pct": 0},
    ]  # fmt: skip
    assert report(cli, "yield", "--by", "item")["materials"] == [
        {"item": "K", "component": "LEAD", "unit": "pcs", "required": 60, "planned": 60,
         "actual": 60, "substituted": 60, "scrapped": 0, "variance": 0, "variance_pct": 0},
    ]  # fmt: skip
    # order show: 0 LEAD consumed, 20 substituted, variance 20 - 20 = 0 (before: -20).
    assert shown(cli, 1) == [("LEAD", 0, 20, 0)]
    table = ok(cli, "report", "variance", "--all", "-f", "plain").stdout.splitlines()
    assert table[0].split("\t")[6:10] == ["planned", "actual", "substituted", "variance"]
    assert table[1].split("\t")[2:10] == ["LEAD", "pcs", "3", "30", "60", "60", "60", "0"]


def test_half_own_half_substitute(cli: Cli, shop: Path) -> None:
    # 10 LEAD in stock: the backflush takes them, then 10 LEAD2 for the rest.
    ok(cli, "stock", "receive", "LEAD", "10", "--cost", "0.5")
    ok(cli, "stock", "receive", "LEAD2", "100", "--cost", "0.6")
    order_of_ten(cli, 1)
    # Actual 10 own + 10 substituted = 20 = planned: variance 0, no LEAD2 row.
    assert report(cli, "yield", "--order", 1)["materials"] == [
        {"order": 1, "component": "LEAD", "unit": "pcs", "required": 20, "planned": 20,
         "actual": 20, "substituted": 10, "scrapped": 0, "variance": 0, "variance_pct": 0},
    ]  # fmt: skip
    (row,) = report(cli, "variance", "--all", "--min-orders", "1")
    assert (row["component"], row["planned"], row["actual"], row["substituted"]) == (
        "LEAD",
        20,
        20,
        10,
    )
    assert (row["variance"], row["flagged"]) == (0, False)
    assert shown(cli, 1) == [("LEAD", 10, 10, 0)]


def test_more_substitute_than_needed_keeps_the_excess_on_its_own_row(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "LEAD2", "100", "--cost", "0.6")
    # 25 LEAD2 consumed for an order that needs 20 LEAD.
    order_of_ten(cli, 1, "--item", "LEAD2", "--qty", "25")
    # LEAD2 covers what LEAD lacks, 20, one for one: LEAD actual 20 (all substituted),
    # variance 0; the 5 beyond it are LEAD2's own: planned 0, actual 5, +5, no percent.
    assert report(cli, "yield", "--order", 1)["materials"] == [
        {"order": 1, "component": "LEAD", "unit": "pcs", "required": 20, "planned": 20,
         "actual": 20, "substituted": 20, "scrapped": 0, "variance": 0, "variance_pct": 0},
        {"order": 1, "component": "LEAD2", "unit": "pcs", "required": 0, "planned": 0,
         "actual": 5, "substituted": 0, "scrapped": 0, "variance": 5, "variance_pct": None},
    ]  # fmt: skip
    rows = report(cli, "variance", "--all", "--min-orders", "1")
    assert [
        (r["component"], r["planned"], r["actual"], r["substituted"], r["variance"],
         r["variance_pct"], r["flagged"])
        for r in rows
    ] == [("LEAD", 20, 20, 20, 0, 0, False), ("LEAD2", 0, 5, 0, 5, None, False)]  # fmt: skip
    assert shown(cli, 1) == [("LEAD", 0, 20, 0)]


def test_less_substitute_than_planned_is_under_use_of_the_line(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "LEAD2", "100", "--cost", "0.6")
    for n in (1, 2, 3):
        order_of_ten(cli, n, "--item", "LEAD2", "--qty", "18")
    # Each order: planned 20, actual 18 LEAD2 for LEAD: three orders 60 against 54,
    # -6 = -10 %: the line is flagged, as it would be had LEAD itself been under-used.
    (row,) = report(cli, "variance")
    assert (row["component"], row["planned"], row["actual"], row["substituted"]) == (
        "LEAD",
        60,
        54,
        54,
    )
    assert (row["variance"], row["variance_pct"], row["flagged"]) == (-6, -10, True)
    assert row["actual_per_unit"] == 1.8
    # order show: variance 18 - 20 = -2; its substituted column counts LEAD2 consumed
    # or still reserved for LEAD: 18, as the completed order holds no reservation.
    assert shown(cli, 1) == [("LEAD", 0, 18, -2)]


def test_a_substitute_that_is_a_material_keeps_its_own_need_first(
    cli: Cli, tmp_path: Path, shop: Path
) -> None:
    # K2: 2 LEAD (substitute LEAD2) and 1 LEAD2 of its own per unit.
    import_yaml(
        cli,
        tmp_path,
        "items:\n"
        "  - {code: K2, name: Kit 2, type: finished, unit: pcs, make_or_buy: make}\n"
        "boms:\n"
        "  - item: K2\n"
        "    lines:\n"
        "      - {item: LEAD, qty: 2, substitutes: [LEAD2]}\n"
        "      - {item: LEAD2, qty: 1}\n",
        name="k2.yaml",
    )
    ok(cli, "stock", "receive", "LEAD2", "100", "--cost", "0.6")
    ok(cli, "order", "create", "K2", "10", "--due", day(10))
    ok(cli, "order", "release", 1, "--partial")
    ok(cli, "consume", 1, "--item", "LEAD2", "--qty", "26")
    ok(cli, "order", "complete", 1, "--qty", "10")
    # 26 LEAD2: its own line's 10 first, the 16 beyond it cover LEAD (which lacks 20).
    # LEAD: planned 20, actual 16 (all substituted), -4 = -20 %; LEAD2: planned 10,
    # actual 10, variance 0.
    materials = report(cli, "yield", "--order", 1)["materials"]
    assert [
        (m["component"], m["planned"], m["actual"], m["substituted"], m["variance"],
         m["variance_pct"])
        for m in materials
    ] == [("LEAD", 20, 16, 16, -4, -20), ("LEAD2", 10, 10, 0, 0, 0)]  # fmt: skip
    rows = report(cli, "variance", "--all", "--min-orders", "1")
    assert [(r["component"], r["actual"], r["variance"]) for r in rows] == [
        ("LEAD", 16, -4),
        ("LEAD2", 10, 0),
    ]
    # order show: LEAD variance 16 - 20 = -4 (substituted 16, all used: the completed
    # order holds no reservation); LEAD2 consumed 26 (what the ledger shows), variance
    # 26 - 16 - 10 = 0.
    assert shown(cli, 1) == [("LEAD", 0, 16, -4), ("LEAD2", 26, 0, 0)]


def test_order_close_counts_the_substitute_as_the_report_does(cli: Cli, shop: Path) -> None:
    # 20 LEAD2 backflushed for the 20 LEAD, 3 more LEAD2 consumed and returned at the
    # close: LEAD used 20 of 20 (20 of them LEAD2), no variance; LEAD2 keeps a row only
    # for the 3 it gets back. The history note says so too.
    ok(cli, "stock", "receive", "LEAD2", "1000", "--cost", "0.6")
    ok(cli, "order", "create", "K", "10", "--due", day(10))
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "consume", "1")
    ok(cli, "consume", "1", "--item", "LEAD2", "--qty", "3")
    ok(cli, "order", "complete", "1", "--qty", "10")
    closed = ok(cli, "order", "close", "1", "--return-unconsumed", "-f", "json")
    rows = [
        (r["item"], r["required"], r["consumed"], r["substituted"], r["variance"], r["returned"])
        for r in json.loads(closed.stdout)
    ]
    assert rows == [("LEAD", 20, 20, 20, 0, 0), ("LEAD2", 0, 0, 0, 0, 3)]
    assert "variance: none" in ok(cli, "order", "show", "1", "-f", "json").stdout
