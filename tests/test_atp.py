"""``mfgctl atp``: available to promise by date: free stock plus receipts less sales
orders and production orders' needs, cumulative, with look-ahead; forecasts ignored;
over-commitment said; nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli, dump, refused

from mfgctl import db as dbmod

START = "2030-03-01"


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    """GADGET (make) <- 2 WIDGET (buy); 10 WIDGET free."""
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            item(conn, "GADGET", make=True, type="finished")
            item(conn, "WIDGET")
            bom(conn, "GADGET", [line("WIDGET", 2)])
    finally:
        conn.close()
    assert cli("stock", "receive", "WIDGET", "10").exit_code == 0
    return initdb


def run(cli: Cli, *args: object) -> list[tuple]:
    r = cli("atp", *args, "--start", START, "-f", "plain")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split("\t") == ["date", "receipts", "committed", "cumulative", "atp",
                                    "expiring"]  # fmt: skip
    # Nothing expires here: the columns before it are the classic ATP record.
    assert all(x.split("\t")[5] == "0" for x in lines[1:])
    return [tuple(x.split("\t")[:5]) for x in lines[1:]]


def add(cli: Cli, *args: object) -> None:
    r = cli(*args)
    assert r.exit_code == 0, r.stderr


def test_atp_by_date_with_look_ahead(cli: Cli, shop: Path) -> None:
    add(cli, "demand", "add", "WIDGET", "8", "--due", "2030-03-04", "--kind", "sales")
    add(cli, "purchase", "add", "WIDGET", "20", "--due", "2030-03-06")
    add(cli, "demand", "add", "WIDGET", "15", "--due", "2030-03-08", "--kind", "sales")
    add(cli, "demand", "add", "WIDGET", "100", "--due", "2030-03-05", "--kind", "forecast")
    # 10 free; -8 on the 4th (2); +20 on the 6th (22); -15 on the 8th (7). The sale on
    # the 8th holds 7 of the 20 arriving on the 6th; today only 2 can be promised, as
    # the 8 for the 4th must come from stock. The forecast promises nothing.
    assert run(cli, "WIDGET") == [
        ("2030-03-01", "0", "0", "10", "2"),
        ("2030-03-04", "0", "8", "2", "2"),
        ("2030-03-06", "20", "0", "22", "7"),
        ("2030-03-08", "0", "15", "7", "7"),
    ]


def test_past_due_counts_on_the_start_and_the_horizon_ends_it(cli: Cli, shop: Path) -> None:
    add(cli, "demand", "add", "WIDGET", "3", "--due", "2030-02-20", "--kind", "sales")
    add(cli, "purchase", "add", "WIDGET", "5", "--due", "2030-02-25")
    add(cli, "demand", "add", "WIDGET", "4", "--due", "2030-03-10", "--kind", "sales")
    add(cli, "demand", "add", "WIDGET", "50", "--due", "2030-03-11", "--kind", "sales")
    rows = run(cli, "WIDGET", "--horizon", "10")  # the 11th is the end, left out
    assert rows == [
        ("2030-03-01", "5", "3", "12", "8"),
        ("2030-03-10", "0", "4", "8", "8"),
    ]


def test_over_commitment_is_said(cli: Cli, shop: Path) -> None:
    add(cli, "demand", "add", "WIDGET", "12", "--due", "2030-03-02", "--kind", "sales")
    add(cli, "purchase", "add", "WIDGET", "5", "--due", "2030-03-03")
    add(cli, "demand", "add", "WIDGET", "6", "--due", "2030-03-05", "--kind", "sales")
    r = cli("atp", "WIDGET", "--start", START, "-f", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout, parse_float=Decimal)
    assert doc["free"] == 10 and doc["unit"] == "pcs"
    assert [(x["date"], x["cumulative"], x["atp"]) for x in doc["rows"]] == [
        ("2030-03-01", 10, 0),
        ("2030-03-02", -2, 0),
        ("2030-03-03", 3, 0),
        ("2030-03-05", -3, 0),
    ]
    assert doc["over_committed"] == ["2030-03-02", "2030-03-05"]
    assert r.stderr == (
        "Over-committed: WIDGET cumulative goes negative on 2030-03-02 (-2 pcs), "
        "lowest -3 on 2030-03-05: expedite receipts or move commitments\n"
    )
    quiet = cli("atp", "GADGET", "--start", START)
    assert quiet.exit_code == 0 and "Over-committed" not in quiet.stderr


def test_production_orders_are_receipts_and_their_needs_commitments(cli: Cli, shop: Path) -> None:
    add(cli, "order", "create", "GADGET", "3", "--due", "2030-03-09")
    add(cli, "demand", "add", "GADGET", "2", "--due", "2030-03-12", "--kind", "sales")
    # The order's 3 GADGET arrive on its due date; the sale takes 2 later.
    assert run(cli, "GADGET") == [
        ("2030-03-01", "0", "0", "0", "0"),
        ("2030-03-09", "3", "0", "3", "1"),
        ("2030-03-12", "0", "2", "1", "1"),
    ]
    # The order needs 6 WIDGET from its start (no lead time: its due date).
    assert run(cli, "WIDGET") == [
        ("2030-03-01", "0", "0", "10", "4"),
        ("2030-03-09", "0", "6", "4", "4"),
    ]


def test_refusals_and_nothing_written(cli: Cli, shop: Path) -> None:
    assert "unknown or inactive item 'NOPE'" in refused(cli, shop, "atp", "NOPE")
    assert "--horizon" in refused(cli, shop, "atp", "WIDGET", "--horizon", "0")
    assert "--start" in refused(cli, shop, "atp", "WIDGET", "--start", "someday")
    add(cli, "demand", "add", "WIDGET", "8", "--due", "2030-03-04", "--kind", "sales")
    before = dump(shop)
    for fmt in ("table", "json", "csv"):
        assert cli("atp", "WIDGET", "--start", START, "-f", fmt).exit_code == 0
    assert dump(shop) == before
