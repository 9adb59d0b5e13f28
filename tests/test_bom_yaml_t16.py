"""BOMs kept as YAML files in git and imported again and again (tester t16): what the
engineer edits is stored or said, never silently dropped, and the weekly export always
imports back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, dump, ok, refused

from mfgctl.domain import bom

SCREWS = """\
items:
- {code: FG, name: Widget, type: finished, unit: pcs, make_or_buy: make}
- {code: SCREW, name: Screw M2, type: component, unit: pcs, units: {box: 100}, make_or_buy: buy}
boms:
- item: FG
  revision: A
  lines:
  - {item: SCREW, qty: 0.5, unit: box}
"""
# The README's accepted edit: the box unit dropped (``units: {}``: a record without
# ``units:`` keeps them), the line written in pcs (rev B).
SCREWS_NO_BOX = SCREWS.replace("units: {box: 100}, ", "units: {}, ").replace(
    "qty: 0.5, unit: box", "qty: 50, unit: pcs"
)
HISTORY_NOTE = (
    "Note: BOM FG rev A (inactive) line 1: unit 'box' cannot convert to SCREW's base "
    "unit 'pcs'; stored as history, as given (bom activate refuses it unless SCREW has "
    "that unit)"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def export(cli: Cli, db: Path) -> str:
    return ok(cli, "--db", db, "export").stdout


def init(cli: Cli, db: Path) -> Path:
    ok(cli, "--db", db, "init")
    return db


# -- #1 the export of an old revision in a dropped unit imports back -------------------


def test_export_after_dropping_a_unit_imports_back_into_its_own_and_a_fresh_database(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "u1.yaml", SCREWS))
    ok(cli, "import", write(tmp_path, "u2.yaml", SCREWS_NO_BOX))
    snapshot = export(cli, initdb)
    assert "  active: false\n  lines:\n  - {item: SCREW, qty: 0.5, unit: box}\n" in snapshot
    snap = write(tmp_path, "snap.yaml", snapshot)

    before = dump(initdb)
    r = ok(cli, "import", snap)
    assert r.stderr == "Imported 1 file: 0 records written\n"
    assert dump(initdb) == before

    fresh = init(cli, tmp_path / "fresh.db")
    r = ok(cli, "--db", fresh, "import", snap)
    assert r.stderr == f"{HISTORY_NOTE}\nImported 1 file: 4 records written\n"
    assert export(cli, fresh) == snapshot
    # The history revision stays unusable, as in the database it came from.
    for db in (initdb, fresh):
        err = refused(cli, db, "bom", "activate", "FG", "A")
        assert err == (
            "Error: cannot activate BOM FG rev A: line 1 (SCREW): unit 'box' cannot convert "
            "to SCREW's base unit 'pcs'; define the unit on SCREW again, or add a revision "
            "in a unit it has\n"
        )


def test_dry_run_says_the_history_note_and_writes_nothing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "u1.yaml", SCREWS))
    ok(cli, "import", write(tmp_path, "u2.yaml", SCREWS_NO_BOX))
    snap = write(tmp_path, "snap.yaml", export(cli, initdb))
    fresh = init(cli, tmp_path / "fresh.db")
    before = dump(fresh)
    r = ok(cli, "--db", fresh, "import", snap, "--dry-run", "-f", "plain")
    assert HISTORY_NOTE in r.stderr.splitlines()
    assert dump(fresh) == before


def test_history_revision_added_next_to_a_stored_bom(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """The revision goes through the same rule when the item already has a BOM."""
    ok(cli, "import", write(tmp_path, "u1.yaml", SCREWS))
    ok(cli, "import", write(tmp_path, "u2.yaml", SCREWS_NO_BOX))
    snapshot = export(cli, initdb)
    fresh = init(cli, tmp_path / "fresh.db")
    # Rev B first, alone; then the whole snapshot adds rev A to FG's stored BOM.
    only_b = SCREWS_NO_BOX.replace("revision: A", "revision: B")
    ok(cli, "--db", fresh, "import", write(tmp_path, "b.yaml", only_b))
    r = ok(cli, "--db", fresh, "import", write(tmp_path, "snap.yaml", snapshot))
    assert r.stderr == f"{HISTORY_NOTE}\nImported 1 file: 1 records written\n"
    rev_a = ("bom", "show", "FG", "--revision", "A", "-f", "json")
    assert refused(cli, fresh, *rev_a) == refused(cli, initdb, *rev_a)
    assert "{item: SCREW, qty: 0.5, unit: box}" in export(cli, fresh)


def test_export_after_a_base_unit_change_imports_back(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    first = """\
items:
- {code: FG, name: Widget, type: finished, unit: pcs, make_or_buy: make}
- {code: PASTE, name: Paste, type: raw, unit: pcs, make_or_buy: buy}
boms:
- item: FG
  lines:
  - {item: PASTE, qty: 2}
