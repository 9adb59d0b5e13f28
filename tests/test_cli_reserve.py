"""``mfgctl reserve ORDER | ITEM QTY --for REF | list | cancel``: claims on available
stock, what they print, and refusals that change nothing."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import hd_shop
from conftest import Cli, day, dump, refused

from mfgctl import db as dbmod


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            hd_shop(conn)
    finally:
        conn.close()
    assert cli("item", "add", "MIC", "--name", "Mic", "--type", "component", "--unit", "pcs",
               "--make-or-buy", "buy", "--tracking", "lot").exit_code == 0  # fmt: skip
    assert cli("location", "add", "LINE").exit_code == 0
    for args in (
        ("MIC", "10", "--lot", "L-LATE", "--expires", "2031-01-01"),
        ("MIC", "10", "--lot", "L-SOON", "--expires", "2030-01-01"),
        ("MIC", "5", "--lot", "L-LINE", "--location", "LINE"),
        ("SCREW", "100"),
        ("PCB", "4"),
    ):
        assert cli("stock", "receive", *args).exit_code == 0
    return initdb


def as_json(cli: Cli, *args: object) -> list[dict]:
    r = cli(*args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def test_reserve_an_item_for_a_reference_first_expired(cli: Cli, shop: Path) -> None:
    made = as_json(cli, "reserve", "MIC", "12", "--for", "SO-1", "--priority", "2")
    assert [(r["lot"], r["qty"], r["ref"], r["priority"]) for r in made] == [
        ("L-SOON", 10, "SO-1", 2),
        ("L-LATE", 2, "SO-1", 2),
    ]
    mic = as_json(cli, "stock", "--item", "MIC")[0]
    assert (mic["available"], mic["reserved"], mic["free"]) == (25, 12, 13)
    by_lot = {r["lot"]: r for r in as_json(cli, "stock", "--by-lot", "--item", "MIC")}
    assert (by_lot["L-SOON"]["free"], by_lot["L-LATE"]["free"], by_lot["L-LINE"]["free"]) == (
        0, 8, 5,
    )  # fmt: skip
    at_line = as_json(cli, "stock", "--location", "LINE")[0]
    assert (at_line["reserved"], at_line["free"]) == (0, 5)


def test_reserve_with_lot_location_and_until(cli: Cli, shop: Path) -> None:
    (r,) = as_json(cli, "reserve", "add", "MIC", "3", "--for", "T-9", "--location", "LINE",
                   "--until", day(3))  # fmt: skip
    assert (r["location"], r["lot"], r["until"], r["status"]) == ("LINE", "L-LINE", day(3), "open")
    (r,) = as_json(cli, "reserve", "MIC", "4", "--for", "T-9", "--lot", "L-LATE")
    assert r["lot"] == "L-LATE"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("MIC", "26", "--for", "SO-1"), "not enough free MIC to reserve for SO-1: need 26 pcs"),
        (("MIC", "6", "--for", "X", "--location", "LINE"), "not enough free MIC at LINE"),
        (("MIC", "1", "--for", "X", "--lot", "NOPE"), "MIC has no lot 'NOPE'"),
        (("NOPE", "1", "--for", "X"), "unknown item 'NOPE'"),
        (("SCREW", "1", "--for", "ORDER-1"), "names a production order"),
        (("SCREW", "1", "--for", "X", "--until", day(-1)), "is in the past"),
        (("SCREW", "0", "--for", "X"), "must be greater than zero"),
        (("7",), "no production order 7"),
    ],
)
def test_reserve_refusals(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    assert message in refused(cli, shop, "reserve", *args)


def test_usage_errors(cli: Cli, shop: Path) -> None:
    before = dump(shop)
    assert cli("reserve", "SCREW", "1").exit_code == 2  # no --for
    assert cli("reserve", "1", "--for", "X").exit_code == 2  # --for only with ITEM QTY
    assert cli("reserve", "SCREW", "1", "--for", "X", "--partial").exit_code == 2
    assert cli("reserve", "cancel").exit_code == 2
    assert cli("reserve", "cancel", "1", "--for", "X").exit_code == 2
    assert dump(shop) == before


def test_over_reservation_by_a_second_reference_is_refused(cli: Cli, shop: Path) -> None:
    assert cli("reserve", "SCREW", "80", "--for", "SO-1").exit_code == 0
    msg = refused(cli, shop, "reserve", "SCREW", "21", "--for", "SO-2")
    assert "need 21 pcs, free 20 (available 100, reserved 80); nothing was reserved" in msg
    # The ledger guards reserved stock too: taking it out is refused.
    msg = refused(cli, shop, "stock", "adjust", "SCREW", "--remove", "21", "--reason", "lost")
    assert "SCREW at STORES/available is reserved for SO-1" in msg and "free 20" in msg
    assert cli("stock", "adjust", "SCREW", "--remove", "20", "--reason", "lost").exit_code == 0


def test_reserve_an_order_all_or_nothing(cli: Cli, shop: Path) -> None:
    assert cli("order", "create", "HD", "10", "--due", day(5)).exit_code == 0
    assert "order 1 is planned: only a released order reserves stock" in refused(
        cli, shop, "reserve", "1"
    )
    assert cli("order", "release", "1", "--partial").exit_code == 0
    # PCB is short by 6: reserving again reserves nothing and shows the shortage.
    before = dump(shop)
    r = cli("reserve", "ORDER-1")
    assert r.exit_code == 1 and r.stdout == ""
    assert "Error: order 1 is short of PCB 6 pcs, SOLDER 0.02 kg, BOX 12 pcs" in r.stderr
    assert dump(shop) == before
    for code, qty in (("PCB", "10"), ("SOLDER", "1"), ("BOX", "12"), ("R1", "10")):
        assert cli("stock", "receive", code, qty).exit_code == 0
    r = cli("reserve", "1", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert [
        (x["item"], x["qty"], x["ref"], x["order"])
        for x in json.loads(r.stdout, parse_float=Decimal)
    ] == [
        ("PCB", 6, "ORDER-1", 1),
        ("SOLDER", Decimal("0.02"), "ORDER-1", 1),
        ("BOX", 12, "ORDER-1", 1),
        ("R1", 10, "ORDER-1", 1),
    ]
    r = cli("reserve", "1")
    assert r.exit_code == 0 and "Order 1: 0 new reservations" in r.stderr


def test_list_and_cancel(cli: Cli, shop: Path) -> None:
    cli("reserve", "SCREW", "5", "--for", "SO-1")
    cli("reserve", "SCREW", "6", "--for", "SO-2", "--until", day(0))
    cli("reserve", "MIC", "12", "--for", "SO-2")
    cli("order", "create", "HD", "1", "--due", day(5))
    cli("order", "release", "1", "--partial")
    conn = sqlite3.connect(shop)
    with conn:  # the day after SO-2's screw reservation ran out
        conn.execute("UPDATE reservation SET until_on = ? WHERE ref = 'SO-2'", (day(-1),))
    conn.close()
    rows = as_json(cli, "reserve", "list", "--item", "SCREW")
    assert [(r["ref"], r["status"]) for r in rows] == [
        ("SO-1", "open"), ("SO-2", "expired"), ("ORDER-1", "open"),
    ]  # fmt: skip
    assert {r["ref"] for r in as_json(cli, "reserve", "list", "--for", "so-2")} == {"SO-2"}
    assert {r["ref"] for r in as_json(cli, "reserve", "list", "--order", "1")} == {"ORDER-1"}
    screw = as_json(cli, "stock", "--item", "SCREW")[0]
    assert screw["reserved"] == Decimal("11.2")  # SO-1 5, the order 6.2; SO-2 expired
    r = cli("reserve", "cancel", "1")
    assert r.exit_code == 0 and "Cancelled 1 reservation: 1 (5 pcs SCREW for SO-1)" in r.stderr
    assert "reservation 1 is already cancelled" in refused(cli, shop, "reserve", "cancel", "1")
    assert "no reservation 99" in refused(cli, shop, "reserve", "cancel", "99")
    r = cli("reserve", "cancel", "--for", "SO-2")
    assert r.exit_code == 0 and "Cancelled 3 reservations" in r.stderr
    r = cli("reserve", "cancel", "--order", "1")
    assert r.exit_code == 0 and "ORDER-1" in r.stderr
    assert "no open reservation for order 1" in refused(
        cli, shop, "reserve", "cancel", "--order", "1"
    )
    assert as_json(cli, "reserve", "list") == []
    assert len(as_json(cli, "reserve", "list", "--all")) == 6
    assert cli("check").exit_code == 0
