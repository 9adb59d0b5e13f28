"""``mfgctl bom import-csv``: KiCad and spreadsheet CSV BOMs, proven on real files.

The real files in tests/data/ (see each PROVENANCE.md) are imported whole; their counts
were taken independently of the importer, with the standard library's csv module on
the raw columns (the snippet is in each test's docstring) and cross-checked against
the counts in shared/real_boms/*/SOURCE.md. Every trap those notes list has a test of
its own below; small synthetic files cover the rest of the rules.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import Cli, dump, refused
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl.importer import bomcsv

DATA = Path(__file__).parent / "data"
GLASGOW = DATA / "glasgow-revc3" / "bom.csv"
HACKRF = DATA / "hackrf-one" / "hackrf-one-bom.csv"
BMS = DATA / "libresolar-bms-c1" / "bms-c1_bom.csv"
BMS_MECH = DATA / "libresolar-bms-c1" / "bms-c1_bom_mechanical.csv"
HACKRF_MAP = (
    "--map", "Field1=manufacturer", "--map", "Field2=mpn",
    "--map", "Field3=description", "--map", "Field4=dnp",
)  # fmt: skip


def parent(cli: Cli, code: str = "PCBA") -> None:
    r = cli("item", "add", code, "--name", f"{code} assembly", "--type", "subassembly",
            "--unit", "pcs", "--make-or-buy", "make")  # fmt: skip
    assert r.exit_code == 0, r.stderr


def part(cli: Cli, code: str, name: str) -> None:
    r = cli("item", "add", code, "--name", name, "--type", "component", "--unit", "pcs",
            "--make-or-buy", "buy")  # fmt: skip
    assert r.exit_code == 0, r.stderr


def run(cli: Cli, path: Path, *args: object, item: str = "PCBA") -> dict[str, Any]:
    """Import with --create-items and -f json; the report."""
    r = cli("bom", "import-csv", path, "--item", item, "--create-items", "-f", "json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def write(tmp_path: Path, text: str, name: str = "bom.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(report: dict[str, Any], mpn: str) -> dict[str, Any]:
    return next(ln for ln in report["lines"] if ln["mpn"] == mpn)


def bom_lines(cli: Cli, item: str = "PCBA") -> list[dict[str, Any]]:
    r = cli("bom", "show", item, "-f", "csv")
    assert r.exit_code == 0, r.stderr
    import csv
    import io

    return list(csv.DictReader(io.StringIO(r.stdout)))


# -- the real files -------------------------------------------------------------------


def test_glasgow_imports_with_its_counts(cli: Cli, initdb: Path) -> None:
    """Counted with csv.reader on the raw file: rows[1:], DNP = column 9 == "DNP".
    Fitted: 53 rows, sum of Quantity 224; DNP: 4 rows, 10 placements; 52 distinct MPNs
    plus R15 R16 without one = 53 lines. SOURCE.md: 234 placements, 224 fitted, 10 DNP."""
    parent(cli)
    rep = run(cli, GLASGOW)
    assert (rep["rows_read"], rep["line_count"], rep["placements"]) == (57, 53, 224)
    assert (rep["dnp_rows"], rep["dnp_placements"]) == (4, 10)
    assert (rep["left_out_rows"], rep["left_out_placements"]) == (0, 0)
    assert len(rep["items_created"]) == 53
    assert rep["action"] == "added" and rep["warnings"] == []
    stored = bom_lines(cli)
    assert len(stored) == 53
    assert sum(Decimal(r["qty"]) for r in stored) == 224


def test_hackrf_imports_with_its_counts(cli: Cli, initdb: Path) -> None:
    """Counted by splitting each line on ";": DNP when Field1, Field4 or value is "DNP":
    114 rows; the other 300 rows carry 65 distinct MPNs (Field2). One row is one
    placement. SOURCE.md: 414 designators, 300 fitted, 114 DNP, 65 MPNs fitted."""
    parent(cli)
    rep = run(cli, HACKRF, *HACKRF_MAP)
    assert rep["separator"] == "semicolon" and rep["profile"] == "kicad"
    assert (rep["rows_read"], rep["line_count"], rep["placements"]) == (414, 65, 300)
    assert (rep["dnp_rows"], rep["dnp_placements"]) == (114, 114)
    assert rep["left_out_rows"] == 0
    assert rep["unused_columns"] == ["Field5", "Field6", "Field7", "Field8"]


def test_bms_pcb_imports_with_its_counts(cli: Cli, initdb: Path) -> None:
    """Counted with csv.reader: 69 rows, sum of Qty 209; 8 rows without PartNumber carry
    43 placements (FID, H, LOGO x2, NT1, P5, TP x2); the R29/RT row (6) names two MPNs.
    Lines: 69 - 8 - 1 = 60, placements 209 - 43 - 6 = 160. SOURCE.md: 209 placements,
    166 with a part number, 43 without."""
    parent(cli)
    rep = run(cli, BMS)
    assert (rep["rows_read"], rep["line_count"], rep["placements"]) == (69, 60, 160)
    assert (rep["dnp_rows"], rep["dnp_placements"]) == (0, 0)
    assert (rep["left_out_rows"], rep["left_out_placements"]) == (9, 49)
    assert rep["placements"] + rep["left_out_placements"] == 209


def test_bms_mechanical_imports_with_its_counts(cli: Cli, initdb: Path) -> None:
    """Counted with csv.reader: 11 rows, sum of Quantity 25; 10 distinct "Part Number /
    Type" (else Description) keys, as rows 10 and 11 are both "PH, 4-pin"."""
    parent(cli, "BMS-MECH")
    rep = run(cli, BMS_MECH, item="BMS-MECH")
    assert rep["profile"] == "generic"
    assert (rep["rows_read"], rep["line_count"], rep["placements"]) == (11, 10, 25)
    assert rep["dnp_rows"] == 0 and rep["left_out_rows"] == 0


