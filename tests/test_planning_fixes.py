"""Planning fixes from a tester's review: the MRP summary line, saved runs' settings,
``mrp firm --run`` with options that contradict the run, ``mrp can-build -f json``, a
too-large planned order, ``schedule --horizon`` and inactive work centres.

The part story: P (buy, 7 days, safety stock 10), 15 in stock, a sales order of 10 due
Wednesday 2030-01-16. 2030-01-07 is a Monday.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused
from stage_story import write_shop

START = "2030-01-07"

PART = """\
items:
  - {code: P, name: Part, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 10}
stock:
  - {item: P, qty: 15}
demand:
  - {item: P, qty: 10, due: 2030-01-16, kind: sales, ref: SO-1}
"""


def load(cli: Cli, tmp_path: Path, text: str) -> None:
    import_yaml(cli, tmp_path, text, "story.yaml")


@pytest.fixture
def part(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    load(cli, tmp_path, PART)
    return initdb


@pytest.mark.parametrize(
    ("bucket", "word"), [("day", "daily"), ("week", "weekly"), ("month", "monthly")]
)
def test_the_summary_names_the_bucket_in_english(cli: Cli, part: Path, bucket: str, word: str):
    r = ok(cli, "mrp", "--start", START, "--bucket", bucket, "-f", "plain")
    assert r.stderr.splitlines()[-1] == (
        f"MRP from {START} for 90 days ({word} buckets): 0 items short, 1 planned order"
    )


def test_saved_runs_show_whether_inspection_stock_counted(cli: Cli, part: Path) -> None:
    ok(cli, "mrp", "--start", START, "--save", "--note", "a")
    ok(cli, "mrp", "--start", START, "--include-inspection", "--save", "--note", "b")
    runs = json.loads(ok(cli, "mrp", "runs", "-f", "json").stdout)
    assert [(r["note"], r["include_inspection"]) for r in runs] == [("a", False), ("b", True)]
    lines = ok(cli, "mrp", "runs", "-f", "plain").stdout.splitlines()
    header = lines[0].split("\t")
    assert header[5:7] == ["bucket", "include_inspection"]
    assert [line.split("\t")[6] for line in lines[1:]] == ["no", "yes"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--start", "2030-01-01", "--horizon", "5"), "--start, --horizon"),
        (("--bucket", "day"), "--bucket"),
        (("--include-inspection",), "--include-inspection"),
        (("--start", START), "--start"),  # even the run's own value
    ],
)
def test_firm_from_a_run_refuses_plan_options(
    cli: Cli, part: Path, options: tuple[str, ...], named: str
) -> None:
    ok(cli, "mrp", "--start", START, "--horizon", "28", "--save")
    err = refused(cli, part, "mrp", "firm", "1", "--run", "1", *options)
    assert err.startswith(
        f"Error: {named} cannot go with --run: run 1 firms with its own settings (start "
        "2030-01-07, horizon 28, bucket week, include_inspection no)"
    )
    # Without them it firms the run's plan.
    r = ok(cli, "mrp", "firm", "1", "--run", "1", "-f", "json")
    assert [(o["item"], o["qty"], o["due"]) for o in json.loads(r.stdout)] == [
        ("P", 5, "2030-01-16")
    ]


KIT = """\
items:
  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: C, name: Component, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7}
boms:
  - item: KIT
    lines:
      - {item: C, qty: 2}
stock:
  - {item: C, qty: 7}
"""


@pytest.mark.parametrize("fmt", ["json", "csv", "plain", "markdown"])
def test_can_build_says_yes_or_no_on_stderr_in_every_other_format(
    cli: Cli, initdb: Path, tmp_path: Path, fmt: str
) -> None:
    load(cli, tmp_path, KIT)
    r = ok(cli, "mrp", "can-build", "KIT", "4", "--max", "-f", fmt)
    assert r.stderr.splitlines() == [
        "No: 4 pcs of KIT cannot be built now: 1 component short",
        "At most 3 pcs of KIT can be built now",
    ]
    r = ok(cli, "mrp", "can-build", "KIT", "3", "-f", fmt)
    assert r.stderr == "Yes: 3 pcs of KIT can be built now from free stock\n"
    if fmt == "json":
        assert json.loads(r.stdout)["buildable"] is True


def test_readme_usage_of_every_mrp_command_shows_its_format_option() -> None:
    from mfgctl.cli.mrp import app

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for command in app.registered_commands:
        name = command.name
        usage = next(
            line.split("` |")[0]
            for line in readme.splitlines()
            if line.startswith(f"| `mfgctl mrp {name} ")
        )
        assert "[--format F]" in usage, usage


def test_firming_a_too_large_planned_order_names_it(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    load(cli, tmp_path, """\
items:
  - {code: FG, name: Finished, type: finished, unit: pcs, make_or_buy: buy, lead_time_days: 5}
