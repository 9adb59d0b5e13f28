"""An order with nothing more to come (the rest rejected at a stage) that nobody closed:
``check`` says to close it (tester t18 #3), and ``mrp diff`` calls its receipt closed."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
workcenters:
  - {code: WC, name: Bench}
items:
  - {code: M, name: Made, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: R, name: Raw, type: raw, unit: pcs, make_or_buy: buy, lead_time_days: 2}
boms:
  - item: M
    lines:
      - {item: R, qty: 1}
routings:
  - item: M
    stages:
      - {name: asm, workcenter: WC, run_min: 1}
stock:
  - {item: R, qty: 10}
"""


def done_problems(cli: Cli) -> list[tuple[str, str]]:
    rows = json.loads(ok(cli, "check", "-f", "json").stdout)
    return [(r["subject"], r["message"]) for r in rows if r["check"] == "order_done"]


def test_check_says_to_close_an_order_with_nothing_more_to_come(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "order", "create", "M", "10", "--due", "2026-12-09")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "advance", "1", "-s", "asm", "-g", "8", "-r", "2", "--reason", "bad")
    assert done_problems(cli) == []  # 8 good units still to be completed
    ok(cli, "order", "complete", "1", "--qty", "8")
    [order] = json.loads(ok(cli, "order", "list", "-f", "json").stdout)
    assert order["state"] == "in_progress"
    # Before: nothing said; the order stayed open with the rejected units' WIP.
    assert done_problems(cli) == [
        (
            "ORDER-1",
            "8 of 10 pcs M made and nothing more to come (the rest scrapped or rejected), "
            "yet still in progress: close it (mfgctl order complete 1 --final)",
        )
    ]
    ok(cli, "order", "complete", "1", "--final")
    assert done_problems(cli) == []
