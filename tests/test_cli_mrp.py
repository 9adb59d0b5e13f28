"""``mfgctl mrp``: the planning run seen from the command line: the shortage report,
planned orders and exceptions, the JSON document, the grid, exit code 3 for cron, and a
database left untouched."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli, dump, refused

from mfgctl import db as dbmod

START = "2027-03-01"  # a Monday


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    """HD (make, 5 days) <- 1 PCB (make, 3 days) <- 2 CHIP (buy, 20 days), 1 CASE (buy)."""
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            item(conn, "HD", make=True, type="finished", mfg_lead_time_days=5)
            item(conn, "PCB", make=True, mfg_lead_time_days=3)
            item(conn, "CHIP", purchase_lead_time_days=20)
            item(conn, "CASE", purchase_lead_time_days=2)
            bom(conn, "HD", [line("PCB", 1), line("CASE", 1)])
            bom(conn, "PCB", [line("CHIP", 2)])
    finally:
        conn.close()
    for args in (
        ("stock", "receive", "CHIP", "6"),
        ("stock", "receive", "CASE", "100"),
        ("demand", "add", "HD", "10", "--due", "2027-03-12", "--kind", "sales", "--ref", "SO-1"),
    ):
        assert cli(*args).exit_code == 0
    return initdb


def plan_json(cli: Cli, *args: object) -> dict:
    r = cli("mrp", "--start", START, *args, "-f", "json")
    assert r.exit_code in (0, 3), r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def test_multi_level_plan_pegged_to_the_sales_order(cli: Cli, shop: Path) -> None:
    doc = plan_json(cli)
    assert doc["start"] == START and doc["bucket"] == "week"
    orders = {(o["item"], o["kind"], o["qty"], o["release_date"], o["due_date"]) for o in
              doc["planned_orders"]}  # fmt: skip
    # HD due 03-12, released 03-07; PCB due 03-07, released 03-04; CHIP: 20 - 6 = 14,
    # due 03-04, released 02-12 (before the start: short).
    assert orders == {
        ("HD", "make", 10, "2027-03-07", "2027-03-12"),
        ("PCB", "make", 10, "2027-03-04", "2027-03-07"),
        ("CHIP", "buy", 14, "2027-02-12", "2027-03-04"),
    }
    chip = next(o for o in doc["planned_orders"] if o["item"] == "CHIP")
    assert [r["ref"] for p in chip["pegging"] for r in p["demands"]] == ["SO-1"]
    assert chip["pegging"][0]["for"].startswith("planned ")
    [short] = doc["shortages"]
    assert (short["item"], short["qty"], short["first_date"]) == ("CHIP", 14, "2027-03-04")
    assert [d["ref"] for d in short["demands"]] == ["SO-1"]
    codes = {(e["code"], e["item"]) for e in doc["exceptions"]}
    assert ("inside_lead_time", "CHIP") in codes


def test_table_report_and_fail_on_shortage(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "--start", START, "--fail-on-shortage", "-f", "plain")
    assert r.exit_code == 3
    lines = r.stdout.splitlines()
    assert lines[0].split("\t") == ["item", "name", "short", "unit", "first_short", "demands",
                                    "orders"]  # fmt: skip
    assert lines[1].split("\t")[:5] == ["CHIP", "CHIP name", "14", "pcs", "2027-03-04"]
    assert "SO-1" in lines[1]
    assert "1 items short, 3 planned orders" in r.stderr
    # Without the flag the same run exits 0; with nothing short the flag exits 0 too.
    assert cli("mrp", "--start", START).exit_code == 0
    assert cli("stock", "receive", "CHIP", "14").exit_code == 0
    assert cli("mrp", "--start", START, "--fail-on-shortage").exit_code == 0


def test_mrp_writes_nothing(cli: Cli, shop: Path) -> None:
    before = dump(shop)
    for args in (("-f", "json"), ("-f", "table"), ("--bucket", "day")):
        assert cli("mrp", "--start", START, *args).exit_code == 0
    assert cli("mrp", "grid", "CHIP", "--start", START).exit_code == 0
    assert dump(shop) == before


def test_grid_is_the_time_phased_record(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "grid", "CHIP", "--start", START, "--horizon", "21", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    assert rows[0] == ["measure", "2027-03-01", "2027-03-08", "2027-03-15"]
    assert rows[1:] == [
        ["gross requirements", "20", "0", "0"],
        ["scheduled receipts", "0", "0", "0"],
        ["projected on hand", "0", "0", "0"],
        ["net requirements", "14", "0", "0"],
        ["planned order receipts", "14", "0", "0"],
        ["planned order releases", "14", "0", "0"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2027-13-01"), "--start '2027-13-01' is not a date"),
        (("--horizon", "0"), "--horizon must be a whole number of days from 1 to 3660"),
        (("--horizon", "1e3"), "--horizon must be a whole number"),
        (("--bucket", "year"), "--bucket must be one of day, week, month"),
        (("--item", "NOPE"), "unknown or inactive item 'NOPE'"),
        (("grid", "NOPE"), "unknown or inactive item 'NOPE'"),
    ],
)
def test_bad_input_is_refused(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    err = refused(cli, shop, "mrp", *args)
    assert message in err


def test_grid_of_an_item_without_activity(cli: Cli, shop: Path) -> None:
    assert cli("item", "add", "IDLE", "--name", "Idle", "--type", "component", "--unit", "pcs",
               "--make-or-buy", "buy").exit_code == 0  # fmt: skip
    assert cli("stock", "receive", "IDLE", "4").exit_code == 0
    r = cli("mrp", "grid", "IDLE", "--start", START, "--horizon", "14", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    assert rows[3] == ["projected on hand", "4", "4"]
    assert {c for row in rows[1:] if row[0] != "projected on hand" for c in row[1:]} == {"0"}
