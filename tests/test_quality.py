"""Quality decisions as a small ledger story plus assertions: each decision moves stock
between statuses at one location and leaves a record; the wrong stock is refused."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from mfgctl import db as dbmod
from mfgctl.domain import checks, items, ledger, locations, quality
from mfgctl.domain import stock as ops
from mfgctl.errors import InvalidInput, NotFound, RuleViolation


@pytest.fixture
def shop(conn: sqlite3.Connection) -> sqlite3.Connection:
    buy = {"type": "component", "unit": "pcs", "make_or_buy": "buy"}
    with dbmod.transaction(conn):
        items.add(
            conn, "MIC-100", {**buy, "name": "Mic", "tracking": "lot", "inspect_on_receipt": True}
        )
        items.add(conn, "CAP-10", {**buy, "name": "Capacitor", "inspect_on_receipt": True})
        items.add(
            conn,
            "BT-7",
            {**buy, "name": "Module", "tracking": "serial", "inspect_on_receipt": True},
        )
        items.add(
            conn,
            "FG-1",
            {"name": "Finished", "type": "finished", "unit": "pcs", "make_or_buy": "make",
             "tracking": "lot", "release_criteria": ["inspection", "labeling"]},
        )  # fmt: skip
        locations.add(conn, "QC")
        ops.receive(conn, item="MIC-100", qty="500", lot="M1", location="QC", user="t")
    return conn


def decide(
    conn: sqlite3.Connection, item: str, decision: str, **kw: object
) -> list[quality.Inspection]:
    with dbmod.transaction(conn):
        return quality.inspect(conn, item=item, decision=decision, user="qa", **kw)  # type: ignore[arg-type]


def bal(
    conn: sqlite3.Connection, item: str, status: str, location: str = "QC", lot: str | None = "M1"
) -> Decimal:
    it = items.get(conn, item)
    lot_row = ledger.get_lot(conn, it, lot) if lot else None
    return ledger.balance(conn, it, ledger.real_place(conn, location, status), lot_row)


def test_pass_moves_all_pending_stock_to_available_with_a_record(shop: sqlite3.Connection) -> None:
    [rec] = decide(shop, "MIC-100", "pass", lot="M1")
    assert (rec.qty, rec.from_status, rec.to_status, rec.location) == (
        500,
        "pending_inspection",
        "available",
        "QC",
    )
    assert bal(shop, "MIC-100", "available") == 500
    assert bal(shop, "MIC-100", "pending_inspection") == 0
    move = shop.execute("SELECT kind, qty FROM move WHERE seq = ?", (rec.move,)).fetchone()
    assert tuple(move) == ("inspection", 500_000_000)
    assert checks.run(shop) == []


def test_partial_quantities(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "pass", lot="M1", qty="120.5")
    decide(shop, "MIC-100", "fail", lot="M1", qty="30")
    assert bal(shop, "MIC-100", "available") == Decimal("120.5")
    assert bal(shop, "MIC-100", "rejected") == 30
    assert bal(shop, "MIC-100", "pending_inspection") == Decimal("349.5")


def test_measurements_are_kept_exactly(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "pass", lot="M1", measurements=["sens=-42.50", "thd=0.1", "visual=ok"])
    stored = shop.execute("SELECT measurements FROM inspection").fetchone()[0]
    assert stored == '{"sens": -42.50, "thd": 0.1, "visual": "ok"}'
    [rec] = quality.records(shop)
    assert rec.measurements == {"sens": Decimal("-42.50"), "thd": Decimal("0.1"), "visual": "ok"}
    assert str(rec.measurements["sens"]) == "-42.50"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["sens"], "must be NAME=VALUE"),
        (["=3"], "must be NAME=VALUE"),
        (["1x=3"], "must start with a letter"),
        (["a=1", "A=2"], "given twice"),
    ],
)
def test_bad_measurements_are_refused(
    shop: sqlite3.Connection, given: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        decide(shop, "MIC-100", "pass", lot="M1", measurements=given)
    assert bal(shop, "MIC-100", "pending_inspection") == 500


def test_rework_then_reworked_then_pass(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "rework", lot="M1")
    assert bal(shop, "MIC-100", "rework") == 500
    with pytest.raises(RuleViolation, match=r"is rework .*: nothing to pass; .* --reworked first"):
        decide(shop, "MIC-100", "pass", lot="M1")
    with pytest.raises(InvalidInput, match=r"not from rework; .* --reworked first"):
        decide(shop, "MIC-100", "pass", lot="M1", status="rework")
    decide(shop, "MIC-100", "reworked", lot="M1", qty="480")
    assert bal(shop, "MIC-100", "rework") == 20
    assert bal(shop, "MIC-100", "pending_inspection") == 480
    [rec] = decide(shop, "MIC-100", "pass", lot="M1")
    assert (rec.qty, rec.from_status) == (480, "pending_inspection")
    assert bal(shop, "MIC-100", "available") == 480
    decide(shop, "MIC-100", "fail", lot="M1")  # the 20 that could not be reworked
    assert bal(shop, "MIC-100", "rejected") == 20


def test_wrong_from_status_names_where_the_stock_is(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "pass", lot="M1")
    with pytest.raises(RuleViolation) as e:
        decide(shop, "MIC-100", "pass", lot="M1", location="QC")
    assert str(e.value) == (
        "MIC-100 lot M1 at QC is available (500 pcs), not pending_inspection or "
        "awaiting_release: nothing to pass"
    )


def test_hold_and_unblock_return_to_the_status_held_from(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "pass", lot="M1", qty="300")
    decide(shop, "MIC-100", "hold", lot="M1", status="available", qty="100")
    decide(shop, "MIC-100", "hold", lot="M1", status="pending_inspection", qty="50")
    assert bal(shop, "MIC-100", "blocked") == 150
    # The least trusted first: 50 back to pending_inspection, then 30 of the 100 to available.
    recs = decide(shop, "MIC-100", "unblock", lot="M1", qty="80")
    assert [(r.to_status, r.qty) for r in recs] == [("pending_inspection", 50), ("available", 30)]
    decide(shop, "MIC-100", "unblock", lot="M1")
    assert bal(shop, "MIC-100", "available") == 300
    assert bal(shop, "MIC-100", "pending_inspection") == 200
    assert bal(shop, "MIC-100", "blocked") == 0


def test_unblock_without_a_hold_record_goes_back_to_inspection(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(
            shop,
            item="CAP-10",
            qty="7",
            direction="add",
            reason="found",
            status="blocked",
            user="t",
        )
    [rec] = decide(shop, "CAP-10", "unblock")
    assert (rec.from_status, rec.to_status, rec.qty) == ("blocked", "pending_inspection", 7)


def test_pass_of_an_item_with_release_criteria_goes_to_awaiting_release(
    shop: sqlite3.Connection,
) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-1", qty="10", direction="add", reason="output", lot="F1",
                   status="pending_inspection", user="t")  # fmt: skip
    decide(shop, "FG-1", "pass", lot="F1", location="STORES")
    assert bal(shop, "FG-1", "awaiting_release", "STORES", "F1") == 10
    assert bal(shop, "FG-1", "available", "STORES", "F1") == 0


def test_pass_of_awaiting_release_stock_records_without_a_move(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-1", qty="10", direction="add", reason="output", lot="F1",
                   status="awaiting_release", user="t")  # fmt: skip
    moves = ledger.all_moves(shop)
    [rec] = decide(shop, "FG-1", "pass", lot="F1")
    assert (rec.from_status, rec.to_status, rec.move) == (
        "awaiting_release",
        "awaiting_release",
        None,
    )
    assert ledger.all_moves(shop) == moves
    assert quality.passed(
        shop, items.get(shop, "FG-1"), ledger.get_lot(shop, items.get(shop, "FG-1"), "F1")
    )


def test_tracked_items_need_their_lot_or_serial(shop: sqlite3.Connection) -> None:
    with pytest.raises(InvalidInput, match="MIC-100 is lot-tracked: give --lot"):
        decide(shop, "MIC-100", "pass")
    with pytest.raises(InvalidInput, match="BT-7 is serial-tracked: give --serial"):
        decide(shop, "BT-7", "pass")
    with pytest.raises(InvalidInput, match="CAP-10 is not lot- or serial-tracked"):
        decide(shop, "CAP-10", "pass", lot="X")
    with pytest.raises(NotFound, match="MIC-100 has no lot 'NOPE'"):
        decide(shop, "MIC-100", "pass", lot="NOPE")


def test_a_serial_is_inspected_by_its_number(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.receive(shop, item="BT-7", qty="2", serials=["S1", "S2"], user="t")
    [rec] = decide(shop, "BT-7", "fail", serial="S2", note="no RF")
    assert (rec.lot, rec.to_status, rec.note) == ("S2", "rejected", "no RF")
    assert bal(shop, "BT-7", "rejected", "STORES", "S2") == 1
    assert bal(shop, "BT-7", "pending_inspection", "STORES", "S1") == 1


def test_more_than_there_is_is_refused(shop: sqlite3.Connection) -> None:
    with pytest.raises(
        RuleViolation, match="only 500 pcs of MIC-100 lot M1 at QC are pending_inspection, not 501"
    ):
        decide(shop, "MIC-100", "pass", lot="M1", qty="501")


def test_stock_at_several_locations_needs_a_location(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.receive(shop, item="MIC-100", qty="5", lot="M1", user="t")
    with pytest.raises(
        InvalidInput, match=r"at several locations: QC .*, STORES .*; give --location"
    ):
        decide(shop, "MIC-100", "pass", lot="M1")
    decide(shop, "MIC-100", "pass", lot="M1", location="STORES")
    assert bal(shop, "MIC-100", "available", "STORES") == 5


def test_a_status_the_decision_does_not_take_from_is_refused(shop: sqlite3.Connection) -> None:
    with pytest.raises(
        InvalidInput,
        match="--hold takes stock from available or pending_inspection or awaiting_release, "
        "not from rejected",
    ):
        decide(shop, "MIC-100", "hold", lot="M1", status="rejected")


def test_records_filter_by_item_lot_and_date(shop: sqlite3.Connection) -> None:
    decide(shop, "MIC-100", "pass", lot="M1", qty="1")
    decide(shop, "MIC-100", "fail", lot="M1", qty="2")
    assert [r.result for r in quality.records(shop, item="MIC-100", lot="m1")] == ["pass", "fail"]
    assert quality.records(shop, item="CAP-10") == []
    assert quality.records(shop, since="2999-01-01") == []


def test_holding_reserved_stock_is_refused_by_the_ledger(shop: sqlite3.Connection) -> None:
    from mfgctl.domain import reservations

    decide(shop, "MIC-100", "pass", lot="M1")
    with dbmod.transaction(shop):
        reservations.reserve(shop, item="MIC-100", qty="400", ref="SO-1", user="t")
    before = ledger.all_moves(shop)
    with pytest.raises(RuleViolation, match="reserved for SO-1"):
        decide(shop, "MIC-100", "hold", lot="M1")
    assert ledger.all_moves(shop) == before
    assert quality.records(shop, item="MIC-100")[-1].result == "pass"
    decide(shop, "MIC-100", "hold", lot="M1", qty="100")  # the free part may be held
    assert bal(shop, "MIC-100", "blocked") == 100
