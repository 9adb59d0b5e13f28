"""The ledger: double entry, append-only moves, balances kept with every move, and a
property test that random receipts, moves, counts and adjustments never break it."""

from __future__ import annotations

import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import checks, items, ledger, locations, reports
from mfgctl.domain import stock as ops
from mfgctl.errors import InvalidInput, MfgError, RuleViolation


def add_items(conn: sqlite3.Connection) -> None:
    buy = {"type": "component", "unit": "pcs", "make_or_buy": "buy"}
    with dbmod.transaction(conn):
        items.add(conn, "SOLDER", {**buy, "name": "Solder", "type": "raw", "unit": "kg"})
        items.add(conn, "CAP-10", {**buy, "name": "Capacitor", "inspect_on_receipt": True})
        items.add(conn, "PCB-1", {**buy, "name": "Board", "tracking": "lot"})
        locations.add(conn, "QC")


def receive(conn: sqlite3.Connection, item: str, qty: str, **kw: object) -> list[ledger.Move]:
    with dbmod.transaction(conn):
        return ops.receive(conn, item=item, qty=qty, user="t", **kw)  # type: ignore[arg-type]


# -- append-only --------------------------------------------------------------------------


def test_the_database_refuses_to_update_a_move(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "5")
    with pytest.raises(sqlite3.IntegrityError, match="ledger moves are immutable"):
        conn.execute("UPDATE move SET qty = 1")
    assert conn.execute("SELECT qty FROM move").fetchone()[0] == 5_000_000


def test_the_database_refuses_to_delete_a_move(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "5")
    with pytest.raises(sqlite3.IntegrityError, match="post a reversing move instead"):
        conn.execute("DELETE FROM move")
    assert conn.execute("SELECT count(*) FROM move").fetchone()[0] == 1


def test_the_database_refuses_negative_stock_at_a_real_place(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "5")
    with pytest.raises(sqlite3.IntegrityError, match="cannot go negative"):
        conn.execute("UPDATE balance SET qty = -1 WHERE status IS NOT NULL")


# -- double entry -------------------------------------------------------------------------


def test_a_receipt_is_taken_from_the_supplier(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "0.1")
    receive(conn, "SOLDER", "0.2")
    solder = items.get(conn, "SOLDER")
    assert ledger.balance(conn, solder, ledger.place(conn, "STORES")) == Decimal("0.3")
    assert ledger.balance(conn, solder, ledger.virtual(conn, "SUPPLIER")) == Decimal("-0.3")
    assert checks.run(conn) == []


def test_an_inspected_item_lands_in_pending_inspection(conn: sqlite3.Connection) -> None:
    add_items(conn)
    [move] = receive(conn, "CAP-10", "100")
    assert move.target == "STORES/pending_inspection"
    cap = items.get(conn, "CAP-10")
    assert ledger.balance(conn, cap, ledger.place(conn, "STORES", "available")) == 0
    assert ledger.balance(conn, cap, ledger.place(conn, "STORES", "pending_inspection")) == 100


def test_post_refuses_what_is_not_there(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "1")
    solder = items.get(conn, "SOLDER")
    with pytest.raises(RuleViolation, match="need 2 kg, have 1"), dbmod.transaction(conn):
        ledger.post(
            conn,
            item=solder,
            qty=Decimal(2),
            source=ledger.place(conn, "STORES"),
            target=ledger.virtual(conn, "SCRAP"),
            kind="scrap",
            user="t",
        )


def test_post_needs_the_lot_of_a_tracked_item(conn: sqlite3.Connection) -> None:
    add_items(conn)
    pcb = items.get(conn, "PCB-1")
    with pytest.raises(InvalidInput, match="PCB-1 is lot-tracked: give the lot"):
        ledger.post(
            conn,
            item=pcb,
            qty=Decimal(1),
            source=ledger.virtual(conn, "SUPPLIER"),
            target=ledger.place(conn, "STORES"),
            kind="receipt",
            user="t",
        )


