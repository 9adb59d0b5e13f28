"""``mfgctl mrp diff``: a planned order the planner firmed (``mrp firm``) between two
saved runs shows as ``firmed``, naming the order that now stands for it, not as
``removed`` like one no longer needed; receipts that came or went show as ``opened``
or ``closed``; a run saved before runs kept their receipts diffs as it always did."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import mrp_runs

START = "2027-03-01"  # a Monday


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    """HD (make, 5 days) <- 1 PCB (make, 3 days) <- 2 CHIP (buy, 20 days), 1 CASE (buy);
    SO-1 wants 10 HD on 03-12: MRP plans HD 10, PCB 10 and CHIP 14 (6 in stock)."""
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


def ok(cli: Cli, *args: object) -> str:
    r = cli(*args)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def save(cli: Cli) -> None:
    r = cli("mrp", "--start", START, "--save")
    assert r.exit_code == 0, r.stderr


def planned_ids(cli: Cli) -> dict[str, int]:
    doc = json.loads(ok(cli, "mrp", "--start", START, "-f", "json"))
    return {o["item"]: o["id"] for o in doc["planned_orders"]}


def diff(cli: Cli, *runs: object) -> list[tuple]:
    r = cli("mrp", "diff", *runs, "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout, parse_float=Decimal)
    return [(x["change"], x["item"], x["kind"], x["order"], x["qty_before"], x["qty_after"],
             x["due_before"], x["due_after"]) for x in rows]  # fmt: skip


def test_firmed_orders_are_told_apart_from_removed_ones(cli: Cli, shop: Path) -> None:
    save(cli)
    ids = planned_ids(cli)
    ok(cli, "mrp", "firm", ids["HD"], ids["CHIP"], "--start", START)
    save(cli)
    # Before: HD and CHIP "removed" as if no longer needed. Now each names its order;
    # PCB is still planned, unchanged. CHIP was planned inside its 20-day lead time, so
    # PO-1 is due when it can come (03-21): CHIP stays short (PO-1 is to be expedited).
    assert diff(cli, "1", "2") == [
        ("firmed", "CHIP", "buy", "PO-1", 14, 14, "2027-03-04", "2027-03-21"),
        ("firmed", "HD", "make", "ORDER-1", 10, 10, "2027-03-12", "2027-03-12"),
    ]
    # Against a plan computed now, too.
    assert [row[:4] for row in diff(cli, "1")] == [
        ("firmed", "CHIP", "buy", "PO-1"),
        ("firmed", "HD", "make", "ORDER-1"),
    ]


def test_table_names_the_order_and_nothing_is_removed(cli: Cli, shop: Path) -> None:
    save(cli)
    ok(cli, "mrp", "firm", planned_ids(cli)["CHIP"], "--start", START)
    save(cli)
    r = cli("mrp", "diff", "1", "2", "-f", "plain")
    assert r.exit_code == 0, r.stderr
    lines = [ln.split("\t") for ln in r.stdout.splitlines()]
    assert lines[0] == mrp_runs.DIFF_COLUMNS
    assert lines[1] == ["firmed", "CHIP", "buy", "14", "14", "2027-03-04", "2027-03-21", "PO-1"]
    assert not [ln for ln in lines if ln[0] == "removed"]
    assert "1 change from run 1 to run 2" in r.stderr  # CHIP stays short: no shortage row
    assert "kept no scheduled receipts" not in r.stderr


def test_a_firmed_order_moved_or_partly_received_since_is_still_firmed(
    cli: Cli, shop: Path
) -> None:
    save(cli)
    ok(cli, "mrp", "firm", planned_ids(cli)["CHIP"], "--start", START)
    ok(cli, "purchase", "update", "1", "--due", "2027-03-03")
    ok(cli, "purchase", "receive", "1", "--qty", "4")
    save(cli)
    rows = diff(cli, "1", "2")
    assert ("firmed", "CHIP", "buy", "PO-1", 14, 10, "2027-03-04", "2027-03-03") in rows
    assert not [row for row in rows if row[0] == "removed"]


def test_receipts_closed_and_opened(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "CASE", "50", "--due", "2027-03-20")
    save(cli)
    # The case order comes in full and another one, which no planned order asked for,
    # is placed; the planned orders stay as they were.
    ok(cli, "purchase", "receive", "1")
    ok(cli, "purchase", "add", "CASE", "5", "--due", "2027-04-20")
    save(cli)
    assert diff(cli, "1", "2") == [
        ("closed", "CASE", "buy", "PO-1", 50, None, "2027-03-20", None),
        ("opened", "CASE", "buy", "PO-2", None, 5, None, "2027-04-20"),
    ]


def test_a_receipt_updated_between_runs_is_moved_or_resized(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "CASE", "50", "--due", "2027-03-20")
    ok(cli, "purchase", "add", "CASE", "30", "--due", "2027-03-25")
    save(cli)
    ok(cli, "purchase", "update", "1", "--due", "2027-03-27")  # the supplier is late
    ok(cli, "purchase", "receive", "2", "--qty", "10")  # 20 still to come
    save(cli)
    assert diff(cli, "1", "2") == [
        ("moved", "CASE", "buy", "PO-1", 50, 50, "2027-03-20", "2027-03-27"),
        ("resized", "CASE", "buy", "PO-2", 30, 20, "2027-03-25", "2027-03-25"),
    ]


def test_a_run_saved_without_receipts_diffs_as_before(cli: Cli, shop: Path) -> None:
    save(cli)
    ok(cli, "mrp", "firm", planned_ids(cli)["CHIP"], "--start", START)
    save(cli)
    # Run 1 as an older mfgctl saved it: its result has no receipts.
    conn = sqlite3.connect(shop)
    with conn:
        conn.execute("UPDATE mrp_run SET result = json_remove(result, '$.receipts') WHERE id = 1")
    conn.close()
    r = cli("mrp", "diff", "1", "2", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout, parse_float=Decimal)
    assert [(x["change"], x["item"], x["order"]) for x in rows] == [("removed", "CHIP", None)]
    assert "run 1 kept no scheduled receipts" in r.stderr
    assert "firmed since shows as removed" in r.stderr


def test_saved_result_keeps_the_receipts_it_read(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "CHIP", "0.5", "--due", "2028-01-10")  # after the horizon
    ok(cli, "order", "create", "PCB", "3", "--due", "2027-03-20")
    save(cli)
    conn = sqlite3.connect(shop)
    (text,) = conn.execute("SELECT result FROM mrp_run WHERE id = 1").fetchone()
    conn.close()
    receipts = json.loads(text, parse_float=Decimal)["receipts"]
    assert receipts == [
        {"source": "production", "id": 1, "item": "PCB", "qty": 3, "due": "2027-03-20"},
        {"source": "purchase", "id": 1, "item": "CHIP", "qty": Decimal("0.5"),
         "due": "2028-01-10"},
    ]  # fmt: skip


# -- the matching, without a database ------------------------------------------------------

DAYS = st.sampled_from(["2027-03-01", "2027-03-08", "2027-03-15"])
QTYS = st.integers(1, 3)
ITEMS = st.sampled_from(["A", "B"])
PLANNED = st.lists(st.tuples(ITEMS, st.sampled_from(["make", "buy"]), QTYS, DAYS), max_size=6)
RECEIPTS = st.lists(
    st.tuples(st.sampled_from(["purchase", "production"]), st.integers(1, 6), ITEMS, QTYS, DAYS),
    max_size=6,
    unique_by=lambda r: (r[0], r[1]),
)


def result(planned: list[tuple], receipts: list[tuple]) -> dict:
    return {
        "planned_orders": [
            {"item": i, "kind": k, "qty": n, "due_date": d} for i, k, n, d in planned
        ],
        "shortages": [],
        "receipts": [
            {"source": s, "id": n, "item": i, "qty": q, "due": d} for s, n, i, q, d in receipts
        ],
    }


@settings(max_examples=150, deadline=None)
@given(PLANNED, RECEIPTS, PLANNED, RECEIPTS)
def test_every_order_and_receipt_is_accounted_for_once(
    p1: list, r1: list, p2: list, r2: list
) -> None:
    """Each planned order of either run is unchanged or in one row; a receipt new in
    the second run is firmed or opened, once; one gone from it is closed, once."""
    rows = mrp_runs.diff(result(p1, r1), result(p2, r2))

    def label(source: str, number: int) -> str:
        return ("PO" if source == "purchase" else "ORDER") + f"-{number}"

    before = {label(s, n): (q, d) for s, n, _i, q, d in r1}
    after = {label(s, n): (q, d) for s, n, _i, q, d in r2}
    labels = [row["order"] for row in rows if row["order"]]
    assert len(labels) == len(set(labels))
    # Receipts new or gone, and those in both runs with another quantity or due date.
    changed = {k for k in before.keys() & after.keys() if before[k] != after[k]}
    assert set(labels) == (before.keys() ^ after.keys()) | changed
    # Planned orders of run 1 not in a row are matched to identical ones of run 2.
    planned = [row for row in rows if row["order"] is None or row["change"] == "firmed"]
    gone = sum(1 for row in planned if row["change"] in ("firmed", "removed", "moved",
               "resized", "moved and resized"))  # fmt: skip
    came = sum(1 for row in planned if row["change"] in ("added", "moved", "resized",
               "moved and resized"))  # fmt: skip
    assert len(p1) - gone == len(p2) - came
    for row in rows:
        if row["change"] == "firmed":
            assert row["order"].startswith("PO-" if row["kind"] == "buy" else "ORDER-")
    assert mrp_runs.diff(result(p1, r1), result(p1, r1)) == []
