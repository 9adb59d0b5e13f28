"""``mfgctl location rename | update``: a real location gets a new code or name, and its
stock, ledger moves, reservations, counts and inspections follow it (they refer to it by
id); a legacy real ``CONVERSION`` location can be renamed out of production's way."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused

SHOP = """\
locations: [{code: LINE-1, name: Line-side rack 1}, {code: QC, name: Incoming QC}]
items:
  - {code: K, name: K, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: M, name: M, type: raw, unit: pcs, make_or_buy: buy, tracking: lot,
     inspect_on_receipt: true}
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make}
boms: [{item: F, lines: [{item: K, qty: 2}]}]
stock:
  - {item: K, qty: 100, location: LINE-1}
  - {item: K, qty: 7, location: STORES}
"""


def rows(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout)


def table(path: Path, sql: str) -> list[tuple]:
    c = sqlite3.connect(path)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def stock_at(cli: Cli, location: str) -> dict[tuple[str, str], str]:
    got = rows(cli, "stock", "--location", location)
    return {(r["item"], "available"): str(r["available"]) for r in got}


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """LINE-1 holds stock, a count, a reservation and an inspected receipt."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "count", "K", "98", "--location", "LINE-1")
    ok(cli, "reserve", "K", "30", "--for", "SO-1", "--location", "LINE-1")
    ok(cli, "stock", "receive", "M", "10", "--location", "LINE-1", "--lot", "L1")
    ok(cli, "inspect", "M", "--pass", "--lot", "L1", "--location", "LINE-1", "--qty", "4")
    return initdb


def test_rename_moves_stock_history_and_reservations_with_the_location(
    cli: Cli, shop: Path
) -> None:
    moves_before = table(shop, "SELECT * FROM move ORDER BY seq")
    assert stock_at(cli, "LINE-1") == {("K", "available"): "98", ("M", "available"): "4"}

    r = ok(cli, "location", "rename", "line-1", "RACK-A")
    assert r.stderr == "Renamed location LINE-1 to RACK-A\n"

    # The ledger is not rewritten: the same moves, now shown at the new code.
    assert table(shop, "SELECT * FROM move ORDER BY seq") == moves_before
    assert stock_at(cli, "RACK-A") == {("K", "available"): "98", ("M", "available"): "4"}
    [m] = [r for r in rows(cli, "stock", "--location", "RACK-A", "--by-lot") if r["item"] == "M"]
    assert (m["lot"], m["available"], m["pending_inspection"]) == ("L1", 4, 6)
    history = rows(cli, "stock", "history", "K", "--location", "RACK-A")
    assert len(history) == 2  # the opening balance and the count's adjustment
    assert "RACK-A" in json.dumps(history) and "LINE-1" not in json.dumps(history)
    [res] = rows(cli, "reserve", "list")
    assert (res["location"], res["remaining"]) == ("RACK-A", 30)
    assert [r["location"] for r in rows(cli, "inspect", "list")] == ["RACK-A"]
    assert table(shop, "SELECT location, remaining FROM v_reservations") == [("RACK-A", "30")]
    assert ("RACK-A", "Line-side rack 1") in table(shop, "SELECT code, name FROM location")

    # The old code is gone; the new one takes stock as any location does.
    err = refused(cli, shop, "stock", "receive", "K", "1", "--location", "LINE-1")
    assert "unknown location 'LINE-1'" in err and "RACK-A" in err
    ok(cli, "stock", "receive", "K", "1", "--location", "RACK-A")
    assert stock_at(cli, "RACK-A")[("K", "available")] == "99"
    ok(cli, "check")


def test_a_freed_code_can_be_used_again_and_the_case_of_a_code_changed(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "location", "rename", "LINE-1", "RACK-A")
    ok(cli, "location", "add", "LINE-1")
    assert stock_at(cli, "LINE-1") == {}
    r = ok(cli, "location", "rename", "rack-a", "Rack-A")
    assert r.stderr == "Renamed location RACK-A to Rack-A\n"
    assert stock_at(cli, "RACK-A")[("K", "available")] == "98"
    assert [r["code"] for r in rows(cli, "location", "list")] == [
        "LINE-1",
        "QC",
        "Rack-A",
        "STORES",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("NOWHERE", "X", "unknown location 'NOWHERE' (locations: LINE-1, QC, STORES)"),
        ("LINE-1", "QC", "location QC already exists; choose another code"),
        ("LINE-1", " stores ", "location STORES already exists; choose another code"),
        ("LINE-1", "LINE-1", "location LINE-1 already has that code"),
        (
            "LINE-1",
            "supplier",
            "location code SUPPLIER is a virtual place of the ledger "
            "(supplier); choose another code",
        ),
        ("LINE-1", "Order-7", "location code Order-7 is kept for production orders"),
        ("LINE-1", "conversion", "location code conversion is kept for production"),
        ("LINE-1", "RACK A", "new location code 'RACK A' may only contain letters A-Z"),
        ("LINE-1", "", "new location code must not be empty"),
        (
            "SUPPLIER",
            "SUPP",
            "SUPPLIER is a virtual place (supplier) of the ledger and cannot be changed",
        ),
        ("scrap", "WASTE", "SCRAP is a virtual place (scrap)"),
    ],
)
def test_bad_renames_are_refused_and_change_nothing(
    cli: Cli, shop: Path, old: str, new: str, message: str
) -> None:
    assert message in refused(cli, shop, "location", "rename", old, new)


