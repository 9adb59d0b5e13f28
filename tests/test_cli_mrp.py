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
    demands = {d["n"]: d for d in doc["demands"]}
    assert [demands[n]["ref"] for n in chip["demands"]] == ["SO-1"]
    # Pegging one level at a time: CHIP <- the PCB order <- the HD order <- SO-1.
    by_id = {o["id"]: o for o in doc["planned_orders"]}
    chain, entry = [], chip["pegging"][0]
    while entry["planned_order"] is not None:
        parent = by_id[entry["planned_order"]]
        chain.append((parent["item"], entry["for"] == f"planned {parent['id']} ({parent['item']})"))
        entry = parent["pegging"][0]
    assert chain == [("PCB", True), ("HD", True)]
    assert demands[entry["demand"]]["ref"] == "SO-1"
    [short] = doc["shortages"]
    assert (short["item"], short["qty"], short["first_date"]) == ("CHIP", 14, "2027-03-04")
    assert [demands[n]["ref"] for n in short["demands"]] == ["SO-1"]
    codes = {(e["code"], e["item"]) for e in doc["exceptions"]}
    assert ("inside_lead_time", "CHIP") in codes


def test_table_report_and_fail_on_shortage(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "--start", START, "--fail-on-shortage", "-f", "plain")
    assert r.exit_code == 3
    lines = r.stdout.splitlines()
    assert lines[0] == "Shortages"
    assert lines[1].split("\t") == ["item", "name", "short", "unit", "first_short", "demands",
                                    "orders", "pending_inspection"]  # fmt: skip
    assert lines[2].split("\t")[:5] == ["CHIP", "CHIP name", "14", "pcs", "2027-03-04"]
    assert "SO-1" in lines[2]
    assert "1 item short, 3 planned orders" in r.stderr
    # Without the flag the same run exits 0; with nothing short the flag exits 0 too.
    assert cli("mrp", "--start", START).exit_code == 0
    assert cli("stock", "receive", "CHIP", "14").exit_code == 0
    assert cli("mrp", "--start", START, "--fail-on-shortage").exit_code == 0


def test_a_long_list_of_endangered_demands_is_cut_to_five_in_text(cli: Cli, shop: Path) -> None:
    """On a large plant one raw material endangers thousands of customer orders: a
    text report names five and counts the rest (a cell of every label made the report
    of a 10,000-item plant gigabytes wide); the JSON lists them all."""
    for n in range(2, 8):  # six more sales orders: seven in all
        due = f"2027-03-{10 + n:02d}"
        r = cli("demand", "add", "HD", "1", "--due", due, "--kind", "sales", "--ref", f"SO-{n}")
        assert r.exit_code == 0, r.stderr
    r = cli("mrp", "--start", START, "-f", "plain")
    rows = [line.split("\t") for line in r.stdout.split("\n\n")[0].splitlines()[1:]]
    chip = next(row for row in rows if row[0] == "CHIP")
    demands = chip[5].split("; ")
    assert len(demands) == 6 and demands[-1] == "and 2 more"
    assert [d.split()[2] for d in demands[:5]] == ["SO-1", "SO-2", "SO-3", "SO-4", "SO-5"]
    planned = [line.split("\t") for line in r.stdout.split("\n\n")[1].splitlines()[1:]]
    (chip_order,) = [row for row in planned if row[1] == "CHIP"]
    assert chip_order[-1].endswith("; and 2 more") and chip_order[-1].count("; ") == 5
    doc = plan_json(cli)
    (shortage,) = [s for s in doc["shortages"] if s["item"] == "CHIP"]
    refs = {doc["demands"][n]["ref"] for n in shortage["demands"]}
    assert refs == {f"SO-{n}" for n in range(1, 8)}


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


# -- saved runs, diff, firm, explain ---------------------------------------------------------


