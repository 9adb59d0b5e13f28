"""The importer as a library: reading YAML exactly, validating, writing, exporting."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import dump
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl import importer
from mfgctl.domain import bom, items, reports
from mfgctl.errors import ImportInvalid
from mfgctl.importer import exporter, yamlread

PARTS = """\
items:
  - {code: MIC-100, name: Microphone, type: component, unit: pcs, make_or_buy: buy,
     units: {reel: 5000}, tracking: lot}
  - {code: SLD-1, name: Solder, type: raw, unit: kg, make_or_buy: buy, tracking: lot}
  - {code: WIRE-1, name: Wire, type: raw, unit: m, make_or_buy: buy}
  - {code: EM-1, name: Module, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: HD-1, name: Device, type: finished, unit: pcs, make_or_buy: make}
"""


def docs(text: str, name: str = "t.yaml") -> list[importer.Document]:
    found, problems = importer.parse(text, name)
    assert problems == []
    return found


def run(conn: sqlite3.Connection, text: str, **kw) -> importer.Result:
    with dbmod.transaction(conn):
        return importer.run(conn, docs(text), user="tester", **kw)


def problems_of(conn: sqlite3.Connection, text: str) -> list[str]:
    before = dump_conn(conn)
    with pytest.raises(ImportInvalid) as e, dbmod.transaction(conn):
        importer.run(conn, docs(text), user="tester")
    assert dump_conn(conn) == before
    return e.value.problems


def dump_conn(conn: sqlite3.Connection) -> str:
    return "\n".join(conn.iterdump())


# -- reading -------------------------------------------------------------------------------


def test_records_remember_their_line_and_the_line_of_each_key():
    (doc,) = docs("# comment\nitems:\n  - code: A\n\n    name: x\n  - {code: B}\n")
    first, second = doc.data["items"]
    assert first.line == 3 and first.key_line("name") == 5
    assert second.line == 6 and second.key_line("code") == 6
    assert doc.data["items"].entry_line(1) == 6


def test_numbers_arrive_exactly():
    (doc,) = docs(
        "a: 0.35\nb: 999999999999.999999\nc: 12\nd: -4\ne: 0.1\nf: 1.50\ng: '0.35'\n"
        "h: 012\ni: 0x1F\nj: 1_000\nk: .nan\nl: .inf\nm: 1:30\n"
    )
    d = doc.data
    assert d["a"] == Decimal("0.35") and type(d["a"]) is Decimal
    assert d["b"] == Decimal("999999999999.999999")
    assert d["c"] == 12 and type(d["c"]) is int and d["d"] == -4
    assert d["e"] + Decimal("0.2") == Decimal("0.3")
    assert str(d["f"]) == "1.50" and d["g"] == "0.35"
    # What YAML 1.1 would turn into surprising numbers stays the text the user wrote,
    # so a quantity field refuses it instead of reading 012 as 10 or 1:30 as 90.
    assert [d[k] for k in "hijklm"] == ["012", "0x1F", "1_000", ".nan", ".inf", "1:30"]


def test_keys_are_the_text_as_written():
    (doc,) = docs("yes: 1\n1: 2\nnull: 3\n")
    assert list(doc.data) == ["yes", "1", "null"]


def test_anchors_aliases_and_merge_keys_work():
    (doc,) = docs(
        "base: &b {type: raw, unit: pcs}\n"
        "items:\n  - <<: *b\n    code: A\n    unit: kg\n  - *b\n"
        "list: &l [1, 2]\nagain: *l\n"
    )
    first, second = doc.data["items"]
    assert first == {"code": "A", "type": "raw", "unit": "kg"}
    assert second == {"type": "raw", "unit": "pcs"}
    assert doc.data["again"] == [1, 2]


def test_several_documents_in_one_text():
    found = docs("items: []\n---\nboms: []\n---\n")
    assert [d.data for d in found] == [{"items": []}, {"boms": []}, None]


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system ''\n", "!!python/name:os.system"),
        ("a: !!python/object:collections.OrderedDict {x: 1}\n", "!!python/object:"),
        ("a: !!python/tuple [1, 2]\n", "!!python/tuple"),
    ],
)
def test_python_tags_are_refused_with_the_line(text, tag):
    _, problems = importer.parse("# x\n" + text, "evil.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("evil.yaml:2: YAML tag " + tag)
    assert "not allowed" in problems[0]


def test_other_tags_are_refused_and_plain_tags_allowed():
    found, problems = importer.parse("a: !!binary aGk=\nb: !!str 12\nc: !!int 7\n", "t.yaml")
    assert problems == ["t.yaml:1: YAML tag !!binary is not supported: use plain mappings, "
                        "lists, text, numbers, dates and true/false"]  # fmt: skip
    assert found[0].data["b"] == "12" and found[0].data["c"] == 7


def test_a_duplicate_key_is_a_problem():
    _, problems = importer.parse("a: 1\nb: 2\na: 3\n", "t.yaml")
    assert problems == ["t.yaml:3: key 'a' is given twice in this mapping"]


def test_malformed_yaml_names_the_line():
    _, problems = importer.parse("items:\n  - code: A\n   name: B\n", "t.yaml")
    assert len(problems) == 1 and problems[0].startswith("t.yaml:3: malformed YAML:")


def test_read_files_reports_every_unreadable_file(tmp_path: Path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"items:\n  - {code: A, name: \xe9}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n", encoding="utf-8")
    with pytest.raises(ImportInvalid) as e:
        importer.read_files([bad, tmp_path / "none.yaml", broken])
    first, second, third = e.value.problems
    assert first == f"{bad}:2: not UTF-8 text (byte 0xe9)"
    assert second.startswith(f"{tmp_path / 'none.yaml'}: cannot read the file")
    assert third.startswith(f"{broken}:2: malformed YAML")


# -- validating and writing ------------------------------------------------------------------


def test_a_bom_without_revision_is_revision_a_and_lines_default_to_the_base_unit(conn):
    result = run(conn, PARTS + "boms:\n  - item: EM-1\n    lines: [{item: WIRE-1, qty: 0.25}]\n")
    assert [c.key for c in result.changes if c.kind == "bom"] == ["EM-1 rev A"]
    rev = bom.get_revision(conn, "EM-1")
    assert rev.revision == "A" and rev.lines[0].unit == "m" and rev.lines[0].qty == Decimal("0.25")
    # The stored unit is now explicit; the same file is still unchanged.
    again = run(conn, PARTS + "boms:\n  - item: EM-1\n    lines: [{item: WIRE-1, qty: 0.25}]\n")
    assert {c.action for c in again.changes} == {"unchanged"}


def test_boms_may_name_items_of_the_same_import_and_convert_units(conn):
    run(
        conn,
        PARTS
        + """\
