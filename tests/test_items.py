"""Items in the domain: validating fields, units, storing and reading back."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from mfgctl import db as dbmod
from mfgctl.domain import items
from mfgctl.errors import InvalidInput, NotFound, RuleViolation

MIC = {"name": "Microphone", "type": "component", "unit": "pcs", "make_or_buy": "buy"}


def test_build_trims_the_code_and_keeps_units_exact() -> None:
    item = items.build("  MIC-100 ", {**MIC, "units": {"reel": "5000", "tray": 0.5}})
    assert item.code == "MIC-100"
    assert item.units == {"reel": Decimal(5000), "tray": Decimal("0.5")}
    assert item.factor("REEL") == 5000
    assert item.to_base(Decimal(2), "reel") == Decimal(10000)


def test_a_kg_item_takes_grams() -> None:
    solder = items.build("SOLDER", {**MIC, "type": "raw", "unit": "kg"})
    assert solder.to_base(Decimal(250), "g") == Decimal("0.25")


def test_a_unit_that_cannot_convert_names_the_item_and_its_units() -> None:
    item = items.build("MIC-100", {**MIC, "units": {"reel": 5000}})
    with pytest.raises(
        InvalidInput, match=r"unit 'kg' cannot convert to MIC-100's base unit 'pcs'"
    ):
        item.factor("kg")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"colour": "red"}, "unknown item field 'colour'"),
        ({"units": {"reel": "0"}}, "units.reel factor must be greater than zero"),
        ({"units": {"reel": 5, "REEL": 6}}, "unit 'REEL' given twice"),
        ({"units": {"reel": "0.0000001"}}, "more than 6 decimal places"),
        ({"inspect_on_receipt": "maybe"}, "inspect_on_receipt must be true or false"),
        ({"lead_time_days": "-3"}, "whole number of days"),
        ({"period_days": "0"}, "period_days must be at least 1 day"),
        ({"release_criteria": "inspection,inspection"}, "'inspection' given twice"),
        ({"method": "make_to_order"}, "method applies to make items only"),
        ({"planning_reviewed": "2026-02-30"}, "is not a date"),
    ],
)
def test_bad_fields_are_refused_by_name(raw: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        items.build("MIC-100", {**MIC, **raw})


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(InvalidInput, match="item X needs type, unit, make_or_buy"):
        items.build("X", {"name": "x"})


def test_add_get_find_round_trip(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        added = items.add(conn, "MIC-100", {**MIC, "units": {"reel": 5000}, "cost": "0.35"})
    got = items.get(conn, " mic-100 ")
    assert got == added
    assert got.cost == Decimal("0.35")
    assert items.find(conn, "NOPE") is None
    with pytest.raises(NotFound, match="unknown item 'MIC-10' \\(did you mean MIC-100\\?\\)"):
        items.get(conn, "MIC-10")


def test_codes_are_unique_ignoring_case_and_spaces(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        items.add(conn, "MIC-100", MIC)
    with pytest.raises(RuleViolation, match="item MIC-100 already exists"), dbmod.transaction(conn):
        items.add(conn, " mic-100 ", MIC)
    assert [i.code for i in items.all_items(conn)] == ["MIC-100"]


def test_to_fields_leaves_out_defaults_and_feeds_back_into_build() -> None:
    item = items.build("MIC-100", {**MIC, "lead_time_days": 14, "safety_stock": "2.5"})
    out = items.to_fields(item)
    assert out == {
        "code": "MIC-100",
        **MIC,
        "lead_time_days": 14,
        "safety_stock": Decimal("2.5"),
    }
    assert items.build(out.pop("code"), out) == item


def test_update_reports_the_changed_fields(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        items.add(conn, "MIC-100", MIC)
        item, changed = items.update(conn, "mic-100", {"name": "Mic v2", "unit": "pcs"})
    assert changed == ["name"]
    assert items.get(conn, "MIC-100").name == "Mic v2" == item.name


def test_deactivated_items_are_refused_where_activity_matters(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        items.add(conn, "MIC-100", MIC)
        items.deactivate(conn, "MIC-100")
    assert items.get(conn, "MIC-100").active is False
    with pytest.raises(RuleViolation, match="MIC-100 is deactivated"):
        items.get(conn, "MIC-100", active=True)


def test_insert_many_stores_what_insert_stores(conn: sqlite3.Connection) -> None:
    new = [
        items.build("MIC-100", {**MIC, "units": {"reel": 5000}}),
        items.build("SOLDER", {**MIC, "type": "raw", "unit": "kg"}),
    ]
    with dbmod.transaction(conn):
        items.add(conn, "CAP-1", MIC)
        stored = items.insert_many(conn, new)
    assert [(i.code, i.id) for i in stored] == [("MIC-100", 2), ("SOLDER", 3)]
    assert items.get(conn, "mic-100") == stored[0]
    assert items.get(conn, "SOLDER") == stored[1]
    assert items.insert_many(conn, []) == []


@pytest.mark.parametrize(
    "codes, message",
    [
        (["NEW-1", "cap-1"], "item CAP-1 already exists"),
        (["NEW-1", "new-1"], "item new-1 is given twice"),
    ],
)
def test_insert_many_refuses_codes_taken_in_any_case(
    conn: sqlite3.Connection, codes: list[str], message: str
) -> None:
    with dbmod.transaction(conn):
        items.add(conn, "CAP-1", MIC)
    with pytest.raises(RuleViolation, match=message), dbmod.transaction(conn):
        items.insert_many(conn, [items.build(c, MIC) for c in codes])
    assert [i.code for i in items.all_items(conn)] == ["CAP-1"]
