"""``mfgctl import`` and ``mfgctl export`` through the CLI: what a user sees.

Each refusal names the file, the line and the field, exits 1 and leaves the database
exactly as it was (compared with a full SQL dump).
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import dump, refused
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mfgctl import importer
from mfgctl.cli import app
from mfgctl.domain import items

SAMPLE = sorted((Path(__file__).resolve().parents[1] / "sample_data").glob("*.yaml"))

ITEMS = """\
items:
  - {code: MIC-100, name: MEMS microphone, type: component, unit: pcs, make_or_buy: buy,
     units: {reel: 5000}, tracking: lot, inspect_on_receipt: true, cost: 0.85}
  - {code: PCBA-1, name: Assembled PCB, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: SLD-1, name: Solder paste, type: raw, unit: kg, make_or_buy: buy}
  - {code: HD-1, name: Hearing device, type: finished, unit: pcs, make_or_buy: make}
"""

BOMS = """\
boms:
  - item: PCBA-1
    lines:
      - {item: SLD-1, qty: 0.35, unit: g}
  - item: HD-1
    revision: A
    lines:
      - {item: PCBA-1, qty: 1}
      - {item: MIC-100, qty: 2, unit: pcs, scrap_pct: 1.5}
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are named relative to the test's directory, as a user would type them."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return Path(name)


def errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("Error: ")]


@pytest.fixture
def refuses(cli, initdb) -> Callable[..., str]:
    """``refuses(FILE..., contains=[TEXT...])``: the import must be refused, print each
    text, and change nothing; returns its stderr."""

    def check(*files: Path, contains: list[str]) -> str:
        err = refused(cli, initdb, "import", *files, one_line=False)
        for text in contains:
            assert text in err, err
        assert "nothing was written" in err
        return err

    return check


