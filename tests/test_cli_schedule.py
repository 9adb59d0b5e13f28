"""``mfgctl schedule``: open orders on work centres, material holds, --commit, output.

The shop of stage_story: DEV through assembly (ASSY: 15 min setup, 12 min a unit),
test (TEST: 2.5 min a unit) and pack (no work centre: not scheduled). Work centres
work 08:00-16:00 Monday to Friday on one machine. 2027-03-01 is a Monday.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import Cli, dump, ok
from stage_story import write_shop

START = "2027-03-01 08:00"


def shop(cli: Cli, db: Path, tmp_path: Path, *dues: str) -> None:
    ok(cli, "import", write_shop(tmp_path))
    for code in ("ASSY", "TEST"):  # one machine, 08:00-16:00 Monday to Friday
        ok(cli, "workcenter", "add", code)
    for due in dues:
        ok(cli, "order", "create", "DEV", "20", "--due", due)


def plan(cli: Cli, *args: object) -> dict:
    return json.loads(
        ok(cli, "schedule", "--start", START, "--horizon", "7", *args, "-f", "json").stdout
    )


def test_orders_queue_on_the_bottleneck(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-02", "2027-03-03", "2027-03-01")
    doc = plan(cli)
    got = {o["order"]: (o["start"], o["end"], o["late_by_minutes"], o["late_reason"])
           for o in doc["orders"]}  # fmt: skip
    # Assembly of 20 takes 15 + 240 = 255 min, test 50 min. ORDER-3 is due first:
    # ASSY 08:00-12:15, TEST 12:15-13:05. ORDER-1: ASSY 12:15-16:00 and Tuesday
    # 08:00-08:30, TEST 08:30-09:20. ORDER-2: ASSY 08:30-12:45, TEST 12:45-13:35.
    assert got == {
        "ORDER-3": ("2027-03-01 08:00", "2027-03-01 13:05", 0, None),
        "ORDER-1": ("2027-03-01 12:15", "2027-03-02 09:20", 0, None),
        "ORDER-2": ("2027-03-02 08:30", "2027-03-02 13:35", 0, None),
    }
    [first] = [o for o in doc["orders"] if o["order"] == "ORDER-1"]
    assert first["operations"][0]["segments"] == [
        ["2027-03-01 12:15", "2027-03-01 16:00"],
        ["2027-03-02 08:00", "2027-03-02 08:30"],
    ]
    util = {u["workcenter"]: (u["busy_hours"], u["available_hours"]) for u in doc["workcenters"]}
    assert util == {"ASSY": (12.75, 40), "TEST": (2.5, 40)}  # 3 x 255 min; 5 days x 8 h
    assert plan(cli) == doc  # deterministic


def test_capacity_makes_an_order_late(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-01", "2027-03-01", "2027-03-01")
    doc = plan(cli)
    late = {o["order"]: (o["late_reason"], o["late_by"]) for o in doc["late"]}
    # The third order's test ends Tuesday 13:35: 13 h 35 min after Monday midnight.
    assert late == {"ORDER-2": ("capacity", "9h 20m"), "ORDER-3": ("capacity", "13h 35m")}
    # Committed, the schedule tells the status screen which orders are at risk.
    ok(cli, "schedule", "--start", START, "--horizon", "7", "--commit")
    status = json.loads(ok(cli, "status", "--no-mrp", "-f", "json").stdout)
    why = {r["order"]: r["why"] for r in status["late"]}
    assert "scheduled to end 2027-03-02 13:35" in why["ORDER-3"]
    assert "scheduled to end" not in why.get("ORDER-1", "")


def test_an_order_waits_for_its_material(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-02")
    # 20 DEV need 20 PCB: 100 in stock, but 90 are reserved for someone else, and
    # the rest arrives with PO-1 on Thursday (sooner than a new order with PCB's 10 days
    # lead time could).
    ok(cli, "item", "update", "PCB", "--purchase-lead-time-days", "10")
    ok(cli, "reserve", "add", "PCB", "90", "--for", "SO-1")
    ok(cli, "purchase", "add", "PCB", "50", "--due", "2027-03-04")
    doc = plan(cli)
    [order] = doc["orders"]
    assert order["held_by"] == "PO-1 (PCB) on 2027-03-04"
    assert order["start"] == "2027-03-04 08:00"
    assert order["late_reason"] == "material"
    assert order["why"] == "material; held by material: PO-1 (PCB) on 2027-03-04"
    r = cli("schedule", "--start", START, "--horizon", "7")
    assert "ORDER-1 (late)" in r.stdout and "ASSY" in r.stdout  # the Gantt's legend


def test_an_order_held_by_material_but_in_time_says_so_in_the_orders_table(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # As make demo's HD-300 order: it waits for its material, and still ends in time.
    shop(cli, initdb, tmp_path, "2027-03-05")
    ok(cli, "item", "update", "PCB", "--purchase-lead-time-days", "10")
    ok(cli, "reserve", "add", "PCB", "90", "--for", "SO-1")
    ok(cli, "purchase", "add", "PCB", "50", "--due", "2027-03-03")
    [order] = plan(cli)["orders"]
    held = "held by material: PO-1 (PCB) on 2027-03-03"
    assert (order["late_by"], order["held_by"], order["why"]) == (
        "",
        "PO-1 (PCB) on 2027-03-03",
        held,
    )
    csv = ok(cli, "schedule", "--start", START, "--horizon", "7", "-f", "csv").stdout
    assert csv.splitlines()[:2] == [
        "order,item,qty,unit,start,end,due,late_by,why",
        f"ORDER-1,DEV,20,pcs,2027-03-03 08:00,2027-03-03 13:05,2027-03-05,,{held}",
    ]
    assert held in ok(cli, "schedule", "--start", START, "--horizon", "7").stdout


def test_commit_stores_planned_start_and_end(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-02", "2027-03-03")
    ok(cli, "order", "release", "1")
    ok(cli, "schedule", "--start", START, "--commit")
    with sqlite3.connect(initdb) as c:
        stored = c.execute(
            "SELECT id, planned_start, planned_end FROM production_order ORDER BY id"
        ).fetchall()
    assert stored == [
        (1, "2027-03-01 08:00", "2027-03-01 13:05"),
        (2, "2027-03-01 12:15", "2027-03-02 09:20"),
    ]
    shown = json.loads(ok(cli, "order", "show", "2", "-f", "json").stdout)["order"][0]
    assert (shown["planned_start"], shown["planned_end"]) == (
        "2027-03-01 12:15",
        "2027-03-02 09:20",
    )
    wip = {r["order"]: r["planned_end"] for r in json.loads(ok(cli, "wip", "-f", "json").stdout)}
    assert wip == {1: "2027-03-01 13:05"}  # order 2 is only planned: not in progress
    # A later run replaces them; without --commit nothing is written.
    ok(cli, "schedule", "--start", "2027-03-08 08:00", "--commit")
    before = dump(initdb)
    ok(cli, "schedule", "--start", START)
    assert dump(initdb) == before
    with sqlite3.connect(initdb) as c:
        assert c.execute("SELECT planned_start FROM production_order WHERE id = 1").fetchone() == (
            "2027-03-08 08:00",
        )


def test_refusals_change_nothing(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-02")
    before = dump(initdb)
    for args, message in (
        (("--orders", "7", "--commit"), "not an open production order: ORDER-7"),
        (("--start", "next monday", "--commit"), "--start must be a local date"),
    ):
        r = cli("schedule", *args)
        assert r.exit_code in (1, 2) and message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert dump(initdb) == before


def test_downtime_and_parallel_machines_from_the_work_centres(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, initdb, tmp_path, "2027-03-05")
    ok(cli, "workcenter", "down", "ASSY", "--from", "2027-03-01 10:00", "--to",
       "2027-03-01 12:00", "--reason", "maintenance")  # fmt: skip
    [order] = plan(cli)["orders"]
    # 255 min of assembly from 08:00: 2 h before the maintenance, the rest after it.
    assert order["operations"][0]["segments"] == [
        ["2027-03-01 08:00", "2027-03-01 10:00"],
        ["2027-03-01 12:00", "2027-03-01 14:15"],
    ]
    ok(cli, "order", "create", "DEV", "20", "--due", "2027-03-05")
    ok(cli, "workcenter", "update", "ASSY", "--machines", "2")
    machines = sorted(o["operations"][0]["machine"] for o in plan(cli)["orders"])
    assert machines == [1, 2]  # side by side on the two machines


def test_include_planned_schedules_mrp_planned_make_orders(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, initdb, tmp_path)
    # No production order: SO-1 for 10 DEV due Friday makes MRP plan one (DEV has no
    # lead time: released on its due date), scheduled from that day.
    ok(cli, "demand", "add", "DEV", "10", "--due", "2027-03-05", "--kind", "sales", "--ref", "SO-1")
    assert plan(cli)["orders"] == []
    [planned] = plan(cli, "--include-planned")["orders"]
    assert planned["order"].startswith("planned ") and planned["item"] == "DEV"
    assert planned["qty"] == 10 and planned["start"] == "2027-03-05 08:00"
    # --commit stores nothing for a planned order: it is not a production order yet.
    ok(cli, "schedule", "--start", START, "--include-planned", "--commit")
    with sqlite3.connect(initdb) as c:
        assert c.execute("SELECT count(*) FROM production_order").fetchone() == (0,)


def test_markdown_heads_each_table_with_two_hashes_as_the_multi_table_reports(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, initdb, tmp_path, "2027-03-01", "2027-03-01", "2027-03-01")
    md = ok(cli, "schedule", "--start", START, "--horizon", "7", "-f", "markdown").stdout
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [
        "## Orders",
        "## Operations by work centre",
        "## Utilisation over 7 days",
        "## Late",
    ]
    # No order late: no Late table.
    ok(cli, "order", "update", "2", "--due", "2027-03-10")
    ok(cli, "order", "update", "3", "--due", "2027-03-10")
    md = ok(cli, "schedule", "--start", START, "--horizon", "7", "-f", "markdown").stdout
    assert "## Late" not in md and "## Orders" in md