def test_save_list_and_diff_runs(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "--start", START, "--save", "--note", "Monday plan")
    assert r.exit_code == 0 and "saved as run 1" in r.stderr
    runs = json.loads(cli("mrp", "runs", "-f", "json").stdout)
    assert [(x["run"], x["start"], x["planned"], x["short"], x["note"]) for x in runs] == [
        (1, START, 3, 1, "Monday plan")
    ]
    # Nothing changed: no differences with a plan computed now.
    r = cli("mrp", "diff", "1", "-f", "json")
    assert json.loads(r.stdout) == [] and "0 changes from run 1 to now" in r.stderr
    # The missing chips arrive and more is sold: the chip order shrinks to what the new
    # sale needs (still inside its lead time), and the new sale adds orders.
    assert cli("stock", "receive", "CHIP", "14").exit_code == 0
    demand = ("demand", "add", "HD", "2", "--due", "2027-03-26", "--kind", "sales")
    assert cli(*demand).exit_code == 0
    assert cli("mrp", "--start", START, "--save").exit_code == 0
    rows = json.loads(cli("mrp", "diff", "1", "2", "-f", "json").stdout, parse_float=Decimal)
    assert [(x["change"], x["item"], x["qty_before"], x["qty_after"], x["due_after"])
            for x in rows] == [
        ("moved and resized", "CHIP", 14, 4, "2027-03-18"),
        ("added", "HD", None, 2, "2027-03-26"),
        ("added", "PCB", None, 2, "2027-03-21"),
        ("changed", "CHIP", 14, 4, "2027-03-18"),
    ]  # fmt: skip


def test_firm_turns_planned_orders_into_orders(cli: Cli, shop: Path) -> None:
    doc = plan_json(cli)
    ids = {o["item"]: o["id"] for o in doc["planned_orders"]}
    before = dump(shop)
    r = cli("mrp", "firm", ids["HD"], ids["CHIP"], "--start", START, "--dry-run", "-f", "json")
    assert r.exit_code == 0 and "Would firm 2 planned orders" in r.stderr
    assert dump(shop) == before
    r = cli("mrp", "firm", ids["HD"], ids["CHIP"], "--start", START, "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    # CHIP was planned inside its 20-day lead time: released on the start it comes on
    # 03-21, and it is firmed so (dated 03-04, the next run would count on chips that
    # cannot come and show no shortage).
    assert [(x["created"], x["item"], x["qty"], x["due"], x["ref"], x["note"]) for x in rows] == [
        ("ORDER-1", "HD", 10, "2027-03-12", "SO-1", None),
        ("PO-1", "CHIP", 14, "2027-03-21", "SO-1",
         "late: planned due 2027-03-04; released on 2027-03-01 it comes 2027-03-21"),
    ]  # fmt: skip
    [order] = json.loads(cli("order", "list", "-f", "json").stdout)
    assert (order["state"], order["due"]) == ("planned", "2027-03-12")
    # The firmed orders are now scheduled receipts: only PCB is left to plan, and the
    # chips are still short until PO-1 comes (expedite it).
    doc = plan_json(cli)
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"]] == [("PCB", 10)]
    assert [(s["item"], s["qty"], s["first_date"]) for s in doc["shortages"]] == [
        ("CHIP", 14, "2027-03-04")
    ]
    assert [e["ref"] for e in doc["exceptions"] if e["code"] == "expedite"] == ["PO-1"]


def test_firm_all_until_a_date(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "firm", "--all", "--until", "2027-03-04", "--start", START, "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert sorted(x["item"] for x in json.loads(r.stdout)) == ["CHIP", "PCB"]


def test_firm_from_a_saved_run_refuses_changed_data(cli: Cli, shop: Path) -> None:
    assert cli("mrp", "--start", START, "--save").exit_code == 0
    assert cli("stock", "receive", "CASE", "1").exit_code == 0
    err = refused(cli, shop, "mrp", "firm", "--run", "1", "--all")
    assert "the data changed since MRP run 1" in err
    assert cli("mrp", "--start", START, "--save").exit_code == 0
    r = cli("mrp", "firm", "--run", "2", "--all")
    assert r.exit_code == 0 and "Firmed 3 planned orders" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name planned orders to firm, or give --all (not both)"),
        (("1", "--all"), "name planned orders to firm, or give --all (not both)"),
        (("99",), "no planned order 99 in this plan"),
        (("x1",), "planned order"),
        (("1", "--until", "2027-03-04"), "--until goes with --all"),
        (("--all", "--until", "2027-02-01"), "no planned orders to firm"),
        (("--run", "7", "--all"), "no saved MRP run 7"),
    ],
)
def test_firm_refusals(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    err = refused(cli, shop, "mrp", "firm", "--start", START, *args)
    assert message in err


def test_diff_and_runs_refusals(cli: Cli, shop: Path) -> None:
    assert "no saved MRP run 1" in refused(cli, shop, "mrp", "diff", "1")
    r = cli("mrp", "runs")
    assert r.exit_code == 0 and "No rows" in r.stderr


def test_explain_traces_a_chip_to_the_sales_order(cli: Cli, shop: Path) -> None:
    r = cli("mrp", "explain", "chip", "--start", START, "-f", "plain")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("CHIP (CHIP name): buy, make to stock, low-level code 2, lead time "
                               "20 days, free stock 6 pcs")  # fmt: skip
    text = "\n".join(ln.strip() for ln in lines)
    assert "Netted first\n6 pcs from free stock" in text
    assert (
        "planned 3 (CHIP): buy 14 pcs, release 2027-02-12, due 2027-03-04 - should have been "
        "released before the start: short unless expedited\n"
        "14 pcs for planned 2 (PCB): 10 pcs released 2027-03-04, needed 2027-03-04\n"
        "10 pcs for planned 1 (HD): 10 pcs released 2027-03-07, needed 2027-03-07\n"
        "10 pcs for sales 1 SO-1 (HD due 2027-03-12), needed 2027-03-12"
    ) in text
    assert "Short 14 pcs from 2027-03-04, endangering\nsales 1 SO-1 (HD due 2027-03-12)" in text
    tree = json.loads(cli("mrp", "explain", "CASE", "--start", START, "-f", "json").stdout)
    assert [c["text"] for c in tree["children"]] == [
        "Netted first",
        "No planned orders: stock and receipts cover every requirement",
    ]


# -- what the run reads from the database ----------------------------------------------------


def test_reservations_for_other_references_are_not_free(cli: Cli, shop: Path) -> None:
    assert cli("reserve", "CASE", "95", "--for", "SO-77").exit_code == 0
    doc = plan_json(cli)
    case = next(r for r in doc["records"] if r["item"] == "CASE")
    assert case["on_hand"] == 5  # 100 available - 95 reserved for SO-77
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"] if o["item"] == "CASE"] == [
        ("CASE", 5)
    ]


