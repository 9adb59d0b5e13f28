"""After ``location rename STORES ...`` a command that defaults to STORES says so; order
completion names the location as stored; ``export`` -> ``import`` into a fresh database ->
``export`` gives the same text after a rename of STORES and after serials were shipped;
and ``order complete --auto-serials`` in a rebuilt database goes on numbering instead of
giving a shipped serial's number again (the export's ``lots:``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BOLT = """\
items:
  - {code: BOLT, name: Bolt, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2,
     cost: 1}
  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
boms:
  - {item: KIT, lines: [{item: BOLT, qty: 1}]}
"""

DEVICES = """\
items:
  - {code: PART, name: Part, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5,
     cost: 1}
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make, tracking: serial,
     lead_time_days: 2, serial_pattern: 'D-{seq:03}'}
  - {code: GLUE, name: Glue, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     lead_time_days: 7, cost: 3}
boms:
  - {item: DEV, lines: [{item: PART, qty: 1}]}
stock:
  - {item: PART, qty: 10}
"""


def export_text(cli: Cli, db: Path | None = None) -> str:
    args = ["--db", db] if db is not None else []
    return ok(cli, *args, "export").stdout


def rebuilt(cli: Cli, tmp_path: Path, text: str, name: str = "b.db") -> Path:
    """A fresh database at ``tmp_path/name`` that imported ``text``."""
    path = tmp_path / name
    src = tmp_path / f"{name}.yaml"
    src.write_text(text, encoding="utf-8")
    ok(cli, "--db", path, "init")
    ok(cli, "--db", path, "import", src)
    return path


def make_devices(cli: Cli, n: int, *, db: Path | None = None, location: str = "STORES") -> str:
    """Make ``n`` DEV with --auto-serials through order 1 (the database's first order);
    the completion message."""
    args = ["--db", db] if db is not None else []
    ok(cli, *args, "order", "create", "DEV", n, "--due", day(30))
    ok(cli, *args, "order", "release", "1")
    ok(cli, *args, "consume", "1")
    return ok(
        cli, *args, "order", "complete", "1", "--qty", n, "--auto-serials", "--location", location
    ).stderr


# -- #7: the default location STORES after a rename -------------------------------------


DEFAULT_GONE = (
    "Error: the default location STORES no longer exists (renamed?); "
    "give --location (locations: Main, QC)\n"
)


def test_a_command_defaulting_to_a_renamed_stores_says_so(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, BOLT)
    ok(cli, "location", "add", "QC")
    ok(cli, "location", "rename", "STORES", "Main")
    ok(cli, "purchase", "add", "BOLT", "5", "--due", day(5))
    for args in (
        ("stock", "receive", "BOLT", "10"),
        ("stock", "count", "BOLT", "3"),
        ("purchase", "receive", "1"),
    ):
        assert refused(cli, initdb, *args) == DEFAULT_GONE
    ok(cli, "stock", "receive", "BOLT", "10", "--location", "Main")
    ok(cli, "order", "create", "KIT", "2", "--due", day(30))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    assert refused(cli, initdb, "order", "complete", "1", "--qty", "1") == DEFAULT_GONE
    # A location the user names is unknown, with no word about a default (STORES: with
    # what it was renamed to).
    assert refused(cli, initdb, "location", "rename", "STORES", "X") == (
        "Error: unknown location 'STORES' (renamed to Main? locations: Main, QC)\n"
    )
    assert refused(cli, initdb, "stock", "receive", "BOLT", "1", "--location", "NOPE") == (
        "Error: unknown location 'NOPE' (locations: Main, QC)\n"
    )


def test_an_import_stock_record_without_location_says_stores_was_renamed(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, BOLT)
    ok(cli, "location", "rename", "STORES", "Main")
    f = tmp_path / "s.yaml"
    f.write_text("stock:\n  - {item: BOLT, qty: 3}\n", encoding="utf-8")
    err = refused(cli, initdb, "import", f, one_line=False)
    assert err.startswith(
        f"Error: {f}:2: stock[0]: the default location STORES no longer exists "
        "(renamed?); give the location\n"
    )


# -- #11: order complete names the location as stored ------------------------------------


def test_order_complete_names_the_location_as_stored(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, BOLT)
    ok(cli, "location", "rename", "STORES", "Main")
    ok(cli, "stock", "receive", "BOLT", "10", "--location", "Main")
    ok(cli, "order", "create", "KIT", "2", "--due", day(30))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    r = ok(cli, "order", "complete", "1", "--qty", "1", "--location", "MAIN")
    assert "Completed 1 pcs KIT into Main/available; order 1 is in_progress" in r.stderr


# -- #10: the round trip after a rename of STORES -----------------------------------------


@pytest.mark.parametrize("new", ["MAIN", "stores", "Main-Stores"])
def test_round_trip_after_stores_was_renamed_gives_the_same_text(cli, initdb, tmp_path, new):
    import_yaml(cli, tmp_path, BOLT)
    ok(cli, "location", "add", "QC", "--name", "Incoming QC")
    ok(cli, "location", "rename", "STORES", new)
    ok(cli, "stock", "receive", "BOLT", "10", "--location", new)
    first = export_text(cli)
    assert f"- {{code: {new}, name: Main stores, was: STORES}}\n" in first
    b = rebuilt(cli, tmp_path, first)
    assert export_text(cli, b) == first
    codes = [
        r["code"] for r in json.loads(ok(cli, "--db", b, "location", "list", "-f", "json").stdout)
    ]
    assert sorted(codes) == sorted(["QC", new])
    # An export imported into its own database changes nothing.
    before = dump(initdb)
    (tmp_path / "own.yaml").write_text(first, encoding="utf-8")
    ok(cli, "import", tmp_path / "own.yaml")
    assert dump(initdb) == before


def test_a_new_stores_next_to_the_renamed_one_round_trips(cli, initdb, tmp_path):
    ok(cli, "location", "rename", "STORES", "MAIN")
    ok(cli, "location", "add", "STORES", "--name", "Overflow")
    first = export_text(cli)
    assert "- {code: MAIN, name: Main stores, was: STORES}\n" in first
    assert "- {code: STORES, name: Overflow}\n" in first
    b = rebuilt(cli, tmp_path, first)
    assert export_text(cli, b) == first


def test_was_renames_in_a_dry_run_and_only_when_the_code_is_new(cli, initdb, tmp_path):
    f = tmp_path / "l.yaml"
    f.write_text("locations:\n  - {code: MAIN, name: Main stores, was: STORES}\n", encoding="utf-8")
    before = dump(initdb)
    r = ok(cli, "import", f, "--dry-run")
    assert "would change location MAIN (renamed from STORES)" in r.stderr
    assert dump(initdb) == before
    ok(cli, "import", f)
    codes = [r["code"] for r in json.loads(ok(cli, "location", "list", "-f", "json").stdout)]
    assert codes == ["MAIN"]
    # MAIN exists now: importing it again renames nothing (a new STORES stays).
    ok(cli, "location", "add", "STORES")
    ok(cli, "import", f)
    codes = [r["code"] for r in json.loads(ok(cli, "location", "list", "-f", "json").stdout)]
    assert codes == ["MAIN", "STORES"]


def test_was_naming_a_virtual_place_is_refused(cli, initdb, tmp_path):
    f = tmp_path / "l.yaml"
    f.write_text("locations:\n  - {code: VENDORS, was: SUPPLIER}\n", encoding="utf-8")
    err = refused(cli, initdb, "import", f, one_line=False)
    assert f"{f}:2: locations[0].was: SUPPLIER is a virtual place and cannot be renamed" in err


# -- #8: serials shipped before an export are not given again -----------------------------


def test_auto_serials_go_on_after_export_and_import(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, DEVICES)
    assert "(D-001, D-002, D-003)" in make_devices(cli, 3)
    ok(cli, "ship", "DEV", "2", "--to", "Cust", "--serials", "D-001,D-002")
    first = export_text(cli)
    assert "- {item: DEV, serials: [D-001, D-002]}\n" in first
    b = rebuilt(cli, tmp_path, first)
    assert "Completed 1 pcs DEV (D-004) into STORES/available" in make_devices(cli, 1, db=b)
    # A shipped serial is known: receiving it again is refused, as in the original.
    r = cli("--db", b, "stock", "receive", "DEV", "1", "--serials", "D-001")
    assert r.exit_code == 1 and "serial D-001 of DEV already exists" in r.stderr


def test_round_trip_with_shipped_serials_and_used_lots_gives_the_same_text(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, DEVICES)
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "G1", "--expires", day(60))
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "G2")
    ok(cli, "stock", "adjust", "GLUE", "--remove", "5", "--lot", "G1", "--reason", "used")
    make_devices(cli, 3)
    ok(cli, "ship", "DEV", "2", "--to", "Cust", "--serials", "D-001,D-003")
    first = export_text(cli)
    assert first.endswith(
        "lots:\n"
        "- {item: DEV, serials: [D-001, D-003]}\n"
        f"- {{item: GLUE, lot: G1, expires: {day(60)}}}\n"
    )
    b = rebuilt(cli, tmp_path, first)
    assert export_text(cli, b) == first
    lots = json.loads(ok(cli, "--db", b, "stock", "lots", "GLUE", "--all", "-f", "json").stdout)
    g1 = next(r for r in lots["lots"] if r["lot"] == "G1")
    assert (g1["expires"], g1["in_house"]) == (day(60), 0)
    # Importing the export again, into either database, changes nothing.
    for db in (initdb, b):
        before = dump(db)
        r = ok(cli, "--db", db, "import", tmp_path / "b.db.yaml")
        assert "0 records written" in r.stderr
        assert dump(db) == before


def test_a_lots_record_is_checked(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, DEVICES)
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "G1", "--expires", day(60))
    f = tmp_path / "lots.yaml"
    f.write_text(
        "lots:\n"
        "  - {item: GLUE, lot: G1, expires: " + day(90) + "}\n"
        "  - {item: PART, lot: P1}\n"
        "  - {item: DEV, lot: D-9}\n"
        "  - {item: GLUE, serials: [X]}\n"
        "  - {item: NOPE, lot: X}\n"
        "  - {item: GLUE}\n",
        encoding="utf-8",
    )
    err = refused(cli, initdb, "import", f, one_line=False)
    for problem in (
        f"{f}:2: lots[0].expires: GLUE lot G1 expires {day(60)}, not {day(90)}; to change "
        f"its expiry date: mfgctl stock expiry GLUE G1 --expires {day(90)} --reason ...",
        f"{f}:3: lots[1].lot: PART is not lot- or serial-tracked: it has no lots",
        f"{f}:4: lots[2].lot: DEV is serial-tracked: give serials, not lot",
        f"{f}:5: lots[3].serials: GLUE is lot-tracked: give lot, not serials",
        f"{f}:6: lots[4].item: unknown item 'NOPE'",
        f"{f}:7: lots[5]: missing: give lot (or serials for a serial-tracked item)",
    ):
        assert problem in err, err


def test_an_imported_lot_without_an_expiry_date_takes_the_files(cli, initdb, tmp_path):
    import_yaml(cli, tmp_path, DEVICES)
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "G1")
    import_yaml(
        cli,
        tmp_path,
        f"lots:\n  - {{item: GLUE, lot: G1, expires: {day(40)}}}\n  - {{item: GLUE, lot: G7}}\n",
        name="l.yaml",
    )
    lots = json.loads(ok(cli, "stock", "lots", "GLUE", "--all", "-f", "json").stdout)["lots"]
    assert {(r["lot"], r["expires"], r["in_house"]) for r in lots} == {
        ("G1", day(40), 5),
        ("G7", None, 0),
    }


# -- the round trip as a property ------------------------------------------------------------


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    new=st.sampled_from(["STORES", "stores", "Main", "WH-1"]),
    made=st.integers(min_value=1, max_value=4),
    shipped=st.sets(st.integers(min_value=1, max_value=4)),
)
def test_export_import_export_is_the_same_text(cli, tmp_path_factory, new, made, shipped):
    tmp = tmp_path_factory.mktemp("rt")
    a = tmp / "a.db"
    ok(cli, "--db", a, "init")
    (tmp / "shop.yaml").write_text(DEVICES, encoding="utf-8")
    ok(cli, "--db", a, "import", tmp / "shop.yaml")
    if new != "STORES":
        ok(cli, "--db", a, "location", "rename", "STORES", new)
    make_devices(cli, made, db=a, location=new)
    serials = [f"D-{n:03}" for n in sorted(shipped) if n <= made]
    if serials:
        ok(cli, "--db", a, "ship", "DEV", len(serials), "--to", "C", "--serials", ",".join(serials))
    first = export_text(cli, a)
    b = rebuilt(cli, tmp, first)
    assert export_text(cli, b) == first
