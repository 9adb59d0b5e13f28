"""Release of finished goods: sign-offs, the inspection criterion, release only when every
criterion is met, and the lots waiting."""

from __future__ import annotations

import sqlite3

import pytest

from mfgctl import db as dbmod
from mfgctl.domain import checks, items, ledger, locations, quality, release
from mfgctl.domain import stock as ops
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

FINISHED = {"type": "finished", "unit": "pcs", "make_or_buy": "make"}


@pytest.fixture
def shop(conn: sqlite3.Connection) -> sqlite3.Connection:
    with dbmod.transaction(conn):
        criteria = ["inspection", "labeling", "packaging"]
        items.add(conn, "FG-1", {**FINISHED, "name": "Headset", "tracking": "lot",
                                 "release_criteria": criteria})  # fmt: skip
        items.add(conn, "FG-2", {**FINISHED, "name": "Dock", "tracking": "serial",
                                 "release_criteria": ["documentation"]})  # fmt: skip
        items.add(conn, "FG-3", {**FINISHED, "name": "Cable", "tracking": "lot"})
        locations.add(conn, "QC")
        for location, qty in (("STORES", "10"), ("QC", "4")):
            ops.adjust(conn, item="FG-1", qty=qty, direction="add", reason="output", lot="F1",
                       location=location, status="awaiting_release", user="t")  # fmt: skip
    return conn


def tx(conn: sqlite3.Connection, fn, **kw):  # type: ignore[no-untyped-def]
    with dbmod.transaction(conn):
        return fn(conn, user="qa", **kw)


def status_of(conn: sqlite3.Connection, item: str, lot: str, location: str) -> dict[str, int]:
    it = items.get(conn, item)
    lot_row = ledger.get_lot(conn, it, lot)
    return {
        s: int(ledger.balance(conn, it, ledger.real_place(conn, location, s), lot_row))
        for s in ledger.STATUSES
        if ledger.balance(conn, it, ledger.real_place(conn, location, s), lot_row)
    }


def test_release_needs_every_criterion_and_lists_the_unmet(shop: sqlite3.Connection) -> None:
    with pytest.raises(RuleViolation) as e:
        tx(shop, release.release, lot="F1")
    assert str(e.value).startswith(
        "FG-1 lot F1 cannot be released: criteria not met: inspection, labeling, packaging;"
    )
    tx(shop, release.sign_off, lot="F1", criterion="labeling", note="labels checked")
    with pytest.raises(RuleViolation, match=r"not met: inspection, packaging \(met: labeling\)"):
        tx(shop, release.release, lot="F1")
    assert status_of(shop, "FG-1", "F1", "STORES") == {"awaiting_release": 10}


def test_a_signed_lot_with_a_pass_is_released_at_every_location(shop: sqlite3.Connection) -> None:
    tx(shop, release.sign_off, lot="F1", criterion="labeling")
    tx(shop, release.sign_off, lot="f1", criterion="PACKAGING")
    tx(shop, quality.inspect, item="FG-1", lot="F1", decision="pass", location="QC", qty="1")
    moves = tx(shop, release.release, lot="F1")
    assert sorted((m.source, m.target, int(m.qty)) for m in moves) == [
        ("QC/awaiting_release", "QC/available", 4),
        ("STORES/awaiting_release", "STORES/available", 10),
    ]
    assert status_of(shop, "FG-1", "F1", "STORES") == {"available": 10}
    assert checks.run(shop) == []


def test_release_at_one_location(shop: sqlite3.Connection) -> None:
    for c in ("labeling", "packaging"):
        tx(shop, release.sign_off, lot="F1", criterion=c)
    tx(shop, quality.inspect, item="FG-1", lot="F1", decision="pass", location="QC")
    [move] = tx(shop, release.release, lot="F1", location="QC")
    assert move.target == "QC/available"
    assert status_of(shop, "FG-1", "F1", "STORES") == {"awaiting_release": 10}


