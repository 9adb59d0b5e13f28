"""Items set to backflush: starting an order consumes its materials, all or nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, day, ok, refused
from test_production import shop, stock

__all__ = ["shop"]  # the fixture, shared with the production story


def test_starting_an_order_of_a_backflush_item_consumes_its_materials(cli: Cli, shop: Path) -> None:
    ok(cli, "item", "update", "HS-1", "--backflush")
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    ok(cli, "order", "release", "1")
    assert "backflushed 2 consume moves" in ok(cli, "order", "start", "1").stderr
    assert stock(cli, "MIC") == {"physical": 22, "available": 22, "free": 22, "wip": 8}
    assert stock(cli, "CABLE") == {"physical": 8, "available": 8, "free": 8, "wip": 2}
    assert cli("check").exit_code == 0  # no errors (warnings: planning never reviewed)


def test_without_the_setting_start_moves_nothing(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    ok(cli, "order", "release", "1")
    assert ok(cli, "order", "start", "1").stderr == "Started order 1 (in_progress)\n"
    assert stock(cli, "MIC") == {"physical": 30, "available": 30, "reserved": 8, "free": 22}


def test_a_backflush_start_short_of_stock_starts_nothing(cli: Cli, shop: Path) -> None:
    ok(cli, "item", "update", "HS-1", "--backflush")
    ok(cli, "order", "create", "HS-1", "20", "--due", day(7))  # needs 40 MIC, 30 exist
    ok(cli, "order", "release", "1", "--partial")
    err = refused(cli, shop, "order", "start", "1")
    assert "MIC" in err
    r = cli("order", "show", "1", "-f", "json")
    assert '"state":"released"' in r.stdout
