"""``mfgctl mrp can-build``: yes or no from free stock now, through subassemblies that
can be built, the limiting components with their shortfall, ``--max``, refusals; and a
property: QTY is buildable exactly when QTY <= --max."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli, dump, refused
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain.bomtree import BomCycle
from mfgctl.domain.canbuild import CanBuild
from mfgctl.domain.mrp import Component, Part, Snapshot

M = 1_000_000  # micro-units per base unit


def shop(path: Path, cli: Cli, build: object, stock: dict[str, object]) -> None:
    """Items and BOMs from ``build(conn)``, then free stock received at STORES."""
    conn = dbmod.connect(path)
    try:
        with dbmod.transaction(conn):
            build(conn)  # type: ignore[operator]
    finally:
        conn.close()
    for code, qty in stock.items():
        r = cli("stock", "receive", code, qty)
        assert r.exit_code == 0, r.stderr


def two_level(conn: object) -> None:
    """HD <- 1 PCB + 2 SCREW; PCB <- 2 CHIP + 1 BOARD."""
    item(conn, "HD", make=True, type="finished")
    item(conn, "PCB", make=True)
    for code in ("CHIP", "BOARD", "SCREW"):
        item(conn, code)
    bom(conn, "HD", [line("PCB", 1), line("SCREW", 2)])
    bom(conn, "PCB", [line("CHIP", 2), line("BOARD", 1)])


def can_build(cli: Cli, *args: object) -> dict:
    r = cli("mrp", "can-build", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def limits(doc: dict) -> list[tuple]:
    return [(x["item"], x["needed"], x["free"], x["short"], x["path"]) for x in doc["limiting"]]


def test_a_subassembly_is_built_from_its_components(initdb: Path, cli: Cli) -> None:
    shop(initdb, cli, two_level, {"PCB": 3, "CHIP": 10, "BOARD": 4, "SCREW": 100})
    # 5 HD: 3 PCB in stock, 2 PCB built from 4 CHIP and 2 BOARD.
    doc = can_build(cli, "HD", 5)
    assert doc["buildable"] is True
    assert doc["limiting"] == []
    assert doc["builds"] == [{"item": "PCB", "qty": 2}]
    r = cli("mrp", "can-build", "hd", "5")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "Yes: 5 pcs of HD can be built now from free stock (building 2 PCB first)"
    ]


def test_qty_in_another_unit_of_the_item(initdb: Path, cli: Cli) -> None:
    shop(initdb, cli, two_level, {"PCB": 3, "CHIP": 10, "BOARD": 4, "SCREW": 100})
    r = cli("item", "update", "HD", "--units", "box=4")
    assert r.exit_code == 0, r.stderr
    # A box is 4 HD: 1 box (3 PCB in stock, 1 built) can be built, 2 boxes (8 HD) not.
    doc = can_build(cli, "HD", 1, "--unit", "box")
    assert (doc["qty"], doc["unit"], doc["buildable"]) == (4, "pcs", True)
    assert can_build(cli, "HD", 2, "--unit", "box")["buildable"] is False
    assert can_build(cli, "HD", "0.25", "--unit", "box")["qty"] == 1
    err = refused(cli, initdb, "mrp", "can-build", "HD", "1", "--unit", "crate")
    assert "unit 'crate' cannot convert to HD's base unit 'pcs' (known: pcs, box)" in err


def test_no_names_the_limiting_component_and_exits_0(initdb: Path, cli: Cli) -> None:
    shop(initdb, cli, two_level, {"PCB": 3, "CHIP": 10, "BOARD": 4, "SCREW": 100})
    # 8 HD: 5 PCB to build need 10 CHIP (all there) and 5 BOARD (4 free): 1 short.
    doc = can_build(cli, "HD", 8)
    assert doc["buildable"] is False
    assert limits(doc) == [("BOARD", 5, 4, 1, ["HD > PCB"])]
    r = cli("mrp", "can-build", "HD", "8", "-f", "plain")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "Answer",
        "item\tqty\tunit\tbuildable\tmax",
        "HD\t8\tpcs\tno\t",
        "",
        "Limiting components",
        "item\tneeded\tfree\tsubstitutes\tshort\tunit\tpath",
        "BOARD\t5\t4\t\t1\tpcs\tHD > PCB",
    ]
    assert r.stderr.splitlines() == ["No: 8 pcs of HD cannot be built now: 1 component short"]
    table = cli("mrp", "can-build", "HD", "8")
    assert table.stdout.splitlines()[0].startswith("No: 8 pcs of HD cannot be built now")
    assert "BOARD" in table.stdout and "HD > PCB" in table.stdout


def test_max_is_exact(initdb: Path, cli: Cli) -> None:
    shop(initdb, cli, two_level, {"PCB": 3, "CHIP": 10, "BOARD": 4, "SCREW": 100})
    # PCB: 3 free + min(10 / 2 CHIP, 4 BOARD) = 4 built: 7; SCREW allows 50.
    assert can_build(cli, "HD", 1, "--max")["max"] == 7
    assert can_build(cli, "HD", 7)["buildable"] is True
    assert can_build(cli, "HD", "7.5")["buildable"] is False
    r = cli("mrp", "can-build", "HD", "1", "--max")
    assert r.stdout.splitlines()[-1] == "At most 7 pcs of HD can be built now"
    assert can_build(cli, "HD", 1)["max"] is None


def test_a_shared_component_is_one_pool(initdb: Path, cli: Cli) -> None:
    def build(conn: object) -> None:
        item(conn, "HD", make=True, type="finished")
        item(conn, "PCB", make=True)
        item(conn, "CHIP")
        bom(conn, "HD", [line("PCB", 1), line("CHIP", 3)])
        bom(conn, "PCB", [line("CHIP", 2)])

    shop(initdb, cli, build, {"PCB": 3, "CHIP": 10})
    # 5 HD: 15 CHIP directly, 2 PCB to build need 4 more: 19 needed, 10 free.
    doc = can_build(cli, "HD", 5, "--max")
    assert limits(doc) == [("CHIP", 19, 10, 9, ["HD", "HD > PCB"])]
    # n HD need 3n + 2 max(n - 3, 0) CHIP <= 10: n = 3.
    assert doc["max"] == 3


def test_scrap_and_fixed_quantities_count(initdb: Path, cli: Cli) -> None:
    def build(conn: object) -> None:
        item(conn, "HD", make=True, type="finished")
        item(conn, "WIRE", unit="m")
        item(conn, "BOX")
        bom(conn, "HD", [line("WIRE", 1, scrap_pct="10"), line("BOX", 1, fixed_qty="2")])

    shop(initdb, cli, build, {"WIRE": 10, "BOX": 20})
    # 10 HD: 11 m of wire (10 % scrap), 12 boxes (2 per order).
    doc = can_build(cli, "HD", 10)
    assert limits(doc) == [("WIRE", 11, 10, 1, ["HD"])]
    assert doc["limiting"][0]["unit"] == "m"
    # 9 HD need 9.9 m; 10 HD need 11 m.
    assert can_build(cli, "HD", 1, "--max")["max"] == 9
    # 19 HD: 21 boxes (20 free) and 20.9 m of wire; limits by level, then code.
    doc = can_build(cli, "HD", 19)
    assert [(x["item"], x["needed"], x["short"]) for x in doc["limiting"]] == [
        ("BOX", 21, 1),
        ("WIRE", Decimal("20.9"), Decimal("10.9")),
    ]


def test_a_phantom_is_passed_through(initdb: Path, cli: Cli) -> None:
    def build(conn: object) -> None:
        item(conn, "HD", make=True, type="finished")
        item(conn, "KIT", make=True)
        item(conn, "DOME")
        item(conn, "TOOL")
        bom(conn, "HD", [line("KIT", 1, phantom=True)])
        bom(conn, "KIT", [line("DOME", 2), line("TOOL", 1)])

    shop(initdb, cli, build, {"DOME": 8, "TOOL": 10})
    doc = can_build(cli, "HD", 5, "--max")
    assert limits(doc) == [("DOME", 10, 8, 2, ["HD > KIT"])]
    assert doc["builds"] == []  # a phantom is never built on its own
    assert doc["max"] == 4


def test_refusals_change_nothing(initdb: Path, cli: Cli) -> None:
    def build(conn: object) -> None:
        two_level(conn)
        item(conn, "LOOSE", make=True)  # no BOM

    shop(initdb, cli, build, {"CHIP": 10})
    assert "unknown or inactive item 'NOPE'" in refused(cli, initdb, "mrp", "can-build", "NOPE", 1)
    msg = refused(cli, initdb, "mrp", "can-build", "CHIP", 1)
    assert msg == "Error: CHIP is a buy item: it is bought, not built\n"
    assert "LOOSE has no active BOM" in refused(cli, initdb, "mrp", "can-build", "LOOSE", 1)
    for bad in ("0", "abc", "1.0000001"):
        assert "QTY" in refused(cli, initdb, "mrp", "can-build", "HD", bad)


def test_the_answer_writes_nothing(initdb: Path, cli: Cli) -> None:
    shop(initdb, cli, two_level, {"PCB": 3, "CHIP": 10, "BOARD": 4, "SCREW": 100})
    before = dump(initdb)
    for args in (("HD", 5), ("HD", 8, "--max"), ("HD", 1, "-f", "json")):
        assert cli("mrp", "can-build", *args).exit_code == 0
    assert dump(initdb) == before


# -- the property ----------------------------------------------------------------------


@st.composite
def plants(draw: st.DrawFn) -> tuple[Snapshot, str]:
    """A small random plant: items I0..In, each make item's BOM uses only later items
    (so no cycles), integer line quantities, some scrap, phantoms and fixed quantities,
    random free stock."""
    n = draw(st.integers(2, 6))
    codes = [f"I{k}" for k in range(n)]
    parts, boms, free = {}, {}, {}
    for k, code in enumerate(codes):
        make = k == 0 or (k < n - 1 and draw(st.booleans()))
        parts[code] = Part(code, make_or_buy="make" if make else "buy")
        if make:
            later = codes[k + 1 :]
            picked = draw(st.lists(st.sampled_from(later), min_size=1, max_size=3))
            lines = []
            for child in picked:
                qty = draw(st.integers(1, 4))
                scrap = draw(st.sampled_from([0, 0, 10, 25]))
                rate = qty * (100 + scrap)
                fixed = draw(st.sampled_from([0, 0, 1])) * M
                phantom = k > 0 and draw(st.booleans())
                lines.append(Component(child, rate, 100, fixed, phantom=phantom))
            boms[code] = tuple(lines)
        free[code] = draw(st.integers(0, 40)) * M
    return Snapshot(parts=parts, boms=boms, free=free), codes[0]


@settings(max_examples=150, deadline=None)
@given(plants(), st.integers(1, 60))
def test_buildable_exactly_up_to_max(plant: tuple[Snapshot, str], qty: int) -> None:
    snap, top = plant
    check = CanBuild(snap, top)
    most = check.largest() // M
    assert check.answer(qty * M).buildable == (qty <= most)
    if most:
        assert check.answer(most * M).buildable
    assert not check.answer((most + 1) * M).buildable
    limited = check.answer((most + 1) * M)
    assert all(lim.short > 0 and lim.needed == lim.free + lim.short for lim in limited.limits)


def test_a_bom_cycle_is_refused() -> None:
    parts = {c: Part(c, make_or_buy="make") for c in ("A", "B")}
    boms = {"A": (Component("B", 1, 1),), "B": (Component("A", 1, 1, phantom=True),)}
    with pytest.raises(BomCycle, match="A -> B -> A"):
        CanBuild(Snapshot(parts=parts, boms=boms), "A")
