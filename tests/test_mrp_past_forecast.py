"""A forecast whose date has passed still counts in the plan's first bucket (demand due
before the start does); MRP says so, naming the commands that retire or move it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

ITEM = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: buy, lead_time_days: 1}
"""


def _past(cli: Cli) -> list[dict]:
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    return [e for e in doc["exceptions"] if e["code"] == "past_forecast"]


def test_a_forecast_before_the_start_is_flagged(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, ITEM)
    ok(cli, "demand", "add", "P", "30", "--due", day(-10), "--kind", "forecast")
    ok(cli, "demand", "add", "P", "20", "--due", day(10), "--kind", "forecast")
    (e,) = _past(cli)
    assert e["item"] == "P" and e["ref"] == "forecast 1" and e["date"] == day(-10)
    assert e["message"] == (
        f"forecast 1 of P was due {day(-10)}, before the start: 30 still count in the first "
        "bucket; cancel it (mfgctl demand cancel 1) or move it (mfgctl demand update 1 "
        "--due DATE) if it will still sell"
    )
    ok(cli, "demand", "update", "1", "--due", day(12))
    assert _past(cli) == []