"""
    ok(cli, "import", write(tmp_path, "p1.yaml", first))
    second = first.replace("unit: pcs, make_or_buy: buy", "unit: kg, make_or_buy: buy")
    ok(cli, "import", write(tmp_path, "p2.yaml", second.replace("qty: 2}", "qty: 0.5}")))
    snapshot = export(cli, initdb)
    fresh = init(cli, tmp_path / "fresh.db")
    r = ok(cli, "--db", fresh, "import", write(tmp_path, "snap.yaml", snapshot))
    assert r.stderr.splitlines()[0] == (
        "Note: BOM FG rev A (inactive) line 1: unit 'pcs' cannot convert to PASTE's base "
        "unit 'kg'; stored as history, as given (bom activate refuses it unless PASTE has "
        "that unit)"
    )
    assert export(cli, fresh) == snapshot


def test_an_active_revision_in_a_unit_that_does_not_convert_is_still_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = SCREWS.replace("units: {box: 100}, ", "")
    err = refused(cli, initdb, "import", write(tmp_path, "bad.yaml", text), one_line=False)
    assert err == (
        f"Error: {tmp_path / 'bad.yaml'}:8: boms[0].lines[0].unit: unit 'box' cannot convert "
        "to SCREW's base unit 'pcs'\nError: import refused: 1 problem; nothing was written\n"
    )


# -- #3 re-ordering lines is no change, for the import and for bom diff alike ----------

TWO_PARTS = """\
items:
- {code: FG, name: W, type: finished, unit: pcs, make_or_buy: make}
- {code: P1, name: P, type: component, unit: pcs, make_or_buy: buy}
- {code: P2, name: P, type: component, unit: pcs, make_or_buy: buy}
boms:
- item: FG
  revision: A
  lines:
  - {item: P1, qty: 4}
  - {item: P2, qty: 1}
"""
SORTED = (
    "boms:\n- item: FG\n  revision: A\n  lines:\n  - {item: P2, qty: 1}\n  - {item: P1, qty: 4}\n"
)
ORDER_NOTE = (
    "Note: BOM FG rev A: the file lists the lines of stored revision A in another order; "
    "the order of the lines is no change, and the stored order is kept (export writes it)"
)


def test_reordered_lines_store_no_revision_and_say_so(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "o1.yaml", TWO_PARTS))
    before = dump(initdb)
    r = ok(cli, "import", write(tmp_path, "o3.yaml", SORTED))
    assert r.stderr == f"{ORDER_NOTE}\nImported 1 file: 0 records written\n"
    assert dump(initdb) == before
    r = ok(cli, "import", tmp_path / "o3.yaml", "--dry-run", "-f", "plain")
    assert r.stderr == f"{ORDER_NOTE}\nDry run: nothing was written\n"


def test_a_reordered_and_changed_bom_is_a_new_revision_whose_diff_shows_only_the_change(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "o1.yaml", TWO_PARTS))
    changed = SORTED.replace("{item: P1, qty: 4}", "{item: P1, qty: 5}")
    r = ok(cli, "import", write(tmp_path, "o4.yaml", changed))
    assert "stored as new revision B" in r.stderr
    r = ok(cli, "bom", "diff", "FG", "A", "B", "-f", "csv")
    assert r.stdout.splitlines() == ["change,item,field,old,new", "changed,P1,qty,4,5"]


def test_duplicate_lines_of_one_item_in_another_order_are_the_same_bom(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    dup = TWO_PARTS.replace("{item: P2, qty: 1}", "{item: P1, qty: 1, refdes: R2}")
    ok(cli, "import", write(tmp_path, "d1.yaml", dup))
    swapped = (
        "boms:\n- item: FG\n  revision: A\n  lines:\n"
        "  - {item: P1, qty: 1, refdes: R2}\n  - {item: P1, qty: 4}\n"
    )
    before = dump(initdb)
    r = ok(cli, "import", write(tmp_path, "d2.yaml", swapped))
    assert r.stderr == f"{ORDER_NOTE}\nImported 1 file: 0 records written\n"
    assert dump(initdb) == before


# -- #4 every problem of a BOM record in one run --------------------------------------

PARTS = """\
items:
- {code: HD, name: Headset, type: finished, unit: pcs, make_or_buy: make}
- {code: EM, name: Earmould, type: component, unit: pcs, make_or_buy: buy}
- {code: FP, name: Faceplate, type: component, unit: pcs, make_or_buy: buy}
- {code: BD, name: Board, type: component, unit: pcs, make_or_buy: buy}
- {code: CT, name: Cleaning tool, type: component, unit: pcs, make_or_buy: buy}
boms:
- item: HD
  lines:
  - {item: EM, qty: 1}