def test_the_future_is_refused_and_the_past_is_accepted() -> None:
    with pytest.raises(InvalidInput, match=f"--date {day(1)} is in the future"):
        ledger.effective(day(1))
    assert ledger.effective(day(-1)) < ledger.effective(None)


def test_balance_at_and_lowest_from_read_the_ledger_by_date(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "5", when=day(-10))
    with dbmod.transaction(conn):
        ops.adjust(
            conn, item="SOLDER", qty="4", direction="remove", reason="x", user="t", when=day(-2)
        )
    receive(conn, "SOLDER", "3")
    solder, stores = items.get(conn, "SOLDER"), ledger.place(conn, "STORES")
    at = ledger.effective(day(-5))
    assert ledger.balance_at(conn, solder, stores, at) == 5
    assert ledger.lowest_from(conn, solder, stores, at) == 1
    assert ledger.balance(conn, solder, stores) == 4


def test_checks_find_a_balance_that_drifted_from_the_ledger(conn: sqlite3.Connection) -> None:
    add_items(conn)
    receive(conn, "SOLDER", "5")
    conn.execute("UPDATE balance SET qty = qty + 1000000 WHERE status = 'available'")
    found = {(p.check, p.message) for p in checks.run(conn)}
    assert found == {
        ("zero_sum", "balances sum to 1, not 0"),
        ("balance", "balance table says 6, ledger says 5"),
    }


# -- the property: random operations never break the ledger -------------------------------

ITEMS = ("SOLDER", "CAP-10", "PCB-1")
PLACES = ("STORES", "QC")
BAD_QTY = ("0", "-1", "NaN", "Infinity", "1e2", "0.0000001", "abc")


@dataclass(frozen=True)
class Op:
    verb: str  # receive, move, count, add, remove
    item: str
    qty: str
    where: str
    to: str
    lot: str | None
    days_ago: int | None


good_qty = st.one_of(
    st.integers(1, 10).map(str),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(30), places=3).map(str),
)


@st.composite
def operations(draw: st.DrawFn) -> Op:
    item = draw(st.sampled_from(ITEMS))
    lot = draw(st.sampled_from(("L1", "L2"))) if item == "PCB-1" else None
    if draw(st.integers(0, 9)) == 0:  # now and then break the lot rule
        lot = None if item == "PCB-1" else "L1"
    return Op(
        verb=draw(st.sampled_from(("receive", "receive", "move", "count", "add", "remove"))),
        item=item,
        qty=draw(st.one_of(good_qty, good_qty, good_qty, st.sampled_from(BAD_QTY))),
        where=draw(st.sampled_from(PLACES)),
        to=draw(st.sampled_from(PLACES)),
        lot=lot,
        days_ago=draw(st.one_of(st.none(), st.integers(1, 20))),
    )


Key = tuple[str, str, str, str | None]  # item, location, status, lot


def run(conn: sqlite3.Connection, op: Op) -> None:
    """One operation through the domain, in its own transaction (as a command runs)."""
    when = day(-op.days_ago) if op.days_ago is not None else None
    common = {"item": op.item, "qty": op.qty, "user": "prop", "lot": op.lot}
    with dbmod.transaction(conn):
        if op.verb == "receive":
            ops.receive(conn, location=op.where, when=when, **common)  # type: ignore[arg-type]
        elif op.verb == "move":
            ops.transfer(conn, source=op.where, target=op.to, when=when, **common)  # type: ignore[arg-type]
        elif op.verb == "count":
            ops.count(conn, location=op.where, **common)  # type: ignore[arg-type]
        else:
            ops.adjust(
                conn, direction=op.verb, reason="prop", location=op.where, when=when, **common
            )  # type: ignore[arg-type]


