"""``mfgctl status``: the one screen's numbers on a hand-built shop."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, ok, refused
from stage_story import consume, start, write_shop


def shop(cli: Cli, db: Path, tmp_path: Path) -> None:
    """DEV (20.00) from PCB (2.50) and CASE (0.40), 100 of each in stores.

    Order 1: 10 DEV due yesterday, started, 6 good + 1 rejected at assembly, 4 through
    test; it consumed 10 PCB and 7.5 CASE. Order 2: 5 DEV due in 30 days, released.
    Order 3: 1 DEV due in 3 days, planned. Releasing reserves each order's materials
    (order 1: 10 PCB and 10 CASE, still open: the consumption above bypasses them;
    order 2: 5 of each); 5 PCB reserved for SO-9, 10 CASE on hold, PCB's safety stock
    100, and PO-1 (50 PCB from Acme) due 3 days ago.
    """
    ok(cli, "import", write_shop(tmp_path))
    ok(cli, "order", "create", "DEV", "10", "--due", day(-1))
    ok(cli, "order", "release", "1")
    start(db, 1)
    ok(cli, "order", "advance", "1", "-s", "assembly", "-g", "6", "-r", "1", "--reason", "x")
    ok(cli, "order", "advance", "1", "-s", "test", "-g", "4")
    consume(db, 1, "PCB", "10")
    consume(db, 1, "CASE", "7.5")
    ok(cli, "order", "create", "DEV", "5", "--due", day(30))
    ok(cli, "order", "release", "2")
    ok(cli, "order", "create", "DEV", "1", "--due", day(3))
    ok(cli, "reserve", "add", "PCB", "5", "--for", "SO-9")
    ok(cli, "inspect", "CASE", "--hold", "--qty", "10")
    ok(cli, "item", "update", "PCB", "--safety-stock", "100")
    ok(cli, "purchase", "add", "PCB", "50", "--due", day(-3), "--supplier", "Acme")


def status(cli: Cli, *args: object) -> dict:
    return json.loads(ok(cli, "status", *args, "-f", "json").stdout, parse_float=Decimal)


def test_status_numbers(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path)
    doc = status(cli, "--no-mrp")
    stock = {r["status"]: (r["items"], r["value"]) for r in doc["stock"]}
    assert stock == {
        # PCB 100 - 10 consumed - 20 reserved = 70 x 2.5 = 175;
        # CASE 100 - 7.5 consumed - 10 held - 15 reserved = 67.5 x 0.4 = 27
        "free": (2, 202),
        # PCB 20 x 2.5 + CASE 15 x 0.4
        "reserved": (2, 56),
        "expired": (0, 0),
        "pending_inspection": (0, 0),
        "awaiting_release": (0, 0),
        "blocked": (1, 4),  # 10 CASE x 0.4
        "rejected": (0, 0),
        "rework": (0, 0),
        "wip": (2, 28),  # 10 PCB x 2.5 + 7.5 CASE x 0.4 at ORDER-1
    }
    assert doc["materials_low"] == [
        {"item": "PCB", "free": 70, "safety_stock": 100, "on_order": 50, "unit": "pcs"}
    ]
    assert [(r["ref"], r["items"], r["value"]) for r in doc["reserved"]] == [
        ("ORDER-1", 2, 29),  # 10 x 2.5 + 10 x 0.4
        ("ORDER-2", 2, Decimal("14.5")),  # 5 x 2.5 + 5 x 0.4
        ("SO-9", 1, Decimal("12.5")),
    ]
    assert [(o["order"], o["state"], o["stage"], o["late"]) for o in doc["in_progress"]] == [
        (1, "in_progress", "assembly", True),
        (2, "released", "assembly", False),
    ]
    # Waiting at assembly: 3 of order 1 (10 - 6 - 1) and all 5 of order 2.
    assert {r["stage"]: r["waiting"] for r in doc["wip_by_stage"]} == {
        "assembly": 8,
        "test": 2,
        "pack": 4,
    }
    assert doc["held"] == [
        {"item": "CASE", "blocked": 10, "rejected": 0, "rework": 0, "unit": "pcs", "value": 4}
    ]
    assert [(r["order"], r["why"]) for r in doc["late"]] == [
        ("PO-1", "3 days late (Acme)"),
        ("ORDER-1", "1 days late"),
        ("ORDER-3", f"due {day(3)} and not started"),
    ]
    assert doc["ready"] == []
    assert doc["replenish"] == []  # --no-mrp
    # Rolled up: 1 PCB at 2.50 + 1 CASE at 0.40 (stages have no work-centre rates).
    assert doc["cost"] == [
        {
            "item": "DEV",
            "name": "Device",
            "unit_cost": Decimal("2.9"),
            "std_cost": 20,
            "unit": "pcs",
        }
    ]


def test_status_replenishes_from_a_quick_mrp_run(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path)
    ok(cli, "item", "update", "PCB", "--purchase-lead-time-days", "10")
    ok(cli, "demand", "add", "DEV", "200", "--due", day(5), "--kind", "sales", "--ref", "SO-1")
    doc = status(cli)
    short = {r["item"]: r for r in doc["replenish"] if r["action"] == "short"}
    assert "PCB" in short and "SO-1" in short["PCB"]["for"]
    # DEV has no lead time: its planned order is released when due, inside the 7 days.
    assert any(r["action"] == "make" and r["item"] == "DEV" for r in doc["replenish"])


def test_status_on_an_empty_database_and_the_screen(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    before = dump(initdb)
    doc = status(cli)
    assert all(r["items"] == 0 for r in doc["stock"])
    assert doc["late"] == doc["replenish"] == doc["in_progress"] == []
    assert dump(initdb) == before  # status writes nothing
    shop(cli, initdb, tmp_path)
    r = ok(cli, "status", "--no-mrp")
    for title in ("Stock by status", "WIP by stage", "Late or at risk", "In progress"):
        assert title in r.stdout
    assert "█" in r.stdout  # the bar charts
    bad = cli("status", "--risk-days", "-1")
    assert bad.exit_code != 0 and "risk-days" in bad.stderr


def test_status_as_data_has_no_titles_in_csv_and_no_bars(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    shop(cli, initdb, tmp_path)
    out = ok(cli, "status", "--no-mrp", "-f", "csv").stdout
    tables = out.strip("\n").split("\n\n")
    # Each table is a header and rows: no "# title" lines, no bar-chart column.
    assert tables[0].splitlines()[0] == "status,items,value,uncosted"
    assert not any(line.startswith("#") for line in out.splitlines())
    assert "█" not in out and ",bar" not in out
    plain = ok(cli, "status", "--no-mrp", "-f", "plain").stdout.splitlines()
    assert plain[:3] == [f"mfgctl status on {date.today()}", "", "Stock by status "
                         "(value at standard cost)"]  # fmt: skip
    assert plain[3] == "status\titems\tvalue\tuncosted"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("status", "--risk-days", "1.5"), "--risk-days '1.5' is not a whole number"),
        (("status", "--risk-days", "366"), "--risk-days must be at most 365, got 366"),
        (("check", "--days-unreviewed", "-1"), "--days-unreviewed must be 0 or more, got -1"),
        (("check", "--inspection-days", "x"), "--inspection-days 'x' is not a whole number"),
        (("report", "slow-moving", "--days", "999999999999"),
         "--days must be at most 999,999,999, got 999999999999"),
    ],
)  # fmt: skip
def test_a_bad_count_is_one_line_and_exit_1(
    cli: Cli, initdb: Path, args: tuple[str, ...], message: str
) -> None:
    assert refused(cli, initdb, *args) == f"Error: {message}\n"
