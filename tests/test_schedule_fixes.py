"""``mfgctl schedule`` after the tester's findings: each stage of a partly progressed
order runs its own units left; an operation's setup and run are rounded up to a whole
minute once. 2027-03-01 is a Monday; centres A and B work 08:00-16:00 Monday to Friday
on one machine."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from conftest import Cli, import_yaml, ok

from mfgctl.domain.schedule import Centre, Job, Settings, Stage, schedule

TWO = """
locations: [{code: STORES, name: Main stores}]
items:
  - {code: R, name: Raw, type: raw, unit: pcs, make_or_buy: buy, lead_time_days: 5, cost: 1}
  - {code: F, name: Fin, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2, cost: 10}
boms: [{item: F, lines: [{item: R, qty: 1}]}]
stock: [{item: R, qty: 10000}]
workcenters:
  - {code: A, machines: 1, hours: 8, day_start: '08:00'}
  - {code: B, machines: 1, hours: 8, day_start: '08:00'}
routings:
  - {item: F, stages: [{name: s1, workcenter: A, setup_min: 30, run_min: 60},
                       {name: s2, workcenter: B, setup_min: 0, run_min: 10}]}
"""


def plan(cli: Cli, *args: object) -> dict:
    out = ok(cli, "schedule", "--start", "2027-03-01", "--horizon", "7", *args, "-f", "json")
    return json.loads(out.stdout)


def ops(order: dict) -> list[tuple]:
    return [
        (op["stage"], op["setup_min"], op["run_min"], op["start"], op["end"])
        for op in order["operations"]
    ]


def test_each_stage_runs_its_own_units_left(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, TWO)
    ok(cli, "order", "create", "F", "10", "--due", "2027-03-05")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    ok(cli, "order", "advance", "1", "--stage", "s1", "--good", "8")
    doc = plan(cli)
    [order] = doc["orders"]
    # s1 has 2 units left: 30 + 2 x 60 = 150 min, 08:00-10:30. s2 has all 10 still to
    # pass: 10 x 10 = 100 min, 10:30-12:10.
    assert ops(order) == [
        ("s1", 30, 120, "2027-03-01 08:00", "2027-03-01 10:30"),
        ("s2", 0, 100, "2027-03-01 10:30", "2027-03-01 12:10"),
    ]
    assert (order["qty"], order["end"]) == (10, "2027-03-01 12:10")
    busy = {u["workcenter"]: u["busy_minutes"] for u in doc["workcenters"]}
    assert busy == {"A": 150, "B": 100}


def test_setup_and_run_are_rounded_up_once(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, TWO)
    ok(cli, "routing", "set", "F", "--stage", "s1@A:0.5:0.5", "--stage", "s2@B:0.4:0.25")
    ok(cli, "order", "create", "F", "1", "--due", "2027-03-05")
    [order] = plan(cli)["orders"]
    # 0.5 + 0.5 = 1 minute; 0.4 + 0.25 = 0.65, rounded up to 1 minute. The setup and
    # run are shown as the routing gives them.
    assert ops(order) == [
        ("s1", 0.5, 0.5, "2027-03-01 08:00", "2027-03-01 08:01"),
        ("s2", 0.4, 0.25, "2027-03-01 08:01", "2027-03-01 08:02"),
    ]
    assert order["end"] == "2027-03-01 08:02"


def test_a_fractional_run_time_is_not_rounded_per_part() -> None:
    # The pure scheduler: 3 units at 1/3 minute (333333 millionths) with a 0.5 minute
    # setup take 0.5 + 0.999999 = 1.499999 minutes: 2 minutes, not 1 + 1.
    stage = Stage("s", "A", setup=Decimal("0.5"), run=333_333)
    job = Job(1, "X", 3_000_000, date(2027, 3, 5), (stage,))
    [op] = schedule([job], [Centre("A")], Settings(datetime(2027, 3, 1, 8, 0))).jobs[0].operations
    assert (op.setup, op.run, op.segments) == (Decimal("0.5"), Decimal("0.999999"), [(0, 2)])


def planned(cli: Cli) -> list[tuple]:
    rows = json.loads(ok(cli, "order", "list", "-f", "json").stdout)
    return [(r["planned_start"], r["planned_end"]) for r in rows]


def test_commit_clears_the_plan_of_orders_it_no_longer_schedules(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, TWO)
    ok(cli, "order", "create", "F", "20", "--due", "2027-03-01")
    ok(cli, "order", "create", "F", "2", "--due", "2027-03-01")
    ok(cli, "schedule", "--start", "2027-03-01", "--horizon", "7", "--commit")
    # Order 1: s1 1230 min to Wednesday 12:30, s2 200 min to 15:50. Order 2: s1
    # 12:30-15:00, s2 (20 min) after order 1's on B: 15:50-16:00 and Thursday 08:00-08:10.
    assert planned(cli) == [
        ("2027-03-01 08:00", "2027-03-03 15:50"),
        ("2027-03-03 12:30", "2027-03-04 08:10"),
    ]
    # Only order 2 this time: its plan is replaced, order 1's is left as it was.
    r = ok(cli, "schedule", "--start", "2027-03-01", "--horizon", "7", "--orders", "2", "--commit")
    assert "planned start and end stored on 1 orders" in r.stderr
    assert planned(cli) == [
        ("2027-03-01 08:00", "2027-03-03 15:50"),
        ("2027-03-01 08:00", "2027-03-01 10:50"),
    ]
    # The centres go inactive: nothing is scheduled, and no order keeps a plan.
    ok(cli, "workcenter", "update", "A", "--inactive")
    ok(cli, "workcenter", "update", "B", "--inactive")
    r = ok(cli, "schedule", "--start", "2027-03-01", "--horizon", "7", "--commit")
    assert "planned start and end stored on 0 orders" in r.stderr
    assert planned(cli) == [(None, None), (None, None)]
    late = json.loads(ok(cli, "status", "--no-mrp", "-f", "json").stdout)["late"]
    assert not any("scheduled to end" in row["why"] for row in late)


FAM = """
locations: [{code: STORES, name: Main stores}]
items:
  - {code: R2, name: Raw2, type: raw, unit: pcs, make_or_buy: buy, lead_time_days: 5, cost: 1}
  - {code: H, name: Fin3, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2, cost: 10}
boms: [{item: H, lines: [{item: R2, qty: 1}]}]
purchase_orders: [{item: R2, qty: 100, due: 2027-03-02, supplier: S, ref: PO1}]
workcenters: [{code: A, machines: 1, hours: 8, day_start: '08:00'}]
routings: [{item: H, stages: [{name: s1, workcenter: A, setup_min: 30, run_min: 60}]}]
"""


def test_a_planned_order_waits_for_its_material(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, FAM)
    ok(cli, "demand", "add", "H", "3", "--due", "2027-03-02", "--kind", "sales", "--ref", "SO2")
    doc = plan(cli, "--include-planned")
    [order] = doc["orders"]
    # R2 is not in stock: it arrives with PO-1 on Tuesday, so MRP's planned order for H
    # starts then (30 + 3 x 60 min), as a real order would.
    assert (order["order"], order["held_by"]) == ("planned 1 (H)", "PO-1 (R2) on 2027-03-02")
    assert (order["start"], order["end"]) == ("2027-03-02 08:00", "2027-03-02 11:30")
