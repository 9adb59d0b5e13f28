"""``mfgctl consume``: backflush and per-item consumption, reservations taken first,
and every refusal (stock not available, not enough, bad flags) leaving the database
exactly as it was."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, ok, refused


def stock(cli: Cli, item: str) -> dict[str, Decimal]:
    rows = json.loads(cli("stock", "-f", "json", "--item", item).stdout, parse_float=Decimal)
    return {k: v for k, v in rows[0].items() if isinstance(v, int | Decimal) and v} if rows else {}


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """BOX = 2 MIC (lot-tracked, inspected on receipt) + 3 SCREW; lot M1 (100) passed
    inspection, lot M2 (50) still pending; 20 screws."""
    buy = ("--make-or-buy", "buy", "--type", "component", "--unit", "pcs")
    ok(
        cli,
        "item",
        "add",
        "MIC",
        "--name",
        "Mic",
        "--tracking",
        "lot",
        "--inspect-on-receipt",
        *buy,
    )
    ok(cli, "item", "add", "SCREW", "--name", "Screw", *buy)
    ok(cli, "item", "add", "BOX", "--name", "Box", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make")  # fmt: skip
    (initdb.parent / "bom.yaml").write_text(
        "boms:\n  - item: BOX\n    revision: A\n    lines:\n"
        "      - {item: MIC, qty: 2}\n      - {item: SCREW, qty: 3}\n"
    )
    ok(cli, "import", initdb.parent / "bom.yaml")
    ok(cli, "stock", "receive", "MIC", "100", "--lot", "M1")
    ok(cli, "inspect", "MIC", "--lot", "M1", "--pass")
    ok(cli, "stock", "receive", "MIC", "50", "--lot", "M2")
    ok(cli, "stock", "receive", "SCREW", "20")
    return initdb


def test_backflush_takes_the_orders_reservations_first(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "BOX", "4", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "reserve", "SCREW", "5", "--for", "SO-9")
    moves = json.loads(ok(cli, "consume", "1", "--qty", "2", "-f", "json").stdout)
    assert [(m["item"], m["lot"], m["qty"], m["kind"]) for m in moves] == [
        ("MIC", "M1", 4, "consume"), ("SCREW", None, 6, "consume"),
    ]  # fmt: skip
    assert {m["to"] for m in moves} == {"ORDER-1"} and {m["ref"] for m in moves} == {"ORDER-1"}
    assert stock(cli, "SCREW") == {
        "physical": 14,
        "available": 14,
        "reserved": 11,
        "free": 3,
        "wip": 6,
    }
    listed = json.loads(ok(cli, "reserve", "list", "--order", "1", "-f", "json").stdout)
    assert {r["item"]: r["remaining"] for r in listed} == {"MIC": 4, "SCREW": 6}
    ok(cli, "consume", "1")  # the rest: the reservations are used up
    listed = json.loads(ok(cli, "reserve", "list", "--order", "1", "--all", "-f", "json").stdout)
    assert {r["status"] for r in listed} == {"consumed"}
    assert stock(cli, "SCREW") == {
        "physical": 8,
        "available": 8,
        "reserved": 5,
        "free": 3,
        "wip": 12,
    }
    assert "has consumed all its materials already" in refused(cli, shop, "consume", "1")


def test_stock_that_is_not_available_is_never_consumed(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "BOX", "4", "--due", day(5))
    ok(cli, "order", "release", "1")
    err = refused(cli, shop, "consume", "1", "--item", "MIC", "--qty", "5", "--lot", "M2")
    assert "not enough available MIC lot M2 for order 1" in err
    assert "50 pending_inspection" in err and "nothing was consumed" in err


def test_over_consumption_beyond_free_stock_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "BOX", "4", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "reserve", "SCREW", "5", "--for", "SO-9")
    # 12 reserved for the order + 3 free: 16 is one too many, and SO-9's claim holds.
    err = refused(cli, shop, "consume", "1", "--item", "SCREW", "--qty", "16")
    assert "need 16 pcs, reserved for the order 12, free 3" in err
    ok(cli, "consume", "1", "--item", "SCREW", "--qty", "15")  # over-use is allowed
    assert stock(cli, "SCREW") == {"physical": 5, "available": 5, "reserved": 5, "wip": 15}


def test_a_short_backflush_moves_nothing(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "BOX", "10", "--due", day(5))
    ok(cli, "order", "release", "1", "--partial")  # 20 of 30 screws reserved
    err = refused(cli, shop, "consume", "1")
    assert "not enough available SCREW for order 1: need 30 pcs" in err


def test_scrap_from_wip_and_from_stock(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "BOX", "2", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    moves = json.loads(
        ok(
            cli,
            "consume",
            "1",
            "--item",
            "SCREW",
            "--scrap",
            "2",
            "--reason",
            "stripped",
            "-f",
            "json",
        ).stdout
    )
    assert [(m["from"], m["to"], m["qty"], m["reason"]) for m in moves] == [
        ("ORDER-1", "SCRAP", 2, "stripped")
    ]
    assert stock(cli, "SCREW") == {"physical": 14, "available": 14, "free": 14, "wip": 4}
    err = refused(cli, shop, "consume", "1", "--item", "SCREW", "--scrap", "5", "--reason", "x")
    assert "order 1 holds only 4 pcs of SCREW in its WIP (ORDER-1), not 5" in err
    ok(cli, "consume", "1", "--item", "SCREW", "--scrap", "5", "--reason", "x", "--from-stock")
    assert stock(cli, "SCREW") == {"physical": 9, "available": 9, "free": 9, "wip": 4}
    ok(cli, "check")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--item", "SCREW", "--scrap", "1"), "scrap of SCREW needs a --reason"),
        (("--item", "SCREW"), "give --qty (used) or --scrap (scrapped)"),
        (("--item", "BOX", "--qty", "1"), "BOX is not a material of order 1"),
        (("--item", "SCREW", "--qty", "1", "--lot", "X"), "SCREW is not lot- or serial-tracked"),
        (("--item", "SCREW", "--qty", "0"), "greater than zero"),
        (("--item", "NOPE", "--qty", "1"), "unknown item 'NOPE'"),
    ],
)
def test_consume_refusals(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    ok(cli, "order", "create", "BOX", "2", "--due", day(5))
    ok(cli, "order", "release", "1")
    assert message in refused(cli, shop, "consume", "1", *args)


def test_unknown_order_and_flags_without_item(cli: Cli, shop: Path) -> None:
    assert "no production order 7" in refused(cli, shop, "consume", "7")
    r = cli("consume", "1", "--scrap", "1")
    assert r.exit_code == 2 and "need --item" in r.stderr
