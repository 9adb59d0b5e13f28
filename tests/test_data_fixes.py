"""Master-data fixes: a CSV BOM that closes a cycle, the reserved CONVERSION location,
and an export that keeps the value of stock."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from conftest import Cli, dump, import_yaml, ok, refused


def make_item(cli: Cli, code: str) -> None:
    ok(cli, "item", "add", code, "--name", code, "--type", "subassembly", "--unit", "pcs",
       "--make-or-buy", "make")  # fmt: skip


def csv_bom(tmp_path: Path, child: str) -> Path:
    path = tmp_path / f"to-{child}.csv"
    path.write_text(f"Reference,Value,Item code\nU1,x,{child}\n", encoding="utf-8")
    return path


# -- 1. bom import-csv refuses a BOM that closes a cycle --------------------------------


def test_import_csv_refuses_a_two_item_cycle(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    make_item(cli, "A")
    make_item(cli, "B")
    ok(cli, "bom", "import-csv", csv_bom(tmp_path, "B"), "--item", "A")
    back = csv_bom(tmp_path, "A")
    for extra in (("--dry-run",), ()):
        err = refused(cli, initdb, "bom", "import-csv", back, "--item", "B", *extra)
        assert err == (
            "Error: BOM cycle with stored BOMs: B -> A -> B (an item cannot contain itself); "
            "nothing was written\n"
        )
    # Nothing stored: A's BOM still shows, and B has none.
    ok(cli, "bom", "show", "A")
    assert ok(cli, "check").exit_code == 0


def test_import_csv_refuses_a_longer_cycle_as_a_new_revision(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    for code in ("A", "B", "C", "D"):
        make_item(cli, code)
    ok(cli, "bom", "import-csv", csv_bom(tmp_path, "B"), "--item", "A")
    ok(cli, "bom", "import-csv", csv_bom(tmp_path, "C"), "--item", "B")
    ok(cli, "bom", "import-csv", csv_bom(tmp_path, "D"), "--item", "C")
    # C already has revision A; a changed file would become revision B, and close a cycle.
    err = refused(cli, initdb, "bom", "import-csv", csv_bom(tmp_path, "A"), "--item", "C")
    assert err == (
        "Error: BOM cycle with stored BOMs: C -> A -> B -> C (an item cannot contain itself); "
        "nothing was written\n"
    )


def test_import_csv_still_names_a_part_that_is_the_parent(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    make_item(cli, "A")
    err = refused(cli, initdb, "bom", "import-csv", csv_bom(tmp_path, "A"), "--item", "A")
    assert err == "Error: row 2: A cannot contain itself\n"


def test_import_csv_without_a_cycle_is_stored(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    # A diamond is not a cycle: A -> B, A -> C, B -> C.
    for code in ("A", "B", "C"):
        make_item(cli, code)
    ok(cli, "bom", "import-csv", csv_bom(tmp_path, "C"), "--item", "B")
    both = tmp_path / "a.csv"
    both.write_text("Reference,Value,Item code\nU1,x,B\nU2,y,C\n", encoding="utf-8")
    before = dump(initdb)
    ok(cli, "bom", "import-csv", both, "--item", "A")
    assert dump(initdb) != before
    ok(cli, "bom", "explode", "A", "--qty", "1")


# -- 2. CONVERSION is a reserved location code ------------------------------------------

CONVERSION_REFUSAL = (
    "location code {code} is kept for production (CONVERSION is the virtual place where "
    "materials turn into products); choose another code"
)
MADE = """\
items:
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make}
  - {code: K, name: K, type: component, unit: pcs, make_or_buy: buy}
