"""``mfgctl workcenter``: work centres, their hours and downtime, and setup families on
routing stages. Every refusal is checked for its message, exit code and the database
left as it was."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import dump, ok, refused
from hypothesis import given, settings
from hypothesis import strategies as st
from stage_story import write_shop

from mfgctl import db as dbmod
from mfgctl.domain import workcenters


def stored_minutes(path: Path, code: str) -> list[int]:
    c = sqlite3.connect(path)
    try:
        row = c.execute("SELECT minutes FROM workcenter WHERE code = ?", (code,)).fetchone()
    finally:
        c.close()
    return json.loads(row[0])


def shown(cli, code: str) -> dict:
    return json.loads(ok(cli, "workcenter", "show", code, "-f", "json").stdout)


# -- add, hours syntaxes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "minutes"),
    [
        # One number: Monday to Friday, 8 h = 480 min; the weekend none.
        ("8", [480, 480, 480, 480, 480, 0, 0]),
        # Seven values, Monday first: Friday 6 h = 360 min.
        ("8,8,8,8,6,0,0", [480, 480, 480, 480, 360, 0, 0]),
        # Named days and ranges: the same week written the third way.
        ("mon-thu=8,fri=6", [480, 480, 480, 480, 360, 0, 0]),
        # Decimals: 7.5 h = 450 min, 7.75 h = 465 min, 4 h = 240 min; unnamed days none.
        ("7.5", [450, 450, 450, 450, 450, 0, 0]),
        ("sat-sun=4,Monday=7.75", [465, 0, 0, 0, 0, 240, 240]),
        # 24 h is a whole day (1440 min); 0.05 h = 3 min is the smallest step.
        ("24,0.05,0,0,0,0,0", [1440, 3, 0, 0, 0, 0, 0]),
    ],
)
def test_add_takes_each_hours_syntax_and_stores_whole_minutes(cli, initdb, hours, minutes):
    r = ok(cli, "workcenter", "add", "ASSY", "--hours", hours, "-f", "json")
    assert "Added work centre ASSY" in r.stderr
    assert stored_minutes(initdb, "ASSY") == minutes
    row = json.loads(r.stdout)[0]
    assert row["hours"] == [json.loads(str(Decimal(m) / 60)) for m in minutes]
    assert row["week_hours"] == json.loads(str(Decimal(sum(minutes)) / 60))


def test_add_with_every_option_shows_exact_numbers(cli, initdb):
    ok(
        cli, "workcenter", "add", "ASSY", "--name", "Assembly line", "--machines", "2",
        "--hours", "mon-thu=8,fri=6", "--day-start", "06:00", "--rate", "45.50",
    )  # fmt: skip
    ok(cli, "workcenter", "add", "PAINT", "--hours", "7.5")
    rows = json.loads(ok(cli, "workcenter", "list", "-f", "json").stdout)
    assert rows == [
        {
            "code": "ASSY",
            "name": "Assembly line",
            "machines": 2,
            "day_start": "06:00",
            "hours": [8, 8, 8, 8, 6, 0, 0],
            "week_hours": 38,  # 4 x 8 + 6
            "capacity_hours": 76,  # 38 h x 2 machines
            "rate": 45.5,
            "active": True,
        },
        {
            "code": "PAINT",
            "name": "PAINT",  # no --name: the code
            "machines": 1,
            "day_start": "08:00",  # the default shift start
            "hours": [7.5, 7.5, 7.5, 7.5, 7.5, 0, 0],
            "week_hours": 37.5,  # 5 x 7.5
            "capacity_hours": 37.5,
            "rate": None,
            "active": True,
        },
    ]
    c = sqlite3.connect(initdb)
    # 45.50 per machine-hour in millionths; 06:00 is 360 minutes after midnight.
    assert c.execute("SELECT rate, day_start FROM workcenter WHERE code = 'ASSY'").fetchone() == (
        45_500_000,
        360,
    )
    c.close()
    csv = ok(cli, "workcenter", "list", "-f", "csv").stdout.splitlines()
    assert csv[0] == "code,name,machines,day_start,hours,week_hours,capacity_hours,rate,active"
    assert csv[1] == 'ASSY,Assembly line,2,06:00,"8, 8, 8, 8, 6, 0, 0",38,76,45.5,yes'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--hours", "25"), "--hours 25 is more than 24 hours in a day"),
        (("--hours", "8,8,8,8,25,0,0"), "--hours fri 25 is more than 24 hours in a day"),
        (("--hours", "7.51"), "--hours 7.51 hours is not a whole number of minutes (450.6)"),
        (("--hours", "-8"), "--hours must not be negative, got -8"),
        (("--hours", "8,8"), "--hours '8,8' has 2 values; give 7 (Monday first)"),
        (("--hours", "eight"), "--hours 'eight' is not working hours; write 8 (Monday to"),
        (("--hours", "mon-fri=8,fri=2"), "--hours: fri is given twice (mon-fri=8, fri=2)"),
        (("--hours", "fri-mon=8"), "a range of days goes from Monday towards Sunday"),
        (("--hours", "moon=8"), "--hours: 'moon' is not a weekday"),
        (("--hours", "0"), "--hours: no working time on any day"),
        (("--machines", "-1"), "--machines must be from 1 to 1000, got -1"),
        (("--machines", "0"), "--machines must be from 1 to 1000, got 0"),
        (("--machines", "1001"), "--machines must be from 1 to 1000, got 1001"),
        (("--machines", "2.5"), "--machines must be a whole number from 1 to 1000, not '2.5'"),
        (("--rate", "abc"), "--rate 'abc' is not a plain decimal number"),
        (("--rate", "-3"), "--rate must not be negative, got -3"),
        (("--rate", "1.0000001"), "--rate 1.0000001 has more than 6 decimal places"),
        (("--day-start", "25:00"), "--day-start '25:00' is not a time of day (write HH:MM"),
        (("--day-start", "6am"), "--day-start '6am' is not a time of day"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(cli, initdb, args, message):
    err = refused(cli, initdb, "workcenter", "add", "ASSY", *args)
    assert message in err, err


def test_a_bad_code_and_an_existing_code_are_refused(cli, initdb):
    assert "may only contain letters" in refused(cli, initdb, "workcenter", "add", "A B")
    ok(cli, "workcenter", "add", "ASSY")
    err = refused(cli, initdb, "workcenter", "add", "assy", "--hours", "4")
    assert "work centre ASSY already exists (change it with mfgctl workcenter update ASSY)" in err


# -- update, list, show ---------------------------------------------------------------------


def test_update_changes_only_what_is_given(cli, initdb):
    ok(cli, "workcenter", "add", "ASSY", "--machines", "2", "--rate", "40")
    r = ok(cli, "workcenter", "update", "assy", "--hours", "10,10,10,10,0,0,0", "--rate", "42.25")
    assert "Changed work centre ASSY: hours, rate" in r.stderr
    row = shown(cli, "ASSY")["workcenter"][0]
    # Machines kept (2); 4 x 10 h = 40 h a week, x 2 machines = 80 machine-hours.
    assert (row["machines"], row["week_hours"], row["capacity_hours"], row["rate"]) == (
        2,
        40,
        80,
        42.25,
    )
    before = dump(initdb)
    again = ok(cli, "workcenter", "update", "ASSY", "--rate", "42.250")
    assert "Work centre ASSY unchanged" in again.stderr
    assert dump(initdb) == before
    err = refused(cli, initdb, "workcenter", "update", "ASSY")
    assert "nothing to change: give --name, --machines" in err
    err = refused(cli, initdb, "workcenter", "update", "NOPE", "--rate", "1")
    assert "unknown work centre 'NOPE' (work centres: ASSY)" in err
    assert "--hours 25 is more than 24" in refused(
        cli, initdb, "workcenter", "update", "ASSY", "--hours", "25"
    )


def test_an_inactive_centre_is_listed_with_all_and_left_out_of_capacity(cli, initdb, conn):
    ok(cli, "workcenter", "add", "ASSY")
    ok(cli, "workcenter", "add", "OLD")
    ok(cli, "workcenter", "update", "OLD", "--inactive")
    assert [r["code"] for r in json.loads(ok(cli, "workcenter", "list", "-f", "json").stdout)] == [
        "ASSY"
    ]
    every = json.loads(ok(cli, "workcenter", "list", "--all", "-f", "json").stdout)
    assert [(r["code"], r["active"]) for r in every] == [("ASSY", True), ("OLD", False)]
    assert [c.code for c in workcenters.capacity(conn)] == ["ASSY"]


def test_no_work_centres_is_an_empty_list(cli, initdb):
    assert ok(cli, "workcenter", "list", "-f", "json").stdout.strip() == "[]"
    r = ok(cli, "workcenter", "list")
    assert r.stdout == "" and "No rows" in r.stderr
    err = refused(cli, initdb, "workcenter", "show", "ASSY")
    assert (
        "unknown work centre 'ASSY' (none defined yet; add one with mfgctl workcenter add)" in err
    )


# -- downtime -----------------------------------------------------------------------------------


def test_downtime_windows_are_listed_by_start_with_their_hours(cli, initdb):
    ok(cli, "workcenter", "add", "ASSY")
    r = ok(
        cli, "workcenter", "down", "ASSY", "--from", "2025-07-02 06:00",
        "--to", "2025-07-02 08:30", "--reason", "Press maintenance", "-f", "json",
    )  # fmt: skip
    assert "Work centre ASSY down from 2025-07-02 06:00 to 2025-07-02 08:30" in r.stderr
    # A bare date means its 00:00; overlapping the first window is allowed.
    r = ok(
        cli, "workcenter", "down", "assy", "--from", "2025-07-01", "--to", "2025-07-02 12:00",
        "--reason", "Holiday", "-f", "json",
    )  # fmt: skip
    windows = json.loads(r.stdout)
    assert windows == shown(cli, "ASSY")["downtime"]
    assert windows == [
        # 2025-07-01 00:00 to 2025-07-02 12:00: 24 + 12 = 36 hours.
        {
            "id": 2,
            "workcenter": "ASSY",
            "from": "2025-07-01 00:00",
            "to": "2025-07-02 12:00",
            "hours": 36,
            "reason": "Holiday",
            "user": "tester",
        },
        # 06:00 to 08:30: 2.5 hours.
        {
            "id": 1,
            "workcenter": "ASSY",
            "from": "2025-07-02 06:00",
            "to": "2025-07-02 08:30",
            "hours": 2.5,
            "reason": "Press maintenance",
            "user": "tester",
        },
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("NOPE", "--from", "2025-07-01", "--to", "2025-07-02", "--reason", "x"),
            "unknown work centre 'NOPE' (work centres: ASSY)",
        ),
        (
            ("ASSY", "--from", "2025-07-02", "--to", "2025-07-01 23:59", "--reason", "x"),
            "--to 2025-07-01 23:59 must be after --from 2025-07-02 00:00",
        ),
        (
            ("ASSY", "--from", "2025-07-02 08:00", "--to", "2025-07-02 08:00", "--reason", "x"),
            "--to 2025-07-02 08:00 must be after --from 2025-07-02 08:00",
        ),
        (
            ("ASSY", "--from", "2025-07-32", "--to", "2025-08-02", "--reason", "x"),
            "--from '2025-07-32' is not a date or time (write YYYY-MM-DD or YYYY-MM-DD HH:MM)",
        ),
        (
            ("ASSY", "--from", "2025-07-01 8:00", "--to", "2025-08-02", "--reason", "x"),
            "--from '2025-07-01 8:00' is not a date or time",
        ),
        (
            ("ASSY", "--from", "2025-07-01", "--to", "2025-07-02", "--reason", "  "),
            "--reason must not be empty",
        ),
    ],
)
def test_bad_downtime_is_refused_and_changes_nothing(cli, initdb, args, message):
    ok(cli, "workcenter", "add", "ASSY")
    err = refused(cli, initdb, "workcenter", "down", *args)
    assert message in err, err


def test_downtime_needs_a_reason(cli, initdb):
    ok(cli, "workcenter", "add", "ASSY")
    err = refused(
        cli, initdb, "workcenter", "down", "ASSY", "--from", "2025-07-01", "--to", "2025-07-02",
        code=2,
    )  # fmt: skip
    assert "Missing option '--reason'" in err


def test_capacity_gives_the_scheduler_plain_data(cli, initdb, conn):
    ok(cli, "workcenter", "add", "PAINT", "--machines", "3", "--hours", "6", "--day-start", "22:00")
    ok(cli, "workcenter", "add", "ASSY", "--hours", "8,8,8,8,6,0,0")
    ok(cli, "workcenter", "down", "ASSY", "--from", "2025-07-03", "--to", "2025-07-04",
       "--reason", "Stocktake")  # fmt: skip
    ok(cli, "workcenter", "down", "ASSY", "--from", "2025-07-01 10:00",
       "--to", "2025-07-01 12:00", "--reason", "Service")  # fmt: skip
    assert workcenters.capacity(conn) == [
        workcenters.Capacity(
            "ASSY",
            1,
            480,
            (480, 480, 480, 480, 360, 0, 0),
            (
                (datetime(2025, 7, 1, 10, 0), datetime(2025, 7, 1, 12, 0)),
                (datetime(2025, 7, 3), datetime(2025, 7, 4)),
            ),
        ),
        # 22:00 = 1320 minutes after midnight; 6 h = 360 min Monday to Friday.
        workcenters.Capacity("PAINT", 3, 1320, (360, 360, 360, 360, 360, 0, 0), ()),
    ]


# -- hours round trip (property) ------------------------------------------------------------

_DAY = st.integers(min_value=0, max_value=480).map(lambda n: n * 3)  # whole 0.05 h steps


@settings(max_examples=60, deadline=None)
@given(st.lists(_DAY, min_size=7, max_size=7).filter(any))
def test_hours_written_back_read_the_same_minutes(minutes):
    """Whatever week is stored, the hours shown (and exported) read back to it exactly,
    in each form: seven values as text, a list, and the export's short form."""
    centre = workcenters.WorkCentre("X", "X", minutes=tuple(minutes))
    text = ",".join(str(h) for h in centre.hours)
    assert workcenters.parse_hours(text) == tuple(minutes)
    assert workcenters.parse_hours(centre.hours) == tuple(minutes)
    exported = centre.to_fields().get("hours", 8)
    assert workcenters.parse_hours(exported) == tuple(minutes)
    named = ",".join(f"{d}={h}" for d, h in zip(workcenters.DAYS, centre.hours, strict=True))
    assert workcenters.parse_hours(named) == tuple(minutes)