boms:
  - item: HD-1
    lines:
      - {item: EM-1, qty: 1}
      - {item: MIC-100, qty: 1, unit: pcs, substitutes: [EM-1]}
  - item: EM-1
    output_qty: 10
    lines:
      - {item: SLD-1, qty: 3.5, unit: g, scrap_pct: 5}
      - {item: WIRE-1, qty: 60, unit: cm, phantom: false, refdes: W1}
""",
    )
    em = bom.get_revision(conn, "EM-1")
    assert em.output_qty == 10
    assert [(ln.item, ln.qty, ln.unit, ln.scrap_pct) for ln in em.lines] == [
        ("SLD-1", Decimal("3.5"), "g", Decimal(5)),
        ("WIRE-1", Decimal(60), "cm", Decimal(0)),
    ]


def test_validation_collects_problems_across_all_sections(conn):
    problems = problems_of(
        conn,
        PARTS
        + """\
locations:
  - {code: SUPPLIER}
boms:
  - {item: GHOST, lines: [{item: EM-1, qty: 1}]}
  - {item: EM-1, lines: [{item: NOPE, qty: 1}, {item: SLD-1, qty: 1, unit: pcs}]}
stock:
  - {item: WIRE-1, qty: 5, lot: L1}
  - {item: SLD-1, qty: 1, lot: L1, status: lost}
  - {item: WIRE-1, qty: 5, date: 2999-01-01}
