"""``mfgctl report yield`` and ``mfgctl report variance``: hand-worked production stories.

The shop: product P is made of 2 C per unit (BOM line qty 2, no scrap %), through two
stages, assembly and test. Every number below is worked out by hand in a comment.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SHOP = """\
items:
  - {code: C, name: Clip, type: component, unit: pcs, make_or_buy: buy, cost: 0.5}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, cost: 20}
boms:
  - item: P
    lines:
      - {item: C, qty: 2}
routings:
  - item: P
    stages:
      - {name: assembly}
      - {name: test}
stock:
  - {item: C, qty: 1000}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def make_order(cli: Cli, n: int, *, used: str = "23", scrap: str = "2") -> None:
    """Order n: 10 P (planned 10 x 2 = 20 C); C used as given, of which `scrap` scrapped
    from the order's WIP as "bent leads"; 10 good P completed."""
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", n)
    ok(cli, "consume", n, "--item", "C", "--qty", used, "--scrap", scrap, "--reason", "bent leads")
    ok(cli, "order", "complete", n, "--qty", "10")


def report(cli: Cli, *args: object) -> dict | list:
    return json.loads(ok(cli, "report", *args, "-f", "json").stdout)


# -- variance ----------------------------------------------------------------------------


def test_variance_of_15_percent_is_flagged_over_three_orders(cli: Cli, shop: Path) -> None:
    for n in (1, 2, 3):
        make_order(cli, n)
    rows = report(cli, "variance")
    # Per order: planned 10 made x 2 = 20, actual 23 (consumed 23, 2 of them scrapped).
    # Three orders: planned 60, actual 69, variance 9 = 15 % of 60 > 5 %.
    assert rows == [
        {
            "item": "P", "revision": "A", "component": "C", "unit": "pcs", "orders": 3,
            "made": 30, "planned": 60, "actual": 69, "substituted": 0, "variance": 9,
            "variance_pct": 15,
            "planned_per_unit": 2, "actual_per_unit": 2.3, "flagged": True,
        }
    ]  # fmt: skip
    # 15 % is not more than a threshold of 15 %, nor of 20 %.
    assert report(cli, "variance", "--threshold", "15") == []
    assert report(cli, "variance", "--threshold", "20") == []
    table = ok(cli, "report", "variance", "-f", "plain").stdout.splitlines()
    assert table[1].split("\t")[:11] == [
        "P", "A", "C", "pcs", "3", "30", "60", "69", "0", "9", "15"
    ]  # fmt: skip


def test_variance_over_two_orders_is_not_flagged(cli: Cli, shop: Path) -> None:
    for n in (1, 2):
        make_order(cli, n)
    # The same +15 % (planned 40, actual 46), but 2 orders < --min-orders 3.
    assert report(cli, "variance") == []
    (row,) = report(cli, "variance", "--all")
    assert (row["orders"], row["planned"], row["actual"], row["variance_pct"]) == (2, 40, 46, 15)
    assert row["flagged"] is False
    (row,) = report(cli, "variance", "--min-orders", "2")
    assert row["flagged"] is True


def test_variance_leaves_out_open_orders_and_counts_only_the_output_made(
    cli: Cli, shop: Path
) -> None:
    for n in (1, 2, 3):
        make_order(cli, n)
    # Order 4 is still in progress (23 consumed, nothing made): not in the variance.
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", 4)
    ok(cli, "consume", 4, "--item", "C", "--qty", "23")
    # Order 5 used exactly 2 per unit but made only 5 of 10 (final): planned 5 x 2 = 10,
    # actual 10 (used 10). With orders 1-3: planned 70, actual 79, +9 = 12.86 %.
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", 5)
    ok(cli, "consume", 5, "--item", "C", "--qty", "10")
    ok(cli, "order", "complete", 5, "--qty", "5", "--final")
    (row,) = report(cli, "variance")
    assert (row["orders"], row["made"], row["planned"], row["actual"]) == (4, 35, 70, 79)
    assert row["variance_pct"] == 12.86  # 9 / 70 = 0.128571...
    assert report(cli, "variance", "--since", day(1)) == []
    assert report(cli, "variance", "--item", "C") == []  # C is not made by any order


def test_using_less_than_planned_is_flagged_too(cli: Cli, shop: Path) -> None:
    for n in (1, 2, 3):
        make_order(cli, n, used="18", scrap="1")
    # Each order: planned 20, used 18 (1 scrapped): -2 = -10 %; three orders -6 of 60.
    (row,) = report(cli, "variance")
    assert (row["variance"], row["variance_pct"], row["flagged"]) == (-6, -10, True)
    assert row["actual_per_unit"] == 1.8


# -- yield ------------------------------------------------------------------------------------


