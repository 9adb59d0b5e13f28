"""MRP's ``cancel`` message names the commands that act on it, and for a started
production order (which cannot be cancelled) the way to stop it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

SHOP = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - {item: P, lines: [{item: A, qty: 1}]}
stock:
  - {item: A, qty: 5}
"""


def cancels(cli: Cli) -> dict[str, str]:
    doc = json.loads(ok(cli, "mrp", "-f", "json").stdout)
    return {e["ref"]: e["message"] for e in doc["exceptions"] if e["code"] == "cancel"}


def test_cancel_messages_name_their_commands(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "purchase", "add", "A", "10", "--due", day(5))
    ok(cli, "order", "create", "P", "2", "--due", day(6))
    ok(cli, "order", "create", "P", "3", "--due", day(7))
    ok(cli, "order", "release", "2")
    ok(cli, "order", "start", "2")
    found = cancels(cli)  # nothing demands P, and A's stock covers the orders
    assert found["PO-1"].endswith(
        "cancel or delay it (mfgctl purchase cancel 1, or mfgctl purchase update 1 --due)"
    )
    assert found["ORDER-1"].endswith(
        "cancel or delay it (mfgctl order cancel 1, or mfgctl order update 1 --due)"
    )
    assert found["ORDER-2"].endswith(
        "cancel or delay it (it is started: finish it short with mfgctl order complete 2 "
        "--final, or mfgctl order update 2 --due)"
    )
