"""The production story of `make demo`, on the sample data, through the CLI: the stock
report's numbers after every step, and a ledger that still sums to zero at the end."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from conftest import Cli, day, ok

SAMPLE = sorted((Path(__file__).resolve().parents[1] / "sample_data").glob("*.yaml"))
WATCHED = ("HD-200", "EM-200", "SHL-200-BTE", "BAT-312")


def report(cli: Cli) -> dict[str, dict[str, Decimal]]:
    """The watched items' non-zero stock report numbers."""
    rows = json.loads(ok(cli, "stock", "--all", "-f", "json").stdout, parse_float=Decimal)
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
    r = ok(cli, "check")
    assert r.stderr.startswith("check: 0 errors, "), r.stderr

    # sample_data/recall_story.sh: two devices shipped, then the battery lot recalled.
    ok(cli, "ship", "HD-200", "2", "--to", "Hoerwelt GmbH", "--ref", "SO-1001",
       "--serials", f"{serials[0]},{serials[1]}")  # fmt: skip
    assert report(cli)["HD-200"] == {
        "physical": 5, "available": 2, "free": 2, "awaiting_release": 2, "rejected": 1,
    }  # fmt: skip
    recall = ("trace", "ZA312-2410", "--item", "BAT-312", "--forward", "--hold",
              "--reason", "supplier: cell leakage")  # fmt: skip
    done = json.loads(ok(cli, *recall, "-f", "json").stdout)
    assert {(u["customer"], u["lot"]) for u in done["shipped"]} == {
        ("Hoerwelt GmbH", serials[0]),
        ("Hoerwelt GmbH", serials[1]),
    }
    now = report(cli)
    # The two devices still in house and the 1,195 batteries left of the lot are held.
    assert now["HD-200"] == {"physical": 5, "awaiting_release": 2, "blocked": 2, "rejected": 1}
    assert now["BAT-312"]["blocked"] == 1195
    before = report(cli)
    ok(cli, *recall)  # a second recall changes nothing
    assert report(cli) == before
    # The customer sends one recalled device back: it comes back blocked.
    ok(cli, "return", "SHIP-1", "1", "--serial", serials[0], "--status", "blocked",
       "--reason", "recall ZA312-2410")  # fmt: skip
    assert report(cli)["HD-200"] == {
        "physical": 6, "awaiting_release": 2, "blocked": 3, "rejected": 1,
    }  # fmt: skip
    [shipment] = json.loads(ok(cli, "shipments", "-f", "json").stdout)
    assert (shipment["qty"], shipment["returned"]) == (2, 1)
    again = json.loads(ok(cli, *recall, "-f", "json").stdout)
    assert [u["lot"] for u in again["shipped"]] == [serials[1]]  # only one still out
    r = ok(cli, "check")
    assert r.stderr.startswith("check: 0 errors, "), r.stderr
    status = json.loads(ok(cli, "status", "--no-mrp", "-f", "json").stdout, parse_float=Decimal)
    assert {h["item"]: h["blocked"] for h in status["held"]}["HD-200"] == 3


def test_the_planning_story_finds_a_multi_level_shortage(cli: Cli, initdb: Path) -> None:
    """What sample_data/planning_story.sh does (without the production story before it):
    500 HD-300 for SO-2001 in three weeks need 500 flex PCBs three levels down; 450 are
    in stock and the rest cannot come within their 35 days: short, endangering SO-2001."""
    ok(cli, "import", *SAMPLE)
    start = date(2027, 3, 1)
    ok(cli, "demand", "add", "HD-300", "500", "--due", "2027-03-22", "--kind", "sales",
       "--ref", "SO-2001")  # fmt: skip
    ok(cli, "purchase", "add", "PCB-FLX-30", "200", "--due", "2027-04-10")
    r = ok(cli, "mrp", "--start", start.isoformat(), "--horizon", "56", "-f", "json")
    doc = json.loads(r.stdout, parse_float=Decimal)
    short = {s["item"]: s for s in doc["shortages"]}
    flex = short["PCB-FLX-30"]
    assert (flex["qty"], flex["first_date"]) == (50, "2027-03-10")
    assert [doc["demands"][n]["ref"] for n in flex["demands"]] == ["SO-2001"]
    record = next(x for x in doc["records"] if x["item"] == "PCB-FLX-30")
    assert record["low_level_code"] == 3
    [order] = [o for o in doc["planned_orders"] if o["item"] == "PCB-FLX-30"]
    # The minimum order quantity (500) covers the 50 missing; released 35 days before.
    assert (order["qty"], order["release_date"], order["due_date"]) == (
        500,
        "2027-02-03",
        "2027-03-10",
    )
    expedite = [e for e in doc["exceptions"] if e["code"] == "expedite"]
    assert [e["ref"] for e in expedite] == ["PO-1"]


def test_the_schedule_story_has_a_bottleneck_and_a_material_hold(cli: Cli, initdb: Path) -> None:
    """What sample_data/schedule_story.sh does (on the sample data alone, from a fixed
    Monday): the acoustic test booth works 13:00-15:00, so of three HD-200 orders of 20
    due on Tuesday and Wednesday one finishes late for capacity; the HD-300 order waits
    for electronics modules that are not in stock."""
    ok(cli, "import", *SAMPLE)
    ok(cli, "stock", "receive", "EM-200", "60", "--lot", "EM2-2603-B", "--cost", "41.50")
    for due in ("2027-03-02", "2027-03-02", "2027-03-03"):
        ok(cli, "order", "create", "HD-200", "20", "--due", due)
    ok(cli, "order", "create", "HD-300", "10", "--due", "2027-03-04")
    doc = json.loads(
        ok(cli, "schedule", "--start", "2027-03-01 07:00", "--horizon", "14", "-f", "json").stdout
    )
    why = {o["order"]: (o["late_reason"], o["held_by"]) for o in doc["orders"]}
    # ORDER-1 and ORDER-2 assemble side by side (ASSY has two benches) and both reach the
    # booth on Monday: 65 min each, 120 a day: ORDER-2 finishes its test on Tuesday.
    assert why["ORDER-2"] == ("capacity", None)
    assert why["ORDER-1"] == (None, None)
    held = why["ORDER-4"][1]
    assert held is not None and "EM-300" in held
    booth = next(u for u in doc["workcenters"] if u["workcenter"] == "ACOUSTIC")
    assert booth["available_minutes"] == 10 * 120  # 10 working days of 2 h in 14 days