def staged_order(cli: Cli) -> None:
    """Order 1: 10 P. Assembly: 9 good, 1 rejected (solder); test: 8 good, 1 rejected
    (noise). 23 C consumed, 2 scrapped (bent leads); 8 good P and 1 scrapped (noise)."""
    ok(cli, "order", "create", "P", "10", "--due", day(10), "--ref", "SO-7")
    ok(cli, "order", "release", 1)
    ok(cli, "consume", 1, "--item", "C", "--qty", "23", "--scrap", "2", "--reason", "bent leads")
    ok(cli, "order", "advance", 1, "--stage", "assembly", "--good", 9, "--rejected", 1,
       "--reason", "solder")  # fmt: skip
    ok(cli, "order", "advance", 1, "--stage", "test", "--good", 8, "--rejected", 1,
       "--reason", "noise")  # fmt: skip
    ok(cli, "order", "complete", 1, "--qty", 8, "--scrap", 1, "--reason", "noise", "--final")


def test_yield_per_order_and_per_stage(cli: Cli, shop: Path) -> None:
    staged_order(cli)
    body = report(cli, "yield")
    # Started: 10 entered assembly (9 + 1); made 8 good + 1 scrapped = 9. Yield 8 / 10.
    assert body["orders"] == [
        {"order": 1, "item": "P", "revision": "A", "state": "completed", "started_on": day(0),
         "qty": 10, "started": 10, "good": 8, "scrapped": 1, "yield_pct": 80},
    ]  # fmt: skip
    # assembly 9 of 10 = 90 %; test 8 of the 9 that reached it = 88.89 %.
    assert body["stages"] == [
        {"order": 1, "stage": "assembly", "handled": 10, "good": 9, "rejected": 1,
         "yield_pct": 90},
        {"order": 1, "stage": "test", "handled": 9, "good": 8, "rejected": 1,
         "yield_pct": 88.89},
    ]  # fmt: skip
    assert body["rejects"] == [
        {"order": 1, "stage": "assembly", "reason": "solder", "rejected": 1},
        {"order": 1, "stage": "test", "reason": "noise", "rejected": 1},
    ]
    # Required 10 x 2 = 20; planned for the 9 made: 20 x 9 / 10 = 18; actual 23;
    # variance 5 = 27.78 % of 18.
    assert body["materials"] == [
        {"order": 1, "component": "C", "unit": "pcs", "required": 20, "planned": 18,
         "actual": 23, "substituted": 0, "scrapped": 2, "variance": 5, "variance_pct": 27.78},
    ]  # fmt: skip
    assert body["scrap"] == [
        {"order": 1, "scrapped_item": "C", "unit": "pcs", "reason": "bent leads", "qty": 2},
        {"order": 1, "scrapped_item": "P", "unit": "pcs", "reason": "noise", "qty": 1},
    ]
    text = ok(cli, "report", "yield").stdout
    for heading in ("Orders", "Stages", "Rejects", "Materials", "Scrap"):
        assert heading in text
    assert "88.89" in text and "bent leads" in text


def test_yield_rolled_up_by_item_and_month(cli: Cli, shop: Path) -> None:
    staged_order(cli)
    # Order 2: 10 P, 20 C consumed, all 10 completed good, no stage recorded: started is
    # what it made, 10; yield 100 %.
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", 2)
    ok(cli, "consume", 2, "--item", "C", "--qty", "20")
    ok(cli, "order", "complete", 2, "--qty", "10")
    (only,) = report(cli, "yield", "--order", "ORDER-2")["orders"]
    assert (only["order"], only["started"], only["yield_pct"]) == (2, 10, 100)
    by_item = report(cli, "yield", "--by", "item")
    # Both orders: started 10 + 10 = 20, good 8 + 10 = 18: 90 %.
    assert by_item["orders"] == [
        {"item": "P", "orders": 2, "qty": 20, "started": 20, "good": 18, "scrapped": 1,
         "yield_pct": 90},
    ]  # fmt: skip
    # Planned 18 + 20 = 38, actual 23 + 20 = 43: +5 = 13.16 % of 38.
    assert by_item["materials"] == [
        {"item": "P", "component": "C", "unit": "pcs", "required": 40, "planned": 38,
         "actual": 43, "substituted": 0, "scrapped": 2, "variance": 5, "variance_pct": 13.16},
    ]  # fmt: skip
    by_month = report(cli, "yield", "--by", "month")
    assert [(r["month"], r["item"], r["orders"], r["yield_pct"]) for r in by_month["orders"]] == [
        (day(0)[:7], "P", 2, 90)
    ]
    assert by_month["stages"][0] == {
        "month": day(0)[:7], "item": "P", "stage": "assembly", "handled": 10, "good": 9,
        "rejected": 1, "yield_pct": 90,
    }  # fmt: skip