def expected(model: dict[Key, Decimal], lots: set[tuple[str, str]], op: Op) -> bool | None:
    """Whether the operation must succeed (True), must be refused (False), or may go
    either way (None: a back-dated removal depends on the stock of that day)."""
    try:
        qty = Decimal(op.qty)
    except ArithmeticError:
        return False
    if not qty.is_finite() or "e" in op.qty.lower() or qty.as_tuple().exponent < -6:  # type: ignore[operator]
        return False
    if qty < 0 or (qty == 0 and op.verb != "count"):
        return False
    tracked = op.item == "PCB-1"
    if tracked != (op.lot is not None):
        return False
    here: Key = (op.item, op.where, "available", op.lot)
    if op.verb == "receive" or op.verb == "add":
        return True
    if op.verb == "count":
        return not tracked or qty > 0 or (op.item, op.lot) in lots  # type: ignore[comparison-overlap]
    if op.verb == "move" and op.where == op.to:
        return False
    if op.verb == "move" and tracked and (op.item, op.lot) not in lots:
        return False
    if model[here] < qty:
        return False
    return True if op.days_ago is None else None


def apply(model: dict[Key, Decimal], lots: set[tuple[str, str]], op: Op) -> None:
    """What a successful operation does to the balances."""
    qty = Decimal(op.qty)
    status = "pending_inspection" if op.item == "CAP-10" and op.verb == "receive" else "available"
    here: Key = (op.item, op.where, status, op.lot)
    if op.verb in ("receive", "add"):
        model[here] += qty
    elif op.verb == "remove":
        model[here] -= qty
    elif op.verb == "move":
        model[here] -= qty
        model[(op.item, op.to, "available", op.lot)] += qty
    else:
        model[here] = qty
    if op.lot is not None and (op.verb != "count" or qty > 0):
        lots.add((op.item, op.lot))


def real_balances(conn: sqlite3.Connection) -> dict[Key, Decimal]:
    rows = conn.execute(
        "SELECT i.code, l.code, b.status, lt.code, b.qty FROM balance AS b "
        "JOIN item AS i ON i.id = b.item_id JOIN location AS l ON l.id = b.location_id "
        "LEFT JOIN lot AS lt ON lt.id = b.lot_id WHERE b.status IS NOT NULL AND b.qty <> 0"
    )
    return {(r[0], r[1], r[2], r[3]): Decimal(r[4]) / 1_000_000 for r in rows}


def lowest_real_balance_ever(conn: sqlite3.Connection) -> int:
    """Replay the ledger in effective order: the lowest balance any real place ever had
    (back-dated moves included), in micro-units."""
    running: dict[tuple, int] = defaultdict(int)
    low = 0
    for item, lot, qty, src, src_status, dst, dst_status in conn.execute(
        "SELECT item_id, lot_id, qty, from_location_id, from_status, to_location_id, to_status "
        "FROM move ORDER BY effective_at, seq"
    ):
        running[(item, lot, dst, dst_status)] += qty
        running[(item, lot, src, src_status)] -= qty
        if src_status is not None:
            low = min(low, running[(item, lot, src, src_status)])
    return low


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(operations(), min_size=1, max_size=30))
def test_random_operations_keep_the_ledger_whole(sequence: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "prop.db")
        try:
            add_items(conn)
            model: dict[Key, Decimal] = defaultdict(Decimal)
            lots: set[tuple[str, str]] = set()
            for op in sequence:
                must = expected(model, lots, op)
                before = "\n".join(conn.iterdump())
                try:
                    run(conn, op)
                except MfgError as e:
                    assert must is not True, f"{op} was refused: {e}"
                    assert "\n".join(conn.iterdump()) == before, f"refused {op} changed the db"
                else:
                    assert must is not False, f"{op} should have been refused"
                    apply(model, lots, op)
                assert checks.run(conn) == []
                assert real_balances(conn) == {k: v for k, v in model.items() if v != 0}
            assert lowest_real_balance_ever(conn) >= 0
            for offset in range(-21, 1):
                for row in reports.stock(conn, as_of=day(offset)):
                    assert min(row.physical, row.available, row.pending_inspection) >= 0
        finally:
            conn.close()
