"""``mfgctl bom import-assembly``: NopSCADlib multi-level assembly BOMs (DreamPlacer).

The real file is ``tests/data/dreamplacer/bom.json``; its project's own flat totals,
``bom.csv``, are the oracle for the explosion. The traps named in the file's SOURCE.md
(counts are totals over all copies, custom-vitamin keys, untidy descriptions, no units,
make/buy by section, identical side frames, shared vitamins, the older count format)
each have a test of their own below.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from conftest import Cli, dump, ok, refused
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl.domain import codes
from mfgctl.importer.assembly import derive_code

DATA = Path(__file__).parent / "data" / "dreamplacer"
BOM_JSON = DATA / "bom.json"
BOM_CSV = DATA / "bom.csv"


def tidy(text: str) -> str:
    return " ".join(text.split())


def csv_totals() -> dict[str, int]:
    """bom.csv read on its own: no header, ``'<description>',<padded count>`` per line.

    The description is wrapped in single quotes (not CSV quoting) and may hold commas
    ("Leadscrew 16 x 935mm, 10mm lead, 1 starts"), so split at the last comma.
    """
    totals: dict[str, int] = {}
    for line in BOM_CSV.read_text(encoding="ascii").splitlines():
        desc, count = line.rsplit(",", 1)
        assert desc.startswith("'") and desc.endswith("'"), line
        key = tidy(desc[1:-1])
        assert key not in totals, f"{key!r} twice in bom.csv"
        totals[key] = int(count.strip())
    return totals


def summary(cli: Cli, *args: object) -> dict:
    rows = json.loads(ok(cli, "bom", "import-assembly", *args, "-f", "json").stdout)
    assert len(rows) == 1
    return rows[0]


def explode(cli: Cli, item: str, qty: object = 1) -> list[dict]:
    return json.loads(ok(cli, "bom", "explode", item, "--qty", qty, "-f", "json").stdout)


def lines(cli: Cli, item: str) -> dict[str, tuple[Decimal, str]]:
    """The active BOM of ITEM one level down: child code -> (qty per, unit)."""
    tree = json.loads(ok(cli, "bom", "show", item, "-f", "json").stdout)
    return {c["item"]: (Decimal(str(c["qty_per"])), c["line_unit"]) for c in tree["children"]}


def write_json(tmp_path: Path, data: object, name: str = "bom.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=4))
    return path


def assembly(name: str, count: int = 1, **sections: dict) -> dict:
    return {"name": name, "count": count, "assemblies": {}, "vitamins": {}, "printed": {},
            "routed": {}, "big": None, "ngb": False, "zoomed": 0, **sections}  # fmt: skip


# -- the real file ---------------------------------------------------------------------


def test_dreamplacer_imports_with_the_counts_of_the_file(cli: Cli, initdb: Path) -> None:
    report = summary(cli, BOM_JSON)
    # Counted from SOURCE.md and the file: 7 assemblies; 68 distinct vitamins (bought);
    # 1 printed + 11 routed parts + the 7 assemblies are made (19).
    # Lines per assembly: left and right side frames 30 vitamins + 3 routed = 33 each,
    # picker 5 + 1 printed + 2 routed = 8, head 21 + 2 routed + 1 picker = 24,
    # xaxis 24 + 4 routed + 1 head = 29, frame 5, main 3 + 4 assemblies = 7: 139.
    assert report["top"] == ["MAIN_ASSEMBLY"]
    assert report["assemblies"] == 7
    assert report["make_created"] == 19
    assert report["buy_created"] == 68
    assert report["items_existing"] == 0
    assert report["boms_added"] == 7
    assert report["bom_lines"] == 139
    assert report["warnings"] == 0 and report["warning_messages"] == []
    assert report["dry_run"] is False
    revs = json.loads(ok(cli, "bom", "list", "-f", "json").stdout)
    assert {r["item"]: r["lines"] for r in revs} == {
        "LEFT_SIDE_FRAME_ASSEMBLY": 33,
        "RIGHT_SIDE_FRAME_ASSEMBLY": 33,
        "PICKER_ASSEMBLY": 8,
        "HEAD_ASSEMBLY": 24,
        "XAXIS_ASSEMBLY": 29,
        "FRAME_ASSEMBLY": 5,
        "MAIN_ASSEMBLY": 7,
    }
    assert all(r["revision"] == "A" and r["output_qty"] == 1 for r in revs)


def test_exploding_one_machine_gives_the_flat_totals_of_bom_csv(cli: Cli, initdb: Path) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    rows = explode(cli, "MAIN_ASSEMBLY", 1)
    bought = [r for r in rows if r["make_or_buy"] == "buy"]
    got = {tidy(r["name"]): Decimal(str(r["qty"])) for r in bought}
    assert len(got) == len(bought), "two bought items share a name"
    expected = csv_totals()
    assert len(expected) == 68 and sum(expected.values()) == 630  # as SOURCE.md counts
    assert sorted(got) == sorted(expected)
    for desc, total in expected.items():
        assert got[desc] == total, desc
    assert all(r["unit"] == "pcs" for r in bought)


def test_made_parts_explode_to_the_totals_in_the_file(cli: Cli, initdb: Path) -> None:
    # Not in bom.csv; SOURCE.md: 1 printed part, vacuum_mount.stl x 2, and 11 routed
    # plates, 16 pieces (3 + 3 in the side frames, 2 + 2 in the pickers, 2 in the head,
    # 4 in the x axis).
    ok(cli, "bom", "import-assembly", BOM_JSON)
    rows = explode(cli, "MAIN_ASSEMBLY", 1)
    made = {r["item"]: Decimal(str(r["qty"])) for r in rows if r["item"].endswith((".DXF", ".STL"))}
    assert made["VACUUM_MOUNT.STL"] == 2
    dxf = {k: v for k, v in made.items() if k.endswith(".DXF")}
    assert len(dxf) == 11 and sum(dxf.values()) == 16
    assert made["BRACKET_Y_MOTOR.DXF"] == 2  # one in each side frame
    assert made["NEMA_HOLES.DXF"] == 2  # one per picker, two pickers


def test_two_machines_need_twice_everything(cli: Cli, initdb: Path) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    one = {r["item"]: Decimal(str(r["qty"])) for r in explode(cli, "MAIN_ASSEMBLY", 1)}
    two = {r["item"]: Decimal(str(r["qty"])) for r in explode(cli, "MAIN_ASSEMBLY", 2)}
    assert two == {k: 2 * v for k, v in one.items()}


# -- the traps of SOURCE.md, one test each ---------------------------------------------


def test_counts_are_totals_over_copies_and_become_quantity_per_parent(
    cli: Cli, initdb: Path
) -> None:
    # picker_assembly: count 2, rail MGN7 x 100mm count 2 -> 1 rail per picker; head
    # (count 1) places 2 pickers -> 2 per head; one machine needs 1 x 1 x 2 x 1 = 2 rails
    # (multiplying the file's numbers, 2 pickers x 2 rails, would give 4).
    ok(cli, "bom", "import-assembly", BOM_JSON)
    picker = lines(cli, "PICKER_ASSEMBLY")
    assert picker["LINEAR-RAIL-MGN7X100MM"] == (1, "pcs")
    assert picker["SCREW-M2-CAP-X-6MM"] == (4, "pcs")  # 8 in the file over 2 pickers
    assert picker["VACUUM_MOUNT.STL"] == (1, "pcs")  # printed: 2 over 2
    assert picker["NEMA_HOLES.DXF"] == (1, "pcs")  # routed: 2 over 2
    assert lines(cli, "HEAD_ASSEMBLY")["PICKER_ASSEMBLY"] == (2, "pcs")
    rails = [r for r in explode(cli, "MAIN_ASSEMBLY") if r["item"] == "LINEAR-RAIL-MGN7X100MM"]
    assert [Decimal(str(r["qty"])) for r in rails] == [2]
    one_picker = {r["item"]: r["qty"] for r in explode(cli, "PICKER_ASSEMBLY", 1)}
    assert one_picker["LINEAR-RAIL-MGN7X100MM"] == 1


def test_counts_that_do_not_divide_keep_the_bom_exact(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 3 screws over 2 copies is 1.5 per copy: the BOM is stored for 2 copies instead
    # (output_qty 2, 3 screws), and 2 copies explode to exactly 3 screws, 1 copy to 1.5.
    path = write_json(
        tmp_path,
        [
            assembly("leg_assembly", 2, vitamins={"screw(M3, 8): Screw M3 x 8mm": {"count": 3}}),
            assembly("table_assembly", 1, assemblies={"leg_assembly": 2}),
        ],
    )
    r = ok(cli, "bom", "import-assembly", path, "-f", "json")
    assert "LEG_ASSEMBLY's BOM is stored for 2 assemblies (output_qty)" in r.stderr
    revs = {x["item"]: x for x in json.loads(ok(cli, "bom", "list", "-f", "json").stdout)}
    assert revs["LEG_ASSEMBLY"]["output_qty"] == 2
    assert lines(cli, "LEG_ASSEMBLY") == {"SCREW-M3X8MM": (3, "pcs")}
    table = {x["item"]: Decimal(str(x["qty"])) for x in explode(cli, "TABLE_ASSEMBLY", 1)}
    assert table["SCREW-M3X8MM"] == 3
    leg = {x["item"]: Decimal(str(x["qty"])) for x in explode(cli, "LEG_ASSEMBLY", 1)}
    assert leg["SCREW-M3X8MM"] == Decimal("1.5")


def test_custom_vitamin_keys_and_untidy_descriptions_give_tidy_names(
    cli: Cli, initdb: Path
) -> None:
    # "Bearing(BF12) : Bearing BF12 " (space before the colon, trailing space),
    # "washer(M8_washer): Washer  M8 x 17mm x 1.6mm" (double space),
    # "nut(M2_nut): Nut M2 x 1.6mm " (trailing space), the belt key with a whole path.
    ok(cli, "bom", "import-assembly", BOM_JSON)
    found = {r["code"]: r["name"] for r in json.loads(ok(cli, "item", "list", "-f", "json").stdout)}
    assert found["BEARING-BF12"] == "Bearing BF12"
    assert found["WASHER-M8X17MMX1.6MM"] == "Washer M8 x 17mm x 1.6mm"
    assert found["NUT-M2X1.6MM"] == "Nut M2 x 1.6mm"
    # 58 characters: cut to 35 and given 4 hex digits of the text's hash.
    servo = [c for c, n in found.items() if n.startswith("Servo Lichuan LCMT07L02NB")]
    assert len(servo) == 1 and re.fullmatch(
        r"SERVO-LICHUAN-LCMT07L02NB-80M03530B-[0-9A-F]{4}", servo[0]
    )
    belts = [c for c, n in found.items() if n == "Belt GT2 x 6mm x 442mm"]
    assert belts == ["BELT-GT2X6MMX442MM"]
    assert all(codes.code(c) == c and len(c) <= 40 for c in found)


def test_no_unit_field_everything_is_pieces_and_cut_stock_keeps_its_length_in_the_name(
    cli: Cli, initdb: Path
) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    extrusion = json.loads(ok(cli, "item", "show", "EXTRUSION-E4040X1070MM", "-f", "json").stdout)
    assert extrusion[0]["unit"] == "pcs" and extrusion[0]["make_or_buy"] == "buy"
    assert extrusion[0]["name"] == "Extrusion E4040 x 1070mm"
    for code in ("MAIN_ASSEMBLY", "PICKER_ASSEMBLY", "XAXIS_ASSEMBLY"):
        assert {u for _, u in lines(cli, code).values()} == {"pcs"}


def test_a_shop_that_stocks_extrusion_in_metres_gives_it_a_pcs_unit(cli: Cli, initdb: Path) -> None:
    # The extrusion item exists, counted in metres, before the import.
    ok(cli, "item", "add", "EXTRUSION-E4040X1070MM", "--name", "E4040 extrusion",
       "--type", "raw", "--unit", "m", "--make-or-buy", "buy")  # fmt: skip
    err = refused(cli, initdb, "bom", "import-assembly", BOM_JSON, one_line=False)
    assert "EXTRUSION-E4040X1070MM" in err and "counted in 'm'" in err
    assert "--units pcs=" in err
    # One piece is 1.07 m: the import goes through, and a machine needs
    # 4 pieces x 1.07 m = 4.28 m (2 in each side frame).
    ok(cli, "item", "update", "EXTRUSION-E4040X1070MM", "--units", "pcs=1.07")
    report = summary(cli, BOM_JSON)
    assert report["items_existing"] == 1 and report["buy_created"] == 67
    ex = {r["item"]: r for r in explode(cli, "MAIN_ASSEMBLY", 1)}
    assert Decimal(str(ex["EXTRUSION-E4040X1070MM"]["qty"])) == Decimal("4.28")
    assert ex["EXTRUSION-E4040X1070MM"]["unit"] == "m"
    assert ex["EXTRUSION-E4040X1070MM"]["name"] == "E4040 extrusion"  # left as it was


def test_printed_and_routed_parts_are_made_without_a_bom_and_check_says_so(
    cli: Cli, initdb: Path
) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    made = json.loads(ok(cli, "item", "list", "--make-or-buy", "make", "-f", "json").stdout)
    parts = {r["code"] for r in made if r["code"].endswith((".STL", ".DXF"))}
    assert len(parts) == 12  # 1 printed + 11 routed
    r = ok(cli, "check", "-f", "json")  # warnings only
    problems = json.loads(r.stdout)
    missing = {p["subject"] for p in problems if p["check"] == "bom_missing"}
    assert missing == parts  # every made part, and no assembly
    assert all(p["severity"] == "warning" for p in problems if p["check"] == "bom_missing")


def test_identical_side_frames_stay_two_assemblies(cli: Cli, initdb: Path) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    left = lines(cli, "LEFT_SIDE_FRAME_ASSEMBLY")
    right = lines(cli, "RIGHT_SIDE_FRAME_ASSEMBLY")
    assert len(left) == 33 and left == right
    assert set(lines(cli, "MAIN_ASSEMBLY")) >= {
        "LEFT_SIDE_FRAME_ASSEMBLY",
        "RIGHT_SIDE_FRAME_ASSEMBLY",
    }


def test_a_vitamin_in_several_assemblies_is_one_item_used_in_each(cli: Cli, initdb: Path) -> None:
    # SOURCE.md: the corner bracket is in the left frame (7), the right frame (7),
    # the head (2) and the frame (18): 34 in bom.csv.
    ok(cli, "bom", "import-assembly", BOM_JSON)
    code = "EXTRUSION-CORNER-BRACKET-35MM-FOR-E4040T"
    used = json.loads(ok(cli, "bom", "where-used", code, "-f", "json").stdout)
    direct = {u["parent"]: Decimal(str(u["qty_per"])) for u in used if u["level"] == 1}
    assert direct == {
        "LEFT_SIDE_FRAME_ASSEMBLY": 7,
        "RIGHT_SIDE_FRAME_ASSEMBLY": 7,
        "HEAD_ASSEMBLY": 2,
        "FRAME_ASSEMBLY": 18,
    }


def test_older_count_format_imports_the_same(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    new = [assembly("box_assembly", 2, vitamins={"screw(M3, 8): Screw M3 x 8mm": {"count": 6}},
                    routed={"lid.dxf": {"count": 2}})]  # fmt: skip
    old = [assembly("box_assembly", 2, vitamins={"screw(M3, 8): Screw M3 x 8mm": 6},
                    routed={"lid.dxf": 2})]  # fmt: skip
    first = summary(cli, write_json(tmp_path, new, "new.json"))
    assert first["boms_added"] == 1
    assert lines(cli, "BOX_ASSEMBLY") == {"SCREW-M3X8MM": (3, "pcs"), "LID.DXF": (1, "pcs")}
    before = dump(initdb)
    again = summary(cli, write_json(tmp_path, old, "old.json"))
    assert again["boms_unchanged"] == 1 and again["items_existing"] == 3
    assert dump(initdb) == before


# -- all or nothing, idempotent, dry run -------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(cli: Cli, initdb: Path) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)
    before = dump(initdb)
    report = summary(cli, BOM_JSON)
    assert dump(initdb) == before
    assert report["make_created"] == report["buy_created"] == 0
    assert report["items_existing"] == 87 and report["boms_unchanged"] == 7
    assert report["boms_added"] == report["boms_new_revision"] == 0


def test_dry_run_reports_the_import_and_writes_nothing(cli: Cli, initdb: Path) -> None:
    before = dump(initdb)
    r = ok(cli, "bom", "import-assembly", BOM_JSON, "--dry-run", "-f", "json")
    assert dump(initdb) == before
    assert "Dry run: nothing was written" in r.stderr
    dry = json.loads(r.stdout)[0]
    assert dry["dry_run"] is True
    real = summary(cli, BOM_JSON)
    assert {k: v for k, v in dry.items() if k != "dry_run"} == {
        k: v for k, v in real.items() if k != "dry_run"
    }


def test_a_changed_assembly_becomes_a_new_revision(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    data = json.loads(BOM_JSON.read_text())
    ok(cli, "bom", "import-assembly", write_json(tmp_path, data))
    picker = next(a for a in data if a["name"] == "picker_assembly")
    picker["vitamins"]["rail(MGN7, 100): Linear rail MGN7 x 100mm"]["count"] = 4
    r = ok(cli, "bom", "import-assembly", write_json(tmp_path, data), "-f", "json")
    report = json.loads(r.stdout)[0]
    assert report["boms_new_revision"] == 1 and report["boms_unchanged"] == 6
    assert "PICKER_ASSEMBLY: the BOM differs from revision A; stored as revision B" in r.stderr
    assert lines(cli, "PICKER_ASSEMBLY")["LINEAR-RAIL-MGN7X100MM"] == (2, "pcs")


def test_prefix_goes_in_front_of_every_code(cli: Cli, initdb: Path) -> None:
    report = summary(cli, BOM_JSON, "--prefix", "DP-")
    assert report["top"] == ["DP-MAIN_ASSEMBLY"]
    codes_ = [r["code"] for r in json.loads(ok(cli, "item", "list", "-f", "json").stdout)]
    assert len(codes_) == 87 and all(c.startswith("DP-") and len(c) <= 40 for c in codes_)
    err = refused(cli, initdb, "bom", "import-assembly", BOM_JSON, "--prefix", "D P")
    assert "--prefix" in err


def test_items_option_lists_the_mapping(cli: Cli, initdb: Path) -> None:
    rows = json.loads(ok(cli, "bom", "import-assembly", BOM_JSON, "--items", "-f", "json").stdout)
    assert len(rows) == 87
    by_source = {r["source"]: r for r in rows}
    rail = by_source["rail(MGN7, 100): Linear rail MGN7 x 100mm"]
    assert rail == {
        "kind": "vitamin",
        "source": "rail(MGN7, 100): Linear rail MGN7 x 100mm",
        "item": "LINEAR-RAIL-MGN7X100MM",
        "name": "Linear rail MGN7 x 100mm",
        "make_or_buy": "buy",
        "type": "component",
        "action": "created",
    }
    assert by_source["main_assembly"]["type"] == "finished"
    assert by_source["vacuum_mount.stl"]["kind"] == "printed"
    again = json.loads(ok(cli, "bom", "import-assembly", BOM_JSON, "--items", "-f", "json").stdout)
    assert {r["action"] for r in again} == {"existing"}


# -- refusals: nothing written -----------------------------------------------------------


def test_malformed_json_is_refused_with_line_and_column(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bom.json"
    path.write_text('[\n  {"name": "a", "count": 1,\n   "vitamins": {"x": {"count": 2}}\n')
    err = refused(cli, initdb, "bom", "import-assembly", path)
    assert re.match(r"Error: bom\.json:4:1: not valid JSON: ", err), err


def test_a_file_that_is_not_there_is_refused(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    err = refused(cli, initdb, "bom", "import-assembly", tmp_path / "nope.json")
    assert "cannot read" in err and "nope.json" in err


def test_json_that_is_not_a_list_of_assemblies_is_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    err = refused(cli, initdb, "bom", "import-assembly", write_json(tmp_path, {"name": "x"}))
    assert "expected a JSON list of assembly objects" in err and "found an object" in err


def test_structure_problems_are_all_named_and_nothing_is_written(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "bom", "import-assembly", BOM_JSON)  # something to keep unchanged
    data = [
        assembly("a_assembly", 1, assemblies={"missing_assembly": 1},
                 vitamins={"screw(M3, 8): Screw M3 x 8mm": {"count": "two"}}),
        assembly("b_assembly", 0),
        "not an object",
        {"count": 1},
        assembly("c_assembly", 1, printed={"part.stl": {"count": 1.5}}),
        assembly("d_assembly", 1, routed=[1, 2]),
    ]  # fmt: skip
    err = refused(cli, initdb, "bom", "import-assembly", write_json(tmp_path, data), one_line=False)
    expected = [
        "bom.json: [0] a_assembly: vitamins['screw(M3, 8): Screw M3 x 8mm']: count: must be a "
        "whole number of at least 1",
        "bom.json: [1] b_assembly: count: must be a whole number of at least 1, not 0",
        "bom.json: [2]: an assembly must be a JSON object, not text",
        "bom.json: [3]: name: missing",
        "bom.json: [4] c_assembly: printed['part.stl']: count: must be a whole number",
        "bom.json: [5] d_assembly: routed: must be an object of name: count, not a list",
        "Error: import refused: 6 problems; nothing was written",
    ]
    for text in expected:
        assert text in err, (text, err)
    # The unknown child is found once the assemblies themselves read well.
    err = refused(cli, initdb, "bom", "import-assembly",
                  write_json(tmp_path, [data[0] | {"vitamins": {}}]), one_line=False)  # fmt: skip
    assert "[0] a_assembly: assemblies['missing_assembly']: no assembly named" in err


def test_duplicate_keys_and_cycles_are_refused(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(
        '[{"name": "a", "count": 1, "vitamins": {"nut(M3): Nut M3": {"count": 1}, '
        '"nut(M3): Nut M3": {"count": 2}}}]'
    )
    err = refused(cli, initdb, "bom", "import-assembly", path)
    assert "'nut(M3): Nut M3' appears twice in one object" in err
    cycle = [
        assembly("a_assembly", 1, assemblies={"b_assembly": 1}),
        assembly("b_assembly", 1, assemblies={"a_assembly": 1}),
    ]
    err = refused(
        cli, initdb, "bom", "import-assembly", write_json(tmp_path, cycle), one_line=False
    )
    assert "assemblies form a cycle: a_assembly -> b_assembly -> a_assembly" in err


def test_an_assembly_given_twice_is_refused(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    data = [assembly("a_assembly", 1, vitamins={"nut(M3): Nut M3": 1})] * 2
    err = refused(cli, initdb, "bom", "import-assembly", write_json(tmp_path, data), one_line=False)
    assert "[1] a_assembly: assembly 'a_assembly' is given twice (first at [0] a_assembly)" in err


# -- warnings --------------------------------------------------------------------------


def test_counts_that_disagree_with_the_parents_are_warned(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # The parent places 2 wheels, but the wheel says it is built 3 times.
    data = [
        assembly("wheel_assembly", 3, vitamins={"nut(M3): Nut M3": 3}),
        assembly("cart_assembly", 1, assemblies={"wheel_assembly": 2}),
    ]
    r = ok(cli, "bom", "import-assembly", write_json(tmp_path, data))
    assert "Warning: bom.json: [0] wheel_assembly: count is 3 but its parents place 2" in r.stderr
    # Per parent from each one's own count: 1 nut per wheel, 2 wheels per cart.
    cart = {x["item"]: Decimal(str(x["qty"])) for x in explode(cli, "CART_ASSEMBLY")}
    assert cart["NUT-M3"] == 2


def test_two_parts_that_would_share_a_code_both_get_a_suffix(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    data = [assembly("a_assembly", 1, vitamins={"nut(M3): Nut M3 (nyloc)": 1,
                                                "nut(M3, true): Nut M3, nyloc": 2})]  # fmt: skip
    ok(cli, "bom", "import-assembly", write_json(tmp_path, data))
    got = lines(cli, "A_ASSEMBLY")
    assert len(got) == 2
    assert all(re.fullmatch(r"NUT-M3-NYLOC-[0-9A-F]{4}", c) for c in got), got
    assert sorted(q for q, _ in got.values()) == [1, 2]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.sampled_from(["", "DP-", "X"]))
def test_derived_codes_are_valid_short_and_stable(text: str, prefix: str) -> None:
    code = derive_code(text, "vitamin:" + text, prefix=prefix)
    assert codes.code(code) == code  # the code rules: would raise otherwise
    assert len(code) <= codes.MAX_CODE
    assert code.startswith(prefix)
    assert derive_code(text, "vitamin:" + text, prefix=prefix) == code


def test_an_existing_item_is_left_as_it_is_and_a_make_buy_clash_is_warned(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # The shop already buys the lid the file routes in-house: kept as a buy item.
    ok(cli, "item", "add", "LID.DXF", "--name", "Lid from the laser shop", "--type",
       "component", "--unit", "pcs", "--make-or-buy", "buy")  # fmt: skip
    data = [assembly("box_assembly", 1, routed={"lid.dxf": 1}, vitamins={"nut(M3): Nut M3": 4})]
    r = ok(cli, "bom", "import-assembly", write_json(tmp_path, data), "-f", "json")
    report = json.loads(r.stdout)[0]
    assert report["items_existing"] == 1 and report["make_created"] == 1
    assert report["buy_created"] == 1 and report["warnings"] == 1
    assert "Warning: LID.DXF exists as a buy item; the file makes it (routed 'lid.dxf')" in r.stderr
    lid = json.loads(ok(cli, "item", "show", "LID.DXF", "-f", "json").stdout)[0]
    assert lid["make_or_buy"] == "buy" and lid["name"] == "Lid from the laser shop"


def test_unknown_keys_and_empty_assemblies_are_warned_not_refused(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    data = [
        assembly("box_assembly", 1, vitamins={"nut(M3): Nut M3": 4}) | {"notes": "x"},
        assembly("spare_assembly", 1),
    ]
    r = ok(cli, "bom", "import-assembly", write_json(tmp_path, data), "-f", "json")
    assert "Warning: bom.json: [0] box_assembly: ignored unknown keys notes" in r.stderr
    assert (
        "Warning: bom.json: [1] spare_assembly: an empty assembly; SPARE_ASSEMBLY gets no BOM"
        in r.stderr
    )
    report = json.loads(r.stdout)[0]
    assert report["top"] == ["BOX_ASSEMBLY", "SPARE_ASSEMBLY"]
    assert report["boms_added"] == 1 and report["make_created"] == 2
