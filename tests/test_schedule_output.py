"""``mfgctl schedule`` as data, and what a committed schedule tells ``status``: CSV like
the other multi-table reports, --start refused when it is not a local time, and an
order that ends at midnight after its due date is on time everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, ok, refused
from stage_story import write_shop

START = "2027-03-01 08:00"  # a Monday


def test_csv_is_tables_without_titles_or_bars(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    ok(cli, "import", write_shop(tmp_path))
    for code in ("ASSY", "TEST"):
        ok(cli, "workcenter", "add", code)
    ok(cli, "order", "create", "DEV", "20", "--due", "2027-03-05")
    out = ok(cli, "schedule", "--start", START, "--horizon", "7", "-f", "csv").stdout
    tables = out.strip("\n").split("\n\n")
    firsts = [t.splitlines()[0].split(",")[0] for t in tables]
    assert firsts == ["order", "workcenter", "workcenter"]
    assert not any(line.startswith("#") for line in out.splitlines())
    assert ",bar" not in out and "█" not in out
    util = tables[2].splitlines()
    assert util[0] == "workcenter,machines,busy_hours,available_hours,utilisation"


def test_a_start_that_is_not_a_local_time_is_refused(cli: Cli, initdb: Path) -> None:
    for value in ("2027-03-01T06:00+05:00", "2027-W09", "20270301"):
        err = refused(cli, initdb, "schedule", "--start", value)
        assert err == (
            "Error: --start must be a local date or date-time like 2027-03-01 or "
            f"'2027-03-01 06:00', not {value!r}\n"
        )


def test_an_order_ending_at_midnight_after_its_due_date_is_on_time_in_status(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write_shop(tmp_path))
    ok(cli, "workcenter", "add", "ASSY", "--day-start", "22:00", "--hours", "2")
    ok(cli, "workcenter", "add", "TEST", "--day-start", "22:00", "--hours", "2")
    ok(cli, "routing", "set", "DEV", "--stage", "assembly@ASSY:0:60")
    ok(cli, "order", "create", "DEV", "2", "--due", "2027-03-01")
    args = ("schedule", "--start", "2027-03-01", "--horizon", "7", "--commit", "-f", "json")
    doc = json.loads(ok(cli, *args).stdout)
    (order,) = doc["orders"]
    assert (order["end"], order["late_by_minutes"]) == ("2027-03-02 00:00", 0)
    status = json.loads(ok(cli, "status", "--no-mrp", "-f", "json").stdout)
    assert [r for r in status["late"] if r["order"] == "ORDER-1"] == []


def test_an_order_too_long_to_schedule_is_named(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    ok(cli, "import", write_shop(tmp_path))
    for code in ("ASSY", "TEST"):
        ok(cli, "workcenter", "add", code)
    ok(cli, "order", "create", "DEV", "2", "--due", "2027-03-05")
    ok(cli, "order", "create", "DEV", "1000000", "--due", "2027-03-05")  # a slip of the key
    err = refused(cli, initdb, "schedule", "--start", START)
    assert err.startswith("Error: order 2 (DEV), stage assembly: work centre ASSY has not ")
    assert "working minutes within 3660 days" in err and err.count("\n") == 1


def test_an_order_left_out_for_an_inactive_centre_gets_one_note(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write_shop(tmp_path))
    for code in ("ASSY", "TEST"):
        ok(cli, "workcenter", "add", code)
        ok(cli, "workcenter", "update", code, "--inactive")
    ok(cli, "order", "create", "DEV", "2", "--due", "2027-03-05")
    doc = json.loads(ok(cli, "schedule", "--start", START, "-f", "json").stdout)
    assert doc["orders"] == []
    assert "nothing left to schedule" not in doc["unscheduled"]
    # One note per stage left out (two inactive centres, one stage without a centre).
    assert list(doc["unscheduled"].values()) == [["ORDER-1"]] * 3