def test_two_level_bms_from_both_files(cli: Cli, initdb: Path) -> None:
    """BMS C1 = 1 PCB assembly + the mechanical parts (the link is only in the project's
    README): the mechanical file plus one row naming the PCB assembly by its code.
    Exploding 1 BMS C1 gives the 25 mechanical pieces, 1 PCBA and its 160 placements."""
    parent(cli, "BMS-PCBA")
    parent(cli, "BMS-C1")
    run(cli, BMS, item="BMS-PCBA")
    text = BMS_MECH.read_text(encoding="utf-8") + "12,1,PCB assembly,,,BMS-PCBA,\n"
    rep = run(cli, write(initdb.parent, text), item="BMS-C1")
    assert line_of(rep, "BMS-PCBA")["matched"] == "existing"
    r = cli("bom", "explode", "BMS-C1", "--qty", "1", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    by_level: dict[int, Decimal] = {}
    for x in rows:
        by_level[x["level"]] = by_level.get(x["level"], Decimal(0)) + Decimal(str(x["qty"]))
    assert by_level == {1: 26, 2: 160}


# -- Glasgow's traps ------------------------------------------------------------------


def test_glasgow_header_names_with_leading_spaces_are_mapped(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, GLASGOW)
    assert rep["columns"] == {
        "Reference": "reference", "Quantity": "quantity", "Value": "value",
        "Footprint": "footprint", "MPN": "mpn", "Mfg": "manufacturer", "DNP": "dnp",
    }  # fmt: skip
    assert rep["unused_columns"] == ["Datasheet", "1b2-bom-key", "Characteristics"]


def test_glasgow_dnp_rows_with_a_quantity_are_left_out(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, GLASGOW)
    assert [(d["row"], d["refs"], d["qty"]) for d in rep["dnp"]] == [
        (20, "J10", 1), (24, "J6,J7,J8,J9", 4), (35, "R40", 1), (41, "R50,R51,R6,R8", 4)
    ]  # fmt: skip
    refdes = ",".join(ln["refdes"] for ln in rep["lines"]).split(",")
    assert not {"J10", "J6", "R40", "R50", "R6"} & set(refdes)


def test_dnp_value_or_dnp_footprint_alone_is_enough(tmp_path: Path) -> None:
    """Glasgow's R40 says DNP three times; each marker alone leaves the row out."""
    text = (
        "Reference,Qty,Value,Footprint,MPN\n"
        'R40,1,DNP,"R_0402",\n'
        'R41,1,10k,"Glasgow:R_0402_DNP",RC1\n'
        "R42,1,10k,R_0402,RC1\n"
    )
    parsed = bomcsv.parse(text)
    assert [(d.row, d.reason) for d in parsed.dnp] == [
        (2, "value reads DNP"),
        (3, "footprint ends in _DNP"),
    ]
    assert [p.refs for p in parsed.parts] == [["R42"]]


def test_glasgow_comma_inside_a_quoted_value(cli: Cli, initdb: Path) -> None:
    parent(cli)
    ferrite = line_of(run(cli, GLASGOW), "BLM15PX601SZ1D")
    assert (ferrite["qty"], ferrite["refdes"]) == (1, "FB1")
    assert ferrite["name"].startswith("600R, 0.5A L_0402_1005Metric")


def test_glasgow_unicode_minus_in_mpn_matches_a_hyphen(cli: Cli, initdb: Path) -> None:
    """CAT24M01YI\u2212GT3 (a minus sign) in the file; the shop's item says CAT24M01YI-GT3."""
    parent(cli)
    part(cli, "EE-1M", "EEPROM 1 Mbit, MPN CAT24M01YI-GT3")
    rep = run(cli, GLASGOW)
    eeprom = line_of(rep, "CAT24M01YI\u2212GT3")
    assert (eeprom["item"], eeprom["matched"], eeprom["refdes"]) == ("EE-1M", "existing", "U2")
    assert "EE-1M" not in rep["items_created"] and len(rep["items_created"]) == 52


def test_unicode_minus_mpn_gets_an_ascii_code(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, GLASGOW)
    assert line_of(rep, "CAT24M01YI\u2212GT3")["item"] == "CAT24M01YI-GT3"


def test_inconsistent_manufacturer_names_do_not_split_a_part(tmp_path: Path) -> None:
    """Glasgow writes Diodes Inc. and Diodes Incorporated: the MPN decides."""
    text = (
        "Reference,Qty,Value,MPN,Mfg\n"
        "D1,1,BAT54,BAT54-7-F,Diodes Inc.\n"
        "D2,1,BAT54,BAT54-7-F,Diodes Incorporated\n"
    )
    parsed = bomcsv.parse(text)
    assert [(p.qty, p.refs) for p in parsed.parts] == [(2, ["D1", "D2"])]


def test_glasgow_u1_value_and_string_ordered_refs(cli: Cli, initdb: Path) -> None:
    """Row 4: 73 capacitors "u1" (100 nF), refs in string order C10 C13 ... C2 C20 ..."""
    parent(cli)
    cap = line_of(run(cli, GLASGOW), "TMK105BJ104KV-F")
    assert cap["qty"] == 73 and cap["name"].startswith("u1 ")
    refs = cap["refdes"].split(",")
    assert len(refs) == 73 and refs[:3] == ["C2", "C3", "C4"] and refs[-1] == "C89"


def test_glasgow_last_row_without_newline(cli: Cli, initdb: Path) -> None:
    parent(cli)
    crystal = line_of(run(cli, GLASGOW), "JF4024M00009T8188070")
    assert (crystal["refdes"], crystal["rows"]) == ("Y1", [58])


# -- HackRF's traps -------------------------------------------------------------------


def test_hackrf_one_row_per_designator_is_grouped(cli: Cli, initdb: Path) -> None:
    """GRM1555C1H330JA01D (33 pF): 33 rows in the file, none DNP (grep -c)."""
    parent(cli)
    rep = run(cli, HACKRF, *HACKRF_MAP)
    assert HACKRF.read_text().count("GRM1555C1H330JA01D") == 33
    cap = line_of(rep, "GRM1555C1H330JA01D")
    assert cap["qty"] == 33 and len(cap["rows"]) == 33 and cap["refdes"].startswith("C1,C3,")


def test_hackrf_dnp_in_three_columns(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, HACKRF, *HACKRF_MAP)
    reasons = {d["refs"]: d["reason"] for d in rep["dnp"]}
    assert reasons["C68"] == "DNP column: DNP"  # Field4, a real part named
    assert reasons["P1"] == "manufacturer reads DNP"  # Field1
    assert reasons["C155"] == "value reads DNP"  # value and Field1
    assert reasons["J4"] == "manufacturer reads DNP"  # a mounting hole, DNP first
    assert sum(1 for r in reasons.values() if r == "DNP column: DNP") == 18


def test_hackrf_generic_column_names_need_a_map(cli: Cli, initdb: Path) -> None:
    """Without --map the Field columns are unknown: said, and nothing is guessed."""
    parent(cli)
    r = cli("bom", "import-csv", HACKRF, "--item", "PCBA", "--create-items", "--dry-run",
            "-f", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["unused_columns"][:4] == ["Field1", "Field2", "Field3", "Field4"]
    assert rep["dnp_rows"] == 9  # only the value column's DNP is seen


def test_hackrf_bare_quote_inside_unquoted_field(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, HACKRF, *HACKRF_MAP)
    header = line_of(rep, "PPPC112LFBN-RC")  # P20 and P28: CONN HEADER FMAL 22PS.1" DL GOLD
    assert (header["qty"], header["refdes"]) == (2, "P20,P28")
    assert '22PS.1" DL GOLD' in header["name"]
    assert line_of(rep, "PPPC082LFBN-RC")["refdes"] == "P9"
    assert rep["rows_read"] == 414  # nothing swallowed


def test_hackrf_comma_inside_mpn(cli: Cli, initdb: Path) -> None:
    parent(cli)
    mcu = line_of(run(cli, HACKRF, *HACKRF_MAP), "LPC4320FBD144,551")
    assert (mcu["item"], mcu["refdes"]) == ("LPC4320FBD144-551", "U23")
    assert mcu["name"].endswith(", MPN LPC4320FBD144,551")


def test_hackrf_value_and_mpn_disagree_is_a_warning(cli: Cli, initdb: Path) -> None:
    """R25 and R26 say 475 with the 470 ohm MPN: one line of 6 (grep -c: 6 rows)."""
    parent(cli)
    r = cli("bom", "import-csv", HACKRF, "--item", "PCBA", "--create-items", *HACKRF_MAP)
    assert r.exit_code == 0, r.stderr
    assert (
        "Warning: row 301: MPN RMCF0402JT470R has different values: 470 (rows 301, 302, 359, "
        "362); 475 (rows 325, 326); one line"
    ) in r.stderr
    assert "TXLED" not in r.stderr  # net names as values are not worth a warning


def test_hackrf_repeated_values_on_dnp_pads(cli: Cli, initdb: Path) -> None:
    """GP_CLKIN on P72 and P75-P79: six DNP pads, not a line."""
    parent(cli)
    rep = run(cli, HACKRF, *HACKRF_MAP)
    pads = [
        d["refs"] for d in rep["dnp"] if d["refs"] in {"P72", "P75", "P76", "P77", "P78", "P79"}
    ]
    assert len(pads) == 6
    assert not any("GP_CLKIN" in ln["name"] for ln in rep["lines"])


# -- Libre Solar's traps --------------------------------------------------------------


def test_bms_two_mpns_in_one_cell_are_reported_never_guessed(cli: Cli, initdb: Path) -> None:
    parent(cli)
    r = cli("bom", "import-csv", BMS, "--item", "PCBA", "--create-items")
    assert r.exit_code == 0, r.stderr
    assert (
        "Warning: row 52: 2 part numbers in one cell: TDK NTCG163JF103FT1S; Yageo "
        "RC0603FR-0710KL: left out, not guessed"
    ) in r.stderr
    r = cli("item", "list", "-f", "json")
    codes = {i["code"] for i in json.loads(r.stdout)}
    assert not {"NTCG163JF103FT1S", "RC0603FR-0710KL"} & codes


def test_bms_comma_inside_one_real_mpn(cli: Cli, initdb: Path) -> None:
    parent(cli)
    q10 = line_of(run(cli, BMS), "BSS84AK,215")
    assert (q10["item"], q10["qty"], q10["refdes"]) == ("BSS84AK-215", 1, "Q10")


def test_bms_inconsistent_units_are_kept_as_written(cli: Cli, initdb: Path) -> None:
    """47µF (micro sign) and 47uF are different parts here (MPNs differ); not converted."""
    parent(cli)
    rep = run(cli, BMS)
    assert line_of(rep, "CL31A476MPHNNNE")["name"].startswith("47\u00b5F ")
    assert line_of(rep, "AEK1010470M100R")["name"].startswith("47uF ")
    assert line_of(rep, "WSLP5931L3000FEA")["name"].startswith("300\u00b5 ")


def test_bms_rows_with_nothing_to_buy_are_listed(cli: Cli, initdb: Path) -> None:
    parent(cli)
    r = cli("bom", "import-csv", BMS, "--item", "PCBA", "--create-items")
    assert r.exit_code == 0, r.stderr
    for expected in (
        "Left out: row 23 FID1,FID2 (nothing to buy: fiducial)",
        "Left out: row 24 H1,H2,H3,H4,H5,H6 (nothing to buy: mounting hole)",
        "Left out: row 33 LOGO1 (nothing to buy: logo)",
        "Left out: row 34 LOGO2 (nothing to buy: logo)",
        "Left out: row 35 NT1 (nothing to buy: net tie)",
        "Left out: row 37 P5 (nothing to buy: solder pad)",
    ):
        assert expected in r.stderr
    assert r.stderr.count("(nothing to buy: test point)") == 2
    # P1-P4 share P5's value but have a part number: bought.
    assert line_of(run(cli, BMS), "225852-E")["refdes"] == "P1,P2,P3,P4"


def test_bms_mechanical_line_number_column_is_not_a_reference(cli: Cli, initdb: Path) -> None:
    parent(cli)
    rep = run(cli, BMS_MECH)
    assert "Component" in rep["unused_columns"]
    assert all(ln["refdes"] is None for ln in rep["lines"])


def test_bms_mechanical_type_with_a_comma_is_one_part(cli: Cli, initdb: Path) -> None:
    """ "PH, 2-pin" is a type, not two part numbers; rows 11 and 12 share "PH, 4-pin"."""
    parent(cli)
    r = cli("bom", "import-csv", BMS_MECH, "--item", "PCBA", "--create-items", "-f", "json")
    rep = json.loads(r.stdout)
    assert line_of(rep, "PH, 2-pin")["item"] == "PH-2-pin"
    assert (line_of(rep, "PH, 4-pin")["qty"], line_of(rep, "PH, 4-pin")["rows"]) == (2, [11, 12])
    assert "Warning: row 11: MPN PH, 4-pin has different descriptions" in r.stderr


def test_bms_mechanical_superscript_and_conditional_lines(cli: Cli, initdb: Path) -> None:
    """The size in "Cable lugs 25mm², M5" is kept in the name; the thermal pad (really an
    area) and the optional connectors are imported as written: 1 pcs each."""
    parent(cli)
    rep = run(cli, BMS_MECH)
    assert line_of(rep, "704F5")["name"] == "Cable lugs 25mm\u00b2, M5, MPN 704F5"
    assert line_of(rep, "GAP PAD A2000")["qty"] == 1
    nut = next(ln for ln in rep["lines"] if ln["mpn"] is None and "Nut" in ln["name"])
    assert (nut["item"], nut["qty"]) == ("Nut-M5", 4)


# -- the rules, on small files --------------------------------------------------------


def test_merged_references_in_three_styles(tmp_path: Path) -> None:
    text = (
        "Reference;Qty;Value;MPN\n"
        "C1,C2,C3;3;100n;A1\n"
        "C4 C5 C6;3;100n;A2\n"
        "C7-C9;3;100n;A3\n"
        "C10 - C12, C20;4;100n;A4\n"
    )
    parsed = bomcsv.parse(text)
    assert [p.refs for p in parsed.parts] == [
        ["C1", "C2", "C3"], ["C4", "C5", "C6"], ["C7", "C8", "C9"], ["C10", "C11", "C12", "C20"]
    ]  # fmt: skip
    assert parsed.warnings == []


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 6), st.sampled_from([",", " ", "-"])),
        min_size=1,
        max_size=8,
    )
)
def test_placements_equal_the_references_whatever_the_style(
    groups: list[tuple[int, int, str]],
) -> None:
    """Invariant: each row's references, written with commas, spaces or as a range,
    count as the same placements; the total is the number of references written."""
    rows, expected, start = [], 0, 1
    for n, (count, gap, style) in enumerate(groups):
        refs = [f"R{i}" for i in range(start, start + count)]
        written = f"{refs[0]}-{refs[-1]}" if style == "-" else style.join(refs)
        rows.append(f'"{written}",{count},10k,MPN{n}')
        expected += count
        start += count + gap
    parsed = bomcsv.parse("Reference,Qty,Value,MPN\n" + "\n".join(rows) + "\n")
    assert sum(p.qty for p in parsed.parts) == expected
    assert parsed.warnings == []
    assert [len(p.refs) for p in parsed.parts] == [g[0] for g in groups]


