"""The production story of `make demo`, on the sample data, through the CLI: the stock
report's numbers after every step, and a ledger that still sums to zero at the end."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from conftest import Cli, day

SAMPLE = sorted((Path(__file__).resolve().parents[1] / "sample_data").glob("*.yaml"))
WATCHED = ("HD-200", "EM-200", "SHL-200-BTE", "BAT-312")


def ok(cli: Cli, *args: object) -> str:
    r = cli(*args)
    assert r.exit_code == 0, (args, r.stderr)
    return r.stdout


def report(cli: Cli) -> dict[str, dict[str, Decimal]]:
    """The watched items' non-zero stock report numbers."""
    rows = json.loads(ok(cli, "stock", "--all", "-f", "json"), parse_float=Decimal)
    return {
        r["item"]: {k: v for k, v in r.items() if isinstance(v, int | Decimal) and v}
        for r in rows
        if r["item"] in WATCHED
    }


def test_the_demo_story_on_the_sample_data(cli: Cli, initdb: Path) -> None:
    ok(cli, "import", *SAMPLE)
    before = report(cli)
    assert before == {
        "HD-200": {"physical": 2, "awaiting_release": 2},
        "EM-200": {"physical": 12, "available": 12, "free": 12},
        "SHL-200-BTE": {"physical": 650, "available": 650, "free": 650},
        "BAT-312": {"physical": 1200, "available": 1200, "free": 1200},
    }

    ok(cli, "order", "create", "HD-200", "5", "--due", day(7), "--ref", "SO-1001")
    assert report(cli)["HD-200"] == {"physical": 2, "awaiting_release": 2, "on_order": 5}

    ok(cli, "order", "release", "1")
    now = report(cli)
    assert now["EM-200"] == {"physical": 12, "available": 12, "reserved": 5, "free": 7}
    assert now["SHL-200-BTE"] == {
        "physical": 650, "available": 650, "reserved": Decimal("5.1"), "free": Decimal("644.9"),
    }  # fmt: skip
    assert now["BAT-312"] == {"physical": 1200, "available": 1200, "reserved": 5, "free": 1195}

    ok(cli, "order", "start", "1")
    assert report(cli) == now  # starting moves nothing (HD-200 does not backflush)

    ok(cli, "consume", "1")
    now = report(cli)
    assert now["EM-200"] == {"physical": 7, "available": 7, "free": 7, "wip": 5}
    assert now["SHL-200-BTE"] == {
        "physical": Decimal("644.9"), "available": Decimal("644.9"), "free": Decimal("644.9"),
        "wip": Decimal("5.1"),
    }  # fmt: skip

    for stage in ("assembly", "calibration", "acoustic_test", "qc", "cleaning", "labeling",
                  "packaging"):  # fmt: skip
        ok(cli, "order", "advance", "1", "--stage", stage, "--good", "5")
    assert report(cli) == now  # progress through the stages moves no stock

    ok(cli, "order", "complete", "1", "--qty", "5", "--auto-serials")
    now = report(cli)
    assert now["HD-200"] == {"physical": 7, "awaiting_release": 7}
    assert now["EM-200"] == {"physical": 7, "available": 7, "free": 7}  # WIP used up

    yy = date.today().strftime("%y")
    serials = [f"HD2-{yy}-0000{n}" for n in range(1, 6)]
    ok(cli, "inspect", "HD-200", "--serial", serials[4], "--fail", "--note", "whistle")
    assert report(cli)["HD-200"] == {"physical": 7, "awaiting_release": 6, "rejected": 1}

    for serial in serials[:4]:
        ok(cli, "inspect", "HD-200", "--serial", serial, "--pass")
        ok(cli, "release", "check", serial, "acoustic_test", "--item", "HD-200")
        ok(cli, "release", "check", serial, "labeling", "--item", "HD-200")
        ok(cli, "release", serial, "--item", "HD-200")
    assert report(cli)["HD-200"] == {
        "physical": 7, "available": 4, "free": 4, "awaiting_release": 2, "rejected": 1,
    }  # fmt: skip

    ok(cli, "order", "close", "1")
    assert report(cli)["HD-200"]["available"] == 4
    r = cli("check")
    assert r.exit_code == 0 and r.stderr == "check: no problems found\n"