"""


def import_problems(cli: Cli, db: Path, path: Path) -> list[str]:
    err = refused(cli, db, "import", path, one_line=False)
    return [ln.removeprefix(f"Error: {path}:") for ln in err.splitlines()]


def test_value_errors_no_longer_hide_unknown_items_units_and_substitutes(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "parts.yaml", PARTS))
    text = """\
boms:
- item: HD
  revision: B
  lines:
  - {item: EM, qty: 1, unit: pcs}
  - {item: nosuch, qty: 1}
  - {item: FP, qty: 1, unit: kg}
  - {item: BD, qty: 0}
  - item: CT
    qty: 1,5
  - {item: ct, qty: 1, substitutes: [NOPE]}
"""
    assert import_problems(cli, initdb, write(tmp_path, "err.yaml", text)) == [
        "6: boms[0].lines[1].item: unknown item 'nosuch'",
        "7: boms[0].lines[2].unit: unit 'kg' cannot convert to FP's base unit 'pcs'",
        "8: boms[0].lines[3].qty: must be greater than zero",
        "10: boms[0].lines[4].qty: '1,5' is not a plain decimal number (like 12 or 0.35)",
        "11: boms[0].lines[5].substitutes: unknown item 'NOPE'",
        "Error: import refused: 5 problems; nothing was written",
    ]


def test_every_bad_field_of_a_line_and_of_the_record_and_its_cycle_in_one_run(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "parts.yaml", PARTS))
    text = """\
boms:
- item: HD
  revision: B
  active: maybe
  lines:
  - {item: EM, qty: 1, substitutes: [HD]}
  - {item: nosuch, qty: x, scrap_pct: 120}
