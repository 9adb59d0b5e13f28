"""Master-data fixes: a CSV BOM that closes a cycle, the reserved CONVERSION location,
and an export that keeps the value of stock."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, dump, ok, refused


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