# -- setup families on routing stages ------------------------------------------------------------


@pytest.fixture
def shop(cli, initdb, tmp_path: Path) -> Path:
    ok(cli, "import", write_shop(tmp_path))
    return initdb


def family_of_order_stages(path: Path, order: int) -> list[tuple[str, str | None]]:
    c = dbmod.connect(path)
    try:
        rows = c.execute(
            "SELECT name, family FROM order_stage WHERE order_id = ? ORDER BY position", (order,)
        ).fetchall()
    finally:
        c.close()
    return [tuple(r) for r in rows]


def test_a_stage_family_is_stored_shown_and_frozen_at_release(cli, shop):
    # A stage may name a work centre that is not defined (PAINT is not).
    r = ok(
        cli, "routing", "set", "DEV", "-s", "assembly@ASSY:15:12", "-s", "paint@PAINT:45:10%red",
        "-s", "pack%box", "-f", "json",
    )  # fmt: skip
    rows = json.loads(r.stdout)
    assert rows == json.loads(ok(cli, "routing", "show", "DEV", "-f", "json").stdout)
    keys = ("stage", "workcenter", "setup_min", "run_min", "family")
    assert [tuple(s[k] for k in keys) for s in rows] == [
        ("assembly", "ASSY", 15, 12, None),
        ("paint", "PAINT", 45, 10, "red"),
        ("pack", None, 0, 0, "box"),
    ]  # fmt: skip
    # The same routing again changes nothing; another family is a change.
    before = dump(shop)
    assert "unchanged" in ok(cli, "routing", "set", "DEV", "-s", "assembly@ASSY:15:12",
                             "-s", "paint@PAINT:45:10%red", "-s", "pack%box").stderr  # fmt: skip
    assert dump(shop) == before
    ok(cli, "order", "create", "DEV", "5", "--due", "2030-01-10")
    ok(cli, "order", "release", "1")
    assert family_of_order_stages(shop, 1) == [
        ("assembly", None),
        ("paint", "red"),
        ("pack", "box"),
    ]
    r = ok(
        cli, "routing", "set", "DEV", "-s", "assembly@ASSY:15:12", "-s", "paint@PAINT:45:10%blue"
    )
    assert "changed" in r.stderr
    # The released order keeps its own stages, family included.
    assert family_of_order_stages(shop, 1) == [
        ("assembly", None),
        ("paint", "red"),
        ("pack", "box"),
    ]
    assert json.loads(ok(cli, "routing", "show", "DEV", "-f", "json").stdout)[1]["family"] == "blue"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "paint@PAINT:45:10%red paint",
            "--stage 'paint@PAINT:45:10%red paint': family 'red paint'",
        ),
        ("paint%", "--stage 'paint%': family must not be empty"),
        ("paint:45%red:3", "must be NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN][%FAMILY]"),
    ],
)
def test_a_bad_family_is_refused(cli, shop, spec, message):
    err = refused(cli, shop, "routing", "set", "DEV", "-s", spec)
    assert message in err, err