def test_a_month_is_rolled_up_per_item_never_adding_units(cli: Cli, shop: Path) -> None:
    # P in pcs (order 1: 10 made, all good) and G, a gel in kg (order 2: 2.5 kg planned,
    # 2 kg good and 0.5 kg scrapped), started the same month.
    ok(cli, "item", "add", "G", "--name", "Gel", "--type", "finished", "--unit", "kg",
       "--make-or-buy", "make")  # fmt: skip
    make_order(cli, 1)
    path = Path(str(shop)).parent / "gel.yaml"
    path.write_text("boms:\n  - item: G\n    lines:\n      - {item: C, qty: 4}\n", "utf-8")
    ok(cli, "import", path)
    ok(cli, "order", "create", "G", "2.5", "--due", day(10))
    ok(cli, "order", "release", 2)
    ok(cli, "consume", 2)
    ok(cli, "order", "complete", 2, "--qty", "2", "--scrap", "0.5")
    rows = report(cli, "yield", "--by", "month")["orders"]
    month = day(0)[:7]
    assert [
        (r["month"], r["item"], r["orders"], r["started"], r["good"], r["yield_pct"]) for r in rows
    ] == [(month, "G", 1, 2.5, 2, 80), (month, "P", 1, 10, 10, 100)]


def test_yield_window_and_filters(cli: Cli, shop: Path) -> None:
    staged_order(cli)
    # An order that was never started is not in the report.
    ok(cli, "order", "create", "P", "5", "--due", day(10))
    assert [r["order"] for r in report(cli, "yield")["orders"]] == [1]
    assert [r["order"] for r in report(cli, "yield", "--since", day(0))["orders"]] == [1]
    assert report(cli, "yield", "--since", day(1))["orders"] == []
    assert report(cli, "yield", "--until", day(-1))["orders"] == []
    assert report(cli, "yield", "--item", "C")["orders"] == []


def test_reports_on_an_empty_database(cli: Cli, initdb: Path) -> None:
    assert report(cli, "yield") == {
        "orders": [], "stages": [], "rejects": [], "materials": [], "scrap": [],
    }  # fmt: skip
    assert report(cli, "variance") == []
    r = ok(cli, "report", "yield")
    assert r.stdout.splitlines()[0] == "Orders"
    assert "No rows" in r.stderr
    r = ok(cli, "report", "variance", "-f", "csv")
    assert r.stdout.splitlines() == [
        "item,revision,component,unit,orders,made,planned,actual,substituted,variance,"
        "variance_pct,"
        "planned_per_unit,actual_per_unit,flagged"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("yield", "--since", "2026-13-01"), "--since '2026-13-01' is not a date"),
        (("yield", "--until", "soon"), "--until 'soon' is not a date"),
        (("yield", "--since", "2026-02-01", "--until", "2026-01-01"), "is after --until"),
        (("yield", "--item", "NOPE"), "unknown item 'NOPE'"),
        (("yield", "--order", "99"), "no production order 99"),
        (("yield", "--by", "week"), "--by must be one of order, item, month"),
        (("variance", "--threshold", "-1"), "--threshold must not be negative"),
        (("variance", "--threshold", "lots"), "--threshold 'lots' is not a plain decimal"),
        (("variance", "--min-orders", "0"), "--min-orders must be 1 or more, got 0"),
        (("variance", "--min-orders", "few"), "--min-orders 'few' is not a whole number"),
        (("variance", "--item", "NOPE"), "unknown item 'NOPE'"),
        (("variance", "--since", "yesterday"), "--since 'yesterday' is not a date"),
    ],
)
def test_bad_options_are_refused(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    make_order(cli, 1)
    assert message in refused(cli, shop, "report", *args)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=st.lists(st.integers(min_value=20, max_value=40), min_size=1, max_size=3))
def test_variance_is_actual_use_less_plan(cli: Cli, tmp_path: Path, used: list[int]) -> None:
    """Whatever each order uses, the report's actual is the sum of what was consumed,
    planned is 20 per completed order, and the database is not touched by reading."""
    path = tmp_path / f"v{len(list(tmp_path.iterdir()))}.db"
    ok(cli, "--db", path, "init")
    shop = tmp_path / "shop.yaml"
    shop.write_text(SHOP, encoding="utf-8")
    ok(cli, "--db", path, "import", shop)
    for n, amount in enumerate(used, start=1):
        ok(cli, "--db", path, "order", "create", "P", "10", "--due", day(10))
        ok(cli, "--db", path, "order", "release", n)
        ok(cli, "--db", path, "consume", n, "--item", "C", "--qty", amount)
        ok(cli, "--db", path, "order", "complete", n, "--qty", "10")
    before = dump(path)
    (row,) = json.loads(ok(cli, "--db", path, "report", "variance", "--all", "-f", "json").stdout)
    assert dump(path) == before
    planned, actual = 20 * len(used), sum(used)
    assert (row["planned"], row["actual"], row["variance"]) == (planned, actual, actual - planned)
    share = (Decimal(actual - planned) * 100 / planned).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    assert Decimal(str(row["variance_pct"])) == share
    assert row["flagged"] is (len(used) >= 3 and abs(share) > 5)