""",
    )
    assert problems == [
        "t.yaml:9: locations[0].code: SUPPLIER is a virtual place and cannot be redefined",
        "t.yaml:11: boms[0].item: unknown item 'GHOST'",
        "t.yaml:12: boms[1].lines[0].item: unknown item 'NOPE'",
        "t.yaml:12: boms[1].lines[1].unit: unit 'pcs' cannot convert to SLD-1's base unit 'kg'",
        "t.yaml:14: stock[0].lot: WIRE-1 is not lot- or serial-tracked",
        "t.yaml:15: stock[1].status: must be one of pending_inspection, available, "
        "awaiting_release, blocked, rejected, rework; got 'lost'",
        "t.yaml:16: stock[2].date: 2999-01-01 is in the future: back-dating only",
    ]


def test_a_self_referencing_bom_is_a_cycle(conn):
    problems = problems_of(conn, PARTS + "boms:\n  - {item: EM-1, lines: [{item: em-1, qty: 1}]}\n")
    assert problems == ["t.yaml:9: boms[0].lines: BOM cycle: EM-1 -> EM-1 (an item cannot "
                        "contain itself)"]  # fmt: skip


def test_two_active_revisions_of_one_item_in_one_import_are_refused(conn):
    problems = problems_of(
        conn,
        PARTS + "boms:\n  - {item: EM-1, revision: A, lines: [{item: WIRE-1, qty: 1}]}\n"
        "  - {item: EM-1, revision: B, lines: [{item: WIRE-1, qty: 2}]}\n",
    )
    assert "two active revisions" in problems[0] and problems[0].startswith("t.yaml:10:")


def test_opening_stock_converts_units_and_costs(conn):
    run(
        conn,
        PARTS + "stock:\n  - {item: MIC-100, qty: 2, unit: reel, lot: R1, cost: 4250}\n",
    )
    (row,) = reports.stock(conn, item="MIC-100")
    assert row.available == 10000
    cost = conn.execute("SELECT unit_cost FROM move").fetchone()[0]
    assert Decimal(cost) / 1_000_000 == Decimal("0.85")  # 4250 per reel of 5000


def test_an_opening_balance_with_another_quantity_is_refused(conn):
    run(conn, PARTS + "stock:\n  - {item: SLD-1, qty: 2.5, lot: S1}\n")
    problems = problems_of(conn, PARTS + "stock:\n  - {item: SLD-1, qty: 2.6, lot: S1}\n")
    assert problems == [
        "t.yaml:9: stock[0]: opening stock of SLD-1 lot S1 at STORES/available was already "
        "imported as 2.5 kg, not 2.6: an opening balance is not changed by a new import; "
        "correct it with `mfgctl stock count` or `mfgctl stock adjust`"
    ]
    # Another lot is a new opening balance.
    result = run(conn, PARTS + "stock:\n  - {item: SLD-1, qty: 2.5, lot: S1}\n"
                 "  - {item: SLD-1, qty: 1, lot: S2}\n")  # fmt: skip
    assert [c.action for c in result.changes if c.kind == "stock"] == ["unchanged", "added"]


def test_dry_run_returns_what_a_real_import_does_and_rolls_back(conn):
    text = PARTS + "boms:\n  - {item: EM-1, lines: [{item: WIRE-1, qty: 1}]}\n"
    before = dump_conn(conn)
    dry = run(conn, text, dry_run=True)
    assert dump_conn(conn) == before
    assert dry.dry_run
    real = run(conn, text)
    assert dry.changes == real.changes
    assert dry.summary() == real.summary()


def test_sql_metacharacters_in_free_text_are_stored_as_text(conn):
    run(
        conn,
        'items:\n  - {code: A-1, name: "x\'); DROP TABLE item; --", type: raw, unit: pcs, '
        "make_or_buy: buy}\n",
    )
    assert items.get(conn, "A-1").name == "x'); DROP TABLE item; --"


# -- export ----------------------------------------------------------------------------------


def test_export_of_an_empty_database_lists_the_stores_only(conn):
    assert importer.export(conn).splitlines()[1:] == [
        "locations:",
        "- {code: STORES, name: Main stores}",
    ]


def test_export_writes_items_boms_and_stock_in_a_fixed_order(conn):
    run(
        conn,
        PARTS
        + """\
  - {code: CHG-1, name: 'Charger: USB-C', type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, planning_reviewed: 2025-03-01}
boms:
  - {item: EM-1, revision: C, note: pilot, lines: [{item: SLD-1, qty: 0.5, unit: g}]}
stock:
  - {item: CHG-1, serials: [C-2, C-1], status: blocked}
  - {item: SLD-1, qty: 1.25, lot: S1, expires: 2027-01-31}
