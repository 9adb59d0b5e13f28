"""``mfgctl ship``: only released, available stock leaves; reservations of the reference
first, never another reference's; the sales demand closed when fully shipped; every
refusal leaves the database unchanged; the ledger still balances."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_migrations import make_v1, user_version
from trace_story import build

from mfgctl import db as dbmod
from mfgctl.domain import checks, items, reservations, shipping
from mfgctl.domain import stock as ops
from mfgctl.errors import MfgError
from mfgctl.migrations import SCHEMA_VERSION, STEPS


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """WIDGET, lot-tracked, 1 box = 10 pcs: lot W1 (10, received first) and W2 (10)."""
    ok(cli, "item", "add", "WIDGET", "--name", "Widget", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "lot", "--units", "box=10")  # fmt: skip
    ok(cli, "stock", "receive", "WIDGET", "10", "--lot", "W1")
    ok(cli, "stock", "receive", "WIDGET", "10", "--lot", "W2")
    return initdb


def by_lot(cli: Cli, item: str) -> dict[str, dict[str, Decimal]]:
    rows = json.loads(ok(cli, "stock", "--item", item, "--by-lot", "-f", "json").stdout)
    return {r["lot"]: r for r in rows}


def shipped(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, "ship", *args, "-f", "json").stdout, parse_float=Decimal)


def reservation(cli: Cli, ref: str) -> list[tuple[str, int, str]]:
    rows = json.loads(ok(cli, "reserve", "list", "--for", ref, "--all", "-f", "json").stdout)
    return [(r["lot"], r["remaining"], r["status"]) for r in rows]


def assert_balanced(cli: Cli) -> None:
    r = ok(cli, "check")
    assert "0 errors" in r.stderr, r.stderr


def test_reserved_for_this_reference_ships_first(cli: Cli, shop: Path) -> None:
    ok(cli, "reserve", "WIDGET", "3", "--for", "SO-7", "--lot", "W2")
    rows = shipped(cli, "WIDGET", "5", "--to", "Acme Audio", "--ref", "SO-7")
    # 3 reserved for SO-7 in W2 first; the other 2 free, first-in: W1.
    assert [(r["lot"], r["qty"], r["reserved"], r["shipment"]) for r in rows] == [
        ("W2", 3, 3, "SHIP-1"),
        ("W1", 2, 0, "SHIP-1"),
    ]
    stock = by_lot(cli, "WIDGET")
    assert (stock["W1"]["available"], stock["W2"]["available"]) == (8, 7)
    assert reservation(cli, "SO-7") == [("W2", 0, "consumed")]
    moves = json.loads(ok(cli, "stock", "history", "WIDGET", "-f", "json").stdout)
    assert moves[-1]["balance"] == 15  # 20 received - 5 shipped
    assert_balanced(cli)


def test_a_partly_reserved_quantity_keeps_the_rest_of_the_reservation(cli: Cli, shop: Path) -> None:
    ok(cli, "reserve", "WIDGET", "5", "--for", "SO-8", "--lot", "W2")
    rows = shipped(cli, "WIDGET", "3", "--to", "Acme Audio", "--ref", "SO-8")
    assert [(r["lot"], r["qty"], r["reserved"]) for r in rows] == [("W2", 3, 3)]
    assert reservation(cli, "SO-8") == [("W2", 2, "open")]  # 5 - 3
    # Another customer cannot take the 2 still reserved: W2 has 7, 2 of them held.
    err = refused(cli, shop, "ship", "WIDGET", "6", "--to", "Other", "--lot", "W2")
    assert "need 6 pcs, available 7, reserved for SO-8 2, free 5" in err


def test_stock_reserved_for_another_reference_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "reserve", "WIDGET", "10", "--for", "SO-1", "--lot", "W1")
    ok(cli, "reserve", "WIDGET", "10", "--for", "SO-2", "--lot", "W2")
    err = refused(cli, shop, "ship", "WIDGET", "1", "--to", "Acme", "--ref", "SO-3")
    assert "not enough available WIDGET to ship: need 1 pcs, available 20" in err
    assert "reserved for SO-1, SO-2 20, free 0" in err


def test_the_sales_demand_is_closed_when_fully_shipped(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "WIDGET", "5", "--due", day(3), "--kind", "sales", "--ref", "SO-9")
    ok(cli, "reserve", "WIDGET", "6", "--for", "SO-9", "--lot", "W1")
    err = refused(cli, shop, "ship", "WIDGET", "6", "--to", "Acme", "--ref", "SO-9")
    assert "demand 1 (SO-9) has 5 pcs left to ship (ordered 5, shipped 0): cannot ship 6" in err
    r = cli("ship", "WIDGET", "2", "--to", "Acme", "--ref", "SO-9", "-f", "json")
    assert r.exit_code == 0, r.stderr
    first = json.loads(r.stdout)
    assert (first[0]["demand"], first[0]["demand_state"]) == (1, "open")
    # 6 - 2 held, 3 still lacking: the sixth reserved unit is free again at once.
    assert "demand 1 is open; leftover reservation(s) 1 lowered to 3 pcs" in r.stderr
    r = cli("ship", "WIDGET", "3", "--to", "Acme", "--ref", "SO-9", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["demand_state"] == "shipped"
    assert r.stderr.strip().endswith("demand 1 is shipped")
    # 2 + 3 = 5 shipped: no longer open demand; the reservation used up.
    assert json.loads(ok(cli, "demand", "list", "-f", "json").stdout) == []
    [d] = json.loads(ok(cli, "demand", "list", "--all", "-f", "json").stdout)
    assert d["state"] == "shipped"
    assert reservation(cli, "SO-9") == [("W1", 0, "consumed")]
    assert by_lot(cli, "WIDGET")["W1"]["free"] == 5  # 10 - 5 shipped, nothing reserved
    assert_balanced(cli)


def test_quantity_in_another_unit(cli: Cli, shop: Path) -> None:
    # 1.5 box of 10 pcs = 15 pcs: lot W2 alone holds 10, so with --lot W2 it is refused.
    err = refused(cli, shop, "ship", "WIDGET", "1.5", "--unit", "box", "--to", "A", "--lot", "W2")
    assert "need 15 pcs, available 10, free 10" in err
    # Without --lot: first-in, all 10 of W1, then 5 of W2.
    rows = shipped(cli, "WIDGET", "1.5", "--unit", "box", "--to", "Acme")
    assert [(r["lot"], r["qty"], r["unit"]) for r in rows] == [("W1", 10, "pcs"), ("W2", 5, "pcs")]
    err = refused(cli, shop, "ship", "WIDGET", "1", "--unit", "crate", "--to", "A")
    assert "crate" in err


def test_serials_ship_by_name_and_unreleased_units_are_refused(cli: Cli, initdb: Path) -> None:
    build(cli, initdb, release=False)  # S-1 and S-2 wait in awaiting_release
    err = refused(cli, initdb, "ship", "HD", "1", "--to", "Acme", "--serial", "S-1")
    assert "not enough available HD serial S-1 to ship: need 1 pcs, available 0" in err
    assert "not shippable (not released or not available): 1 awaiting_release" in err
    ok(cli, "release", "check", "S-1", "packaging")
    ok(cli, "release", "S-1")
    ok(cli, "reserve", "HD", "1", "--for", "SO-2", "--lot", "S-1")
    err = refused(
        cli, initdb, "ship", "HD", "1", "--to", "Acme", "--ref", "SO-1", "--serial", "S-1"
    )
    assert "reserved for SO-2 1, free 0" in err
    rows = shipped(cli, "HD", "1", "--to", "Acme", "--ref", "SO-2", "--serials", "S-1")
    assert [(r["lot"], r["reserved"], r["from"]) for r in rows] == [("S-1", 1, "STORES/available")]
    assert_balanced(cli)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("SCREW", "1", "--to", "A", "--lot", "X"), "SCREW is not lot- or serial-tracked"),
        (("HD", "1", "--to", "A"), "HD is serial-tracked: name the units shipped with --serial"),
        (
            ("HD", "2", "--to", "A", "--serial", "S-1"),
            "quantity 2 must equal the number of serials (1)",
        ),
        (("HD", "2", "--to", "A", "--serials", "S-1,S-1"), "serial S-1 is given twice"),
        (("HD", "1", "--to", "A", "--lot", "S-1"), "HD is serial-tracked: give --serial"),
        (("CHIP", "1", "--to", "A", "--serial", "C1"), "CHIP is lot-tracked: give --lot"),
        (("CHIP", "0", "--to", "A"), "quantity must be greater than zero"),
        (("CHIP", "1", "--to", " "), "--to (customer) must not be empty"),
        (("CHIP", "1", "--to", "A", "--ref", "ORDER-1"), "--ref ORDER-1 names a production order"),
        (("CHIP", "1", "--to", "A", "--unit", "reel"), "reel"),
        (("CHIP", "1", "--to", "A", "--lot", "C9"), "CHIP has no lot 'C9'"),
        (("NOPE", "1", "--to", "A"), "NOPE"),
        (("CHIP", "1", "--to", "A", "--demand", "1"), "demand 1 is for HD, not CHIP"),
        (("HD", "1", "--to", "A", "--serial", "S-2", "--demand", "2"), "demand 2 is a forecast"),
        (("CHIP", "3", "--to", "A", "--lot", "C1"), "need 3 pcs, available 2"),
    ],
)
def test_refusals_change_nothing(
    cli: Cli, initdb: Path, args: tuple[str, ...], message: str
) -> None:
    build(cli, initdb)
    ok(cli, "demand", "add", "HD", "1", "--due", day(3), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "demand", "add", "HD", "1", "--due", day(3), "--kind", "forecast")
    assert message in refused(cli, initdb, "ship", *args)


def test_ship_writes_one_transaction_and_check_passes_after_shipping_and_recall(
    cli: Cli, initdb: Path
) -> None:
    build(cli, initdb)
    ok(cli, "ship", "PCB", "2", "--to", "Repair Shop", "--lot", "P1")
    ok(cli, "trace", "C1", "--forward", "--hold", "--reason", "r")
    assert_balanced(cli)
    with sqlite3.connect(initdb) as c:
        # Per item the ledger sums to zero: every move in is a move out somewhere.
        sums = c.execute(
            "SELECT item_id, sum(qty) FROM balance GROUP BY item_id HAVING sum(qty) <> 0"
        ).fetchall()
        [(customer, qty, ref)] = c.execute("SELECT customer, qty, ref FROM shipment").fetchall()
    c.close()
    assert sums == []
    assert (customer, qty, ref) == ("Repair Shop", 2_000_000, None)  # 2 pcs in micro-units


def test_a_v8_database_keeps_its_demand_when_upgraded(cli: Cli, db_path: Path) -> None:
    make_v1(db_path)
    with sqlite3.connect(db_path) as c:  # bring it to version 8 as mfgctl 8 would have
        for version in range(2, 9):
            STEPS[version](c)
        c.execute("PRAGMA user_version = 8")
        c.execute(
            "INSERT INTO demand (item_id, qty, due_on, kind, ref, state, created_at, user) "
            "VALUES (1, 5000000, '2030-01-01', 'sales', 'SO-1', 'open', "
            "'2026-01-05T08:00:00.000000Z', 'old')"
        )
    c.close()
    ok(cli, "stock", "receive", "MIC-100", "1")  # opening it upgrades it
    assert user_version(db_path) == SCHEMA_VERSION
    [d] = json.loads(ok(cli, "demand", "list", "-f", "json").stdout)
    assert (d["item"], d["qty"], d["ref"], d["state"]) == ("MIC-100", 5, "SO-1", "open")
    r = cli("ship", "MIC-100", "5", "--to", "Old Customer", "--ref", "SO-1")
    assert r.exit_code == 0, r.stderr
    assert "demand 1 is shipped" in r.stderr


# -- a property: shipping never breaks the ledger or takes what another reference holds ----


@dataclass(frozen=True)
class Op:
    kind: str
    qty: int
    ref: str
    lot: str | None


@st.composite
def operations(draw: st.DrawFn) -> Op:
    return Op(
        draw(st.sampled_from(["receive", "reserve", "ship", "ship"])),
        draw(st.integers(1, 9)),
        draw(st.sampled_from(["SO-1", "SO-2", "SO-3"])),
        draw(st.sampled_from(["L1", "L2", None])),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations(), min_size=1, max_size=20))
def test_random_shipping_keeps_stock_exact_and_reservations_whole(sequence: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "prop.db")
        try:
            with dbmod.transaction(conn):
                items.add(conn, "W", {"name": "W", "type": "finished", "unit": "pcs",
                                      "make_or_buy": "buy", "tracking": "lot"})  # fmt: skip
            received = shipped_total = Decimal(0)
            for op in sequence:
                before = "\n".join(conn.iterdump())
                held = {  # what each other reference holds before the shipment
                    r.id: r.remaining
                    for r in reservations.list_reservations(conn)
                    if r.ref != op.ref
                }
                try:
                    with dbmod.transaction(conn):
                        if op.kind == "receive":
                            ops.receive(conn, item="W", qty=op.qty, user="t", lot=op.lot or "L1")
                            received += op.qty
                        elif op.kind == "reserve":
                            reservations.reserve(
                                conn, item="W", qty=op.qty, ref=op.ref, user="t", lot=op.lot
                            )
                        else:
                            done = shipping.ship(
                                conn, item="W", qty=op.qty, customer="C", user="t",
                                ref=op.ref, lot=op.lot,
                            )  # fmt: skip
                            assert done.qty == op.qty
                            shipped_total += op.qty
                except MfgError:
                    assert "\n".join(conn.iterdump()) == before, op
                    continue
                if op.kind == "ship":  # other references' reservations are untouched
                    after = {r.id: r.remaining for r in reservations.list_reservations(conn)}
                    assert all(after.get(i) == n for i, n in held.items()), op
                in_house = sum(
                    (s.available for s in reservations.available_stock(conn, items.get(conn, "W"))),
                    Decimal(0),
                )
                assert in_house == received - shipped_total
                for s in reservations.available_stock(conn, items.get(conn, "W")):
                    assert s.free >= 0
                assert [p for p in checks.run(conn) if p.severity == "error"] == []
        finally:
            conn.close()


def test_mrp_plans_only_what_is_left_to_ship(cli: Cli, shop: Path) -> None:
    # 20 WIDGET in stock, SO-9 for 50: after shipping 15 of them MRP needs 50 - 15 = 35,
    # of which the 5 left in stock cover 5: 30 to buy (not 50 - 5 = 45).
    ok(cli, "demand", "add", "WIDGET", "50", "--due", day(10), "--kind", "sales", "--ref", "SO-9")
    shipped(cli, "WIDGET", "15", "--to", "Acme", "--ref", "SO-9")
    doc = json.loads(ok(cli, "mrp", "--horizon", "30", "-f", "json").stdout, parse_float=Decimal)
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"]] == [("WIDGET", 30)]
