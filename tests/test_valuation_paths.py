"""The valuation replay's integer arithmetic and its two ways of telling valued places:
the same numbers as the Decimal method the module documents."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_valuation import textbook

from mfgctl import db as dbmod
from mfgctl.domain import valuation


@given(
    held=st.integers(min_value=1, max_value=10**15),
    average=st.integers(min_value=0, max_value=10**12),
    micro=st.integers(min_value=1, max_value=10**15),
    cost=st.integers(min_value=0, max_value=10**12),
)
def test_integer_average_equals_the_decimal_quotient_quantized(held, average, micro, cost):
    # The Decimal way (quantities and money in units, 60 digits, quantized half-even to a
    # millionth) and the integer way (millionths, one division rounded half-even) agree.
    scale = Decimal(1_000_000)
    with localcontext(prec=valuation.PRECISION):
        exact = (
            (Decimal(held) / scale) * (Decimal(average) / scale)
            + (Decimal(micro) / scale) * (Decimal(cost) / scale)
        ) / (Decimal(held + micro) / scale)
        want = exact.quantize(valuation.MICRO, rounding=ROUND_HALF_EVEN)
    got = valuation._half_even(held * average + micro * cost, held + micro)
    assert Decimal(got) / scale == want


def test_half_even_breaks_ties_to_the_even_millionth():
    assert valuation._half_even(5, 2) == 2  # 2.5 -> 2
    assert valuation._half_even(7, 2) == 4  # 3.5 -> 4
    assert valuation._half_even(11, 4) == 3  # 2.75 -> 3
    assert valuation._half_even(-5, 2) == -2  # -2.5 -> -2


@pytest.mark.parametrize("mask_bits", [62, 0])
def test_both_ways_of_telling_valued_places_give_the_textbook(cli, initdb, monkeypatch, mask_bits):
    # 0: no place id fits the mask, so the replay tests places with IN (SELECT ...), as it
    # does once a shop has more than 61 places (every production order adds one).
    monkeypatch.setattr(valuation, "_MASK_BITS", mask_bits)
    textbook(cli)
    conn = dbmod.connect(initdb)
    try:
        test_to, _ = valuation._valued_test(conn)
    finally:
        conn.close()
    assert ("IN (SELECT" in test_to) == (mask_bits == 0)
    r = cli("report", "valuation", "-f", "json")
    assert r.exit_code == 0, r.stderr
    (row,) = json.loads(r.stdout, parse_float=Decimal)
    # 10 @ 2 = 20; issue 4 -> 6 @ 2 = 12; + 10 @ 3.20 = 32 -> 16 @ 44/16 = 2.75;
    # issue 6 -> 10 @ 2.75 = 27.5; + 5 @ 3.05 = 15.25 -> 15 @ 42.75/15 = 2.85.
    assert (row["qty"], row["average_cost"], row["value"]) == (
        15,
        Decimal("2.85"),
        Decimal("42.75"),
    )