def test_quantity_disagreeing_with_references_is_reported(cli: Cli, initdb: Path) -> None:
    parent(cli)
    path = write(initdb.parent, "Reference,Qty,Value,MPN\nC1 C2,3,1u,GRM1\nC3,1,1u,GRM2\n")
    r = cli("bom", "import-csv", path, "--item", "PCBA", "--create-items")
    assert r.exit_code == 0, r.stderr
    assert "Warning: row 2: quantity 3 but 2 references: counted 2" in r.stderr
    assert [x["qty"] for x in bom_lines(cli)] == ["2", "1"]


def test_quantities_as_text_and_header_below_a_preamble_tab_separated(
    cli: Cli, initdb: Path
) -> None:
    """A spreadsheet export: two title lines, then a tab-separated header; quantities
    "2", 2 pcs,  4 and 0.5 (glue in a part without references)."""
    parent(cli)
    text = (
        "Widget controller BOM\n"
        "exported 2025-06-01\n"
        "Qty\tDescription\tManufacturer Part Number\n"
        '"2"\tStandoff M3\tSO-M3-10\n'
        "2 pcs\tScrew M3x6\tISO7380-M3x6\n"
        " 4\tWasher M3\tDIN125-M3\n"
        "0.5\tThread locker (ml)\tLOCTITE-243\n"
    )
    rep = run(cli, write(initdb.parent, text))
    assert (rep["separator"], rep["header_row"], rep["profile"]) == ("tab", 3, "generic")
    assert [ln["qty"] for ln in rep["lines"]] == [2, 2, 4, Decimal("0.5")]


