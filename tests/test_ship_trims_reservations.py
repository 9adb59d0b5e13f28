"""A shipment under a sales reference leaves its reservations of the item holding no more
than the reference's open sales demand still lacks: a partial shipment from free stock,
from another location or lot, or more than was reserved where it ships from lowers
them in the same transaction (``demand.free_unneeded``, as ``demand update --qty`` and
``demand cancel`` do) and says so; ``check`` then finds no ``reserved_beyond_demand``."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, ok, refused
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import checks, demand, items, locations, reservations, shipping
from mfgctl.domain import stock as ops
from mfgctl.errors import MfgError


def rows(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout)


def reserved(cli: Cli) -> dict[int, tuple]:
    """Open reservations as ``reserve list`` shows them: id -> (ref, location, remaining)."""
    return {
        r["id"]: (r["ref"], r["location"], r["remaining"]) for r in rows(cli, "reserve", "list")
    }


def beyond_demand(cli: Cli) -> list[str]:
    return [p["message"] for p in rows(cli, "check") if p["check"] == "reserved_beyond_demand"]


def assert_clean(cli: Cli) -> None:
    """``check`` passes (exit 0, no error) and warns of no reservation beyond demand."""
    found = rows(cli, "check")
    assert [p for p in found if p["severity"] == "error"] == []
    assert [p for p in found if p["check"] == "reserved_beyond_demand"] == []


@pytest.fixture
def wid(cli: Cli, initdb: Path) -> Path:
    """WID, untracked: 10 at STORES, 5 at DOCK."""
    ok(cli, "item", "add", "WID", "--name", "Widget", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--lead-time-days", "7", "--cost", "1")  # fmt: skip
    ok(cli, "location", "add", "DOCK")
    ok(cli, "stock", "receive", "WID", "10")
    ok(cli, "stock", "receive", "WID", "5", "--location", "DOCK")
    return initdb


def sales(cli: Cli, qty: object, ref: str, due: int, item: str = "WID") -> None:
    ok(cli, "demand", "add", item, qty, "--due", day(due), "--kind", "sales", "--ref", ref)


def test_partial_shipment_from_free_stock_elsewhere_lowers_the_reservation(
    cli: Cli, wid: Path
) -> None:
    sales(cli, 10, "SO-1", 14)
    ok(cli, "reserve", "WID", "10", "--for", "SO-1", "--location", "STORES")
    r = ok(cli, "ship", "WID", "4", "--to", "Acme", "--ref", "SO-1", "--location", "DOCK")
    assert r.stderr.strip() == (
        "Shipped 4 pcs WID to Acme as SHIP-1 for SO-1; demand 1 is open; "
        "leftover reservation(s) 1 lowered to 6 pcs (4 pcs WID freed for SO-1)"
    )
    assert reserved(cli) == {1: ("SO-1", "STORES", 6)}
    [res] = rows(cli, "reserve", "list", "--all", "--for", "SO-1")
    assert (res["qty"], res["remaining"], res["status"]) == (10, 6, "open")
    [d] = rows(cli, "demand", "list")
    assert (d["shipped"], d["open"]) == (4, 6)
    assert_clean(cli)
    # The rest from the reservation: the demand is shipped, the reservation consumed.
    r = ok(cli, "ship", "WID", "6", "--to", "Acme", "--ref", "SO-1")
    assert r.stderr.strip().endswith("demand 1 is shipped")
    assert reserved(cli) == {}
    assert_clean(cli)


def test_shipping_more_than_was_reserved_where_it_ships_from(cli: Cli, wid: Path) -> None:
    sales(cli, 8, "SO-1", 14)
    ok(cli, "reserve", "WID", "4", "--for", "SO-1", "--location", "STORES")
    ok(cli, "reserve", "WID", "4", "--for", "SO-1", "--location", "DOCK")
    # 5 from the dock: its 4 reserved and 1 free; the reference lacks 3, STORES holds 4.
    r = ok(cli, "ship", "WID", "5", "--to", "Acme", "--ref", "SO-1", "--location", "DOCK")
    assert r.stderr.strip().endswith(
        "demand 1 is open; leftover reservation(s) 1 lowered to 3 pcs (1 pcs WID freed for SO-1)"
    )
    assert reserved(cli) == {1: ("SO-1", "STORES", 3)}
    [_, dock] = rows(cli, "reserve", "list", "--all", "--for", "SO-1")
    assert (dock["remaining"], dock["status"]) == (0, "consumed")
    assert_clean(cli)


def test_shipping_another_lot_than_the_one_reserved(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "GLU", "--name", "Glue", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "lot", "--lead-time-days", "3")  # fmt: skip
    ok(cli, "stock", "receive", "GLU", "6", "--lot", "A")
    ok(cli, "stock", "receive", "GLU", "6", "--lot", "B")
    sales(cli, 6, "so-7", 10, item="GLU")
    ok(cli, "reserve", "GLU", "6", "--for", "SO-7", "--lot", "A")
    r = ok(cli, "ship", "GLU", "5", "--to", "Acme", "--ref", "So-7", "--lot", "B")
    assert r.stderr.strip() == (
        "Shipped 5 pcs GLU (B) to Acme as SHIP-1 for So-7; demand 1 is open; "
        "leftover reservation(s) 1 lowered to 1 pcs (5 pcs GLU freed for So-7)"
    )
    [res] = rows(cli, "reserve", "list")
    assert (res["lot"], res["remaining"]) == ("A", 1)
    assert_clean(cli)


def test_an_unreserved_serial_shipped(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "SENS", "--name", "Sensor", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "serial", "--lead-time-days", "5")  # fmt: skip
    ok(cli, "stock", "receive", "SENS", "3", "--serials", "S1,S2,S3")
    sales(cli, 2, "SO-2", 10, item="SENS")
    ok(cli, "reserve", "SENS", "1", "--for", "SO-2", "--lot", "S1")
    ok(cli, "reserve", "SENS", "1", "--for", "SO-2", "--lot", "S2")
    r = ok(cli, "ship", "SENS", "1", "--to", "Acme", "--ref", "SO-2", "--serial", "S3")
    # The newest reservation goes first.
    assert r.stderr.strip().endswith(
        "demand 1 is open; leftover reservation(s) 2 cancelled (1 pcs SENS freed for SO-2)"
    )
    assert [(x["id"], x["lot"], x["remaining"]) for x in rows(cli, "reserve", "list")] == [
        (1, "S1", 1)
    ]
    assert_clean(cli)


def test_a_partial_shipment_of_one_of_several_lines(cli: Cli, wid: Path) -> None:
    sales(cli, 4, "SO-3", 10)
    sales(cli, 6, "SO-3", 20)
    ok(cli, "reserve", "WID", "10", "--for", "SO-3", "--location", "STORES")
    # 3 of line 2 from the dock: both lines stay open, they lack 4 + 3 = 7.
    r = ok(cli, "ship", "WID", "3", "--to", "Acme", "--demand", "2", "--location", "DOCK")
    assert r.stderr.strip() == (
        "Shipped 3 pcs WID to Acme as SHIP-1 for SO-3; demand 2 is open; "
        "leftover reservation(s) 1 lowered to 7 pcs (3 pcs WID freed for SO-3)"
    )
    assert reserved(cli) == {1: ("SO-3", "STORES", 7)}
    assert [(d["demand"], d["open"]) for d in rows(cli, "demand", "list")] == [(1, 4), (2, 3)]
    assert_clean(cli)


def test_what_was_beyond_the_order_before_is_freed_too(cli: Cli, wid: Path) -> None:
    sales(cli, 5, "SO-4", 10)
    ok(cli, "reserve", "WID", "8", "--for", "SO-4")
    assert len(beyond_demand(cli)) == 1
    r = ok(cli, "ship", "WID", "2", "--to", "Acme", "--ref", "SO-4")  # from the reservation
    assert r.stderr.strip().endswith(
        "demand 1 is open; leftover reservation(s) 1 lowered to 3 pcs (3 pcs WID freed for SO-4)"
    )
    assert reserved(cli) == {1: ("SO-4", "STORES", 3)}
    assert_clean(cli)


def test_nothing_freed_when_nothing_is_beyond_what_is_lacking(cli: Cli, wid: Path) -> None:
    sales(cli, 10, "SO-1", 14)
    ok(cli, "reserve", "WID", "6", "--for", "SO-1", "--location", "STORES")
    ok(cli, "reserve", "WID", "3", "--for", "HOLD")  # no sales demand: another kind of hold
    r = ok(cli, "ship", "WID", "4", "--to", "Acme", "--ref", "SO-1", "--location", "DOCK")
    assert r.stderr.strip() == "Shipped 4 pcs WID to Acme as SHIP-1 for SO-1; demand 1 is open"
    r = ok(cli, "ship", "WID", "1", "--to", "Acme", "--ref", "HOLD", "--location", "DOCK")
    assert r.stderr.strip() == "Shipped 1 pcs WID to Acme as SHIP-2 for HOLD"
    assert reserved(cli) == {1: ("SO-1", "STORES", 6), 2: ("HOLD", "STORES", 3)}
    assert_clean(cli)


def test_a_refused_shipment_leaves_the_reservations_as_they_were(cli: Cli, wid: Path) -> None:
    sales(cli, 10, "SO-1", 14)
    ok(cli, "reserve", "WID", "10", "--for", "SO-1", "--location", "STORES")
    before = reserved(cli)
    err = refused(cli, wid, "ship", "WID", "6", "--to", "Acme", "--ref", "SO-1", "--location",
                  "DOCK")  # fmt: skip
    assert err.startswith("Error: not enough available WID at DOCK to ship: need 6 pcs")
    err = refused(cli, wid, "ship", "WID", "11", "--to", "Acme", "--ref", "SO-1")
    assert "has 10 pcs left to ship" in err
    assert reserved(cli) == before
    assert beyond_demand(cli) == []


# -- a property: after any shipment the reference holds at most what it lacks ---------------


@dataclass(frozen=True)
class Op:
    kind: str
    qty: int
    ref: str
    where: str


@st.composite
def operations(draw: st.DrawFn) -> Op:
    return Op(
        draw(st.sampled_from(["receive", "reserve", "demand", "ship", "ship", "ship"])),
        draw(st.integers(1, 6)),
        draw(st.sampled_from(["SO-1", "so-1", "SO-1", "SO-2", "HOLD"])),
        draw(st.sampled_from(["STORES", "DOCK"])),
    )


def _held(conn: sqlite3.Connection, ref: str) -> Decimal:
    return sum(
        (
            r.remaining
            for r in reservations.list_reservations(conn, item="W")
            if r.ref.casefold() == ref.casefold()
        ),
        Decimal(0),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations(), min_size=1, max_size=20))
@example([Op("reserve", 5, "SO-1", "STORES"), Op("ship", 2, "so-1", "DOCK")])
def test_a_shipment_leaves_the_reference_holding_at_most_what_it_lacks(
    sequence: list[Op],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "prop.db")
        try:
            with dbmod.transaction(conn):  # 8 at each location, SO-1 ordered 6
                items.add(conn, "W", {"name": "W", "type": "finished", "unit": "pcs",
                                      "make_or_buy": "buy"})  # fmt: skip
                locations.add(conn, "DOCK")
                for where in ("STORES", "DOCK"):
                    ops.receive(conn, item="W", qty=8, user="t", location=where)
                demand.add(conn, item="W", qty=6, due=day(10), kind="sales", user="t", ref="SO-1")
            item_id = items.get(conn, "W").id
            for op in sequence:
                before = dump_conn(conn)
                held_before = _held(conn, op.ref)
                others = {
                    r.id: r.remaining
                    for r in reservations.list_reservations(conn)
                    if r.ref.casefold() != op.ref.casefold()
                }
                try:
                    with dbmod.transaction(conn):
                        if op.kind == "receive":
                            ops.receive(conn, item="W", qty=op.qty, user="t", location=op.where)
                        elif op.kind == "reserve":
                            reservations.reserve(
                                conn, item="W", qty=op.qty, ref=op.ref, user="t",
                                location=op.where,
                            )  # fmt: skip
                        elif op.kind == "demand":
                            if op.ref != "HOLD":
                                demand.add(conn, item="W", qty=op.qty, due=day(10),
                                           kind="sales", user="t", ref=op.ref)  # fmt: skip
                        else:
                            done = shipping.ship(
                                conn, item="W", qty=op.qty, customer="C", user="t",
                                ref=op.ref, location=op.where,
                            )  # fmt: skip
                except MfgError:
                    assert dump_conn(conn) == before, op
                    continue
                if op.kind != "ship":
                    continue
                lacking = demand.lacking_for_ref(conn, item_id, op.ref)
                taken = sum((t.reserved for t in done.takes), Decimal(0))
                held = _held(conn, op.ref)
                if lacking is None:  # no sales demand: another kind of hold, left alone
                    assert held == held_before - taken, op
                    assert done.freed is None
                else:  # at most what it lacks, and nothing freed below that
                    assert held == min(held_before - taken, lacking), op
                    freed = done.freed.qty if done.freed else Decimal(0)
                    assert freed == held_before - taken - held, op
                after = {r.id: r.remaining for r in reservations.list_reservations(conn)}
                assert all(after.get(i) == n for i, n in others.items()), op
                problems = checks.run(conn)
                assert [p for p in problems if p.severity == "error"] == [], op
                assert not [
                    p
                    for p in problems
                    if p.check == "reserved_beyond_demand"
                    and p.subject.casefold() == f"w for {op.ref}".casefold()
                ], op
        finally:
            conn.close()


def dump_conn(conn: sqlite3.Connection) -> str:
    return "\n".join(conn.iterdump())
