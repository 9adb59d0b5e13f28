"""A lot past its expiry date is never picked: ``order release``/``reserve``, ``consume``
(backflush) and ``ship`` skip it (first-expired first-in among the lots still good),
naming it with ``--lot`` is refused with the database unchanged, and ``mfgctl check``
warns of it (``expired_stock``), also where a reservation still holds it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: RESIN, name: Resin, type: raw, unit: kg, make_or_buy: buy, tracking: lot}
  - {code: CHIP, name: Chip, type: raw, unit: pcs, make_or_buy: buy, tracking: serial}
boms:
  - {item: P, lines: [{item: RESIN, qty: 1}]}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """RESIN: lot OLD (5 kg, expired yesterday), lot NEW (10 kg, expires in a year) and
    lot TODAY (2 kg, expires today: still good)."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "RESIN", "5", "--lot", "OLD", "--expires", day(-1))
    ok(cli, "stock", "receive", "RESIN", "10", "--lot", "NEW", "--expires", day(365))
    ok(cli, "stock", "receive", "RESIN", "2", "--lot", "TODAY", "--expires", day(0))
    return initdb


def reserved_lots(cli: Cli, *args: str) -> list[tuple[str, int]]:
    rows = json.loads(ok(cli, "reserve", "list", *args, "-f", "json").stdout)
    return [(r["lot"], r["remaining"]) for r in rows]


def by_lot(cli: Cli) -> dict[str, int]:
    rows = json.loads(ok(cli, "stock", "--item", "RESIN", "--by-lot", "-f", "json").stdout)
    return {r["lot"]: r["available"] for r in rows}


def expired_warnings(cli: Cli) -> list[dict[str, str]]:
    r = cli("check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    return [p for p in json.loads(r.stdout) if p["check"] == "expired_stock"]


def test_release_skips_the_expired_lot(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "5", "--due", day(10))
    ok(cli, "order", "release", "1")
    # First-expired first-in among the good lots: TODAY (2) is still usable, then NEW.
    assert reserved_lots(cli, "--order", "1") == [("TODAY", 2), ("NEW", 3)]


def test_reserve_for_a_reference_skips_the_expired_lot(cli: Cli, shop: Path) -> None:
    ok(cli, "reserve", "RESIN", "4", "--for", "SO-1")
    assert reserved_lots(cli, "--for", "SO-1") == [("TODAY", 2), ("NEW", 2)]


def test_release_short_without_the_expired_lot_says_it_is_expired(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "15", "--due", day(10))
    before = dump(shop)
    r = cli("order", "release", "1")
    assert r.exit_code == 1 and dump(shop) == before
    err = r.stderr.splitlines()[-1]  # after the shortage table
    assert "short of RESIN 3 kg" in err
    assert f"not used, expired: RESIN 5 kg lot OLD (expired {day(-1)})" in err


def test_backflush_skips_the_expired_lot(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "4", "--due", day(10))
    ok(cli, "order", "release", "1")
    ok(cli, "reserve", "cancel", "--order", "1")  # backflush picks from free stock
    ok(cli, "consume", "1")
    assert by_lot(cli) == {"OLD": 5, "NEW": 8, "TODAY": 0}


def test_ship_skips_the_expired_lot(cli: Cli, shop: Path) -> None:
    rows = json.loads(ok(cli, "ship", "RESIN", "3", "--to", "Acme", "-f", "json").stdout)
    assert [(r["lot"], r["qty"]) for r in rows] == [("TODAY", 2), ("NEW", 1)]
    assert by_lot(cli)["OLD"] == 5


def test_ship_more_than_the_good_lots_is_refused_naming_the_expired(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "ship", "RESIN", "13", "--to", "Acme")
    assert "free 12" in err and "not used, expired: 5 kg lot OLD" in err


@pytest.mark.parametrize(
    "args",
    [
        ("ship", "RESIN", "1", "--to", "Acme", "--lot", "OLD"),
        ("reserve", "RESIN", "1", "--for", "SO-1", "--lot", "OLD"),
    ],
)
def test_naming_the_expired_lot_is_refused(cli: Cli, shop: Path, args: tuple[str, ...]) -> None:
    err = refused(cli, shop, *args)
    assert err == (
        f"Error: RESIN lot OLD expired on {day(-1)}: expired stock is not used; hold it "
        "(mfgctl inspect RESIN --lot OLD --hold) or remove it (mfgctl stock adjust RESIN "
        "--remove QTY --lot OLD --reason ...)\n"
    )


def test_consume_of_the_expired_lot_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "P", "4", "--due", day(10))
    ok(cli, "order", "release", "1")
    for extra in (("--qty", "1"), ("--scrap", "1", "--reason", "bad", "--from-stock")):
        err = refused(cli, shop, "consume", "1", "--item", "RESIN", "--lot", "OLD", *extra)
        assert err.startswith(f"Error: RESIN lot OLD expired on {day(-1)}: ")
    # A lot expiring today is still good.
    ok(cli, "consume", "1", "--item", "RESIN", "--lot", "TODAY", "--qty", "1")


