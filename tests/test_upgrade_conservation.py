"""Schema 17 carries the scrap an older database booked after an order's last good
units, but not where a later completion used the item (or a later shipment of it came
back): their stored costs read the old average, and raising it under them would make
value vanish. Money is conserved either way: valuation = receipts - shipments at cost -
losses, and the upgrade neither makes nor loses any."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

from conftest import Cli, import_yaml, ok
from schema_v16 import downgrade_to_v16
from test_migrations import user_version

from mfgctl.migrations import _V12_COMPLETION, SCHEMA_VERSION

PLANT = """
items:
  - {code: A, name: part A, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: B, name: part B, type: component, unit: pcs, make_or_buy: buy, cost: 3}
  - {code: SUB, name: sub, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: FG, name: fg, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: SUB
    lines: [{item: A, qty: 1, unit: pcs}, {item: B, qty: 1, unit: pcs}]
  - item: FG
    lines: [{item: SUB, qty: 1, unit: pcs}, {item: A, qty: 1, unit: pcs}]
"""
RECEIVED = Decimal(30 * 2 + 10 * 3)  # nothing is shipped


def values(cli: Cli) -> dict[str, Decimal]:
    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    return {r["item"]: Decimal(r["value"]) for r in rows}


def sub_order(cli: Cli, tmp_path: Path) -> None:
    """10 SUB from 10 A and 10 B (50): 8 good, then 2 scrapped on their own."""
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "30", "--cost", "2")
    ok(cli, "stock", "receive", "B", "10", "--cost", "3")
    ok(cli, "order", "create", "SUB", "10", "--due", "2030-12-20")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "8")


def fg_order(cli: Cli) -> None:
    """4 FG, each of 1 SUB and 1 A."""
    ok(cli, "order", "create", "FG", "4", "--due", "2030-12-21")
    ok(cli, "order", "release", "2")
    ok(cli, "consume", "2")
    ok(cli, "order", "complete", "2", "--qty", "4")


def as_mfgctl_16_stored_it(path: Path, fg_unit_cost: int) -> None:
    """Undo schema 17 and store FG's completion at the cost mfgctl 16 gave it (SUB at
    its average without the carry)."""
    downgrade_to_v16(path)
    with sqlite3.connect(path) as c:
        c.execute("DROP TRIGGER completion_is_append_only_update")
        c.execute(
            "UPDATE completion SET unit_cost = ? WHERE item_id = "
            "(SELECT id FROM item WHERE code = 'FG')",
            (fg_unit_cost,),
        )
        c.execute(next(s for s in _V12_COMPLETION if "append_only_update" in s))
    c.close()


def carried(path: Path) -> list[int | None]:
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT carried FROM completion WHERE good = 0").fetchall()
    c.close()
    return [r[0] for r in rows]


def test_scrap_carried_before_a_later_order_used_the_item_is_left_a_loss_on_upgrade(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    sub_order(cli, tmp_path)
    ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
    fg_order(cli)
    # Today's code: SUB 8 worth 50 (6.25 each), FG 4 of SUB at 6.25 + A at 2: all of it kept.
    assert values(cli) == {"A": 32, "FG": 33, "SUB": 25}
    assert sum(values(cli).values()) == RECEIVED
    # mfgctl 16: the 2 scrapped SUB a loss of 10, SUB at 5, FG at 5 + 2 = 7.
    as_mfgctl_16_stored_it(initdb, 7_000_000)
    before = values(cli)  # upgrades it

    assert user_version(initdb) == SCHEMA_VERSION
    assert carried(initdb) == [None]  # FG's completion read SUB's old average
    assert before == values(cli) == {"A": 32, "FG": 28, "SUB": 20}
    # Conserved: 90 received, 10 lost (the scrap), nothing vanished; FG is what order 2 used.
    assert sum(before.values()) == RECEIVED - 10
    shown = ok(cli, "order", "show", "2").stdout
    assert "28" in shown and "33" not in shown


def test_scrap_carried_after_a_later_order_used_the_item_is_carried_on_upgrade(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # FG used 4 SUB before the 2 were scrapped: the 4 left on hand carry them.
    sub_order(cli, tmp_path)
    fg_order(cli)
    ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
    today = values(cli)
    assert today == {"A": 32, "FG": 28, "SUB": 30}
    assert sum(today.values()) == RECEIVED
    downgrade_to_v16(initdb)  # mfgctl 16 stored the same completions, the carry aside

    assert values(cli) == today  # upgraded: as today's code books the same history
    assert carried(initdb) == [10_000_000]
    assert user_version(initdb) == SCHEMA_VERSION


def test_scrap_of_an_item_nothing_used_later_is_carried_on_upgrade(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    sub_order(cli, tmp_path)
    ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
    today = values(cli)
    assert today == {"A": 40, "SUB": 50}
    assert sum(today.values()) == RECEIVED
    downgrade_to_v16(initdb)

    assert values(cli) == today
    assert carried(initdb) == [10_000_000]