demand:
  - {item: FG, qty: 999999999999, due: 2030-01-23, kind: sales, ref: SO-1}
  - {item: FG, qty: 999999999999, due: 2030-01-24, kind: sales, ref: SO-2}
""")  # fmt: skip
    for args in (("--all", "--dry-run"), ("1",)):
        err = refused(cli, initdb, "mrp", "firm", *args, "--start", START)
        assert err == (
            "Error: planned order 1 (buy 1999999999998 FG due 2030-01-23) is too large for one "
            "order (limit 1,000,000,000,000): give FG a maximum order quantity so MRP splits "
            "it (mfgctl item update FG --max-order-qty N)\n"
        )
    # The suggested fix works: two orders of 999999999999.
    ok(cli, "item", "update", "FG", "--max-order-qty", "999999999999")
    r = ok(cli, "mrp", "firm", "--all", "--start", START, "-f", "json")
    assert [o["qty"] for o in json.loads(r.stdout)] == [999999999999, 999999999999]


@pytest.mark.parametrize("days", ["0", "3661", "4000", "1e3", "-5", "²", ""])
def test_schedule_refuses_a_horizon_out_of_range_like_mrp(
    cli: Cli, initdb: Path, days: str
) -> None:
    line = f"Error: --horizon must be a whole number of days from 1 to 3660, not {days!r}\n"
    assert refused(cli, initdb, "schedule", "--horizon", days) == line
    assert refused(cli, initdb, "mrp", "--horizon", days) == line
    assert refused(cli, initdb, "status", "--horizon", days) == line


def test_schedule_takes_a_horizon_from_1_to_3660_days(cli: Cli, initdb: Path) -> None:
    for days in ("1", "3660"):
        doc = json.loads(ok(cli, "schedule", "--horizon", days, "-f", "json").stdout)
        assert doc["horizon_days"] == int(days)


def test_schedule_says_an_inactive_work_centre_is_inactive(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write_shop(tmp_path))  # DEV: assembly on ASSY, test on TEST, pack
    ok(cli, "workcenter", "add", "ASSY")  # TEST is never added: unknown
    ok(cli, "order", "create", "DEV", "20", "--due", "2027-03-05")
    r = ok(cli, "schedule", "--start", "2027-03-01 08:00", "--horizon", "7")
    assert "not scheduled: test: unknown work centre TEST (ORDER-1)" in r.stderr.splitlines()
    ok(cli, "workcenter", "add", "TEST")
    ok(cli, "workcenter", "update", "test", "--inactive")
    r = ok(cli, "schedule", "--start", "2027-03-01 08:00", "--horizon", "7", "-f", "json")
    why = "test: work centre TEST is inactive (mfgctl workcenter update TEST --active)"
    assert f"not scheduled: {why} (ORDER-1)" in r.stderr.splitlines()
    assert json.loads(r.stdout)["unscheduled"] == {
        why: ["ORDER-1"],
        "pack: no work centre": ["ORDER-1"],
    }
    # The fix it names works: the test stage is scheduled again.
    ok(cli, "workcenter", "update", "TEST", "--active")
    doc = json.loads(ok(cli, "schedule", "--start", "2027-03-01 08:00", "-f", "json").stdout)
    assert [op["workcenter"] for op in doc["orders"][0]["operations"]] == ["ASSY", "TEST"]
    assert doc["unscheduled"] == {"pack: no work centre": ["ORDER-1"]}


def test_a_safety_stock_order_is_due_on_the_day_stock_falls_below_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # As the README's Dates say: P falls below safety stock on Wednesday 01-16 (the
    # sales order's day, not the week's Monday 01-14); Q starts below it and its first
    # bucket has a requirement (01-09); R starts below it with nothing in its first
    # bucket: due on --start.
    load(cli, tmp_path, """\
items:
  - {code: P, name: P, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 10}
  - {code: Q, name: Q, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 10}
  - {code: R, name: R, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 10}
stock:
  - {item: P, qty: 15}
  - {item: Q, qty: 4}
  - {item: R, qty: 4}
demand:
  - {item: P, qty: 10, due: 2030-01-16, kind: sales, ref: SO-1}
  - {item: Q, qty: 3, due: 2030-01-09, kind: sales, ref: SO-2}
  - {item: R, qty: 3, due: 2030-01-23, kind: sales, ref: SO-3}
""")  # fmt: skip
    r = ok(cli, "mrp", "--start", START, "--horizon", "28", "-f", "json")
    orders = json.loads(r.stdout)["planned_orders"]
    assert sorted((o["item"], o["qty"], o["release_date"], o["due_date"]) for o in orders) == [
        ("P", 5, "2030-01-09", "2030-01-16"),
        ("Q", 9, "2030-01-02", "2030-01-09"),
        ("R", 3, "2030-01-16", "2030-01-23"),
        ("R", 6, "2029-12-31", START),
    ]
