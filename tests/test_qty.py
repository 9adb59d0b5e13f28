"""Exact quantities: parsing what a user types, storing micro-units, converting units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import qty as q
from mfgctl.errors import InvalidInput


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("12", "12"),
        ("0.35", "0.35"),
        (" 7 ", "7"),
        (".5", "0.5"),
        ("+3", "3"),
        ("0.000001", "1E-6"),
    ],
)
def test_plain_decimals_are_read_exactly(typed: str, value: str) -> None:
    assert q.parse_qty(typed) == Decimal(value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("NaN", "not a plain decimal number"),
        ("Infinity", "not a plain decimal number"),
        ("-inf", "not a plain decimal number"),
        ("1e3", "not a plain decimal number"),
        ("1E-2", "not a plain decimal number"),
        ("0x10", "not a plain decimal number"),
        ("1_000", "not a plain decimal number"),
        ("1,5", "not a plain decimal number"),
        ("", "not a plain decimal number"),
        ("\uff11\uff12", "not a plain decimal number"),  # full-width digits 12
        ("0.0000001", "more than 6 decimal places"),
        ("1000000000000", "too large"),
        ("-1", "must not be negative"),
        ("0", "must be greater than zero"),
        ("0.000000", "must be greater than zero"),
    ],
)
def test_bad_quantities_are_refused_with_a_reason(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        q.parse_qty(typed)


def test_zero_is_allowed_where_asked_for() -> None:
    assert q.parse_qty("0", allow_zero=True) == 0


def test_message_names_what_was_parsed() -> None:
    with pytest.raises(InvalidInput, match="counted quantity 'abc'"):
        q.parse_qty("abc", what="counted quantity")


def test_yaml_floats_use_the_text_the_user_wrote() -> None:
    assert q.parse_decimal(0.35) == Decimal("0.35")
    with pytest.raises(InvalidInput):
        q.parse_decimal(float("nan"))
    with pytest.raises(InvalidInput):
        q.parse_decimal(1e20)
    with pytest.raises(InvalidInput, match="not true"):
        q.parse_decimal(True)


def test_point_one_plus_point_two_is_exactly_point_three_in_micro_units() -> None:
    total = q.to_micro(q.parse_qty("0.1")) + q.to_micro(q.parse_qty("0.2"))
    assert q.from_micro(total) == Decimal("0.3")
    assert q.fmt(q.from_micro(total)) == "0.3"


def test_a_converted_quantity_too_large_for_the_database_is_refused() -> None:
    big = q.parse_qty("999999999999") * 5000
    with pytest.raises(InvalidInput, match="too large"):
        q.to_micro(big)


@pytest.mark.parametrize(
    ("unit", "base", "own", "factor"),
    [
        ("reel", "pcs", {"reel": Decimal(5000)}, "5000"),
        ("REEL", "pcs", {"reel": Decimal(5000)}, "5000"),
        ("g", "kg", {}, "0.001"),
        ("kg", "g", {}, "1000"),
        ("mm", "m", {}, "0.001"),
        ("l", "ml", {}, "1000"),
        ("kg", "kg", {}, "1"),
    ],
)
def test_units_convert_exactly(unit: str, base: str, own: dict, factor: str) -> None:
    assert q.unit_factor(unit, base, own) == Decimal(factor)


@pytest.mark.parametrize(("unit", "base"), [("kg", "pcs"), ("m", "kg"), ("reel", "pcs")])
def test_units_of_different_kinds_do_not_convert(unit: str, base: str) -> None:
    assert q.unit_factor(unit, base, {}) is None


def test_fmt_never_shows_an_exponent_or_trailing_zeros() -> None:
    assert q.fmt(Decimal("1E+2")) == "100"
    assert q.fmt(Decimal("0.3500")) == "0.35"
    assert q.fmt(Decimal("-0")) == "0"


@settings(max_examples=50)
@given(st.decimals(min_value=-(10**11), max_value=10**11, places=6, allow_nan=False))
def test_micro_units_round_trip_exactly(value: Decimal) -> None:
    assert q.from_micro(q.to_micro(value)) == value
    assert q.parse_decimal(q.fmt(value)) == value
