"""A unit a BOM line still needs stays as it is, whichever way the item changes: a
re-import that drops or re-factors it is refused like ``item update --remove-unit``
(one rule, ``items.refuse_units_in_use``), and so is a new base unit that a line would
no longer convert to, or convert to another amount. A new base unit is also refused
while demand, purchase orders or production orders hold quantities in the old one."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, day, dump, ok, refused

# C1 counts in pcs and comes in boxes of 12; SUB's active BOM uses 1 box of it per 3.
# PASTE counts in g, comes in reels of 5000 g; SUB uses half a reel and 40 mg.
ITEMS = """
items:
  - {code: SUB, name: Sub, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: C1, name: Comp one, type: component, unit: pcs, make_or_buy: buy, cost: 0.5,
     units: {box: 12}}
  - {code: C2, name: Comp two, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: PASTE, name: Solder paste, type: raw, unit: g, make_or_buy: buy,
     units: {reel: 5000}}
"""
BOMS = """
boms:
  - item: SUB
    output_qty: 3
    lines:
      - {item: C1, qty: 1, unit: box}
      - {item: C2, qty: 2}
      - {item: PASTE, qty: 0.5, unit: reel}
      - {item: PASTE, qty: 40, unit: mg}
"""
SHOP = ITEMS + BOMS
C1 = "  - {code: C1, name: Comp one, type: component, unit: pcs, make_or_buy: buy, cost: 0.5,"
BOX_12 = "     units: {box: 12}}"
PASTE = "  - {code: PASTE, name: Solder paste, type: raw, unit: g, make_or_buy: buy,"


def write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(cli: Cli, tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = write(tmp_path, text, name)
    ok(cli, "import", path)
    return path


def units_of(cli: Cli, code: str) -> dict[str, float]:
    return json.loads(ok(cli, "item", "show", code, "-f", "json").stdout)[0]["units"]


def explode(cli: Cli, item: str, qty: str) -> dict[str, tuple[str, str]]:
    rows = json.loads(ok(cli, "bom", "explode", item, "--qty", qty, "-f", "json").stdout)
    return {r["item"]: (str(r["qty"]), r["unit"]) for r in rows}


def import_refused(cli: Cli, initdb: Path, path: Path) -> str:
    return refused(cli, initdb, "import", path, one_line=False)


# -- 1. a re-import may not drop or re-factor a unit a BOM line is written in ---------------


def test_a_reimport_that_drops_a_unit_a_bom_uses_is_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    # The items again without C1's units (``units: {}``: a record without the key keeps
    # them), the BOMs left alone, plus other records.
    path = write(
        tmp_path,
        ITEMS.replace(C1 + "\n" + BOX_12, C1 + " units: {}}")
        + "locations:\n  - {code: QC, name: Quality}\n"
        + f"demand:\n  - {{item: C1, qty: 5, due: {day(30)}, kind: forecast}}\n",
        "dropped.yaml",
    )
    err = import_refused(cli, initdb, path)
    assert err == (
        f"Error: {path}:4: items[1].units: cannot remove unit box of C1 (1 box = 12 pcs): active "
        "BOM SUB rev A line 1 is written in box; give that BOM a revision without it first\n"
        "Error: import refused: 1 problem; nothing was written\n"
    )
    assert units_of(cli, "C1") == {"box": 12}
    assert ok(cli, "check").exit_code == 0
    # --dry-run says the same, and writes nothing either.
    assert import_refused(cli, initdb, path) == err
    r = cli("import", path, "--dry-run")
    assert r.exit_code == 1 and "cannot remove unit box of C1" in r.stderr


def test_a_reimport_that_refactors_a_unit_a_bom_uses_is_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    path = write(tmp_path, ITEMS.replace("{box: 12}", "{box: 10, bag: 5}"), "box10.yaml")
    err = import_refused(cli, initdb, path)
    assert err.splitlines()[0] == (
        f"Error: {path}:5: items[1].units: cannot change unit box of C1 from 12 to 10 pcs: "
        "active BOM SUB rev A line 1 is written in box; give that BOM a revision without it "
        "first"
    )
    # Another spelling of the same factor changes nothing a BOM requires.
    load(cli, tmp_path, SHOP.replace("{box: 12}", "{BOX: 12, bag: 5}"), "spelled.yaml")
    assert units_of(cli, "C1") == {"BOX": 12, "bag": 5}


def test_a_reimport_may_drop_the_unit_when_the_file_gives_the_bom_a_revision_without_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    fixed = SHOP.replace(C1 + "\n" + BOX_12, C1 + " units: {}}").replace(
        "{item: C1, qty: 1, unit: box}", "{item: C1, qty: 12}"
    )
    load(cli, tmp_path, fixed, "fixed.yaml")
    assert units_of(cli, "C1") == {}
    assert explode(cli, "SUB", "3")["C1"] == ("12", "pcs")
    assert ok(cli, "check").exit_code == 0


def test_a_planned_order_keeps_the_units_of_its_revision(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    ok(cli, "order", "create", "SUB", "3", "--due", day(20))  # made with rev A (box)
    # Rev B (12 pcs, no box) becomes active; the planned order is still made with rev A.
    load(cli, tmp_path, SHOP.replace("{item: C1, qty: 1, unit: box}", "{item: C1, qty: 12}"))
    err = refused(cli, initdb, "item", "update", "C1", "--remove-unit", "box")
    assert err == (
        "Error: cannot remove unit box of C1 (1 box = 12 pcs): BOM SUB rev A line 1 "
        "(planned production order 1 is made with it) is written in box; release or cancel "
        "production order 1 first\n"
    )
    path = write(tmp_path, ITEMS.replace(BOX_12, "     units: {}}"), "dropped.yaml")
    assert "(planned production order 1 is made with it)" in import_refused(cli, initdb, path)
    # Released, the order has its own frozen copy of its materials (in pcs).
    ok(cli, "order", "release", "1", "--partial")
    ok(cli, "import", path)
    assert units_of(cli, "C1") == {}
    shown = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    assert (shown["materials"][0]["item"], shown["materials"][0]["required"]) == ("C1", 12)


def test_item_update_and_import_refuse_alike(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    load(cli, tmp_path, SHOP)
    cli_err = refused(cli, initdb, "item", "update", "C1", "--remove-unit", "box")
    path = write(tmp_path, ITEMS.replace(BOX_12, "     units: {}}"), "empty.yaml")
    import_err = import_refused(cli, initdb, path)
    assert cli_err.removeprefix("Error: ") in import_err


# -- 2. a new base unit: every line must still convert, to the same amount -----------------


def test_a_new_base_unit_a_bom_line_cannot_convert_to_is_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    err = refused(cli, initdb, "item", "update", "C2", "--unit", "kg")
    assert err == (
        "Error: cannot change the base unit of C2 from pcs to kg: active BOM SUB rev A line 2 "
        "is written in pcs, which would not convert to kg; give that BOM a revision without "
        "it first\n"
    )
    path = write(tmp_path, ITEMS.replace("code: C2, name: Comp two, type: component, unit: pcs",
                                        "code: C2, name: Comp two, type: component, unit: kg"),
                 "c2kg.yaml")  # fmt: skip
    err = import_refused(cli, initdb, path)
    assert err.splitlines()[0] == (
        f"Error: {path}:6: items[2].unit: cannot change the base unit of C2 from pcs to kg: "
        "active BOM SUB rev A line 2 is written in pcs, which would not convert to kg; give "
        "that BOM a revision without it first"
    )
    # An item no BOM uses may still change its base unit (it has no stock either).
    ok(cli, "item", "add", "C9", "--name", "c9", "--type", "raw", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "item", "update", "C9", "--unit", "kg")


def test_a_new_base_unit_must_keep_what_each_line_requires(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    before = explode(cli, "SUB", "3")["PASTE"]
    assert before == ("2500.04", "g")  # half a reel (2500 g) and 40 mg
    # g -> kg: "40 mg" and the old base g convert by themselves, but a reel of 5000
    # would become 5000 kg.
    err = refused(cli, initdb, "item", "update", "PASTE", "--unit", "kg")
    assert err == (
        "Error: cannot change the base unit of PASTE from g to kg: active BOM SUB rev A line 3 "
        "is written in reel: 1 reel = 5000 g = 5 kg, but would be 5000 kg; give reel the "
        "factor 5 as well, or give that BOM a revision without it first\n"
    )
    path = write(tmp_path, ITEMS.replace(PASTE, PASTE.replace("unit: g", "unit: kg")), "kg.yaml")
    assert "1 reel = 5000 g = 5 kg, but would be 5000 kg" in import_refused(cli, initdb, path)
    # With the reel re-expressed in kg, every line requires what it did.
    ok(cli, "item", "update", "PASTE", "--unit", "kg", "--units", "reel=5")
    assert explode(cli, "SUB", "3")["PASTE"] == ("2.50004", "kg")
    assert ok(cli, "check").exit_code == 0
    # And back again by import.
    load(cli, tmp_path, SHOP, "again.yaml")
    assert explode(cli, "SUB", "3")["PASTE"] == before


def test_a_new_base_unit_is_refused_while_quantities_are_stored_in_the_old_one(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, "items:\n  - {code: WIRE, name: Wire, type: raw, unit: g, "
                        "make_or_buy: buy}\n")  # fmt: skip
    ok(cli, "demand", "add", "WIRE", "500", "--due", day(10), "--kind", "forecast")
    ok(cli, "demand", "cancel", "1")  # history too: it would read 500 kg
    err = refused(cli, initdb, "item", "update", "WIRE", "--unit", "kg")
    assert err == (
        "Error: cannot change the base unit of WIRE from g to kg: demand 1 counts it in g "
        "(stored quantities are not converted)\n"
    )
    path = write(tmp_path, "items:\n  - {code: WIRE, name: Wire, type: raw, unit: kg, "
                           "make_or_buy: buy}\n", "kg.yaml")  # fmt: skip
    err = import_refused(cli, initdb, path)
    assert "demand 1 counts it in g" in err
    ok(cli, "purchase", "add", "WIRE", "300", "--due", day(10))
    ok(cli, "item", "add", "W2", "--name", "w2", "--type", "raw", "--unit", "g",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "purchase", "add", "W2", "300", "--due", day(10))
    err = refused(cli, initdb, "item", "update", "W2", "--unit", "kg")
    assert "from g to kg: purchase order 2 counts it in g" in err


def test_between_unrelated_kinds_a_line_in_an_own_unit_takes_the_new_factor(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # A count becomes a length: nothing converts pcs to m, so a line in the item's own
    # spool takes the factor the item now gives it; the user states it in the change.
    load(cli, tmp_path, """
items:
  - {code: HARN, name: Harness, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: CABLE, name: Cable, type: raw, unit: pcs, make_or_buy: buy, units: {spool: 100}}
boms:
  - {item: HARN, lines: [{item: CABLE, qty: 1, unit: spool}]}
""")  # fmt: skip
    ok(cli, "item", "update", "CABLE", "--unit", "m", "--units", "spool=50")
    assert explode(cli, "HARN", "1")["CABLE"] == ("50", "m")
    # Declaring the old base unit in the new one makes the line comparable again.
    err = refused(cli, initdb, "item", "update", "CABLE", "--unit", "pcs", "--units",
                  "m=0.5")  # fmt: skip
    assert "1 spool = 50 m = 25 pcs, but would be 50 pcs" in err


def test_a_refused_change_leaves_the_database_as_it_was(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    before = dump(initdb)
    refused(cli, initdb, "item", "update", "PASTE", "--unit", "kg", "--name", "Paste")
    refused(cli, initdb, "item", "update", "C1", "--remove-unit", "box", "--cost", "2")
    assert dump(initdb) == before
