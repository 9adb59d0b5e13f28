"""``mfgctl routing`` and ``mfgctl advance``: what a user sees, and every refusal with
its message, exit code and unchanged database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import day, dump, refused
from stage_story import start, write_shop


@pytest.fixture
def shop(cli, initdb, tmp_path: Path) -> Path:
    r = cli("import", write_shop(tmp_path))
    assert r.exit_code == 0, r.stderr
    return initdb


def stages_of(cli, item: str) -> list[dict]:
    r = cli("routing", "show", item, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_set_show_and_list_a_routing(cli, shop):
    r = cli(
        "routing", "set", "DEV", "--stage", "assembly@ASSY:20:12.5", "--stage", "calibration@CAL",
        "--stage", "qc:0:3", "--stage", "packaging", "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "Routing of DEV changed: 4 stages" in r.stderr
    assert (
        json.loads(r.stdout)
        == stages_of(cli, "dev")
        == [
            {
                "position": 1,
                "stage": "assembly",
                "workcenter": "ASSY",
                "setup_min": 20,
                "run_min": 12.5,
                "family": None,
            },
            {
                "position": 2,
                "stage": "calibration",
                "workcenter": "CAL",
                "setup_min": 0,
                "run_min": 0,
                "family": None,
            },
            {
                "position": 3,
                "stage": "qc",
                "workcenter": None,
                "setup_min": 0,
                "run_min": 3,
                "family": None,
            },
            {
                "position": 4,
                "stage": "packaging",
                "workcenter": None,
                "setup_min": 0,
                "run_min": 0,
                "family": None,
            },
        ]
    )
    rows = json.loads(cli("routing", "list", "--format", "json").stdout)
    assert rows == [
        {
            "item": "DEV",
            "name": "Device",
            "stages": 4,
            "setup_min": 20,
            "run_min": 15.5,
            "route": "assembly > calibration > qc > packaging",
        }
    ]
    # Setting the same routing again changes nothing.
    before = dump(shop)
    again = cli("routing", "set", "DEV", "-s", "assembly@ASSY:20:12.5", "-s", "calibration@CAL",
                "-s", "qc:0:3", "-s", "packaging")  # fmt: skip
    assert again.exit_code == 0 and "unchanged" in again.stderr
    assert dump(shop) == before


def test_an_item_without_routing_shows_no_rows(cli, shop):
    r = cli("routing", "show", "PCB")
    assert r.exit_code == 0 and r.stdout == "" and "No rows" in r.stderr
    assert cli("routing", "show", "PCB", "-f", "json").stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "-s", "a"), "unknown item 'NOPE'"),
        (("PCB", "-s", "a"), "PCB is a buy item: only make items have routings"),
        (("DEV", "-s", "a", "-s", "A"), "stage A is given twice (stages 1 and 2)"),
        (("DEV", "-s", "a b"), "--stage 'a b': name 'a b' may only contain"),
        (("DEV", "-s", "a:5"), "must be NAME[@WORKCENTER][:SETUP_MIN:RUN_MIN]"),
        (("DEV", "-s", "a:-5:1"), "setup_min must not be negative, got -5"),
        (("DEV", "-s", "a:x:1"), "setup_min 'x' is not a plain decimal number"),
    ],
)
def test_bad_routings_are_refused(cli, shop, args, message):
    err = refused(cli, shop, "routing", "set", *args)
    assert message in err, err


def test_routing_set_needs_a_stage(cli, shop):
    refused(cli, shop, "routing", "set", "DEV", code=2)


# -- advance -------------------------------------------------------------------------------


@pytest.fixture
def started(cli, shop) -> Path:
    assert cli("order", "create", "DEV", "10", "--due", day(5)).exit_code == 0
    assert cli("order", "release", "1").exit_code == 0
    start(shop, 1)
    return shop


def advance(cli, *args: object) -> list[dict]:
    r = cli("order", "advance", "1", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_advance_records_progress_stage_by_stage(cli, started):
    rows = advance(cli, "--stage", "assembly", "--good", "7", "--rejected", "1", "--reason",
                   "cold solder joint")  # fmt: skip
    assert [(r["stage"], r["waiting"], r["good"], r["rejected"]) for r in rows] == [
        ("assembly", 2, 7, 1),
        ("test", 7, 0, 0),
        ("pack", 0, 0, 0),
    ]
    r = cli("order", "advance", "ORDER-1", "--stage", "TEST", "--good", "5")
    assert r.exit_code == 0, r.stderr
    assert "Order 1 test: 5 good, 0 rejected recorded; now at assembly" in r.stderr
    rows = advance(cli, "-s", "assembly", "-g", "2")
    assert [(r["waiting"], r["good"]) for r in rows] == [(0, 9), (4, 5), (5, 0)]
    r = cli("order", "advance", "1", "-s", "test", "-g", "4")
    assert "now at pack" in r.stderr
    r = cli("order", "advance", "1", "-s", "pack", "-g", "9")
    assert "every stage passed" in r.stderr


def test_units_cannot_pass_a_stage_they_have_not_reached(cli, started):
    err = refused(cli, started, "order", "advance", "1", "--stage", "test", "--good", "1")
    assert err == (
        "Error: order 1 stage test: cannot record 1 more (1 good, 0 rejected): 0 passed "
        "assembly, 0 already handled here, so at most 0 pcs can\n"
    )
    advance(cli, "-s", "assembly", "-g", "4")
    advance(cli, "-s", "test", "-g", "3")
    err = refused(
        cli, started, "order", "advance", "1", "-s", "test", "-g", "1", "-r", "1", "--reason", "hum"
    )
    assert "cannot record 2 more (1 good, 1 rejected): 4 passed assembly, 3 already handled" in err
    assert "at most 1 pcs" in err
    err = refused(cli, started, "order", "advance", "1", "-s", "assembly", "-g", "7")
    assert "the order is for 10, 4 already handled here, so at most 6 pcs can" in err


def test_rejects_need_a_reason_and_something_must_be_recorded(cli, started):
    err = refused(cli, started, "order", "advance", "1", "-s", "assembly", "-r", "2")
    assert "order 1: --reason is required with --rejected (2 rejected at assembly)" in err
    err = refused(cli, started, "order", "advance", "1", "-s", "assembly")
    assert "nothing to record" in err
    err = refused(cli, started, "order", "advance", "1", "-s", "assembly", "-g", "-1")
    assert "--good must not be negative" in err
    err = refused(cli, started, "order", "advance", "1", "-s", "welding", "-g", "1")
    assert "order 1 has no stage 'welding' (its stages: assembly, test, pack)" in err


def test_only_an_in_progress_order_advances(cli, shop):
    assert cli("order", "create", "DEV", "10", "--due", day(5)).exit_code == 0
    err = refused(cli, shop, "order", "advance", "1", "-s", "assembly", "-g", "1")
    assert "order 1 is planned: progress is recorded only on an in_progress order" in err
    assert cli("order", "release", "1").exit_code == 0
    err = refused(cli, shop, "order", "advance", "1", "-s", "assembly", "-g", "1")
    assert "order 1 is released" in err and "mfgctl order start 1" in err
    err = refused(cli, shop, "order", "advance", "9", "-s", "assembly", "-g", "1")
    assert "no production order 9" in err


def test_an_order_released_without_routing_has_no_stages(cli, shop, tmp_path):
    shop_yaml = tmp_path / "pcb.yaml"
    shop_yaml.write_text(
        "items:\n  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make}\n"
        "boms:\n  - item: KIT\n    lines:\n      - {item: CASE, qty: 1}\n",
        encoding="utf-8",
    )
    assert cli("import", shop_yaml).exit_code == 0
    assert cli("order", "create", "KIT", "2", "--due", day(5)).exit_code == 0
    assert cli("order", "release", "1").exit_code == 0
    start(shop, 1)
    err = refused(cli, shop, "order", "advance", "1", "-s", "assembly", "-g", "1")
    assert "order 1 has no stages: KIT had no routing when it was released" in err
