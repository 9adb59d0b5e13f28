"""BOM domain: saving revisions, explosion, trees, where-used, diff, validate, cycles.

The shop below is small enough to check every number by hand:

    PACK (make)  --10 pcs-->  HD
    HD   (make, rev A, makes 1)
      PCB    1 pcs
      KIT    1 pcs, phantom        KIT (makes 1): SCREW 2 pcs, R1 1 pcs
      SCREW  4 pcs, scrap 5%
      SOLDER 2 g                   (SOLDER is counted in kg)
      BOX    1 pcs, fixed 2 pcs per order
    PCB  (make, makes 10): R1 30 pcs scrap 10%, SOLDER 50 g fixed 100 g, SCREW 20 pcs
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from bom_builders import (
    bom,
    hd_shop,
    item,
    layered_bom_set,
    line,
    mem_item,
    mem_rev,
    mem_structure,
)
from conftest import dump
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import bom as bommod
from mfgctl.domain import bomcheck, bomtree, items
from mfgctl.domain.bomtree import Structure
from mfgctl.errors import InvalidInput, NotFound

D = Decimal


@pytest.fixture
def shop(conn: sqlite3.Connection) -> sqlite3.Connection:
    with dbmod.transaction(conn):
        hd_shop(conn, kit_refdes="R7")
        bom(conn, "PACK", [line("HD", 10)])
    return conn


def totals(rows: list[bomtree.Requirement]) -> dict[str, tuple[Decimal, int]]:
    return {r.item: (r.qty, r.level) for r in rows}


# -- explosion --------------------------------------------------------------------------


def test_explode_hand_checked(shop: sqlite3.Connection) -> None:
    rows = bomtree.explode(shop, "HD", D(100))
    assert totals(rows) == {
        "PCB": (D(100), 1),
        # 100 x 1 + fixed 2 for the one order of HD
        "BOX": (D(102), 1),
        # HD 100 x 4 x 1.05 = 420, KIT (phantom) 100 x 2 = 200, PCB 100/10 x 20 = 200
        "SCREW": (D(820), 2),
        # KIT 100 x 1 = 100, PCB 100/10 x 30 x 1.1 = 330
        "R1": (D(430), 2),
        # HD 100 x 2 g = 0.2 kg; PCB 100/10 x 50 g = 0.5 kg + fixed 100 g = 0.1 kg
        "SOLDER": (D("0.8"), 2),
    }
    assert [r.item for r in rows] == ["BOX", "PCB", "R1", "SCREW", "SOLDER"]
    solder = next(r for r in rows if r.item == "SOLDER")
    assert (solder.unit, solder.type, solder.make_or_buy) == ("kg", "raw", "buy")


def test_output_qty_scrap_fixed_and_grams_for_kilograms(shop: sqlite3.Connection) -> None:
    # PCB makes 10: for 25 boards, R1 = 25/10 x 30 x 1.1, SOLDER = 2.5 x 50 g + 100 g.
    assert totals(bomtree.explode(shop, "PCB", D(25))) == {
        "R1": (D("82.5"), 1),
        "SOLDER": (D("0.225"), 1),
        "SCREW": (D(50), 1),
    }


def test_phantom_is_passed_through_not_required(shop: sqlite3.Connection) -> None:
    rows = totals(bomtree.explode(shop, "HD", D(1)))
    assert "KIT" not in rows
    assert rows["R1"] == (D("4.3"), 2)  # 1 from KIT + 0.1 x 30 x 1.1 from PCB


def test_three_levels_from_the_top(shop: sqlite3.Connection) -> None:
    rows = totals(bomtree.explode(shop, "PACK", D(2)))
    assert rows["HD"] == (D(20), 1)
    assert rows["PCB"] == (D(20), 2)
    assert rows["SCREW"] == (D(20 * 4 * D("1.05") + 20 * 2 + 2 * 20), 3)
    assert rows["BOX"] == (D(22), 2)


def test_fixed_qty_of_a_shared_subassembly_counts_once(conn: sqlite3.Connection) -> None:
    # SUB is used by TOP directly and through MID: low-level code 2, so its 5 ml of
    # setup loss is added once, to the aggregated 1 + 2 x 3 = 7 SUB.
    with dbmod.transaction(conn):
        for code in ("TOP", "MID", "SUB"):
            item(conn, code, make=True)
        item(conn, "GLUE", unit="l")
        bom(conn, "SUB", [line("GLUE", 10, "ml", fixed_qty="5")])
        bom(conn, "MID", [line("SUB", 2)])
        bom(conn, "TOP", [line("SUB", 1), line("MID", 3)])
    assert totals(bomtree.explode(conn, "TOP", D(1))) == {
        "MID": (D(3), 1),
        "SUB": (D(7), 2),
        "GLUE": (D("0.075"), 3),
    }
    assert bomtree.load(conn).levels("TOP") == {"TOP": 0, "MID": 1, "SUB": 2, "GLUE": 3}


def test_explode_a_named_revision(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        bom(shop, "HD", [line("BOX", 3)], revision="X", active=False)
    assert totals(bomtree.explode(shop, "HD", D(2), revision="X")) == {"BOX": (D(6), 1)}
    assert "PCB" in totals(bomtree.explode(shop, "HD", D(2)))


def test_non_terminating_division_is_rounded_up_to_the_micro_unit(
    conn: sqlite3.Connection,
) -> None:
    with dbmod.transaction(conn):
        item(conn, "P", make=True)
        item(conn, "C")
        bom(conn, "P", [line("C", 1)], output_qty=3)
    assert totals(bomtree.explode(conn, "P", D(1))) == {"C": (D("0.333334"), 1)}
    assert totals(bomtree.explode(conn, "P", D(3))) == {"C": (D(1), 1)}
    assert bomtree.tree(conn, "P", qty=D(1))["children"][0]["qty"] == D("0.333334")


def test_an_exact_quantity_keeps_all_its_decimals(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        item(conn, "P", make=True)
        item(conn, "C")
        bom(conn, "P", [line("C", "0.000001", scrap_pct="50")], output_qty=4)
    assert totals(bomtree.explode(conn, "P", D(1))) == {"C": (D("0.000000375"), 1)}


def test_explode_refuses_unknown_item_and_missing_bom(shop: sqlite3.Connection) -> None:
    with pytest.raises(NotFound, match="unknown item 'NOPE'"):
        bomtree.explode(shop, "NOPE", D(1))
    with pytest.raises(NotFound, match="R1 has no active BOM"):
        bomtree.explode(shop, "R1", D(1))
    with pytest.raises(NotFound, match="HD has no BOM revision 'Q'"):
        bomtree.explode(shop, "HD", D(1), revision="Q")


def test_explode_40000_lines_six_levels(conn: sqlite3.Connection) -> None:
    # Its speed is measured in bench/ (make bench), not here.
    sizes = [1, 20, 100, 400, 1479, 2000]
    with dbmod.transaction(conn):
        top, n_lines = layered_bom_set(conn, sizes, per_bom=20)
    assert n_lines >= 39000
    rows = bomtree.explode(conn, top, D(10))
    assert len(rows) == sum(sizes) - 1
    assert max(r.level for r in rows) == 5


# -- tree and where-used ----------------------------------------------------------------


def test_tree_carries_quantities_units_and_marks(shop: sqlite3.Connection) -> None:
    root = bomtree.tree(shop, "HD", qty=D(10))
    assert (root["item"], root["revision"], root["qty"], root["unit"]) == ("HD", "A", 10, "pcs")
    by_item = {c["item"]: c for c in root["children"]}
    assert list(by_item) == ["PCB", "KIT", "SCREW", "SOLDER", "BOX"]
    pcb = by_item["PCB"]
    assert (pcb["qty"], pcb["revision"]) == (D(10), "A")
    r1 = pcb["children"][0]
    assert (r1["item"], r1["qty"], r1["substitutes"], r1["level"]) == ("R1", D(33), ["R2"], 2)
    solder = pcb["children"][1]
    assert (solder["qty"], solder["unit"], solder["qty_per"], solder["line_unit"]) == (
        D("0.15"),  # 10/10 x 50 g + 100 g fixed
        "kg",
        D(50),
        "g",
    )
    kit = by_item["KIT"]
    assert kit["phantom"] is True
    assert [(c["item"], c["qty"], c["refdes"]) for c in kit["children"]] == [
        ("SCREW", D(20), None),
        ("R1", D(10), "R7"),
    ]
    assert by_item["BOX"]["qty"] == D(12)
    assert by_item["BOX"]["children"] == []


def test_tree_defaults_to_the_output_quantity(shop: sqlite3.Connection) -> None:
    root = bomtree.tree(shop, "PCB")
    assert root["qty"] == D(10)
    assert [c["qty"] for c in root["children"]] == [D(33), D("0.15"), D(20)]


def test_where_used_climbs_three_levels(shop: sqlite3.Connection) -> None:
    rows = [
        (u.level, u.parent, u.revision, u.item, u.qty_per, u.unit)
        for u in bomtree.where_used(shop, "R1")
    ]
    assert rows == [
        (1, "KIT", "A", "R1", D(1), "pcs"),
        (2, "HD", "A", "KIT", D(1), "pcs"),
        (3, "PACK", "A", "HD", D(10), "pcs"),
        (1, "PCB", "A", "R1", D(30), "pcs"),
        (2, "HD", "A", "PCB", D(1), "pcs"),
        (3, "PACK", "A", "HD", D(10), "pcs"),
    ]
    assert bomtree.where_used(shop, "PACK") == []


def test_where_used_ignores_inactive_revisions(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        bom(shop, "PCB", [line("SCREW", 20)], revision="B")
    assert [u.parent for u in bomtree.where_used(shop, "R1")] == ["KIT", "HD", "PACK"]


# -- cycles -----------------------------------------------------------------------------


@pytest.fixture
def cyclic(shop: sqlite3.Connection) -> sqlite3.Connection:
    """PCB -> SUBX -> PCB through a new active PCB revision."""
    with dbmod.transaction(shop):
        item(shop, "SUBX", make=True)
        bom(shop, "SUBX", [line("PCB", 1)])
        bom(shop, "PCB", [line("R1", 3), line("SUBX", 1)], revision="B")
    return shop


def test_cycle_is_refused_by_every_walk(cyclic: sqlite3.Connection) -> None:
    for walk in (
        lambda: bomtree.explode(cyclic, "HD", D(1)),
        lambda: bomtree.tree(cyclic, "HD"),
    ):
        with pytest.raises(bomtree.BomCycle, match=r"BOM cycle: PCB -> SUBX -> PCB"):
            walk()
    with pytest.raises(bomtree.BomCycle, match=r"BOM cycle: SUBX -> PCB -> SUBX") as e:
        bomtree.explode(cyclic, "SUBX", D(1))
    assert e.value.path == ["SUBX", "PCB", "SUBX"]
    with pytest.raises(bomtree.BomCycle, match=r"PCB -> SUBX -> PCB"):
        bomtree.where_used(cyclic, "R1")


def test_validate_names_the_cycle_once(cyclic: sqlite3.Connection) -> None:
    found = [p for p in bomcheck.validate(cyclic) if p.check == "bom_cycle"]
    assert [(p.subject, p.message) for p in found] == [("PCB", "BOM cycle: PCB -> SUBX -> PCB")]


def test_activate_refuses_a_revision_that_closes_a_cycle(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        item(shop, "SUBX", make=True)
        bom(shop, "SUBX", [line("PCB", 1)])
        bom(shop, "PCB", [line("SUBX", 1)], revision="B", active=False)
    before = [(r.revision, r.active) for r in bommod.revisions(shop, "PCB")]
    with pytest.raises(bomtree.BomCycle, match="PCB -> SUBX -> PCB"), dbmod.transaction(shop):
        bomtree.activate(shop, "PCB", "B")
    assert [(r.revision, r.active) for r in bommod.revisions(shop, "PCB")] == before
    with dbmod.transaction(shop):
        assert bomtree.activate(shop, "HD", "A").active


# -- diff -------------------------------------------------------------------------------


def test_diff_lists_added_removed_and_changed_fields(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        bom(
            shop,
            "HD",
            [
                line("PCB", 1),
                line("KIT", 2, phantom=True),
                line("SCREW", 4, scrap_pct="3", substitutes=["R2"]),
                line("BOX", 1, "pcs", fixed_qty="2"),
                line("R2", 5, note="new supplier"),
            ],
            revision="B",
            output_qty=2,
        )
    changes = [
        (c.change, c.item, c.field, c.old, c.new) for c in bomcheck.diff(shop, "HD", "A", "B")
    ]
    assert changes == [
        ("changed", "HD", "output_qty", D(1), D(2)),
        ("changed", "KIT", "qty", D(1), D(2)),
        ("changed", "SCREW", "scrap_pct", D(5), D(3)),
        ("changed", "SCREW", "substitutes", [], ["R2"]),
        ("added", "R2", "line", None, "5 pcs, note new supplier"),
        ("removed", "SOLDER", "line", "2 g", None),
    ]
    assert bomcheck.diff(shop, "HD", "A", "A") == []
    with pytest.raises(NotFound, match="HD has no BOM revision 'Z'"):
        bomcheck.diff(shop, "HD", "A", "Z")


def test_diff_pairs_repeated_children_in_order() -> None:
    old = bommod.Revision("P", "A", D(1), (line("C", 1), line("C", 2, refdes="X")))
    new = bommod.Revision("P", "B", D(1), (line("C", 1),))
    assert [(c.change, c.old) for c in bomcheck.compare(old, new)] == [("removed", "2, refdes X")]


# -- save semantics ---------------------------------------------------------------------


def test_resaving_identical_content_changes_nothing(shop: sqlite3.Connection, initdb) -> None:
    before = dump(initdb)
    with dbmod.transaction(shop):
        result = bom(shop, "KIT", [line("SCREW", 2, "pcs"), line("R1", 1, refdes="R7")])
    assert result.action == "unchanged"
    assert dump(initdb) == before


def test_changed_bom_under_an_existing_name_becomes_the_next_revision(
    conn: sqlite3.Connection,
) -> None:
    with dbmod.transaction(conn):
        item(conn, "P", make=True)
        item(conn, "C")
        first = bom(conn, "P", [line("C", 1)], revision="B")
        second = bom(conn, "P", [line("C", 2)], revision="B")
    assert (first.action, first.revision) == ("added", "B")
    assert (second.action, second.revision, second.requested) == ("new_revision", "C", "B")
    revs = bommod.revisions(conn, "P")
    assert [(r.revision, r.active, r.lines[0].qty) for r in revs] == [
        ("B", False, D(1)),
        ("C", True, D(2)),
    ]
    assert revs[1].as_row()["lines"] == 1


# -- validate ---------------------------------------------------------------------------


def test_validate_clean_shop_has_no_problems(shop: sqlite3.Connection) -> None:
    assert bomcheck.validate(shop) == []


def test_validate_finds_every_kind_of_problem(shop: sqlite3.Connection) -> None:
    with dbmod.transaction(shop):
        item(shop, "NEWMAKE", make=True)  # make item, no BOM
        item(shop, "OLD")
        item(shop, "GASKET")
        item(shop, "LOOSE")
        bom(
            shop,
            "KIT",
            [
                line("SCREW", 2),
                line("OLD", 1),
                line("GASKET", 2, substitutes=["OLD"]),
                line("LOOSE", 1, phantom=True),
            ],
            revision="B",
        )
        items.deactivate(shop, "OLD")
        # The base unit changed after the BOM was stored, as an older version allowed
        # (item update now refuses it): "2 pcs" no longer converts.
        shop.execute("UPDATE item SET unit = 'm' WHERE code = 'GASKET'")
    found = {(p.check, p.subject, p.message) for p in bomcheck.validate(shop)}
    assert found == {
        ("bom_missing", "NEWMAKE", "NEWMAKE is a make item without an active BOM"),
        ("bom_inactive", "KIT rev B", "line 2 (OLD): OLD is deactivated"),
        ("bom_inactive", "KIT rev B", "line 3 (GASKET): substitute OLD is deactivated"),
        (
            "bom_unit",
            "KIT rev B",
            "line 3 (GASKET): unit 'pcs' cannot convert to GASKET's base unit 'm'",
        ),
        (
            "bom_phantom",
            "KIT rev B",
            "line 4 (LOOSE): phantom LOOSE has no active BOM to pass through",
        ),
    }
    with pytest.raises(InvalidInput, match="'pcs' cannot convert to GASKET's base unit 'm'"):
        bomtree.explode(shop, "HD", D(1))


def test_validate_finds_non_positive_quantities() -> None:
    # The schema's CHECKs keep these out of a database; validate still reports them.
    bad = bommod.Revision(
        "P",
        "A",
        D(0),
        (
            bommod.Line("C", D(0), "pcs"),
            bommod.Line("C", D(1), "pcs", scrap_pct=D(-1), fixed_qty=D(-2)),
        ),
    )
    s = mem_structure([mem_item("P", make=True), mem_item("C")], [bad])
    assert [p.message for p in bomcheck.problems(s)] == [
        "output_qty 0 is not positive",
        "line 1 (C): qty 0 is not positive",
        "line 2 (C): scrap_pct -1 is negative",
        "line 2 (C): fixed_qty -2 is negative",
    ]


# -- properties -------------------------------------------------------------------------

# Units convertible to a kg item: kg itself, g, and its own "bag" of 25 kg.
UNITS = ("kg", "g", "bag")
QTYS = st.builds(lambda n, d: D(n) / d, st.integers(1, 40), st.sampled_from([1, 10, 100]))
SCRAP = st.sampled_from([D(0), D("2.5"), D(10), D(50)])
OUTPUT = st.sampled_from([D(1), D(2), D(4), D(5), D(10), D("0.5"), D("2.5")])


@st.composite
def structures(draw: st.DrawFn, fixed: bool = False) -> Structure:
    """A random acyclic BOM set: item I0 on top, lines only to higher-numbered items."""
    n = draw(st.integers(2, 7))
    codes = [f"I{k}" for k in range(n)]
    revisions = []
    for k, code in enumerate(codes[:-1]):
        if k and not draw(st.booleans()):
            continue  # a bought item
        children = draw(st.lists(st.sampled_from(codes[k + 1 :]), min_size=1, max_size=3))
        lines = [
            bommod.Line(
                child,
                draw(QTYS),
                draw(st.sampled_from(UNITS)),
                scrap_pct=draw(SCRAP),
                fixed_qty=draw(QTYS) if fixed and draw(st.booleans()) else D(0),
                phantom=draw(st.booleans()),
            )
            for child in children
        ]
        revisions.append(mem_rev(code, lines, draw(OUTPUT)))
    made = {r.item for r in revisions}
    return mem_structure(
        [mem_item(c, unit="kg", make=c in made, units={"bag": D(25)}) for c in codes], revisions
    )


def by_path(s: Structure, root: str, qty: Decimal) -> dict[str, Fraction]:
    """Reference explosion: walk every path separately, in exact fractions (no fixed qty)."""
    total: dict[str, Fraction] = {}

    def walk(code: str, parent_qty: Fraction) -> None:
        rev = s.boms.get(code)
        if rev is None:
            return
        for ln in rev.lines:
            child = ln.item.upper()
            f = Fraction(s.items[child].factor(ln.unit))
            need = parent_qty / Fraction(rev.output_qty) * Fraction(ln.qty) * f
            need *= 1 + Fraction(ln.scrap_pct) / 100
            if not (ln.phantom and child in s.boms):
                total[child] = total.get(child, Fraction(0)) + need
            walk(child, need)

    walk(root.upper(), Fraction(qty))
    return total


@settings(max_examples=50, deadline=None)
@given(structures(), QTYS, st.integers(2, 20))
def test_explosion_is_linear_and_equals_the_per_path_sum(
    s: Structure, qty: Decimal, k: int
) -> None:
    once = {r.item: r.qty for r in s.explode("I0", qty)}
    assert {c: Fraction(v) for c, v in once.items()} == by_path(s, "I0", qty)
    scaled = {r.item: r.qty for r in s.explode("I0", qty * k)}
    assert scaled == {c: v * k for c, v in once.items()}


@settings(max_examples=50, deadline=None)
@given(structures(fixed=True), QTYS)
def test_every_requirement_is_positive_and_below_its_users(s: Structure, qty: Decimal) -> None:
    rows = s.explode("I0", qty)
    assert all(r.qty > 0 for r in rows)
    levels = s.levels("I0")
    for parent, rev in s.boms.items():
        if parent in levels:
            assert all(levels[ln.item.upper()] > levels[parent] for ln in rev.lines)
    # Fixed quantities only add: never less than the same BOMs without them.
    without = {
        r.item: r.qty
        for r in mem_structure(
            list(s.items.values()),
            [
                replace(r, lines=tuple(replace(ln, fixed_qty=D(0)) for ln in r.lines))
                for r in s.boms.values()
            ],
        ).explode("I0", qty)
    }
    assert all(r.qty >= without[r.item] for r in rows)