def test_production_places_cannot_be_renamed(cli: Cli, shop: Path) -> None:
    for args in (
        ("order", "create", "F", "5", "--due", "2030-12-31"),
        ("order", "release", "1"),
        ("order", "start", "1"),
        ("consume", "1"),
        ("order", "complete", "1", "--qty", "2"),
    ):
        ok(cli, *args)
    err = refused(cli, shop, "location", "rename", "ORDER-1", "WIP-1")
    assert (
        err
        == "Error: ORDER-1 is a virtual place (production) of the ledger and cannot be changed\n"
    )
    err = refused(cli, shop, "location", "rename", "CONVERSION", "CONV")
    assert "CONVERSION is a virtual place (adjustment)" in err


def test_a_legacy_real_conversion_location_is_renamed_out_of_the_way(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # An older mfgctl let a user create a real location called CONVERSION.
    c = sqlite3.connect(initdb)
    with c:
        c.execute(
            "INSERT INTO location (code, name, kind) VALUES ('CONVERSION', 'Conversion bay', "
            "'internal')"
        )
    c.close()
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "K", "6", "--location", "CONVERSION")
    for args in (
        ("order", "create", "F", "5", "--due", "2030-12-31"),
        ("order", "release", "1"),
        ("order", "start", "1"),
        ("consume", "1"),
    ):
        ok(cli, *args)

    # Blocked, and told the way out ...
    err = refused(cli, initdb, "order", "complete", "1", "--qty", "5")
    assert "rename it first with `mfgctl location rename CONVERSION NEW`" in err
    # ... which works.
    ok(cli, "location", "rename", "CONVERSION", "CONV-BAY")
    assert stock_at(cli, "CONV-BAY") == {("K", "available"): "6"}
    ok(cli, "order", "complete", "1", "--qty", "5")

    stock = {r["item"]: r["available"] for r in rows(cli, "stock")}
    assert stock == {"F": 5, "K": 103}  # 100 + 7 + 6 received, 10 used
    places = {r["code"]: r["kind"] for r in rows(cli, "location", "list", "--all")}
    assert places["CONV-BAY"] == "internal"
    assert places["CONVERSION"] == "adjustment"  # production's virtual place, made now
    # The virtual place now holds the code: the legacy name cannot come back.
    err = refused(cli, initdb, "location", "rename", "CONV-BAY", "CONVERSION")
    assert "location code CONVERSION is kept for production" in err
    ok(cli, "check")


def test_update_changes_the_name(cli: Cli, shop: Path) -> None:
    r = ok(cli, "location", "update", "line-1", "--name", "Rack by line 1")
    assert r.stderr == "Updated location LINE-1: name Rack by line 1\n"
    got = {r["code"]: r["name"] for r in rows(cli, "location", "list")}
    assert got == {"LINE-1": "Rack by line 1", "QC": "Incoming QC", "STORES": "Main stores"}
    assert stock_at(cli, "LINE-1")[("K", "available")] == "98"
    r = ok(cli, "location", "update", "LINE-1", "--name", " Rack by line 1 ")
    assert r.stderr == "LINE-1: nothing changed\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOWHERE", "--name", "x"), "unknown location 'NOWHERE'"),
        (("CUSTOMER", "--name", "Buyers"), "CUSTOMER is a virtual place (customer)"),
        (("LINE-1", "--name", " "), "location name must not be empty"),
        (("LINE-1", "--name", "two\tcolumns"), "location name must be one line of printable"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in refused(cli, shop, "location", "update", *args)


def test_update_needs_a_name(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "location", "update", "LINE-1", code=2)
    assert "--name" in err