def test_the_return_of_reworked_units_is_not_a_pass(shop: sqlite3.Connection) -> None:
    tx(shop, quality.inspect, item="FG-1", lot="F1", decision="rework", location="QC")
    tx(shop, quality.inspect, item="FG-1", lot="F1", decision="reworked", location="QC")
    _met, unmet = release.met_criteria(shop, items.get(shop, "FG-1"), _lot(shop, "FG-1", "F1"))
    assert "inspection" in unmet


def _lot(conn: sqlite3.Connection, item: str, code: str) -> ledger.Lot:
    return ledger.get_lot(conn, items.get(conn, item), code)


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        ("colour", r"FG-1 has no release criterion 'colour' \(its criteria: inspection, labeling, "
                   r"packaging\)"),
        ("inspection", "met by a recorded pass inspection, not a sign-off"),
    ],
)  # fmt: skip
def test_sign_off_refusals(shop: sqlite3.Connection, criterion: str, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        tx(shop, release.sign_off, lot="F1", criterion=criterion)


def test_signing_twice_is_refused(shop: sqlite3.Connection) -> None:
    tx(shop, release.sign_off, lot="F1", criterion="labeling")
    with pytest.raises(
        RuleViolation, match="criterion labeling of FG-1 lot F1 was already signed off by qa"
    ):
        tx(shop, release.sign_off, lot="F1", criterion="Labeling")


def test_an_item_without_criteria_has_nothing_to_sign(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-3", qty="2", direction="add", reason="output", lot="C1",
                   status="awaiting_release", user="t")  # fmt: skip
    with pytest.raises(RuleViolation, match="FG-3 has no release criteria"):
        tx(shop, release.sign_off, lot="C1", criterion="labeling")
    [move] = tx(shop, release.release, lot="C1")
    assert move.target == "STORES/available"


def test_a_lot_code_of_several_items_needs_the_item(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-3", qty="2", direction="add", reason="output", lot="F1",
                   status="awaiting_release", user="t")  # fmt: skip
    with pytest.raises(
        InvalidInput, match=r"lot F1 exists for several items \(FG-1, FG-3\): give --item"
    ):
        tx(shop, release.release, lot="F1")
    [move] = tx(shop, release.release, lot="F1", item="FG-3")
    assert move.item == "FG-3"


def test_unknown_lots(shop: sqlite3.Connection) -> None:
    with pytest.raises(NotFound, match="no lot or serial 'NOPE'"):
        tx(shop, release.release, lot="NOPE")
    with pytest.raises(NotFound, match="FG-3 has no lot 'F1'"):
        tx(shop, release.sign_off, lot="F1", item="FG-3", criterion="x")


def test_nothing_awaiting_release_names_where_the_lot_is(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-3", qty="2", direction="add", reason="output", lot="C2", user="t")
    with pytest.raises(
        RuleViolation,
        match=r"FG-3 lot C2 has nothing awaiting release: it is available at STORES \(2 pcs\)",
    ):
        tx(shop, release.release, lot="C2")


def test_a_serial_is_released_like_a_lot(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        ops.adjust(shop, item="FG-2", qty="1", direction="add", reason="output", lot="SN-1",
                   status="awaiting_release", user="t")  # fmt: skip
    tx(shop, release.sign_off, lot="SN-1", criterion="documentation")
    [move] = tx(shop, release.release, lot="SN-1")
    assert move.target == "STORES/available"


def test_waiting_lists_each_lot_with_met_and_unmet(shop: sqlite3.Connection) -> None:
    tx(shop, release.sign_off, lot="F1", criterion="packaging")
    [w] = release.waiting(shop)
    assert (w.item, w.lot, int(w.qty), w.locations) == ("FG-1", "F1", 14, ("QC", "STORES"))
    assert (w.met, w.unmet, w.releasable) == (("packaging",), ("inspection", "labeling"), False)
    assert release.waiting(shop, item="FG-3") == []
