"""Reservations in the domain: first-expired first-in picking, all or nothing, expiry,
the ledger's guard on reserved stock, the stock report's reserved and free columns,
and a property test that free stock never goes below zero."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import checks, items, ledger, locations, reports, reservations
from mfgctl.domain import stock as ops
from mfgctl.errors import InvalidInput, MfgError, NotFound, RuleViolation


def setup(conn: sqlite3.Connection) -> None:
    buy = {"type": "component", "unit": "pcs", "make_or_buy": "buy"}
    with dbmod.transaction(conn):
        items.add(conn, "MIC", {**buy, "name": "Microphone", "tracking": "lot"})
        items.add(conn, "CAP", {**buy, "name": "Capacitor"})
        locations.add(conn, "LINE")


def receive(conn: sqlite3.Connection, item: str, qty: str, **kw: object) -> None:
    with dbmod.transaction(conn):
        ops.receive(conn, item=item, qty=qty, user="t", **kw)  # type: ignore[arg-type]


def reserve(conn: sqlite3.Connection, item: str, qty: str, ref: str = "SO-1", **kw: object):
    with dbmod.transaction(conn):
        return reservations.reserve(conn, item=item, qty=qty, ref=ref, user="t", **kw)  # type: ignore[arg-type]


def test_lots_are_picked_first_expired_then_first_in(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "MIC", "10", lot="OLD-NO-DATE")
    receive(conn, "MIC", "10", lot="LATE", expires=date(2031, 1, 1))
    receive(conn, "MIC", "10", lot="SOON", expires=date(2030, 1, 1))
    receive(conn, "MIC", "10", lot="NEW-NO-DATE")
    made = reserve(conn, "MIC", "25")
    assert [(r.lot, r.qty) for r in made] == [
        ("SOON", Decimal(10)),
        ("LATE", Decimal(10)),
        ("OLD-NO-DATE", Decimal(5)),
    ]
    assert reserve(conn, "MIC", "6", ref="SO-2")[0].lot == "OLD-NO-DATE"
    assert [r.lot for r in reserve(conn, "MIC", "1", ref="SO-3")] == ["NEW-NO-DATE"]


def test_all_or_nothing_with_lot_and_location(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "CAP", "30")
    receive(conn, "CAP", "20", location="LINE")
    assert [(r.location, r.qty) for r in reserve(conn, "CAP", "5", location="LINE")] == [
        ("LINE", Decimal(5))
    ]
    with pytest.raises(RuleViolation, match=r"not enough free CAP at LINE .* need 16 pcs, free 15"):
        reserve(conn, "CAP", "16", location="LINE")
    with pytest.raises(RuleViolation, match="need 46 pcs, free 45"):
        reserve(conn, "CAP", "46")
    assert len(reservations.list_reservations(conn)) == 1
    with pytest.raises(InvalidInput, match="not lot- or serial-tracked"):
        reserve(conn, "CAP", "1", lot="X")
    with pytest.raises(InvalidInput, match="names a production order"):
        reserve(conn, "CAP", "1", ref="order-4")
    with pytest.raises(InvalidInput, match="in the past"):
        reserve(conn, "CAP", "1", until=day(-1))


def test_an_expired_reservation_stops_counting(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "CAP", "10")
    (r,) = reserve(conn, "CAP", "10", until=day(0))
    assert reservations.free_qty(conn, items.get(conn, "CAP")) == 0
    # Let the day pass: the stored date moves back instead of the clock moving on.
    conn.execute("UPDATE reservation SET until_on = ? WHERE id = ?", (day(-1), r.id))
    assert reservations.free_qty(conn, items.get(conn, "CAP")) == 10
    assert [x.status for x in reservations.list_reservations(conn)] == ["expired"]
    assert reserve(conn, "CAP", "10", ref="SO-2")[0].qty == 10


def test_the_ledger_refuses_to_take_reserved_stock(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "CAP", "10")
    (r,) = reserve(conn, "CAP", "8", ref="SO-7")
    refusal = r"CAP at STORES/available is reserved for SO-7: need 3 pcs, have 10, reserved 8"
    with pytest.raises(RuleViolation, match=refusal), dbmod.transaction(conn):
        ops.adjust(conn, item="CAP", qty="3", direction="remove", reason="x", user="t")
    with pytest.raises(RuleViolation, match="reserved for SO-7"), dbmod.transaction(conn):
        ops.transfer(conn, item="CAP", qty="3", source="STORES", target="LINE", user="t")
    with dbmod.transaction(conn):
        ops.transfer(conn, item="CAP", qty="2", source="STORES", target="LINE", user="t")
    # Consumption of the reservation itself (later) names it and may take its stock.
    it = items.get(conn, "CAP")
    with dbmod.transaction(conn):
        ledger.post(
            conn, item=it, qty=Decimal(8), source=ledger.place(conn, "STORES"),
            target=ledger.virtual(conn, "SCRAP"), kind="test", user="t", using_reservations=[r.id],
        )  # fmt: skip
    assert checks.run(conn) == []


def test_cancel_one_by_reference_and_refusals(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "CAP", "10")
    first = reserve(conn, "CAP", "2", ref="SO-1")[0]
    reserve(conn, "CAP", "3", ref="SO-2")
    reserve(conn, "CAP", "4", ref="SO-2")
    with dbmod.transaction(conn):
        assert [r.id for r in reservations.cancel(conn, reservation_id=first.id)] == [first.id]
    with pytest.raises(RuleViolation, match=f"reservation {first.id} is already cancelled"):
        reservations.cancel(conn, reservation_id=first.id)
    with dbmod.transaction(conn):
        assert len(reservations.cancel(conn, ref="so-2")) == 2
    with pytest.raises(NotFound, match="no open reservation for reference SO-2"):
        reservations.cancel(conn, ref="SO-2")
    with pytest.raises(NotFound, match="no reservation 99"):
        reservations.cancel(conn, reservation_id=99)
    assert reservations.free_qty(conn, items.get(conn, "CAP")) == 10
    assert [r.status for r in reservations.list_reservations(conn, include_closed=True)] == [
        "cancelled"
    ] * 3


def test_the_stock_report_shows_reserved_and_free(conn: sqlite3.Connection) -> None:
    setup(conn)
    receive(conn, "MIC", "10", lot="A")
    receive(conn, "MIC", "10", lot="B", location="LINE")
    reserve(conn, "MIC", "4", lot="A")
    reserve(conn, "MIC", "3", lot="B", ref="SO-2")
    (row,) = reports.stock(conn, item="MIC")
    assert (row.available, row.reserved, row.free) == (20, 7, 13)
    by_lot = {r.lot: (r.reserved, r.free) for r in reports.stock(conn, by_lot=True)}
    assert by_lot == {"A": (4, 6), "B": (3, 7)}
    (line,) = reports.stock(conn, location="LINE")
    assert (line.reserved, line.free) == (3, 7)
    (past,) = reports.stock(conn, as_of=day(0))
    assert (past.reserved, past.free) == (0, 20)


def test_a_location_may_not_look_like_an_order_place(conn: sqlite3.Connection) -> None:
    with pytest.raises(InvalidInput, match="order-12 is kept for production orders"):
        locations.add(conn, "order-12")
    assert locations.add(conn, "ORDER-DESK").code == "ORDER-DESK"


# -- property: free never below zero --------------------------------------------------------


@dataclass(frozen=True)
class Op:
    kind: str  # receive | reserve | cancel | take
    item: str
    qty: int
    lot: str | None = None
    location: str = "STORES"
    index: int = 0


ITEMS = {"MIC": ["A", "B"], "CAP": [None]}


@st.composite
def operations(draw: st.DrawFn) -> Op:
    kind = draw(st.sampled_from(["receive", "reserve", "reserve", "cancel", "take"]))
    code = draw(st.sampled_from(sorted(ITEMS)))
    lot = draw(st.sampled_from(ITEMS[code]))
    return Op(
        kind,
        code,
        draw(st.integers(1, 12)),
        lot if kind != "reserve" or draw(st.booleans()) else None,
        draw(st.sampled_from(["STORES", "LINE"])),
        draw(st.integers(0, 20)),
    )


def apply(conn: sqlite3.Connection, op: Op) -> None:
    with dbmod.transaction(conn):
        if op.kind == "receive":
            ops.receive(
                conn, item=op.item, qty=str(op.qty), user="t", lot=op.lot, location=op.location
            )
        elif op.kind == "reserve":
            reservations.reserve(
                conn, item=op.item, qty=str(op.qty), ref=f"R{op.index}", user="t", lot=op.lot
            )
        elif op.kind == "cancel":
            ids = [r.id for r in reservations.list_reservations(conn)]
            if ids:
                reservations.cancel(conn, reservation_id=ids[op.index % len(ids)])
        else:
            ops.adjust(
                conn, item=op.item, qty=str(op.qty), direction="remove", reason="p", user="t",
                lot=op.lot, location=op.location,
            )  # fmt: skip


def assert_free_never_negative(conn: sqlite3.Connection) -> None:
    for code in ITEMS:
        for s in reservations.available_stock(conn, items.get(conn, code)):
            assert s.free >= 0 and s.reserved <= s.available, (code, s)
    rows = conn.execute(
        "SELECT r.item_id, r.location_id, r.lot_id, sum(r.remaining), "
        "  (SELECT ifnull(sum(b.qty), 0) FROM balance AS b WHERE b.item_id = r.item_id "
        "   AND b.location_id = r.location_id AND b.lot_id IS r.lot_id "
        "   AND b.status = 'available') "
        "FROM reservation AS r WHERE r.state = 'open' GROUP BY 1, 2, 3"
    )
    for *_key, held, available in rows:
        assert held <= available
    for row in reports.stock(conn, by_lot=True):
        assert row.free >= 0 and row.reserved <= row.available
    assert checks.run(conn) == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(operations(), min_size=1, max_size=25))
def test_random_receipts_reservations_and_cancellations_keep_free_stock(
    sequence: list[Op],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "prop.db")
        try:
            setup(conn)
            for op in sequence:
                before = "\n".join(conn.iterdump())
                try:
                    apply(conn, op)
                except MfgError:
                    assert "\n".join(conn.iterdump()) == before, op
                assert_free_never_negative(conn)
        finally:
            conn.close()
