"""The import's "the BOM changed" (``Revision.same_content``) and ``bom diff``
(``bom.compare``) are one comparison: a revision is stored as new exactly when
``bom diff`` shows a difference (tester t16 #3)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl.domain import bomcheck
from mfgctl.domain.bom import Line, Revision

lines = st.builds(
    Line,
    item=st.sampled_from(["P1", "p1", "P2", "P3"]),
    qty=st.sampled_from([Decimal(1), Decimal("1.0"), Decimal(2)]),
    unit=st.sampled_from(["pcs", "PCS", "box"]),
    scrap_pct=st.sampled_from([Decimal(0), Decimal(5)]),
    substitutes=st.sampled_from([(), ("S1",), ("s1",), ("S1", "S2"), ("S2", "S1")]),
    refdes=st.sampled_from([None, "", "R1"]),
)


def revision(ls: list[Line], output: Decimal = Decimal(1)) -> Revision:
    return Revision(item="FG", revision="A", output_qty=output, lines=tuple(ls))


@settings(max_examples=300)
@given(
    old=st.lists(lines, min_size=1, max_size=5),
    new=st.lists(lines, min_size=1, max_size=5),
    outputs=st.sampled_from([(Decimal(1), Decimal(1)), (Decimal(1), Decimal(2))]),
)
def test_same_content_is_exactly_no_difference_in_bom_diff(
    old: list[Line], new: list[Line], outputs: tuple[Decimal, Decimal]
) -> None:
    a, b = revision(old, outputs[0]), revision(new, outputs[1])
    assert a.same_content(b) == (bomcheck.compare(a, b) == [])
    assert a.same_content(b) == b.same_content(a)


@settings(max_examples=200)
@given(ls=st.lists(lines, min_size=1, max_size=6), data=st.data())
def test_any_order_of_the_same_lines_is_the_same_bom(ls: list[Line], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(ls))
    a, b = revision(ls), revision(list(shuffled))
    assert a.same_content(b)
    assert bomcheck.compare(a, b) == []