def test_missing_parts_stop_the_import_listing_all(cli: Cli, initdb: Path) -> None:
    parent(cli)
    part(cli, "GRM-1", "Cap, MPN GRM1")
    path = write(initdb.parent, "Reference,Value,MPN\nC1,1u,GRM1\nC2,1u,GRM2\nU1,MCU,STM32\n")
    err = refused(cli, initdb, "bom", "import-csv", path, "--item", "PCBA", one_line=False)
    assert "Error: row 3: no item for MPN GRM2" in err
    assert "Error: row 4: no item for MPN STM32" in err
    assert "GRM1 " not in err
    assert err.rstrip().endswith("import refused: 2 problems; nothing was written")


def test_matching_by_mpn_then_by_code(cli: Cli, initdb: Path) -> None:
    """A shop item named with the MPN in its code is matched; a code column wins."""
    parent(cli)
    part(cli, "LM358DR", "Op-amp dual")
    part(cli, "R-10K", "Resistor 10k 0603")
    path = write(
        initdb.parent, "Ref,Value,MPN,Item code\nU1,LM358,LM358DR,\nR1 R2,10k,RC0603-10K,R-10K\n"
    )
    r = cli("bom", "import-csv", path, "--item", "PCBA", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rep = json.loads(r.stdout)
    assert [(ln["item"], ln["matched"]) for ln in rep["lines"]] == [
        ("LM358DR", "existing"), ("R-10K", "existing")
    ]  # fmt: skip


def test_same_file_twice_changes_nothing(cli: Cli, initdb: Path) -> None:
    parent(cli)
    run(cli, GLASGOW)
    before = dump(initdb)
    rep = run(cli, GLASGOW)
    assert rep["action"] == "unchanged" and rep["items_created"] == []
    assert dump(initdb) == before


def test_a_changed_file_becomes_the_next_revision(cli: Cli, initdb: Path) -> None:
    parent(cli)
    run(cli, write(initdb.parent, "Reference,Value,MPN\nC1 C2,1u,GRM1\n"))
    rep = run(cli, write(initdb.parent, "Reference,Value,MPN\nC1 C2 C3,1u,GRM1\n", "b.csv"))
    assert (rep["action"], rep["revision"], rep["placements"]) == ("new_revision", "B", 3)


def test_dry_run_writes_nothing(cli: Cli, initdb: Path) -> None:
    parent(cli)
    before = dump(initdb)
    r = cli("bom", "import-csv", BMS, "--item", "PCBA", "--create-items", "--dry-run", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["dry_run"] is True and rep["line_count"] == 60 and len(rep["items_created"]) == 60
    assert "nothing was written" in r.stderr
    assert dump(initdb) == before


def test_unknown_parent_is_refused(cli: Cli, initdb: Path) -> None:
    err = refused(cli, initdb, "bom", "import-csv", GLASGOW, "--item", "NOPE", "--create-items")
    assert "unknown item 'NOPE'" in err


def test_csv_and_plain_output_are_the_lines(cli: Cli, initdb: Path) -> None:
    parent(cli)
    r = cli("bom", "import-csv", GLASGOW, "--item", "PCBA", "--create-items", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "item,name,qty,unit,refdes,mpn,matched,rows" and len(out) == 54
    assert "57 rows read; PCBA revision A added: 53 lines, 224 placements" in r.stderr


# -- malformed files: refused with the row, nothing written ---------------------------


def test_ragged_row_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    path = write(initdb.parent, "Reference,Qty,Value,MPN\nC1,1,1u,GRM1\nH1,1\nC2,1,1u,GRM1\n")
    err = refused(cli, initdb, "bom", "import-csv", path, "--item", "PCBA", "--create-items")
    assert err == "Error: row 3: 2 fields, the header (row 1) has 4\n"


def test_unknown_map_field_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    err = refused(cli, initdb, "bom", "import-csv", HACKRF, "--item", "PCBA",
                  "--map", "Field2=partno")  # fmt: skip
    assert "--map 'Field2=partno': unknown field 'partno'" in err


def test_map_of_a_missing_column_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    err = refused(cli, initdb, "bom", "import-csv", HACKRF, "--item", "PCBA",
                  "--map", "Field9=mpn")  # fmt: skip
    assert "--map: no column 'field9' in the header" in err


def test_quantity_that_is_not_a_number_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    path = write(initdb.parent, "Qty,Description,MPN\n2,Screw,S1\ntwo,Nut,N1\n")
    err = refused(cli, initdb, "bom", "import-csv", path, "--item", "PCBA", "--create-items")
    assert err == "Error: row 3: quantity 'two' is not a number\n"


def test_negative_quantity_with_a_unicode_minus_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    path = write(initdb.parent, "Qty,Description,MPN\n\u22122,Screw,S1\n")
    err = refused(cli, initdb, "bom", "import-csv", path, "--item", "PCBA", "--create-items")
    assert err == "Error: row 2: quantity '\u22122' is negative\n"


def test_file_without_a_header_is_refused(cli: Cli, initdb: Path) -> None:
    parent(cli)
    path = write(initdb.parent, "a,b,c\n1,2,3\n")
    err = refused(cli, initdb, "bom", "import-csv", path, "--item", "PCBA")
    assert "no header row in the first 30 lines" in err


def test_hundreds_of_designators_survive_export_and_import(
    cli: Cli, initdb: Path, tmp_path: Path, db_path: Path
) -> None:
    """A board with 600 decoupling capacitors on one line: the joined designators (over
    3,000 characters) are kept, exported and imported back unchanged."""
    parent(cli)
    refs = ",".join(f"C{n}" for n in range(1, 601))
    path = write(tmp_path, f'Reference,Value,MPN,Qty\n"{refs}",100n,CL05B104KO5NNNC,600\n')
    report = run(cli, path)
    [line] = report["lines"]
    assert (line["qty"], len(line["refdes"]), line["refdes"][:9]) == (600, len(refs), "C1,C2,C3,")
    exported = tmp_path / "shop.yaml"
    assert cli("export", "-o", exported).exit_code == 0
    other = tmp_path / "other.db"
    assert cli("--db", other, "init").exit_code == 0
    r = cli("--db", other, "import", exported)
    assert r.exit_code == 0, r.stderr
    r = cli("--db", other, "bom", "show", "PCBA", "-f", "json")
    [shown] = json.loads(r.stdout)["children"]
    assert shown["refdes"].split(",") == refs.split(",")