def test_open_orders_are_receipts_and_need_what_they_have_not_consumed(
    cli: Cli, shop: Path
) -> None:
    """ORDER-1 for 3 HD: its output is a scheduled receipt of HD; once released it has
    its materials reserved (so they are not free), and what it consumed is not needed
    again."""
    assert cli("stock", "receive", "PCB", "2").exit_code == 0
    assert cli("order", "create", "HD", "3", "--due", "2027-03-10").exit_code == 0
    doc = plan_json(cli)
    hd = next(r for r in doc["records"] if r["item"] == "HD")
    receipts = [(b["start"], b["scheduled_receipts"]) for b in hd["buckets"]]
    assert [r for r in receipts if r[1]] == [("2027-03-08", 3)]
    # HD: 10 sold on 03-12 - 3 from ORDER-1 = 7 planned.
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"] if o["item"] == "HD"] == [
        ("HD", 7)
    ]
    pcb = next(r for r in doc["records"] if r["item"] == "PCB")
    # ORDER-1 (planned, due 03-10 - 5 days = start 03-05) needs 3 PCB; planned HD needs 7.
    assert [(b["start"], b["gross"]) for b in pcb["buckets"] if b["gross"]] == [("2027-03-01", 10)]
    r = cli("order", "release", "1", "--partial")
    assert r.exit_code == 0, r.stderr  # reserves 2 PCB + 3 CASE
    assert cli("order", "start", "1").exit_code == 0
    assert cli("consume", "1", "--item", "CASE", "--qty", "2").exit_code == 0
    doc = plan_json(cli)
    pcb = next(r for r in doc["records"] if r["item"] == "PCB")
    case = next(r for r in doc["records"] if r["item"] == "CASE")
    # PCB: ORDER-1 still needs 3 - 2 reserved = 1 (today: in progress), plus 7.
    assert pcb["on_hand"] == 0
    assert sum(b["gross"] for b in pcb["buckets"]) == 8
    # CASE: 98 left, 1 reserved for ORDER-1: 97 free; ORDER-1 needs 3 - 2 - 1 = 0 more.
    assert case["on_hand"] == 97
    assert sum(b["gross"] for b in case["buckets"]) == 7