def test_an_expired_serial_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "CHIP", "1", "--serial", "C1", "--expires", day(-3))
    err = refused(cli, shop, "ship", "CHIP", "1", "--to", "Acme", "--serial", "C1")
    assert err.startswith(f"Error: CHIP serial C1 expired on {day(-3)}: ")
    assert "mfgctl inspect CHIP --serial C1 --hold" in err


def test_the_suggested_hold_works(cli: Cli, shop: Path) -> None:
    ok(cli, "inspect", "RESIN", "--lot", "OLD", "--hold")
    assert "OLD" not in by_lot(cli) or by_lot(cli)["OLD"] == 0
    assert expired_warnings(cli) == []


def test_the_suggested_new_date_works(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "expiry", "RESIN", "OLD", "--expires", day(30), "--reason", "re-test ok")
    assert expired_warnings(cli) == []


def test_check_warns_of_expired_available_stock(cli: Cli, shop: Path) -> None:
    assert expired_warnings(cli) == [
        {
            "severity": "warning",
            "check": "expired_stock",
            "subject": "RESIN at STORES lot OLD",
            "message": f"5 kg available, expired on {day(-1)}: not used; hold it (mfgctl "
            "inspect RESIN --lot OLD --location STORES --hold), remove it (mfgctl stock "
            "adjust), or, if a re-test found it good, give it a new date (mfgctl stock expiry "
            "RESIN OLD --expires DATE --reason ...)",
        }
    ]


def test_a_reservation_of_a_lot_that_expired_since(cli: Cli, shop: Path) -> None:
    """Reserved while good, expired since: check names the reservation, and neither
    consumption nor shipping takes it; the order's reservation is released once the
    order no longer lacks it."""
    ok(cli, "stock", "receive", "RESIN", "4", "--lot", "SOON", "--expires", day(0))
    ok(cli, "order", "create", "P", "4", "--due", day(10))
    ok(cli, "order", "release", "1")
    ok(cli, "reserve", "RESIN", "1", "--for", "SO-1", "--lot", "SOON")
    assert reserved_lots(cli, "--order", "1") == [("TODAY", 2), ("SOON", 2)]
    c = sqlite3.connect(shop)  # a day later: SOON expired yesterday
    with c:
        c.execute("UPDATE lot SET expires_on = ? WHERE code = 'SOON'", (day(-1),))
    c.close()
    warned = {p["subject"]: p["message"] for p in expired_warnings(cli)}
    assert warned["RESIN at STORES lot SOON"].startswith(
        f"4 kg available, expired on {day(-1)}: not used; 3 of it held by reservations 2, 3, "
        "never consumed or shipped (mfgctl reserve cancel 2); hold it"
    )
    err = refused(cli, shop, "ship", "RESIN", "11", "--to", "Acme", "--ref", "SO-1")
    assert "reserved for SO-1 0, reserved for ORDER-1 2, free 10; not used, expired" in err
    ok(cli, "consume", "1")  # the order's 2 TODAY, then 2 free NEW: not its SOON claim
    assert by_lot(cli) == {"OLD": 5, "NEW": 8, "TODAY": 0, "SOON": 4}
    # The order lacks nothing now: its claim on the expired lot is released.
    assert reserved_lots(cli, "--order", "1") == []
