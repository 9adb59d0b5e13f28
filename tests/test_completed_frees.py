"""A completed order consumes nothing more (only its WIP may still be scrapped), so the
reservations it held are cancelled as it becomes completed, not at its close: stock it
no longer needs is free for other work at once."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, import_yaml, ok

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: C, name: Cap, type: component, unit: pcs, make_or_buy: buy}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
"""


def _free(cli: Cli, item: str) -> object:
    rows = json.loads(ok(cli, "stock", "-f", "json").stdout)
    return next(r["free"] for r in rows if r["item"] == item)


def test_finishing_short_frees_what_the_order_still_held(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "C", "10")
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "C", "--qty", "6")
    ok(cli, "order", "complete", "1", "--qty", "6")
    assert _free(cli, "C") == 0  # still in progress: 4 C held for the rest
    finished = ok(cli, "order", "complete", "1", "--final")
    assert "freed 1 reservations" in finished.stderr
    assert _free(cli, "C") == 4
    assert json.loads(ok(cli, "reserve", "list", "-f", "json").stdout) == []
    ok(cli, "order", "close", "1")


def test_completing_the_whole_quantity_frees_a_leftover_reservation(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 10 C reserved, only 8 needed after the order was made with 2 C found on the line
    # (consumed from another lot is not the point here: an explicit partial consume).
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "C", "12")
    ok(cli, "order", "create", "P", "10", "--due", day(10))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "C", "--qty", "8")
    done = ok(cli, "order", "complete", "1", "--qty", "8", "--scrap", "2")
    assert "order 1 is completed; freed 1 reservations" in done.stderr
    assert _free(cli, "C") == 4