def stock_of(cli, item: str) -> dict:
    r = cli("stock", "--item", item, "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 1
    return rows[0]


# -- the sample data ---------------------------------------------------------------------


def test_sample_data_imports_and_the_stock_report_shows_its_numbers(cli, initdb):
    r = cli("import", *SAMPLE, "--format", "json")
    assert r.exit_code == 0, r.stderr
    added = {row["kind"]: row["added"] for row in json.loads(r.stdout)}
    assert added == {"location": 2, "workcenter": 8, "item": 38, "bom": 10, "routing": 3,
                     "stock": 36}  # fmt: skip
    mic = stock_of(cli, "MIC-100")
    # 2 reels of 5000 in stores + 400 line-side available; a lot in quarantine; a recall.
    assert Decimal(str(mic["available"])) == 10400
    assert Decimal(str(mic["pending_inspection"])) == 5000
    assert Decimal(str(mic["blocked"])) == 1200
    assert Decimal(str(mic["physical"])) == 16600
    solder = stock_of(cli, "SLD-SAC305")
    assert str(solder["available"]) == "2.5" and str(solder["blocked"]) == "0.5"
    cells = stock_of(cli, "BAT-LI-40")  # inspected on receipt: quarantine by default
    assert cells["pending_inspection"] == 600 and cells["available"] == 0
    devices = stock_of(cli, "HD-200")
    assert devices["awaiting_release"] == 2 and devices["free"] == 0
    assert cli("check").exit_code == 0


def test_reimporting_the_sample_changes_nothing(cli, initdb):
    assert cli("import", *SAMPLE).exit_code == 0
    before = dump(initdb)
    r = cli("import", *SAMPLE, "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert all(row["added"] == 0 and row["changed"] == 0 for row in rows), rows
    assert {row["kind"]: row["unchanged"] for row in rows} == {
        "location": 3,
        "workcenter": 8,
        "item": 38,
        "bom": 10,
        "routing": 3,
        "stock": 36,
    }
    assert dump(initdb) == before


def test_export_import_export_gives_the_same_text(cli, initdb, tmp_path):
    assert cli("import", *SAMPLE).exit_code == 0
    first = cli("export")
    assert first.exit_code == 0, first.stderr
    exported = write(tmp_path, "export.yaml", first.stdout)
    other = tmp_path / "fresh.db"
    assert cli("--db", other, "init").exit_code == 0
    assert cli("--db", other, "import", exported).exit_code == 0
    second = cli("--db", other, "export", "--output", tmp_path / "again.yaml")
    assert second.exit_code == 0, second.stderr
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == first.stdout
    # The export is itself a no-op import into the database it came from.
    before = dump(initdb)
    assert cli("import", exported).exit_code == 0
    assert dump(initdb) == before


def test_export_writes_exact_numbers_and_leaves_defaults_out(cli, initdb, tmp_path):
    f = write(
        tmp_path,
        "items.yaml",
        """\
        items:
          - {code: BIG-1, name: Big, type: raw, unit: kg, make_or_buy: buy,
             cost: 999999999999.999999, safety_stock: 0.35}
        """,
    )
    assert cli("import", f).exit_code == 0
    out = cli("export").stdout
    line = next(ln for ln in out.splitlines() if "BIG-1" in ln)
    assert line == (
        "- {code: BIG-1, name: Big, type: raw, unit: kg, make_or_buy: buy, "
        "safety_stock: 0.35, cost: 999999999999.999999}"
    )


# -- all or nothing -------------------------------------------------------------------------


def test_an_import_failing_on_its_last_record_leaves_nothing_behind(tmp_path, refuses):
    items = write(tmp_path, "items.yaml", ITEMS)
    boms = write(tmp_path, "boms.yaml", BOMS)
    stock = write(
        tmp_path,
        "stock.yaml",
        """\
        stock:
          - {item: SLD-1, qty: 2.5}
          - {item: MIC-100, qty: 1, unit: reel, lot: L1}
          - {item: MIC-100, qty: 10, lot: L2, location: NOWHERE}
        """,
    )
    err = refuses(
        items,
        boms,
        stock,
        contains=["stock.yaml:4: stock[2].location: unknown location 'NOWHERE'"],
    )
    assert len(errors(err)) == 2  # the problem, then the summary line


def test_a_write_time_refusal_also_rolls_everything_back(cli, tmp_path, refuses):
    # Valid on its own, refused only when posting: the opening balance differs from
    # the one imported before, so the items and BOMs of this import must not stay.
    first = write(tmp_path, "a.yaml", ITEMS + "stock:\n  - {item: SLD-1, qty: 2}\n")
    assert cli("import", first).exit_code == 0
    second = write(
        tmp_path,
        "b.yaml",
        ITEMS.replace("Solder paste", "Solder paste SAC305")
        + BOMS
        + "stock:\n  - {item: SLD-1, qty: 3}\n",
    )
    refuses(
        second,
        contains=["b.yaml:", "stock[0]", "already imported as 2 kg", "stock count"],
    )


# -- refusals: file, line and field ---------------------------------------------------------


def test_malformed_yaml_names_file_and_line(tmp_path, refuses):
    f = write(tmp_path, "bad.yaml", "items:\n  - {code: A, name: [unclosed\n  - x\n")
    err = refuses(f, contains=["bad.yaml:", "malformed YAML"])
    assert len(errors(err)) == 2


def test_a_wrongly_typed_value_names_file_line_and_field(tmp_path, refuses):
    f = write(
        tmp_path,
        "items.yaml",
        """\
        items:
          - code: A-1
            name: Part
            type: component
            unit: pcs
            make_or_buy: buy
            lead_time_days: 2.5
        """,
    )
    refuses(
        f,
        contains=[
            "Error: items.yaml:7: items[0].lead_time_days: must be a whole number of days "
            "(0-99999), not 2.5"
        ],
    )


def test_every_problem_is_reported_not_only_the_first(tmp_path, refuses):
    f = write(
        tmp_path,
        "items.yaml",
        """\
        items:
          - {code: A-1, name: Part, type: gizmo, unit: pcs, make_or_buy: buy, cost: -1}
          - {code: A-2, name: Part, type: raw, unit: pcs, make_or_buy: sometimes}
        boms:
          - {item: A-1, lines: [{item: A-2, qty: zero}]}
        """,
    )
    err = refuses(
        f,
        contains=[
            "items.yaml:2: items[0].type: must be one of",
            "items.yaml:2: items[0].cost: must not be negative",
            "items.yaml:3: items[1].make_or_buy: must be one of",
            "items.yaml:5: boms[0].lines[0].qty: 'zero' is not a plain decimal number",
            "4 problems",
        ],
    )
    assert len(errors(err)) == 5


def test_unknown_keys_are_refused(tmp_path, refuses):
    f = write(
        tmp_path,
        "items.yaml",
        """\
        items:
          - code: A-1
            name: Part
            type: raw
            unit: pcs
            make_or_buy: buy
            colour: red
        boms:
          - item: A-1
            lines: [{item: A-1, qty: 1, scrap: 5}]
        widgets: []
        """,
    )
    refuses(
        f,
        contains=[
            "items.yaml:7: items[0].colour: unknown key",
            "items.yaml:10: boms[0].lines[0].scrap: unknown BOM line key",
            "items.yaml:11: widgets: unknown section",
        ],
    )


def test_duplicate_codes_are_refused_whatever_their_case(tmp_path, refuses):
    a = write(tmp_path, "a.yaml", ITEMS)
    b = write(
        tmp_path,
        "b.yaml",
        "items:\n  - {code: ' mic-100 ', name: Again, type: raw, unit: pcs, make_or_buy: buy}\n",
    )
    refuses(
        a,
        b,
        contains=["b.yaml:2: items[0].code: item mic-100 is given twice (first at a.yaml:2)"],
    )


def test_a_duplicate_key_in_one_mapping_is_refused(tmp_path, refuses):
    f = write(
        tmp_path,
        "items.yaml",
        "items:\n  - code: A-1\n    name: One\n    name: Two\n",
    )
    refuses(f, contains=["items.yaml:4: key 'name' is given twice"])


def test_a_bom_cycle_is_refused_and_named(tmp_path, refuses):
    f = write(
        tmp_path,
        "boms.yaml",
        ITEMS
        + """\
boms:
  - item: PCBA-1
    lines: [{item: HD-1, qty: 1}]
  - item: HD-1
    lines: [{item: PCBA-1, qty: 1}]
""",
    )
    refuses(f, contains=["boms.yaml:9: boms[0].lines: BOM cycle: PCBA-1 -> HD-1 -> PCBA-1"])


def test_a_cycle_through_a_stored_bom_is_refused(cli, tmp_path, refuses):
    assert cli("import", write(tmp_path, "a.yaml", ITEMS + BOMS)).exit_code == 0
    f = write(
        tmp_path,
        "b.yaml",
        "boms:\n  - item: SLD-1\n    lines:\n      - {item: HD-1, qty: 1}\n",
    )
    refuses(
        f,
        contains=["b.yaml:3: boms[0].lines: BOM cycle: SLD-1 -> HD-1 -> PCBA-1 -> SLD-1"],
    )


def test_a_unit_that_cannot_convert_is_refused(tmp_path, refuses):
    f = write(
        tmp_path,
        "boms.yaml",
        ITEMS + "boms:\n  - item: PCBA-1\n    lines:\n      - {item: SLD-1, qty: 3, unit: cm}\n",
    )
    refuses(
        f,
        contains=["boms.yaml:10: boms[0].lines[0].unit: unit 'cm' cannot convert to SLD-1"],
    )


def test_a_missing_lot_for_a_lot_tracked_item_is_refused(tmp_path, refuses):
    f = write(tmp_path, "s.yaml", ITEMS + "stock:\n  - {item: MIC-100, qty: 100}\n")
    refuses(
        f,
        contains=["s.yaml:8: stock[0].lot: missing: MIC-100 is lot-tracked, give the lot number"],
    )


def test_python_tags_are_refused(tmp_path, refuses):
    f = write(
        tmp_path,
        "evil.yaml",
        """\
        items:
          - code: A-1
            name: !!python/object/apply:os.system ["echo pwned > /tmp/pwned"]
        """,
    )
    refuses(
        f,
        contains=[
            "evil.yaml:3: YAML tag !!python/object/apply:os.system is not allowed",
            "never builds Python objects",
        ],
    )


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ('"X\'; DROP TABLE item; --"', "X'; DROP TABLE item; --"),
        ("\"A1' OR '1'='1\"", "A1' OR '1'='1"),
        ("MIKROFON-Ä", "MIKROFON-Ä"),
        ("麦克风", "麦克风"),
    ],
)
def test_sql_metacharacters_and_non_ascii_in_codes_are_refused(tmp_path, code, shown, refuses):
    f = write(
        tmp_path,
        "items.yaml",
        f"items:\n  - {{code: {code}, name: x, type: raw, unit: pcs, make_or_buy: buy}}\n",
    )
    refuses(
        f,
        contains=[f"items.yaml:2: items[0].code: {shown!r} may only contain letters A-Z"],
    )


