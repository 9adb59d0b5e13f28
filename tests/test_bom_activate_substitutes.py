"""``bom activate`` refuses a revision whose substitutes the import would refuse in an
active revision (tester t20 #4), and the import's history notes say what is so (#6)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import Cli, ok, refused

HISTORY = """\
items:
  - {code: C1, name: c1, type: component, unit: pcs, make_or_buy: buy}
  - {code: C2, name: c2, type: component, unit: pcs, make_or_buy: buy}
  - {code: SUB, name: sub, type: subassembly, unit: pcs, make_or_buy: make}
boms:
  - item: SUB
    revision: B
    lines: [{item: C1, qty: 12}]
  - item: SUB
    revision: C
    active: false
    lines: [SUBSTITUTES]
"""


def write(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "h.yaml"
    path.write_text(HISTORY.replace("SUBSTITUTES", lines), encoding="utf-8")
    return path


def dump(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT id, item_id, revision, active FROM bom ORDER BY id").fetchall()


def test_activate_refuses_a_substitute_naming_the_lines_own_item(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    r = ok(cli, "import", write(tmp_path, "{item: C1, qty: 1, substitutes: [C1]}"))
    assert r.stderr.splitlines()[0] == (
        "Note: BOM SUB rev C (inactive) line 1: substitute C1 is the line's own item; "
        "stored as history, as given"
    )
    before = dump(initdb)
    err = refused(cli, initdb, "bom", "activate", "SUB", "C")
    assert err == (
        "Error: cannot activate BOM SUB rev C: line 1 (C1): substitute C1 is the line's own "
        "item: list each substitute once, and not the line's own item; add a revision with "
        "the substitutes corrected\n"
    )
    assert dump(initdb) == before  # rev B still the active one
    assert ok(cli, "bom", "validate").exit_code == 0
    # The export still imports back into a fresh database.
    snapshot = ok(cli, "export").stdout
    (tmp_path / "snap.yaml").write_text(snapshot, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    ok(cli, "--db", fresh, "init")
    ok(cli, "--db", fresh, "import", tmp_path / "snap.yaml")


def test_activate_refuses_a_substitute_listed_twice(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    ok(cli, "import", write(tmp_path, "{item: C1, qty: 1, substitutes: [C2, c2]}"))
    err = refused(cli, initdb, "bom", "activate", "SUB", "C")
    assert err.startswith(
        "Error: cannot activate BOM SUB rev C: line 1 (C1): substitute C2 is listed twice: "
    )


def test_activate_takes_a_revision_with_good_substitutes(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "import", write(tmp_path, "{item: C1, qty: 1, substitutes: [C2]}"))
    r = ok(cli, "bom", "activate", "SUB", "C")
    assert r.stderr == "SUB: revision C is now the active BOM\n"


def test_history_notes_say_what_is_so(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    """A unit the item never had is not 'until it has that unit again'; the own item
    listed twice is the line's own item once, then listed twice."""
    path = write(
        tmp_path,
        "{item: C1, qty: 1, unit: furlong}, {item: C1, qty: 1, substitutes: [C1, C1]}",
    )
    r = ok(cli, "import", path)
    assert r.stderr.splitlines()[:2] == [
        "Note: BOM SUB rev C (inactive) line 1: unit 'furlong' cannot convert to C1's base "
        "unit 'pcs'; stored as history, as given (bom activate refuses it unless C1 has "
        "that unit)",
        "Note: BOM SUB rev C (inactive) line 2: substitute C1 is the line's own item; C1 is "
        "listed twice; stored as history, as given",
    ]