""",
    )
    text = importer.export(conn)
    assert (
        "- {code: CHG-1, name: 'Charger: USB-C', type: component, unit: pcs, "
        "make_or_buy: buy, tracking: serial, planning_reviewed: 2025-03-01}"
    ) in text
    assert "- item: EM-1\n  revision: C\n  note: pilot\n  lines:\n" in text
    assert "  - {item: SLD-1, qty: 0.5, unit: g}\n" in text
    assert text.endswith(
        "stock:\n"
        "- {item: CHG-1, location: STORES, status: blocked, serials: [C-1, C-2], qty: 2}\n"
        "- {item: SLD-1, location: STORES, status: available, lot: S1, qty: 1.25, "
        "expires: 2027-01-31}\n"
    )
    data = importer.export_data(conn)
    assert data["stock"][1]["expires"] == date(2027, 1, 31)


# -- speed -----------------------------------------------------------------------------------


def _big_file(n_items: int, n_boms: int, lines_per_bom: int) -> str:
    out = ["items:"]
    for n in range(n_items):
        out += [
            f"  - code: P-{n:05d}",
            f"    name: part {n}",
            "    type: component",
            "    unit: pcs",
            "    make_or_buy: buy",
            f"    cost: {n % 97}.25",
        ]
    for n in range(n_boms):
        out.append(f"  - {{code: A-{n:05d}, name: assy {n}, type: subassembly, unit: pcs, "
                   "make_or_buy: make}")  # fmt: skip
    out.append("boms:")
    for n in range(n_boms):
        out += [f"  - item: A-{n:05d}", "    revision: A", "    lines:"]
        for k in range(lines_per_bom):
            out.append(f"      - {{item: P-{(n * 7 + k) % n_items:05d}, qty: {k % 4 + 1}, "
                       "unit: pcs, scrap_pct: 1.5}")  # fmt: skip
    return "\n".join(out) + "\n"


def test_a_40000_line_file_imports_and_reimports_unchanged(tmp_path: Path, conn):
    # Its speed is measured in bench/ (make bench), not here.
    text = _big_file(n_items=3000, n_boms=700, lines_per_bom=28)
    assert text.count("\n") >= 40_000
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    documents = importer.read_files([path])
    with dbmod.transaction(conn):
        result = importer.run(conn, documents, user="tester")
    assert result.summary()[2] == {"kind": "bom", "added": 700, "changed": 0, "unchanged": 0}
    # A re-import finds everything unchanged.
    with dbmod.transaction(conn):
        again = importer.run(conn, importer.read_files([path]), user="tester")
    assert {c.action for c in again.changes} == {"unchanged"}


def test_the_cli_dump_helper_sees_imported_rows(initdb):
    # Guards the tests above: a dump reflects what an import writes.
    before = dump(initdb)
    c = dbmod.connect(initdb)
    with dbmod.transaction(c):
        importer.run(c, docs(PARTS), user="tester")
    c.close()
    assert dump(initdb) != before


def test_a_null_lot_for_a_lot_tracked_item_is_refused_before_writing(conn):
    problems = problems_of(conn, PARTS + "stock:\n  - {item: SLD-1, qty: 1, lot: null}\n")
    assert problems == [
        "t.yaml:9: stock[0].lot: missing: SLD-1 is lot-tracked, give the lot number"
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1
    ).filter(str.isprintable)
)
def test_any_printable_text_is_exported_so_that_it_reads_back_the_same(value):
    (doc,), problems = importer.parse(
        f"a: {exporter._flow(value)}\nb: [{exporter._flow(value)}]\n", "t"
    )
    assert problems == []
    assert doc.data["a"] == value and doc.data["b"] == [value]


def test_the_export_reads_back_as_the_data_it_was_made_from(conn):
    run(
        conn,
        PARTS
        + "boms:\n  - {item: EM-1, lines: [{item: WIRE-1, qty: 0.25, note: 'a: b, c'}]}\n"
        + "stock:\n  - {item: SLD-1, qty: 1.5, lot: 'L#1(x)', expires: 2030-01-01}\n",
    )
    (doc,), problems = importer.parse(importer.export(conn), "export.yaml")
    assert problems == []
    assert doc.data == importer.export_data(conn)


def test_lines_that_differ_only_in_a_type_are_each_validated(conn):
    problems = problems_of(
        conn,
        PARTS + "boms:\n  - {item: EM-1, lines: [{item: WIRE-1, qty: 1, phantom: true},"
        " {item: SLD-1, qty: 1, phantom: 1}, {item: 'bad code', qty: 1, phantom: true}]}\n",
    )
    assert problems == [
        "t.yaml:9: boms[0].lines[1].phantom: must be true or false, not 1",
        "t.yaml:9: boms[0].lines[2].item: 'bad code' may only contain letters A-Z, digits "
        "and . _ / + # - (no spaces)",
    ]


def test_without_libyaml_the_python_parser_gives_the_same_data(monkeypatch):
    import yaml

    text = PARTS + "boms:\n  - {item: EM-1, lines: [{item: WIRE-1, qty: 0.25}]}\n"
    with_c = docs(text)
    monkeypatch.setattr(yamlread, "_new_parser", lambda t: yaml.SafeLoader(t))
    without = docs(text)
    assert [d.data for d in without] == [d.data for d in with_c]
    assert without[0].data["boms"][0].line == 9
    _, problems = importer.parse("a: [\n", "t.yaml")
    assert problems and problems[0].startswith("t.yaml:2: malformed YAML")