"""
    assert import_problems(cli, initdb, write(tmp_path, "err.yaml", text)) == [
        "4: boms[0].active: must be true or false, not 'maybe'",
        "7: boms[0].lines[1].qty: 'x' is not a plain decimal number (like 12 or 0.35)",
        "7: boms[0].lines[1].scrap_pct: 120 must be below 100",
        "7: boms[0].lines[1].item: unknown item 'nosuch'",
        "5: boms[0].lines: BOM cycle: HD -> HD (an item cannot contain itself)",
        "Error: import refused: 5 problems; nothing was written",
    ]


# -- #6 an item record updates the stored item field by field ---------------------------

TOOL = (
    "items:\n- {code: CT, name: Cleaning tool, type: component, unit: pcs, make_or_buy: buy, "
    "lead_time_days: 14, cost: 0.45, moq: 10, units: {bag: 20}, "
    "release_criteria: [inspection]}\n"
)
SHORT = (
    "items:\n- {code: CT, name: Cleaning tool, type: component, unit: pcs, make_or_buy: buy, "
    "active: false}\n"
)


def item_json(cli: Cli, code: str) -> dict[str, object]:
    row: dict[str, object] = json.loads(ok(cli, "item", "show", code, "-f", "json").stdout)[0]
    return row


def test_a_short_record_changes_only_what_it_gives(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    ok(cli, "import", write(tmp_path, "tool.yaml", TOOL))
    ok(cli, "item", "update", "CT", "--planning-reviewed", "2026-01-15")
    before = item_json(cli, "CT")
    short = write(tmp_path, "short.yaml", SHORT)
    r = ok(cli, "import", short, "--dry-run", "-f", "plain")
    assert "would change item CT (active)" in r.stderr.splitlines()
    r = ok(cli, "import", short, "-f", "plain")
    assert r.stderr == "Imported 1 file: 1 records written\n"
    after = item_json(cli, "CT")
    assert after == {**before, "active": False}
    assert (after["purchase_lead_time_days"], after["cost"], after["moq"]) == (14, 0.45, 10)
    assert after["units"] == {"bag": 20}
    assert after["planning_reviewed"] == "2026-01-15"
    # The same short record again changes nothing.
    r = ok(cli, "import", short)
    assert r.stderr == "Imported 1 file: 0 records written\n"


def test_a_value_is_cleared_by_giving_its_key_its_default(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "tool.yaml", TOOL))
    cleared = SHORT.replace(
        "active: false}",
        "cost: null, lead_time_days: 0, moq: null, units: {}, release_criteria: []}",
    )
    r = ok(cli, "import", write(tmp_path, "cleared.yaml", cleared), "--dry-run", "-f", "plain")
    assert (
        "would change item CT (units, purchase_lead_time_days, moq, cost, release_criteria)"
        in r.stderr.splitlines()
    )
    ok(cli, "import", tmp_path / "cleared.yaml")
    row = item_json(cli, "CT")
    assert (row["purchase_lead_time_days"], row["cost"], row["moq"]) == (0, None, None)
    assert (row["units"], row["release_criteria"]) == ({}, [])
    # The export of the item is now the short record's keys alone.
    assert "- {code: CT, name: Cleaning tool, type: component, unit: pcs, make_or_buy: buy}" in (
        export(cli, initdb)
    )


def test_a_record_that_leaves_a_stored_unit_conflict_as_it_is_is_not_refused_for_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    """Only what a record changes is checked against the rules of entry, as for ``item
    update``: a unit stored before the rule is ``check``'s to report."""
    ok(cli, "import", write(tmp_path, "tool.yaml", TOOL))
    with sqlite3.connect(initdb) as c:  # 1 PCS = 2 pcs, stored before entry refused it
        c.execute("INSERT INTO item_unit (item_id, unit, factor) VALUES (1, 'PCS', 2000000)")
    ok(cli, "import", write(tmp_path, "short.yaml", SHORT))
    assert item_json(cli, "CT")["active"] is False
    r = cli("check", "-f", "csv")
    assert r.exit_code == 4 and r.stdout.count("error,unit_conflict,CT,") == 1


# -- #7 what an import does not apply to a stored revision is said ---------------------

NOTED = """\
items:
- {code: FG, name: W, type: finished, unit: pcs, make_or_buy: make}
- {code: P1, name: P, type: component, unit: pcs, make_or_buy: buy}
boms:
- item: FG
  note: first
  lines:
  - {item: P1, qty: 4}
"""


def test_a_changed_note_of_a_stored_revision_is_said_not_dropped(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "n1.yaml", NOTED))
    before = dump(initdb)
    r = ok(cli, "import", write(tmp_path, "n2.yaml", NOTED.replace("first", "second")))
    assert r.stderr == (
        "Note: BOM FG rev A: the file's note 'second' is not stored: stored revision A keeps "
        "its note 'first' (a stored revision is never rewritten; export writes its note)\n"
        "Imported 1 file: 0 records written\n"
    )
    assert dump(initdb) == before
    assert "  note: first\n" in export(cli, initdb)


def test_active_false_on_the_active_revision_is_said_not_dropped(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "n1.yaml", NOTED))
    before = dump(initdb)
    inactive = write(tmp_path, "n3.yaml", NOTED.replace("  note: first\n", "  active: false\n"))
    r = ok(cli, "import", inactive, "--dry-run", "-f", "plain")
    assert r.stderr.splitlines() == [
        "Note: BOM FG rev A: the file has no note: stored revision A keeps its note 'first' "
        "(a stored revision is never rewritten; export writes its note)",
        "Note: BOM FG rev A: active: false is not applied: revision A stays the active one "
        "(to make another active: mfgctl bom activate FG REV)",
        "Dry run: nothing was written",
    ]
    r = ok(cli, "import", inactive)
    assert r.stderr.endswith(
        "(to make another active: mfgctl bom activate FG REV)\nImported 1 file: 0 records written\n"
    )
    assert dump(initdb) == before


# -- #8 a substitute that is the line's own item, or listed twice ----------------------

