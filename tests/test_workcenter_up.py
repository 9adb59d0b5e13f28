"""``mfgctl workcenter up``: a downtime window called off is removed, and the scheduler
counts its hours as working time again; refusals name the problem and change nothing.

The shop of tests/test_cli_schedule.py (stage_story): ASSY 08:00-16:00 Monday to Friday,
one order of 20 DEV: assembly 255 min, test 50 min. 2027-03-01 is a Monday."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, ok, refused
from test_cli_schedule import plan, shop


def windows(cli: Cli, code: str) -> list[tuple[int, str, str, str]]:
    doc = json.loads(ok(cli, "workcenter", "show", code, "-f", "json").stdout)
    return [(d["id"], d["from"], d["to"], d["reason"]) for d in doc["downtime"]]


def test_a_window_called_off_gives_its_hours_back(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    shop(cli, initdb, tmp_path, "2027-03-01")
    ok(cli, "workcenter", "down", "ASSY", "--from", "2027-03-01 08:00",
       "--to", "2027-03-01 12:00", "--reason", "Press maintenance")  # fmt: skip
    ok(cli, "workcenter", "down", "ASSY", "--from", "2027-03-03", "--to", "2027-03-04",
       "--reason", "Stocktake")  # fmt: skip
    [order] = plan(cli)["orders"]
    # Assembly waits for the maintenance: 12:00-16:00 and Tuesday 08:00-08:15, then test.
    assert (order["start"], order["end"]) == ("2027-03-01 12:00", "2027-03-02 09:05")
    r = ok(cli, "workcenter", "up", "assy", "1", "-f", "json")
    assert r.stderr == (
        "Work centre ASSY: downtime window 1 (2027-03-01 08:00 to 2027-03-01 12:00, "
        "Press maintenance) removed\n"
    )
    left = [(d["id"], d["reason"]) for d in json.loads(r.stdout)]
    assert left == [(2, "Stocktake")] == [(w[0], w[3]) for w in windows(cli, "ASSY")]
    [order] = plan(cli)["orders"]
    # ASSY 08:00-12:15, TEST 12:15-13:05, as if the press had never been down.
    assert (order["start"], order["end"]) == ("2027-03-01 08:00", "2027-03-01 13:05")


def test_refusals_change_nothing(cli: Cli, initdb: Path) -> None:
    ok(cli, "workcenter", "add", "ASSY")
    ok(cli, "workcenter", "add", "TEST")
    ok(cli, "workcenter", "down", "TEST", "--from", "2027-03-01", "--to", "2027-03-02",
       "--reason", "Holiday")  # fmt: skip
    for args, message in [
        (("ASSY", "1"), "Error: work centre ASSY has no downtime window 1 "
                        "(mfgctl workcenter show ASSY lists them)\n"),
        (("TEST", "2"), "Error: work centre TEST has no downtime window 2 "
                        "(mfgctl workcenter show TEST lists them)\n"),
        (("TEST", "one"), "Error: downtime window must be a number (its id), not 'one'\n"),
        (("NOPE", "1"), "Error: unknown work centre 'NOPE' (work centres: ASSY, TEST)\n"),
    ]:  # fmt: skip
        assert refused(cli, initdb, "workcenter", "up", *args) == message
    assert windows(cli, "TEST") == [(1, "2027-03-01 00:00", "2027-03-02 00:00", "Holiday")]
