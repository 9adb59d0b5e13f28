"""Units and BOM fixes: an item's own unit may not redefine one, ``item update --units``
keeps the other units (``--remove-unit`` drops one, not while a BOM uses it), ``bom
explode`` buys a buy item as ``bom cost`` and MRP do, and the import shows a lead time
as written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import Cli, ok, refused

# C1 counts in pcs and comes in boxes of 12; SUB's active BOM uses 1 box of it per 3.
SHOP = """
items:
  - {code: TOP, name: Top, type: finished, unit: pcs, make_or_buy: make}
  - {code: SUB, name: Sub, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: R1, name: Raw one, type: raw, unit: kg, make_or_buy: buy, cost: 10}
  - {code: C1, name: Comp one, type: component, unit: pcs, make_or_buy: buy, cost: 0.5,
     units: {box: 12}}
  - {code: C2, name: Comp two, type: component, unit: pcs, make_or_buy: buy, cost: 1}
boms:
  - item: TOP
    lines:
      - {item: SUB, qty: 1}
      - {item: R1, qty: 250, unit: g}
  - item: SUB
    output_qty: 3
    lines:
      - {item: C1, qty: 1, unit: box}
      - {item: C2, qty: 2}
"""


def load(cli: Cli, tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    ok(cli, "import", path)
    return path


def units_of(cli: Cli, code: str) -> dict[str, float]:
    return json.loads(ok(cli, "item", "show", code, "-f", "json").stdout)[0]["units"]


def explode(cli: Cli, item: str, qty: str) -> list[tuple[str, str, str]]:
    rows = json.loads(ok(cli, "bom", "explode", item, "--qty", qty, "-f", "json").stdout)
    return [(r["item"], r["make_or_buy"], str(r["qty"])) for r in rows]


def add_raw(cli: Cli, code: str, unit: str, *extra: str) -> None:
    ok(cli, "item", "add", code, "--name", code, "--type", "raw", "--unit", unit,
       "--make-or-buy", "buy", *extra)  # fmt: skip


# -- 4. an item's own unit may not redefine a unit ---------------------------------------


def test_item_add_refuses_a_built_in_unit_with_another_factor(cli: Cli, initdb: Path) -> None:
    err = refused(cli, initdb, "item", "add", "SOLDER", "--name", "Solder", "--type", "raw",
                  "--unit", "kg", "--make-or-buy", "buy", "--units", "g=0.01")  # fmt: skip
    assert err == (
        "Error: units: SOLDER defines 1 g = 0.01 kg, but 1 g is 0.001 kg; leave g out of its "
        "units (it converts by itself)\n"
    )
    # The built-in factor itself, and units of other names, are fine.
    add_raw(cli, "FLUX", "kg", "--units", "g=0.001", "--units", "tin=0.5")
    assert units_of(cli, "FLUX") == {"g": 0.001, "tin": 0.5}


def test_item_add_refuses_a_unit_named_like_the_base_unit(cli: Cli, initdb: Path) -> None:
    for base, spec in (("kg", "kg=2"), ("pcs", "pcs=2"), ("pcs", "PCS=1")):
        err = refused(cli, initdb, "item", "add", "C11", "--name", "x", "--type", "raw",
                      "--unit", base, "--make-or-buy", "buy", "--units", spec)  # fmt: skip
        name, factor = spec.split("=")
        assert err == (
            f"Error: units: C11 defines 1 {name} = {factor} {base}, but {name} is the base "
            f"unit itself; leave {name} out of its units (it converts by itself)\n"
        )


def test_item_update_refuses_a_conflicting_unit(cli: Cli, initdb: Path) -> None:
    add_raw(cli, "SOLDER", "kg")
    err = refused(cli, initdb, "item", "update", "SOLDER", "--units", "mg=0.0001")
    assert err.startswith("Error: units: SOLDER defines 1 mg = 0.0001 kg, but 1 mg is 0.000001 kg")
    # A new base unit is checked against the units the item keeps.
    add_raw(cli, "WIRE", "pcs", "--units", "m=2")
    err = refused(cli, initdb, "item", "update", "WIRE", "--unit", "cm")
    assert err.startswith("Error: units: WIRE defines 1 m = 2 cm, but 1 m is 100 cm")


def test_import_refuses_a_conflicting_unit(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(
        "items:\n"
        "  - {code: SOLDER, name: Solder, type: raw, unit: kg, make_or_buy: buy,\n"
        "     units: {g: 0.01}}\n",
        encoding="utf-8",
    )
    err = refused(cli, initdb, "import", path, one_line=False)
    assert err == (
        f"Error: {path}:3: items[0].units: SOLDER defines 1 g = 0.01 kg, but 1 g is 0.001 kg; "
        "leave g out of its units (it converts by itself)\n"
        "Error: import refused: 1 problem; nothing was written\n"
    )


def stored_before_the_rule(path: Path, code: str, unit: str, micro: int) -> None:
    """A unit a database from before the rule holds (entry refuses it now)."""
    c = sqlite3.connect(path)
    with c:
        c.execute(
            "INSERT INTO item_unit (item_id, unit, factor) SELECT id, ?, ? FROM item "
            "WHERE code = ?",
            (unit, micro, code),
        )
    c.close()


def test_bom_validate_and_check_report_a_stored_conflict(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    stored_before_the_rule(initdb, "R1", "g", 10_000)  # 1 g = 0.01 kg
    stored_before_the_rule(initdb, "C2", "PCS", 2_000_000)  # 1 PCS = 2 pcs
    r = cli("bom", "validate", "-f", "json")
    assert r.exit_code == 4
    assert json.loads(r.stdout) == [
        {"check": "unit_conflict", "subject": "C2",
         "message": "C2 defines 1 PCS = 2 pcs, but PCS is the base unit itself"},
        {"check": "unit_conflict", "subject": "R1",
         "message": "R1 defines 1 g = 0.01 kg, but 1 g is 0.001 kg"},
    ]  # fmt: skip
    r = cli("check", "-f", "json")
    assert r.exit_code == 4
    conflicts = [p for p in json.loads(r.stdout) if p["check"] == "unit_conflict"]
    assert [(p["severity"], p["subject"]) for p in conflicts] == [
        ("error", "C2"),
        ("error", "R1"),
    ]  # once each, though bom validate's checks are part of check


# -- 5. item update --units keeps the other units; --remove-unit ---------------------------


def test_removing_a_conflicting_unit_a_bom_uses_is_the_fix(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    stored_before_the_rule(initdb, "R1", "g", 10_000)  # 1 g = 0.01 kg
    stored_before_the_rule(initdb, "C2", "PCS", 2_000_000)  # 1 PCS = 2 pcs
    assert ("R1", "buy", "2.5") in explode(cli, "TOP", "1")  # ten times too much
    # TOP's BOM is written in g, yet the removal is allowed: the line then converts
    # through the built-in g.
    ok(cli, "item", "update", "R1", "--remove-unit", "g")
    ok(cli, "item", "update", "C2", "--remove-unit", "pcs")
    assert ("R1", "buy", "0.25") in explode(cli, "TOP", "1")
    assert ok(cli, "bom", "validate").exit_code == 0


def test_update_units_adds_and_refactors_and_keeps_the_others(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    r = ok(cli, "item", "update", "C1", "--units", "bag=5")
    assert r.stderr == "Updated C1: units\n"
    assert units_of(cli, "C1") == {"bag": 5, "box": 12}
    ok(cli, "item", "update", "C1", "--units", "bag=6", "--units", "reel=500")
    assert units_of(cli, "C1") == {"bag": 6, "box": 12, "reel": 500}
    ok(cli, "item", "update", "C1", "--remove-unit", "BAG", "--remove-unit", "reel")
    assert units_of(cli, "C1") == {"box": 12}
    assert explode(cli, "SUB", "3") == [("C1", "buy", "12"), ("C2", "buy", "2")]


def test_a_unit_an_active_bom_uses_cannot_be_removed_or_refactored(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    err = refused(cli, initdb, "item", "update", "C1", "--remove-unit", "box")
    assert err == (
        "Error: cannot remove unit box of C1 (1 box = 12 pcs): active BOM SUB rev A line 1 "
        "is written in box; give that BOM a revision without it first\n"
    )
    err = refused(cli, initdb, "item", "update", "C1", "--units", "box=10", "--cost", "1")
    assert err == (
        "Error: cannot change unit box of C1 from 12 to 10 pcs: active BOM SUB rev A line 1 "
        "is written in box; give that BOM a revision without it first\n"
    )
    # The same factor under another spelling changes nothing a BOM requires.
    ok(cli, "item", "update", "C1", "--units", "BOX=12")
    assert units_of(cli, "C1") == {"BOX": 12}
    # Once the BOM has a revision without it, the unit can go.
    load(cli, tmp_path, SHOP.replace("{item: C1, qty: 1, unit: box}", "{item: C1, qty: 12}"))
    ok(cli, "item", "update", "C1", "--remove-unit", "box")
    assert units_of(cli, "C1") == {}


def test_remove_unit_refuses_a_unit_the_item_lacks_or_one_also_given(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    err = refused(cli, initdb, "item", "update", "C1", "--remove-unit", "crate")
    assert err == "Error: C1 has no unit 'crate' to remove (its units: box)\n"
    err = refused(cli, initdb, "item", "update", "C2", "--remove-unit", "box")
    assert err == "Error: C2 has no unit 'box' to remove (its units: none)\n"
    err = refused(cli, initdb, "item", "update", "C1", "--units", "bag=3", "--remove-unit", "bag")
    assert err == "Error: unit 'bag' is given in both --units and --remove-unit\n"


def test_a_reimport_replaces_the_unit_list(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    # README: a record is the item's whole definition; units the file leaves out go.
    load(cli, tmp_path, SHOP)
    ok(cli, "item", "add", "C3", "--name", "c3", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy", "--units", "box=10", "--units", "bag=5")  # fmt: skip
    load(cli, tmp_path,
         "items:\n  - {code: C3, name: c3, type: component, unit: pcs, make_or_buy: buy,\n"
         "     units: {bag: 6}}\n", "c3.yaml")  # fmt: skip
    assert units_of(cli, "C3") == {"bag": 6}


# -- 6. bom explode buys a buy item; check warns about its BOM ------------------------------


def test_explode_stops_at_a_buy_item_like_cost_and_mrp(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    assert explode(cli, "TOP", "3") == [
        ("R1", "buy", "0.75"),
        ("SUB", "make", "3"),
        ("C1", "buy", "12"),
        ("C2", "buy", "2"),
    ]
    ok(cli, "item", "update", "SUB", "--make-or-buy", "buy", "--cost", "100")
    assert explode(cli, "TOP", "3") == [("R1", "buy", "0.75"), ("SUB", "buy", "3")]
    cost = json.loads(ok(cli, "bom", "cost", "TOP", "--qty", "3", "-f", "json").stdout)
    assert [(c["item"], c["source"], c["children"]) for c in cost["children"]] == [
        ("SUB", "standard", []),
        ("R1", "standard", []),
    ]
    # The buy item's own BOM still explodes when asked for.
    assert explode(cli, "SUB", "3") == [("C1", "buy", "12"), ("C2", "buy", "2")]


def test_a_phantom_line_passes_through_a_buy_items_bom(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP.replace("{item: SUB, qty: 1}", "{item: SUB, qty: 1, phantom: true}"))
    ok(cli, "item", "update", "SUB", "--make-or-buy", "buy")
    assert explode(cli, "TOP", "3") == [
        ("R1", "buy", "0.75"),
        ("C1", "buy", "12"),
        ("C2", "buy", "2"),
    ]


def test_check_warns_about_a_buy_item_with_an_active_bom(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    load(cli, tmp_path, SHOP)
    ok(cli, "item", "update", "SUB", "--make-or-buy", "buy")
    r = cli("check", "-f", "json")
    assert r.exit_code == 0
    assert [p for p in json.loads(r.stdout) if p["check"] == "buy_with_bom"] == [
        {
            "severity": "warning",
            "check": "buy_with_bom",
            "subject": "SUB",
            "message": "buy item SUB has an active BOM (rev A) that bom explode, bom cost and "
            "mrp leave out (they buy SUB); if it is made here: "
            "mfgctl item update SUB --make-or-buy make",
        }
    ]
    # Not a bom validate problem: keeping a bought part's BOM is allowed.
    assert ok(cli, "bom", "validate").exit_code == 0


# -- 8. the import shows a lead time as written --------------------------------------------


def test_import_shows_a_fractional_lead_time_as_written(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    path = tmp_path / "z.yaml"
    path.write_text(
        "items: [{code: X, name: x, type: raw, unit: pcs, make_or_buy: buy, "
        "lead_time_days: 1.0}]\n",
        encoding="utf-8",
    )
    err = refused(cli, initdb, "import", path, one_line=False)
    assert err.splitlines()[0] == (
        f"Error: {path}:1: items[0].lead_time_days: must be a whole number of days "
        "(0-99999), not 1.0"
    )
    err = refused(cli, initdb, "item", "add", "X", "--name", "x", "--type", "raw", "--unit",
                  "pcs", "--make-or-buy", "buy", "--lead-time-days", "1.0")  # fmt: skip
    assert err == "Error: lead_time_days must be a whole number of days (0-99999), not '1.0'\n"