SUBS = """\
items:
- {code: FG, name: W, type: finished, unit: pcs, make_or_buy: make}
- {code: P1, name: P1, type: component, unit: pcs, make_or_buy: buy}
- {code: P2, name: P2, type: component, unit: pcs, make_or_buy: buy}
boms:
- item: FG
  lines:
  - {item: P1, qty: 1, substitutes: [P1, P2, p2]}
"""


def test_a_substitute_naming_its_own_line_item_or_listed_twice_is_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "s8.yaml", SUBS)
    assert import_problems(cli, initdb, path) == [
        "8: boms[0].lines[0].substitutes: P1 is the line's own item; p2 is P2 again: list "
        "each substitute once, and not the line's own item",
        "Error: import refused: 1 problem; nothing was written",
    ]


def test_stored_substitute_mistakes_are_found_by_bom_validate_and_check(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "ok.yaml", SUBS.replace("[P1, P2, p2]", "[P2]")))
    # As an older mfgctl stored them: P1 and P2 again after P2.
    with sqlite3.connect(initdb) as c:
        for position, code in ((2, "P1"), (3, "P2")):
            c.execute(
                "INSERT INTO bom_substitute (line_id, position, item_id) "
                "SELECT 1, ?, id FROM item WHERE code = ?",
                (position, code),
            )
    r = cli("bom", "validate", "-f", "csv")
    assert r.exit_code == 4
    tail = (
        "; give FG a revision without it (the import refuses it in an active revision: an "
        "export would not import back)"
    )
    assert r.stdout.splitlines()[1:] == [
        f"bom_substitute,FG rev A,line 1 (P1): substitute P1 is the line's own item{tail}",
        f"bom_substitute,FG rev A,line 1 (P1): substitute P2 is listed twice{tail}",
    ]
    r = ok(cli, "check", "-f", "csv")
    assert f"warning,bom_substitute,FG rev A,line 1 (P1): substitute P2 is listed twice{tail}" in (
        r.stdout.splitlines()
    )
    # The fix: a revision without them; the old one is history, and the export imports back.
    ok(
        cli,
        "import",
        write(
            tmp_path, "b.yaml", SUBS.replace("[P1, P2, p2]", "[P2]").replace("qty: 1,", "qty: 2,")
        ),
    )
    assert ok(cli, "bom", "validate").exit_code == 0
    snapshot = export(cli, initdb)
    assert "substitutes: [P2, P1, P2]" in snapshot
    fresh = init(cli, tmp_path / "fresh.db")
    r = ok(cli, "--db", fresh, "import", write(tmp_path, "snap.yaml", snapshot))
    assert r.stderr.splitlines()[0] == (
        "Note: BOM FG rev A (inactive) line 1: substitute P1 is the line's own item; P2 is "
        "listed twice; stored as history, as given"
    )
    assert export(cli, fresh) == snapshot


# -- #9 the next revision keeps the zero padding ------------------------------------------


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("02", {"01", "02"}, "03"),
        ("09", {"09"}, "10"),
        ("099", {"099", "100"}, "101"),
        ("A09", {"A09"}, "A10"),
        ("3", {"3"}, "4"),
        ("A9", {"A9"}, "A10"),
        ("1.10", {"1.10"}, "1.11"),
        ("B", {"B", "C"}, "D"),
        ("Z", {"Z"}, "AA"),
    ],
)
def test_next_revision_keeps_the_form_of_the_name(
    name: str, taken: set[str], expected: str
) -> None:
    assert bom.next_revision(name, taken) == expected


def test_a_changed_bom_of_a_zero_padded_revision_is_stored_padded(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """\
items:
- {code: FG, name: W, type: finished, unit: pcs, make_or_buy: make}
- {code: P1, name: P, type: component, unit: pcs, make_or_buy: buy}
boms:
- item: FG
  revision: '02'
  lines:
  - {item: P1, qty: 1}
"""
    ok(cli, "import", write(tmp_path, "rv.yaml", text))
    r = ok(cli, "import", write(tmp_path, "rv2.yaml", text.replace("qty: 1}", "qty: 2}")))
    assert r.stderr.splitlines()[0] == (
        "Note: BOM FG: revision 02 differs from the stored one; stored as new revision 03"
    )
    r = ok(cli, "bom", "list", "-f", "csv")
    assert [ln.split(",")[:3] for ln in r.stdout.splitlines()[1:]] == [
        ["FG", "02", "no"],
        ["FG", "03", "yes"],
    ]
