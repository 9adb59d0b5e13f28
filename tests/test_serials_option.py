"""Every command that takes serials takes them alike: ``--serial`` once per unit,
``--serials`` with commas, or both (stock receive, purchase receive, order complete,
ship, return)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

SHOP = """
items:
  - {code: F, name: Frame, type: finished, unit: pcs, make_or_buy: make, tracking: serial}
  - {code: S, name: Sensor, type: component, unit: pcs, make_or_buy: buy, tracking: serial}
boms:
  - {item: F, lines: [{item: S, qty: 1}]}
"""


def _lots(cli: Cli, item: str) -> list[str]:
    rows = json.loads(ok(cli, "stock", "--by-lot", "--item", item, "-f", "json").stdout)
    return sorted(r["lot"] for r in rows if r.get("lot"))


def test_serials_by_comma_or_repeated_everywhere(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "S", "3", "--serials", "S1,S2", "--serial", "S3")
    ok(cli, "purchase", "add", "S", "2", "--due", day(5))
    ok(cli, "purchase", "receive", "1", "--serials", "S4,S5")
    assert _lots(cli, "S") == ["S1", "S2", "S3", "S4", "S5"]
    ok(cli, "order", "create", "F", "2", "--due", day(10))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "2", "--serials", "F1,F2")
    assert _lots(cli, "F") == ["F1", "F2"]