def test_non_ascii_names_are_kept_exactly(cli, initdb, tmp_path):
    f = write(
        tmp_path,
        "items.yaml",
        "items:\n  - {code: MIC-1, name: 'Mikrofon Ø2,5 \u2013 größer; DROP TABLE item', "
        "type: raw, unit: pcs, make_or_buy: buy}\n",
    )
    assert cli("import", f).exit_code == 0
    assert "name: 'Mikrofon Ø2,5 \u2013 größer; DROP TABLE item'" in cli("export").stdout


def test_a_file_that_does_not_exist_is_reported(tmp_path, refuses):
    refuses(tmp_path / "missing.yaml", contains=["missing.yaml: cannot read"])


# -- dry run, revisions, opening balances ---------------------------------------------------


def test_dry_run_reports_what_would_change_and_writes_nothing(cli, initdb, tmp_path):
    f = write(tmp_path, "a.yaml", ITEMS + BOMS)
    before = dump(initdb)
    r = cli("import", "--dry-run", f, "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = {row["kind"]: row for row in json.loads(r.stdout)}
    assert rows["item"]["added"] == 4 and rows["bom"]["added"] == 2
    assert "would add item MIC-100" in r.stderr
    assert "would add bom HD-1 rev A" in r.stderr
    assert "Dry run: nothing was written" in r.stderr
    assert dump(initdb) == before
    # And a real import then does exactly what the dry run said.
    real = cli("import", f, "--format", "json")
    assert json.loads(real.stdout) == json.loads(r.stdout)


def test_dry_run_of_a_change_shows_the_changed_fields(cli, initdb, tmp_path):
    assert cli("import", write(tmp_path, "a.yaml", ITEMS)).exit_code == 0
    before = dump(initdb)
    changed = ITEMS.replace("cost: 0.85", "cost: 0.9")
    r = cli("import", "--dry-run", write(tmp_path, "b.yaml", changed))
    assert r.exit_code == 0, r.stderr
    assert "would change item MIC-100 (cost)" in r.stderr
    assert dump(initdb) == before


def test_a_changed_bom_becomes_a_new_revision(cli, initdb, tmp_path):
    assert cli("import", write(tmp_path, "a.yaml", ITEMS + BOMS)).exit_code == 0
    changed = write(tmp_path, "b.yaml", ITEMS + BOMS.replace("qty: 2, unit: pcs", "qty: 3"))
    r = cli("import", changed)
    assert r.exit_code == 0, r.stderr
    assert "Note: BOM HD-1: revision A differs from the stored one; stored as new revision B" in (
        r.stderr
    )
    out = cli("export").stdout
    assert "- item: HD-1\n  revision: A\n  active: false\n" in out
    assert "- item: HD-1\n  revision: B\n" in out
    assert "{item: MIC-100, qty: 3, unit: pcs, scrap_pct: 1.5}" in out
    # Importing the changed file again: it matches revision B, nothing changes.
    before = dump(initdb)
    again = cli("import", changed, "--format", "json")
    assert json.loads(again.stdout)[2] == {"kind": "bom", "added": 0, "changed": 0, "unchanged": 2}
    assert dump(initdb) == before


def test_an_item_change_is_an_update(cli, initdb, tmp_path):
    assert cli("import", write(tmp_path, "a.yaml", ITEMS)).exit_code == 0
    r = cli(
        "import",
        write(tmp_path, "b.yaml", ITEMS.replace("name: Solder paste", "name: Solder SAC305")),
        "--format",
        "json",
    )
    assert json.loads(r.stdout)[1] == {"kind": "item", "added": 0, "changed": 1, "unchanged": 3}
    assert "Solder SAC305" in cli("item", "show", "SLD-1").stdout


def test_opening_balances_are_idempotent_and_keep_lots_and_serials(cli, initdb, tmp_path):
    f = write(
        tmp_path,
        "s.yaml",
        ITEMS
        + """\
  - {code: CHG-1, name: Charger, type: component, unit: pcs, make_or_buy: buy, tracking: serial}
stock:
  - {item: MIC-100, qty: 1, unit: reel, lot: MX-1, status: available, date: 2025-01-31}
  - {item: MIC-100, qty: 300, lot: MX-2}
  - {item: SLD-1, qty: 0.5, status: blocked}
  - {item: CHG-1, serials: [C-1, C-2]}
""",
    )
    assert cli("import", f).exit_code == 0
    mic = stock_of(cli, "MIC-100")
    assert mic["available"] == 5000 and mic["pending_inspection"] == 300
    assert stock_of(cli, "CHG-1")["available"] == 2
    before = dump(initdb)
    assert cli("import", f).exit_code == 0
    assert dump(initdb) == before


def test_multiple_documents_and_files_are_one_import(cli, initdb, tmp_path):
    a = write(tmp_path, "a.yaml", "items: []\n---\n" + ITEMS)
    b = write(tmp_path, "b.yaml", "---\n" + BOMS + "---\nlocations:\n  - {code: QC}\n")
    r = cli("import", b, a, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert [row["added"] for row in json.loads(r.stdout)] == [1, 4, 2, 0, 0]


# -- property: random item fields import exactly or are refused cleanly ---------------------

_GARBAGE = st.one_of(
    st.integers(min_value=-5, max_value=10**13),
    st.decimals(
        min_value=Decimal("-1"),
        max_value=Decimal("1e13"),
        places=7,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.text(alphabet="abcXYZ 0123456789.-_:'\"#äø", max_size=12),
    st.booleans(),
    st.none(),
    st.sampled_from(["raw", "buy", "lot", "fixed", "2025-02-30", ".inf", "1e3", "0x10"]),
)
_QTY = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6)
_VALID = {
    "name": st.text(alphabet="abcXYZ 0123456789.-_:'\"#äø;()", min_size=1, max_size=30),
    "type": st.sampled_from(items.TYPES),
    "tracking": st.sampled_from(items.TRACKING),
    "lead_time_days": st.integers(min_value=0, max_value=99999),
    "moq": _QTY,
    "order_multiple": _QTY,
    "safety_stock": st.decimals(min_value=0, max_value=Decimal(10**6), places=3),
    "cost": st.decimals(min_value=0, max_value=Decimal("999999999999.999999"), places=6),
    "inspect_on_receipt": st.booleans(),
    "planning_reviewed": st.dates().map(date.isoformat),
    "period_days": st.integers(min_value=1, max_value=365),
}


@st.composite
def _field_values(draw: st.DrawFn) -> dict[str, object]:
    """Valid values for some fields, and in half the cases one wrong value."""
    fields = draw(st.fixed_dictionaries({}, optional=_VALID))
    if draw(st.booleans()):
        fields[draw(st.sampled_from(sorted(_VALID)))] = draw(_GARBAGE)
    return fields


def _yaml_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    return json.dumps(value, ensure_ascii=False)  # a double-quoted YAML string


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(fields=_field_values())
def test_random_item_fields_import_exactly_or_are_refused(fields):
    raw = {"name": "Part", "type": "raw", "unit": "pcs", "make_or_buy": "buy", **fields}
    body = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in raw.items())
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "p.db"
        f = Path(tmp) / "items.yaml"
        f.write_text(f"items:\n  - {{code: P-1, {body}}}\n", encoding="utf-8")
        assert runner.invoke(app, ["--db", str(db), "init"]).exit_code == 0
        before = dump(db)
        r = runner.invoke(app, ["--db", str(db), "import", str(f)])
        event("refused" if r.exit_code else "imported")
        if r.exit_code != 0:
            assert r.exit_code == 1, r.output
            assert "items.yaml:2: items[0]" in r.stderr
            assert dump(db) == before
            return
        out = runner.invoke(app, ["--db", str(db), "export"]).stdout
        line = next(ln for ln in out.splitlines() if "P-1" in ln)
        # Exact numbers are written back as the same plain numbers.
        for key in ("moq", "order_multiple", "cost"):
            value = fields.get(key)
            if isinstance(value, int | Decimal) and not isinstance(value, bool):
                assert f"{key}: {format(Decimal(value).normalize(), 'f')}" in line, line
        # And every field reads back as the value that was imported.
        (doc,), problems = importer.parse(out, "export.yaml")
        assert problems == []
        (rec,) = [r for r in doc.data["items"] if r["code"] == "P-1"]
        exported = items.build("P-1", {k: v for k, v in rec.items() if k != "code"})
        assert exported.as_dict() == items.build("P-1", raw).as_dict()
        # What was exported imports back unchanged.
        g = Path(tmp) / "again.yaml"
        g.write_text(out, encoding="utf-8")
        stored = dump(db)
        assert runner.invoke(app, ["--db", str(db), "import", str(g)]).exit_code == 0
        assert dump(db) == stored


def test_dry_run_of_a_changed_bom_names_the_new_revision(cli, initdb, tmp_path):
    assert cli("import", write(tmp_path, "a.yaml", ITEMS + BOMS)).exit_code == 0
    before = dump(initdb)
    changed = write(tmp_path, "b.yaml", ITEMS + BOMS.replace("qty: 0.35", "qty: 0.4"))
    r = cli("import", "--dry-run", changed)
    assert r.exit_code == 0, r.stderr
    assert (
        "would add bom PCBA-1 rev B (new revision: the file's revision A differs from the "
        "stored one)"
    ) in r.stderr
    assert dump(initdb) == before


def test_a_deactivated_item_with_stock_survives_the_round_trip(cli, initdb, tmp_path):
    assert cli("import", *SAMPLE).exit_code == 0
    assert cli("item", "update", "CLN-TOOL", "--no-active").exit_code == 0
    first = cli("export")
    exported = write(tmp_path, "export.yaml", first.stdout)
    other = tmp_path / "fresh.db"
    assert cli("--db", other, "init").exit_code == 0
    r = cli("--db", other, "import", exported)
    assert r.exit_code == 0, r.stderr
    assert cli("--db", other, "export").stdout == first.stdout
    # Still deactivated: a new receipt is refused.
    r = cli("--db", other, "stock", "receive", "CLN-TOOL", "5")
    assert r.exit_code == 1 and "deactivated" in r.stderr


def test_a_number_as_a_name_is_taken_as_its_text(cli, initdb, tmp_path):
    f = write(tmp_path, "n.yaml", "items:\n  - {code: X1, name: 1.50, type: raw, unit: g, "
              "make_or_buy: buy}\n")  # fmt: skip
    assert cli("import", f).exit_code == 0
    assert json.loads(cli("item", "show", "X1", "-f", "json").stdout)[0]["name"] == "1.50"


def test_a_fractional_lead_time_names_the_value_as_written(tmp_path, refuses):
    f = write(tmp_path, "n.yaml", "items:\n  - {code: X1, name: x, type: raw, unit: g, "
              "make_or_buy: buy, lead_time_days: 2.5}\n")  # fmt: skip
    err = refuses(f, contains=["lead_time_days", "not 2.5"])
    assert "Decimal(" not in err


# -- routings ------------------------------------------------------------------------------

ROUTINGS = """\
routings:
  - item: HD-1
    stages:
      - {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}
      - {name: qc, run_min: 2.5}
"""


def test_routings_import_export_and_reimport(cli, initdb, tmp_path):
    f = write(tmp_path, "a.yaml", ITEMS + BOMS + ROUTINGS)
    r = cli("import", f, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[3] == {"kind": "routing", "added": 1, "changed": 0, "unchanged": 0}
    out = cli("export").stdout
    assert (
        "routings:\n- item: HD-1\n  stages:\n"
        "  - {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}\n"
        "  - {name: qc, run_min: 2.5}\n"
    ) in out
    before = dump(initdb)
    again = cli("import", f, "--format", "json")
    assert json.loads(again.stdout)[3] == {
        "kind": "routing", "added": 0, "changed": 0, "unchanged": 1,
    }  # fmt: skip
    assert dump(initdb) == before
    changed = write(
        tmp_path, "b.yaml", ITEMS + BOMS + ROUTINGS.replace("run_min: 2.5", "run_min: 3")
    )
    r = cli("import", changed)
    assert r.exit_code == 0, r.stderr
    shown = json.loads(cli("routing", "show", "HD-1", "-f", "json").stdout)
    assert shown[1]["run_min"] == 3


def test_bad_routings_refuse_the_whole_import(cli, initdb, tmp_path, refuses):
    bad = (
        ROUTINGS
        + """\
  - item: MIC-100
    stages:
      - {name: a}
  - item: PCBA-1
    stages:
      - {name: a}
      - {name: b, setup_min: -1}
      - {name: c, colour: red}
      - {name: A}
  - item: NOPE
    stages: []
"""
    )
    f = write(tmp_path, "r.yaml", ITEMS + BOMS + bad)
    err = refuses(
        f,
        contains=[
            "r.yaml:21: routings[1].item: MIC-100 is a buy item: only make items have routings",
            "r.yaml:27: routings[2].stages[1].setup_min: must not be negative, got -1",
            "r.yaml:28: routings[2].stages[2].colour: unknown key (known: name, workcenter, "
            "setup_min, run_min, family)",
            "r.yaml:29: routings[2].stages[3].name: stage A is given twice (first as stages[0])",
            "r.yaml:30: routings[3].item: unknown item 'NOPE'",
            "r.yaml:31: routings[3].stages: must be a non-empty list of stages",
        ],
    )
    assert "import refused: 6 problems" in err
