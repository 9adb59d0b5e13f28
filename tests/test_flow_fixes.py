"""Production-flow fixes from a tester's review: ``order create`` counts substitutes'
free stock in its shortage as ``order release`` does; ``shipments`` prints its header
line in CSV and plain text when there is nothing to list; an order whose material
requirement cannot be stored is refused naming the material; the stock report refuses a
virtual place but keeps showing an order's WIP."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused

SHOP = """
items:
  - {code: R, name: Product, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: T, name: Other product, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy}
  - {code: A2, name: Stand-in for A, type: component, unit: pcs, make_or_buy: buy}
  - {code: A3, name: Second stand-in, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: R
    lines:
      - {item: A, qty: 3, substitutes: [A2]}
  - item: T
    lines:
      - {item: A, qty: 2, substitutes: [A2, A3]}
      - {item: A2, qty: 1}
stock:
  - {item: A, qty: 10}
  - {item: A2, qty: 3}
  - {item: A3, qty: 1}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def created(cli: Cli, *args: object) -> dict[str, dict]:
    """``order create ARGS`` as JSON: its materials by item."""
    body = json.loads(ok(cli, "order", "create", *args, "-f", "json").stdout)
    return {m["item"]: m for m in body["materials"]}


# -- order create counts substitutes as order release does ------------------------------


def test_create_counts_a_substitutes_free_stock_in_the_shortage(cli: Cli, shop: Path) -> None:
    # 4 R need 12 A: 10 A free, and A2 stands in for the other 2.
    mats = created(cli, "R", "4", "--due", day(30))
    assert (mats["A"]["required"], mats["A"]["free"], mats["A"]["short"]) == (12, 10, 0)
    r = ok(cli, "order", "release", "1")
    assert "all materials reserved" in r.stderr


def release_refused(cli: Cli, path: Path) -> str:
    """``order release 1``, refused with its shortage table: the error line."""
    before = dump(path)
    r = cli("order", "release", "1", "-f", "plain")
    assert (r.exit_code, r.stdout, dump(path)) == (1, "", before)
    return r.stderr.splitlines()[-1]


def test_create_shows_what_release_would_refuse_as_short(cli: Cli, shop: Path) -> None:
    # 5 R need 15 A: 10 A and 3 A2 free, so 2 short, as release says.
    assert created(cli, "R", "5", "--due", day(30))["A"]["short"] == 2
    assert release_refused(cli, shop).startswith("Error: order 1 is short of A 2 pcs;")


def test_a_substitutes_own_line_takes_its_stock_first(cli: Cli, shop: Path) -> None:
    ok(cli, "reserve", "A", "8", "--for", "SO-1")  # 2 A left free
    # 3 T need 6 A and 3 A2: A2's 3 go to its own line, so A gets 2 A and 1 A3: 3 short.
    mats = created(cli, "T", "3", "--due", day(30))
    assert (mats["A"]["short"], mats["A2"]["short"]) == (3, 0)
    assert release_refused(cli, shop).startswith("Error: order 1 is short of A 3 pcs;")


def test_order_show_counts_substitutes_for_what_is_still_to_reserve(cli: Cli, shop: Path) -> None:
    # 5 R need 15 A: released with 10 A and 3 A2, 2 short; then 2 A2 arrive.
    ok(cli, "order", "create", "R", "5", "--due", day(30))
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "stock", "receive", "A2", "2")
    body = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    (row,) = body["materials"]
    assert (row["reserved"], row["substituted"], row["free"], row["short"]) == (10, 3, 0, 0)
    ok(cli, "reserve", "1")  # as order show says: nothing short


# -- shipments: a header line with nothing to list ---------------------------------------


@pytest.mark.parametrize(
    ("fmt", "out"),
    [
        ("csv", "shipment,shipped_at,customer,item,qty,returned,unit,lots,ref,demand,user,note\n"),
        (
            "plain",
            "shipment\tshipped_at\tcustomer\titem\tqty\treturned\tunit\tlots\tref\tdemand\t"
            "user\tnote\n",
        ),
        ("json", "[]\n"),
    ],
)
def test_no_shipments_still_prints_the_header(cli: Cli, initdb: Path, fmt: str, out: str) -> None:
    r = ok(cli, "shipments", "--until", "2020-01-01", "-f", fmt)
    assert (r.stdout, r.stderr) == (out, "")


def test_no_shipments_as_a_table_says_so(cli: Cli, initdb: Path) -> None:
    r = ok(cli, "shipments")
    assert (r.stdout, r.stderr) == ("", "No shipments\n")


# -- a material requirement too large to store -------------------------------------------


def test_create_refuses_a_requirement_of_ten_to_the_twelve(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "order", "create", "R", "333333333334", "--due", day(30))
    assert err == (
        "Error: an order of 333333333334 pcs R needs 1000000000002 pcs of A: more than one "
        "quantity can hold (limit 1,000,000,000,000); order less\n"
    )
    # Just below the limit is fine.
    assert created(cli, "R", "333333333333", "--due", day(30))["A"]["required"] == 999999999999


def test_release_of_an_older_oversized_order_names_the_material(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "R", "1", "--due", day(30))
    # As an order created before create refused it: 999999999999 R need 2999999999997 A.
    with sqlite3.connect(shop) as c:
        c.execute("UPDATE production_order SET qty = 999999999999000000 WHERE id = 1")
    c.close()
    for partial in ((), ("--partial",)):
        err = refused(cli, shop, "order", "release", "1", *partial)
        assert err == (
            "Error: order 1 needs 2999999999997 pcs of A: more than one quantity can hold "
            "(limit 1,000,000,000,000); cancel it (mfgctl order cancel 1) and order less\n"
        )


# -- stock --location: real locations and order places, not virtual places ----------------


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        ("CUSTOMER", "customer"),
        ("scrap", "scrap"),
        ("SUPPLIER", "supplier"),
        ("CONVERSION", "adjustment"),
    ],
)
def test_stock_refuses_a_virtual_place(cli: Cli, shop: Path, place: str, kind: str) -> None:
    err = refused(cli, shop, "stock", "--location", place)
    assert err == f"Error: {place.upper()} is a virtual place ({kind}), not a stock location\n"


def test_stock_refuses_conversion_once_it_exists_and_shows_an_orders_wip(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "order", "create", "R", "2", "--due", day(30))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "1")  # creates CONVERSION
    err = refused(cli, shop, "stock", "--location", "CONVERSION")
    assert err == "Error: CONVERSION is a virtual place (adjustment), not a stock location\n"
    rows = json.loads(ok(cli, "stock", "--location", "ORDER-1", "-f", "json").stdout)
    assert [(r["item"], Decimal(str(r["wip"]))) for r in rows] == [("A", 3)]


def test_stock_of_an_unknown_location_is_still_unknown(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "stock", "--location", "NOPE")
    assert err.startswith("Error: unknown location 'NOPE'")
