"""``mfgctl wip``: the numbers of a hand-built case, in JSON and in the table."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import day
from stage_story import consume, start, write_shop


def test_wip_numbers_for_a_hand_built_case(cli, initdb, tmp_path: Path):
    assert cli("import", write_shop(tmp_path)).exit_code == 0
    # Order 1: 10 DEV, late, started; 6 good + 1 rejected at assembly, 4 passed test.
    assert cli("order", "create", "DEV", "10", "--due", day(-1)).exit_code == 0
    assert cli("order", "release", "1").exit_code == 0
    start(initdb, 1)
    assert (
        cli(
            "order", "advance", "1", "-s", "assembly", "-g", "6", "-r", "1", "--reason", "x"
        ).exit_code
        == 0
    )
    assert cli("order", "advance", "1", "-s", "test", "-g", "4").exit_code == 0
    consume(initdb, 1, "PCB", "10")  # 10 x 2.5
    consume(initdb, 1, "CASE", "7.5")  # 7.5 x 0.4
    # Order 2: 5 DEV due later, released only. Order 3: planned, not in the report.
    assert cli("order", "create", "DEV", "5", "--due", day(30)).exit_code == 0
    assert cli("order", "release", "2").exit_code == 0
    assert cli("order", "create", "DEV", "1", "--due", day(3)).exit_code == 0

    r = cli("wip", "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows == [
        {
            "order": 1,
            "item": "DEV",
            "qty": 10,
            "unit": "pcs",
            "state": "in_progress",
            "stage": "assembly",
            "waiting": 3,
            "finished": 0,
            "stages": [
                {"stage": "assembly", "waiting": 3, "passed": 6, "rejected": 1},
                {"stage": "test", "waiting": 2, "passed": 4, "rejected": 0},
                {"stage": "pack", "waiting": 4, "passed": 0, "rejected": 0},
            ],
            "consumed_value": 28,
            "age_days": 0,
            "age_from": "started",
            "due": day(-1),
            "late": True,
            "uncosted": [],
            "planned_start": None,
            "planned_end": None,
        },
        {
            "order": 2,
            "item": "DEV",
            "qty": 5,
            "unit": "pcs",
            "state": "released",
            "stage": "assembly",
            "waiting": 5,
            "finished": 0,
            "stages": [
                {"stage": "assembly", "waiting": 5, "passed": 0, "rejected": 0},
                {"stage": "test", "waiting": 0, "passed": 0, "rejected": 0},
                {"stage": "pack", "waiting": 0, "passed": 0, "rejected": 0},
            ],
            "consumed_value": 0,
            "age_days": 0,
            "age_from": "created",
            "due": day(30),
            "late": False,
            "uncosted": [],
            "planned_start": None,
            "planned_end": None,
        },
    ]
    late = json.loads(cli("wip", "--late", "-f", "json").stdout)
    assert [row["order"] for row in late] == [1]
    table = cli("wip", "--format", "plain").stdout.splitlines()
    assert table[0].split("\t") == [
        "order", "item", "qty", "unit", "state", "stage", "waiting", "finished", "stages",
        "consumed_value", "age_days", "age_from", "due", "late", "planned_start", "planned_end",
    ]  # fmt: skip
    assert table[1].split("\t")[5:10] == [
        "assembly", "3", "0", "assembly 3>6 x1, test 2>4, pack 4>0", "28",
    ]  # fmt: skip


def test_wip_with_no_open_orders(cli, initdb):
    r = cli("wip", "-f", "json")
    assert r.exit_code == 0 and r.stdout.strip() == "[]"
    r = cli("wip")
    assert r.exit_code == 0 and "No rows" in r.stderr
