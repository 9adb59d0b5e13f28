"""``mfgctl bom``: wiring, output formats, exit codes and error messages.

The numbers themselves are checked in test_bom.py; here the same small shop (HD with a
PCB that makes 10, a phantom KIT, solder in grams for an item counted in kg) goes
through the command line.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import bom, hd_shop, item, line
from conftest import Cli, dump, refused

from mfgctl import db as dbmod
from mfgctl.domain import items

D = Decimal
COMMANDS = ("list", "show", "where-used", "explode", "diff", "activate", "validate")


@pytest.fixture
def shop(conn: sqlite3.Connection, initdb: Path) -> Path:
    with dbmod.transaction(conn):
        hd_shop(conn)
        bom(conn, "HD", [line("PCB", 1), line("BOX", 2)], revision="B", active=False)
        bom(conn, "PACK", [line("HD", 10)])
    return initdb


def as_json(text: str) -> object:
    return json.loads(text, parse_float=Decimal)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_a_format_option(cli: Cli, command: str) -> None:
    r = cli("bom", command, "--help")
    assert r.exit_code == 0
    assert "--format" in r.stdout
    assert len(r.stdout.split("Usage:")[1].strip().splitlines()) > 2


def test_bom_without_a_command_shows_the_group_help(cli: Cli) -> None:
    r = cli("bom")
    shown = r.stdout + r.stderr
    assert "explode" in shown and "where-used" in shown


# -- show -------------------------------------------------------------------------------


def test_show_prints_an_indented_tree(cli: Cli, shop: Path) -> None:
    r = cli("bom", "show", "HD", "--qty", "100")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "HD HD name  100 pcs  (revision A, makes 1)"
    assert "├── PCB PCB name  100 pcs  (per: 1 pcs; rev A)" in lines
    assert "│   ├── R1 R1 name  330 pcs  (per: 30 pcs; scrap 10%; substitutes: R2)" in lines
    assert "│   ├── SOLDER SOLDER name  0.6 kg  (per: 50 g; fixed 100 g)" in lines
    assert "├── KIT KIT name  100 pcs  [phantom]  (per: 1 pcs; rev A)" in lines
    assert "│   └── R1 R1 name  100 pcs  (per: 1 pcs)" in lines
    assert "└── BOX BOX name  102 pcs  (per: 1 pcs; fixed 2 pcs)" in lines


def test_show_json_is_the_nested_tree(cli: Cli, shop: Path) -> None:
    tree = as_json(cli("bom", "show", "PACK", "--format", "json").stdout)
    assert (tree["item"], tree["revision"], tree["qty"]) == ("PACK", "A", 1)
    hd = tree["children"][0]
    assert (hd["item"], hd["qty"], hd["revision"], hd["level"]) == ("HD", 10, "A", 1)
    pcb = hd["children"][0]
    solder = pcb["children"][1]
    assert (solder["item"], solder["qty"], solder["unit"], solder["level"]) == (
        "SOLDER",
        D("0.15"),  # 10 PCB: 10/10 x 50 g + 100 g fixed
        "kg",
        3,
    )
    assert hd["children"][1]["phantom"] is True
    assert pcb["children"][0]["substitutes"] == ["R2"]


def test_show_csv_flattens_the_tree(cli: Cli, shop: Path) -> None:
    r = cli("bom", "show", "HD", "--revision", "B", "--format", "csv")
    assert r.stdout.splitlines()[0].startswith("level,item,name,qty,unit,qty_per,line_unit")
    assert [ln.split(",")[:4] for ln in r.stdout.splitlines()[1:]] == [
        ["1", "PCB", "PCB name", "1"],
        ["2", "R1", "R1 name", "3.3"],
        ["2", "SOLDER", "SOLDER name", "0.105"],
        ["2", "SCREW", "SCREW name", "2"],
        ["1", "BOX", "BOX name", "2"],
    ]


# -- explode and where-used -------------------------------------------------------------


def test_explode_json_gives_totals_by_low_level_code(cli: Cli, shop: Path) -> None:
    r = cli("bom", "explode", "HD", "--qty", "100", "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = as_json(r.stdout)
    assert [(x["item"], x["qty"], x["unit"], x["level"]) for x in rows] == [
        ("BOX", 102, "pcs", 1),
        ("PCB", 100, "pcs", 1),
        ("R1", 430, "pcs", 2),
        ("SCREW", 820, "pcs", 2),
        ("SOLDER", D("0.8"), "kg", 2),
    ]
    assert set(rows[0]) == {"item", "name", "type", "make_or_buy", "unit", "qty", "level"}


def test_explode_csv_of_a_named_revision(cli: Cli, shop: Path) -> None:
    r = cli("bom", "explode", "HD", "-q", "5", "-r", "B", "-f", "csv")
    assert r.stdout.splitlines() == [
        "item,name,type,make_or_buy,unit,qty,level",
        "BOX,BOX name,component,buy,pcs,10,1",
        "PCB,PCB name,subassembly,make,pcs,5,1",
        "R1,R1 name,component,buy,pcs,16.5,2",
        "SCREW,SCREW name,component,buy,pcs,10,2",
        "SOLDER,SOLDER name,raw,buy,kg,0.125,2",
    ]


def test_where_used_lists_every_level(cli: Cli, shop: Path) -> None:
    rows = as_json(cli("bom", "where-used", "SOLDER", "-f", "json").stdout)
    assert [(x["level"], x["parent"], x["revision"], x["qty_per"], x["unit"]) for x in rows] == [
        (1, "HD", "A", 2, "g"),
        (2, "PACK", "A", 10, "pcs"),
        (1, "PCB", "A", 50, "g"),
        (2, "HD", "A", 1, "pcs"),
        (3, "PACK", "A", 10, "pcs"),
    ]


def test_where_used_of_a_top_item_is_empty(cli: Cli, shop: Path) -> None:
    assert cli("bom", "where-used", "PACK", "-f", "json").stdout.strip() == "[]"
    r = cli("bom", "where-used", "PACK")
    assert r.exit_code == 0 and "No rows" in r.stderr


# -- list, diff, activate ---------------------------------------------------------------


def test_list_shows_revisions(cli: Cli, shop: Path) -> None:
    rows = as_json(cli("bom", "list", "HD", "--format", "json").stdout)
    assert [(x["revision"], x["active"], x["lines"], x["output_qty"]) for x in rows] == [
        ("A", True, 5, 1),
        ("B", False, 2, 1),
    ]
    assert len(as_json(cli("bom", "list", "-f", "json").stdout)) == 5


def test_diff_lists_added_removed_and_changed(cli: Cli, shop: Path) -> None:
    r = cli("bom", "diff", "HD", "A", "B", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "change,item,field,old,new",
        "changed,BOX,qty,1,2",
        "changed,BOX,fixed_qty,2,0",
        'removed,KIT,line,"1 pcs, phantom",',
        'removed,SCREW,line,"4 pcs, scrap 5%",',
        "removed,SOLDER,line,2 g,",
    ]
    same = cli("bom", "diff", "HD", "A", "A")
    assert same.exit_code == 0 and "no differences" in same.stderr


def test_activate_switches_the_active_revision(cli: Cli, shop: Path) -> None:
    r = cli("bom", "activate", "HD", "B", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert as_json(r.stdout)[0]["revision"] == "B"
    assert "HD: revision B is now the active BOM" in r.stderr
    rows = as_json(cli("bom", "list", "HD", "-f", "json").stdout)
    assert [(x["revision"], x["active"]) for x in rows] == [("A", False), ("B", True)]
    assert as_json(cli("bom", "explode", "HD", "-q", "1", "-f", "json").stdout)[0]["qty"] == 2


# -- validate ---------------------------------------------------------------------------


def test_validate_clean_exits_0(cli: Cli, shop: Path) -> None:
    r = cli("bom", "validate")
    assert r.exit_code == 0
    assert "no problems" in r.stderr
    assert cli("bom", "validate", "-f", "json").stdout.strip() == "[]"


def test_validate_reports_every_problem_and_exits_4(
    cli: Cli, shop: Path, conn: sqlite3.Connection
) -> None:
    with dbmod.transaction(conn):
        item(conn, "LONELY", make=True)
        items.deactivate(conn, "BOX")
    before = dump(shop)
    r = cli("bom", "validate", "--format", "json")
    assert r.exit_code == 4
    assert [(p["check"], p["subject"]) for p in as_json(r.stdout)] == [
        ("bom_inactive", "HD rev A"),
        ("bom_missing", "LONELY"),
    ]
    assert "2 problems found" in r.stderr
    assert dump(shop) == before


# -- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "NOPE"), "Error: unknown item 'NOPE'"),
        (("explode", "NOPE", "--qty", "1"), "Error: unknown item 'NOPE'"),
        (("where-used", "NOPE"), "Error: unknown item 'NOPE'"),
        (("list", "NOPE"), "Error: unknown item 'NOPE'"),
        (("diff", "NOPE", "A", "B"), "Error: unknown item 'NOPE'"),
        (("activate", "NOPE", "A"), "Error: unknown item 'NOPE'"),
        (("show", "HD", "--revision", "Z"), "Error: HD has no BOM revision 'Z'"),
        (("explode", "HD", "--qty", "1", "-r", "Z"), "Error: HD has no BOM revision 'Z'"),
        (("diff", "HD", "A", "Z"), "Error: HD has no BOM revision 'Z'"),
        (("activate", "HD", "Z"), "Error: HD has no BOM revision 'Z'"),
        (("show", "R1"), "Error: R1 has no active BOM"),
        (("explode", "HD", "--qty", "abc"), "Error: --qty 'abc' is not a plain decimal"),
        (("explode", "HD", "--qty", "0"), "Error: --qty must be greater than zero"),
        (("show", "HD", "--qty", "-1"), "Error: --qty must not be negative, got -1"),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    err = refused(cli, shop, "bom", *args)
    assert err.splitlines() == [err.strip()]
    assert err.startswith(message)


def test_explode_needs_a_quantity(cli: Cli, shop: Path) -> None:
    assert cli("bom", "explode", "HD").exit_code == 2


def pcb_rev_b_with_subx(conn: sqlite3.Connection, lines: list, *, active: bool = True) -> None:
    """Add SUBX, made of one PCB, and PCB revision B of ``lines``: a cycle once B is active."""
    with dbmod.transaction(conn):
        item(conn, "SUBX", make=True)
        bom(conn, "SUBX", [line("PCB", 1)])
        bom(conn, "PCB", lines, revision="B", active=active)


def test_a_cycle_is_named_instead_of_looping(
    cli: Cli, shop: Path, conn: sqlite3.Connection
) -> None:
    pcb_rev_b_with_subx(conn, [line("R1", 3), line("SUBX", 1)])
    for args in (("show", "HD"), ("explode", "HD", "-q", "1"), ("where-used", "R1")):
        r = cli("bom", *args)
        assert r.exit_code == 1
        assert r.stderr.startswith("Error: BOM cycle: PCB -> SUBX -> PCB")
    r = cli("bom", "validate", "-f", "csv")
    assert r.exit_code == 4
    assert "bom_cycle,PCB,BOM cycle: PCB -> SUBX -> PCB" in r.stdout


def test_activating_a_revision_that_closes_a_cycle_is_refused(
    cli: Cli, shop: Path, conn: sqlite3.Connection
) -> None:
    pcb_rev_b_with_subx(conn, [line("SUBX", 1)], active=False)
    err = refused(cli, shop, "bom", "activate", "PCB", "B")
    assert err.startswith("Error: BOM cycle: PCB -> SUBX -> PCB")
