"""Command groups with a default command: ``mfgctl mrp`` alone runs the plan (the README's
cron line and the first thing a planner types); a group that needs arguments prints its
help."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, day, dump, ok


def test_mrp_alone_runs_the_plan_and_writes_nothing(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "HD", "--name", "Headset", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--purchase-lead-time-days", "3")  # fmt: skip
    ok(cli, "demand", "add", "HD", "4", "--due", day(14), "--kind", "sales")
    before = dump(initdb)
    r = ok(cli, "mrp")
    assert "planned" in r.stdout and "HD" in r.stdout
    assert "1 planned order" in r.stderr
    assert dump(initdb) == before


def test_a_group_that_needs_arguments_alone_prints_its_help(cli: Cli, initdb: Path) -> None:
    r = cli("reserve")
    assert r.exit_code == 2
    assert "Usage: mfgctl reserve" in r.stdout + r.stderr