boms: [{item: F, lines: [{item: K, qty: 2}]}]
stock: [{item: K, qty: 100}]
"""


def make_five_f(cli: Cli) -> None:
    for args in (
        ("order", "create", "F", "5", "--due", "2030-12-31"),
        ("order", "release", "1"),
        ("order", "start", "1"),
        ("consume", "1"),
        ("order", "complete", "1", "--qty", "5"),
    ):
        ok(cli, *args)


def test_location_add_refuses_conversion_in_any_case(cli: Cli, initdb: Path) -> None:
    for code in ("CONVERSION", "conversion", "Conversion"):
        err = refused(cli, initdb, "location", "add", code)
        assert err == f"Error: {CONVERSION_REFUSAL.format(code=code)}\n"
    ok(cli, "location", "add", "CONVERSION-2")  # only the exact code is reserved


def test_yaml_locations_refuse_conversion(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    path = tmp_path / "cv.yaml"
    path.write_text("locations: [{code: conversion, name: Conversion line}]\n" + MADE)
    err = refused(cli, initdb, "import", path, one_line=False)
    assert err.splitlines() == [
        f"Error: {path}:1: locations[0].code: {CONVERSION_REFUSAL.format(code='conversion')}",
        "Error: import refused: 1 problem; nothing was written",
    ]


def test_conversion_stays_reserved_after_production_made_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, MADE, "made.yaml")
    make_five_f(cli)  # the first completion creates the virtual place
    err = refused(cli, initdb, "location", "add", "CONVERSION")
    assert err == f"Error: {CONVERSION_REFUSAL.format(code='CONVERSION')}\n"
    path = tmp_path / "made.yaml"
    path.write_text("locations: [{code: CONVERSION}]\n")
    err = refused(cli, initdb, "import", path, one_line=False)
    assert CONVERSION_REFUSAL.format(code="CONVERSION") in err


def test_an_old_real_conversion_location_is_named_with_the_right_article(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # A database from before the code was reserved can hold a real CONVERSION location.
    conn = sqlite3.connect(initdb)
    with conn:
        conn.execute(
            "INSERT INTO location (code, name, kind) VALUES ('CONVERSION', 'x', 'internal')"
        )
    conn.close()
    import_yaml(cli, tmp_path, MADE, "made.yaml")
    for args in (
        ("order", "create", "F", "5", "--due", "2030-12-31"),
        ("order", "release", "1"),
        ("order", "start", "1"),
        ("consume", "1"),
    ):
        ok(cli, *args)
    err = refused(cli, initdb, "order", "complete", "1", "--qty", "5")
    assert err == (
        "Error: location CONVERSION is an internal location, but mfgctl needs that code for "
        "its production conversion place: rename it first with "
        "`mfgctl location rename CONVERSION NEW`\n"
    )


def test_conversion_constant_is_production_s() -> None:
    from mfgctl.domain import locations, production

    assert locations.CONVERSION == production.CONVERSION


# -- 3. export keeps the cost of stock ----------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SHOP = """\
locations: [{code: LINE, name: Line-side rack}]
items:
  - {code: V, name: V, type: component, unit: pcs, make_or_buy: buy, cost: 5}
  - {code: W, name: W, type: raw, unit: kg, make_or_buy: buy, cost: 999999.999999}
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: S, name: S, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: N, name: N, type: component, unit: pcs, make_or_buy: buy}
boms: [{item: P, lines: [{item: V, qty: 3}, {item: W, qty: 0.5}]}]
"""


def valuation(cli: Cli) -> tuple[list[dict[str, object]], str]:
    """``report valuation``: its rows (JSON) and its total line."""
    import json

    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    return rows, ok(cli, "report", "valuation", "-f", "csv").stderr


def round_trip(cli: Cli, db_path: Path, tmp_path: Path) -> tuple[str, str]:
    """Export, import into a fresh database (the CLI then points at it), export again."""
    first = tmp_path / "first.yaml"
    ok(cli, "export", "-o", first)
    fresh = tmp_path / "fresh.db"
    ok(cli, "--db", fresh, "init")
    ok(cli, "--db", fresh, "import", first)
    second = tmp_path / "second.yaml"
    ok(cli, "--db", fresh, "export", "-o", second)
    db_path.unlink()
    fresh.rename(db_path)
    return first.read_text(), second.read_text()


def test_export_carries_the_moving_average_of_stock(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "V", "10", "--cost", "2", "--date", "2025-01-15")
    ok(cli, "stock", "receive", "V", "20", "--cost", "3.1", "--date", "2025-03-01")
    ok(cli, "stock", "receive", "W", "7", "--cost", "1.3")
    ok(cli, "stock", "receive", "W", "3", "--cost", "0.7")
    ok(cli, "stock", "receive", "S", "4")  # at its standard cost
    ok(cli, "stock", "receive", "N", "4")  # no cost at all
    ok(cli, "ship", "V", "4", "--to", "ACME")
    for args in (
        ("order", "create", "P", "3", "--due", "2030-12-31"),
        ("order", "release", "1"),
        ("order", "start", "1"),
        ("consume", "1"),
        ("order", "complete", "1", "--qty", "3"),
    ):
        ok(cli, *args)
    ok(cli, "stock", "move", "V", "5", "--from", "STORES", "--to", "LINE")
    before = valuation(cli)
    # V: (10 x 2 + 20 x 3.1) / 30 = 2.733333; W: (7 x 1.3 + 3 x 0.7) / 10 = 1.12;
    # P: (9 V x 2.733333 + 1.5 kg W x 1.12) / 3 = 8.759999.
    averages = {r["item"]: (r["average_cost"], r["value"], r["basis"]) for r in before[0]}
    assert averages == {
        "N": (0, 0, "none"),
        "P": (Decimal("8.759999"), Decimal("26.279997"), "average"),
        "S": (2, 8, "standard"),
        "V": (Decimal("2.733333"), Decimal("46.466661"), "average"),
        "W": (Decimal("1.12"), Decimal("9.52"), "average"),
    }
    first, second = round_trip(cli, initdb, tmp_path)
    stock = first[first.index("stock:") :].splitlines()
    assert stock == [
        "stock:",
        "- {item: N, location: STORES, status: available, qty: 4}",
        "- {item: P, location: STORES, status: available, qty: 3, cost: 8.759999}",
        "- {item: S, location: STORES, status: available, qty: 4}",
        "- {item: V, location: LINE, status: available, qty: 5, cost: 2.733333}",
        "- {item: V, location: STORES, status: available, qty: 12, cost: 2.733333}",
        "- {item: W, location: STORES, status: available, qty: 8.5, cost: 1.12}",
    ]
    assert second == first
    assert valuation(cli) == before  # every average, value, basis and the total


def test_export_round_trip_keeps_the_sample_data_valuation(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys
    from datetime import date, timedelta

    ok(cli, "import", *sorted((ROOT / "sample_data").glob("*.yaml")))
    mfgctl = Path(sys.executable).parent / "mfgctl"
    due = (date.today() + timedelta(days=7)).isoformat()
    subprocess.run(
        ["sh", str(ROOT / "sample_data" / "production_story.sh"), str(mfgctl), str(initdb), due],
        check=True,
        capture_output=True,
    )
    before = valuation(cli)
    made = next(r for r in before[0] if r["item"] == "HD-200")
    assert made["basis"] == "average" and made["wip"] == 0
    first, second = round_trip(cli, initdb, tmp_path)
    assert f"cost: {made['average_cost']}" in first
    assert second == first
    assert valuation(cli) == before
