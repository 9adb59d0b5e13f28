"""``mfgctl check`` as a data-quality report: each check on a shop built to trigger it,
its severity, subject and message, and the same shop clean without it.

The clean shop is three items (solder in kg used in g, a lot-tracked board, an
assembly made from both) with everything a planner needs, stock received today, and
nothing overdue. Each test spoils it in one way and reads the report as JSON.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, day, dump
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl.domain import checks

SHOP = """
items:
  - {{code: SOLDER, name: Solder paste, type: raw, unit: kg, make_or_buy: buy,
     lead_time_days: 14, cost: 60, planning_reviewed: {today}}}
  - {{code: PCB-1, name: Bare board, type: component, unit: pcs, make_or_buy: buy,
     tracking: lot, lead_time_days: 21, cost: 2, planning_reviewed: {today}}}
  - {{code: BOARD, name: Assembled board, type: subassembly, unit: pcs, make_or_buy: make,
     lead_time_days: 2, planning_reviewed: {today}}}
boms:
  - item: BOARD
    revision: A
    lines:
      - {{item: PCB-1, qty: 1, unit: pcs}}
      - {{item: SOLDER, qty: 2, unit: g}}
"""


def add_yaml(cli: Cli, tmp_path: Path, text: str, name: str = "more.yaml") -> None:
    path = tmp_path / name
    path.write_text(text)
    r = cli("import", path)
    assert r.exit_code == 0, r.stderr


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    add_yaml(cli, tmp_path, SHOP.format(today=day(0)), "shop.yaml")
    for args in (("SOLDER", "1"), ("PCB-1", "100", "--lot", "L1")):
        r = cli("stock", "receive", *args)
        assert r.exit_code == 0, r.stderr
    return initdb


def tamper(path: Path, *sql: str) -> None:
    """What a stray script or a bug could do behind mfgctl's back."""
    c = sqlite3.connect(path)
    with c:
        for statement in sql:
            c.execute(statement)
    c.close()


def report(cli: Cli, *args: object) -> tuple[int, list[dict[str, str]]]:
    r = cli("check", "-f", "json", *args)
    return r.exit_code, json.loads(r.stdout)


def found(cli: Cli, check: str, *args: object) -> list[dict[str, str]]:
    return [row for row in report(cli, *args)[1] if row["check"] == check]


def row(severity: str, check: str, subject: str, message: str) -> dict[str, str]:
    return {"severity": severity, "check": check, "subject": subject, "message": message}


def test_the_clean_shop_has_no_problems(cli: Cli, shop: Path) -> None:
    r = cli("check")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "check: no problems found\n")
    assert report(cli) == (0, [])


def test_check_never_writes(cli: Cli, shop: Path) -> None:
    tamper(
        shop,
        "UPDATE item SET planning_reviewed_on = NULL",
        "UPDATE balance SET qty = qty + 1 WHERE status = 'available'",
    )
    before = dump(shop)
    for args in ((), ("--strict",), ("--quick", "-f", "csv")):
        assert cli("check", *args).exit_code == 4
    assert dump(shop) == before


# -- exit codes --------------------------------------------------------------------------


def test_warnings_alone_exit_0_unless_strict(cli: Cli, shop: Path) -> None:
    tamper(shop, "UPDATE item SET planning_reviewed_on = NULL WHERE code = 'SOLDER'")
    r = cli("check", "-f", "plain")
    assert r.exit_code == 0
    assert r.stdout == (
        "severity\tcheck\tsubject\tmessage\n"
        "warning\tplanning_unreviewed\tSOLDER\tplanning data never reviewed\n"
    )
    assert r.stderr == "check: 0 errors, 1 warning\n"
    r = cli("check", "--strict", "-f", "plain")
    assert r.exit_code == 4
    assert r.stderr == "Error: check: 0 errors, 1 warning (--strict)\n"


def test_errors_exit_4_and_come_first(cli: Cli, shop: Path) -> None:
    tamper(
        shop,
        "UPDATE item SET planning_reviewed_on = NULL WHERE code = 'BOARD'",
        "UPDATE balance SET qty = qty + 500000 WHERE status = 'available' "
        "AND item_id = (SELECT id FROM item WHERE code = 'SOLDER')",
    )
    r = cli("check", "-f", "json")
    assert r.exit_code == 4
    assert r.stderr == "Error: check: 2 errors, 1 warning\n"
    # Received 1 kg; the balance table now says 1.5 at STORES, so the item's places sum
    # to +0.5 (SUPPLIER -1, STORES +1.5).
    assert json.loads(r.stdout) == [
        row("error", "zero_sum", "SOLDER", "balances sum to 0.5, not 0"),
        row(
            "error",
            "balance",
            "SOLDER at STORES/available lot -",
            "balance table says 1.5, ledger says 1",
        ),
        row("warning", "planning_unreviewed", "BOARD", "planning data never reviewed"),
    ]


def test_every_format_lists_the_problems(cli: Cli, shop: Path) -> None:
    tamper(shop, "UPDATE item SET planning_reviewed_on = NULL WHERE code = 'SOLDER'")
    r = cli("check", "-f", "csv")
    assert r.stdout.splitlines() == [
        "severity,check,subject,message",
        "warning,planning_unreviewed,SOLDER,planning data never reviewed",
    ]
    r = cli("check", "-f", "markdown")
    assert "| warning    | planning_unreviewed | SOLDER    |" in r.stdout
    assert "planning_unreviewed" in cli("check").stdout


def test_options_refuse_negative_days(cli: Cli, shop: Path) -> None:
    r = cli("check", "--inspection-days", "-1")
    assert r.exit_code == 1
    assert r.stderr == "Error: --inspection-days must be 0 or more, got -1\n"


# -- the database file -------------------------------------------------------------------


def test_foreign_key_check_is_an_error(cli: Cli, shop: Path) -> None:
    c = sqlite3.connect(shop)  # foreign keys are off in a bare connection
    c.execute("UPDATE bom_line SET child_id = 999 WHERE position = 2")
    c.commit()
    c.close()
    rows = found(cli, "foreign_key")
    assert len(rows) == 1
    assert rows[0]["severity"] == "error"
    assert rows[0]["subject"].startswith("bom_line row ")
    assert rows[0]["message"] == "refers to a missing item row"


def test_integrity_check_is_an_error(cli: Cli, shop: Path) -> None:
    # An index whose stored definition no longer matches its entries (what a bad disk
    # or a stray tool can leave): integrity_check compares every index with its table.
    c = sqlite3.connect(shop)
    c.execute("CREATE INDEX item_name_test ON item (name)")
    c.execute("PRAGMA writable_schema = ON")
    c.execute(
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX item_name_test ON item (type)' "
        "WHERE name = 'item_name_test'"
    )
    c.commit()
    c.close()
    code, rows = report(cli)
    assert code == 4
    assert rows and {(r["severity"], r["check"], r["subject"]) for r in rows} == {
        ("error", "integrity", "database")
    }
    # Three items, each missing from the index under its new definition.
    assert sum("missing from index item_name_test" in r["message"] for r in rows) == 3
    # quick_check does not compare indexes with tables.
    assert report(cli, "--quick") == (0, [])


# -- the stock invariants ----------------------------------------------------------------


def test_reservations_beyond_available_stock_are_negative_free(cli: Cli, shop: Path) -> None:
    assert cli("reserve", "PCB-1", "60", "--for", "SO-1").exit_code == 0
    assert found(cli, "negative_free") == []
    tamper(shop, "UPDATE reservation SET qty = 150000000, remaining = 150000000")
    # 100 available at STORES lot L1, 150 reserved: free is 100 - 150 = -50.
    assert found(cli, "negative_free") == [
        row(
            "error",
            "negative_free",
            "PCB-1 at STORES lot L1",
            "free stock is -50 pcs: reserved 150, available 100",
        )
    ]


def test_an_expired_reservation_does_not_count(cli: Cli, shop: Path) -> None:
    assert cli("reserve", "PCB-1", "60", "--for", "SO-1").exit_code == 0
    tamper(
        shop,
        f"UPDATE reservation SET qty = 150000000, remaining = 150000000, until_on = '{day(-1)}'",
    )
    assert found(cli, "negative_free") == []


def test_packed_ledger_sums_equal_the_four_column_query(cli: Cli, shop: Path) -> None:
    cli("location", "add", "QC")
    cli("stock", "move", "PCB-1", "30", "--from", "STORES", "--to", "QC", "--lot", "L1")
    cli("stock", "count", "SOLDER", "0.75")
    c = sqlite3.connect(shop)
    try:
        packed = checks._ledger(c)
        plain = {tuple(r[:4]): r[4] for r in c.execute(checks._LEDGER_BALANCES)}
    finally:
        c.close()
    assert packed == plain
    # SOLDER: 1 kg received, counted down to 0.75 (0.25 to ADJUSTMENT), in micro-units.
    assert sorted(v for k, v in packed.items() if k[0] == 1) == [-1_000_000, 250_000, 750_000]


# -- BOMs and units ------------------------------------------------------------------------


def test_a_bom_cycle_is_an_error(cli: Cli, shop: Path, tmp_path: Path) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: KIT, name: Board kit, type: subassembly, unit: pcs, make_or_buy: make,
     planning_reviewed: {day(0)}}}
boms:
  - {{item: KIT, revision: A, lines: [{{item: BOARD, qty: 1}}]}}
""",
    )
    assert found(cli, "bom_cycle") == []
    # BOARD's active BOM made to use KIT, which is made from BOARD.
    tamper(
        shop,
        "INSERT INTO bom_line (bom_id, position, child_id, qty, unit) "
        "SELECT b.id, 3, (SELECT id FROM item WHERE code = 'KIT'), 1000000, 'pcs' "
        "FROM bom AS b JOIN item AS i ON i.id = b.item_id WHERE i.code = 'BOARD'",
    )
    code, rows = report(cli)
    assert code == 4
    assert [r for r in rows if r["check"] == "bom_cycle"] == [
        row("error", "bom_cycle", "BOARD", "BOM cycle: BOARD -> KIT -> BOARD")
    ]


def test_a_bom_line_unit_that_cannot_convert_is_an_error(cli: Cli, shop: Path) -> None:
    tamper(shop, "UPDATE bom_line SET unit = 'pcs' WHERE position = 2")
    assert found(cli, "bom_unit") == [
        row(
            "error",
            "bom_unit",
            "BOARD rev A",
            "line 2 (SOLDER): unit 'pcs' cannot convert to SOLDER's base unit 'kg'",
        )
    ]


def test_a_deactivated_item_in_an_active_bom_is_an_error(cli: Cli, shop: Path) -> None:
    r = cli("item", "deactivate", "PCB-1")
    assert r.exit_code == 0, r.stderr
    code, rows = report(cli)
    assert code == 4
    assert rows == [
        row("error", "bom_inactive", "BOARD rev A", "line 1 (PCB-1): PCB-1 is deactivated")
    ]


def test_make_item_without_bom_and_phantom_without_bom_are_warnings(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: CASE, name: Case, type: subassembly, unit: pcs, make_or_buy: make,
     planning_reviewed: {day(0)}}}
""",
    )
    tamper(shop, "UPDATE bom_line SET phantom = 1 WHERE position = 1")
    assert report(cli) == (
        0,
        [
            row("warning", "bom_missing", "CASE", "CASE is a make item without an active BOM"),
            row(
                "warning",
                "bom_phantom",
                "BOARD rev A",
                "line 1 (PCB-1): phantom PCB-1 has no active BOM to pass through",
            ),
        ],
    )


def test_an_own_unit_that_contradicts_the_built_in_one_is_an_error(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: FLUX, name: Flux, type: raw, unit: kg, make_or_buy: buy,
     lead_time_days: 7, cost: 30, planning_reviewed: {day(0)}}}
""",
    )
    # Entry refuses it now (test_units_fixes.py); a database from before holds it.
    tamper(
        shop,
        "INSERT INTO item_unit (item_id, unit, factor) SELECT id, 'g', 10000 FROM item "
        "WHERE code = 'FLUX'",
    )
    # 1 g is 0.001 kg; the item says 0.01 kg, ten times too much.
    assert found(cli, "unit_conflict") == [
        row("error", "unit_conflict", "FLUX", "FLUX defines 1 g = 0.01 kg, but 1 g is 0.001 kg")
    ]


def test_an_item_used_in_another_kind_of_unit_is_a_warning(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: WIRE, name: Wire, type: raw, unit: m, units: {{pcs: 0.05, cm: 0.01}},
     make_or_buy: buy, lead_time_days: 7, cost: 0.2, planning_reviewed: {day(0)}}}
boms:
  - item: BOARD
    revision: B
    active: false
    lines:
      - {{item: PCB-1, qty: 1}}
      - {{item: WIRE, qty: 2, unit: pcs}}
      - {{item: WIRE, qty: 5, unit: cm}}
""",
    )
    assert found(cli, "unit_kind") == []  # revision B is not active
    assert cli("bom", "activate", "BOARD", "B").exit_code == 0
    # cm is a length like m: only the pcs line is reported.
    assert found(cli, "unit_kind") == [
        row(
            "warning",
            "unit_kind",
            "WIRE",
            "WIRE is counted in m (length) but BOM BOARD rev B uses it in pcs (count), "
            "through the item's own factor 1 pcs = 0.05 m",
        )
    ]


# -- items and stock -----------------------------------------------------------------------


def test_tracked_stock_without_a_lot_is_an_error(cli: Cli, shop: Path) -> None:
    tamper(shop, "UPDATE item SET tracking = 'lot' WHERE code = 'SOLDER'")
    assert found(cli, "untracked_stock") == [
        row(
            "error",
            "untracked_stock",
            "SOLDER at STORES/available",
            "1 kg without a lot, but SOLDER is tracked by lot",
        )
    ]


def test_buy_items_without_lead_time_or_cost_are_warnings(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: GLUE, name: Glue, type: raw, unit: ml, make_or_buy: buy,
     planning_reviewed: {day(0)}}}
  - {{code: TAPE, name: Tape, type: raw, unit: m, make_or_buy: buy, cost: 0,
     planning_reviewed: {day(0)}}}
  - {{code: OLD, name: Old part, type: raw, unit: m, make_or_buy: buy, active: false}}
""",
    )
    # A cost of 0 is a cost; a deactivated item is not planned any more.
    assert report(cli) == (
        0,
        [
            row(
                "warning",
                "no_lead_time",
                "GLUE",
                "buy item GLUE has no purchase lead time (0 days)",
            ),
            row(
                "warning",
                "no_lead_time",
                "TAPE",
                "buy item TAPE has no purchase lead time (0 days)",
            ),
            row("warning", "no_cost", "GLUE", "buy item GLUE has no standard cost"),
        ],
    )


def test_planning_data_not_reviewed_for_n_days(cli: Cli, shop: Path) -> None:
    tamper(
        shop,
        f"UPDATE item SET planning_reviewed_on = '{day(-181)}' WHERE code = 'PCB-1'",
        f"UPDATE item SET planning_reviewed_on = '{day(-180)}' WHERE code = 'BOARD'",
    )
    # 181 days is past the default 180; exactly 180 is not.
    assert found(cli, "planning_unreviewed") == [
        row(
            "warning",
            "planning_unreviewed",
            "PCB-1",
            f"planning data last reviewed {day(-181)}, 181 days ago (limit 180)",
        )
    ]
    assert [r["subject"] for r in found(cli, "planning_unreviewed", "--days-unreviewed", 179)] == [
        "BOARD", "PCB-1"
    ]  # fmt: skip
    assert found(cli, "planning_unreviewed", "--days-unreviewed", 181) == []


def test_stock_pending_inspection_for_too_long(cli: Cli, shop: Path, tmp_path: Path) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: MIC, name: Microphone, type: component, unit: pcs, make_or_buy: buy, tracking: lot,
     inspect_on_receipt: true, lead_time_days: 30, cost: 1, planning_reviewed: {day(0)}}}
""",
    )
    cli("stock", "receive", "MIC", "5", "--lot", "M1", "--date", day(-10))
    cli("stock", "receive", "MIC", "3", "--lot", "M1")
    cli("stock", "receive", "MIC", "4", "--lot", "M2", "--date", day(-7))
    # Lot M1: 8 pending, the oldest 5 arrived 10 days ago. Lot M2: 7 days is the limit.
    assert found(cli, "inspection_age") == [
        row(
            "warning",
            "inspection_age",
            "MIC at STORES lot M1",
            f"8 pcs pending inspection since {day(-10)}, 10 days (limit 7)",
        )
    ]
    assert found(cli, "inspection_age", "--inspection-days", 10) == []
    assert len(found(cli, "inspection_age", "--inspection-days", 6)) == 2
    # Passing 6 of lot M1 takes the oldest first: the 2 left came in today.
    r = cli("inspect", "MIC", "--pass", "--lot", "M1", "--qty", "6")
    assert r.exit_code == 0, r.stderr
    assert found(cli, "inspection_age") == []


def test_overdue_purchase_and_production_orders(cli: Cli, shop: Path) -> None:
    assert (
        cli("purchase", "add", "SOLDER", "2", "--due", day(-3), "--supplier", "ACME").exit_code == 0
    )
    assert cli("purchase", "add", "SOLDER", "2", "--due", day(0)).exit_code == 0
    assert cli("order", "create", "BOARD", "5", "--due", day(-1)).exit_code == 0
    assert cli("order", "create", "BOARD", "5", "--due", day(1)).exit_code == 0
    assert report(cli) == (
        0,
        [
            row(
                "warning",
                "overdue_purchase",
                "PO 1",
                f"2 kg SOLDER still open, due {day(-3)}: 3 days late (supplier ACME)",
            ),
            row(
                "warning",
                "overdue_order",
                "ORDER-1",
                f"5 pcs BOARD still planned, due {day(-1)}: 1 day late",
            ),
        ],
    )
    assert cli("order", "cancel", "1").exit_code == 0
    assert found(cli, "overdue_order") == []


def test_lookalike_codes_and_duplicate_names(cli: Cli, shop: Path, tmp_path: Path) -> None:
    add_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: pcb_I, name: Board bare, type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 21, cost: 2, planning_reviewed: {day(0)}}}
  - {{code: PCB-2, name: "BARE   board,", type: component, unit: pcs, make_or_buy: buy,
     lead_time_days: 21, cost: 2, planning_reviewed: {day(0)}}}
  - {{code: S0LDER, name: Solder wire, type: raw, unit: kg, make_or_buy: buy,
     lead_time_days: 14, cost: 60, active: false}}
""",
    )
    assert report(cli) == (
        0,
        [
            row(
                "warning",
                "lookalike_code",
                "PCB-1, pcb_I",
                "item codes PCB-1, pcb_I look alike (case, punctuation, O/0, I/L/1, S/5, "
                "Z/2, B/8 ignored): one item entered twice?",
            ),
            row(
                "warning",
                "duplicate_name",
                "PCB-1, PCB-2, pcb_I",
                "items PCB-1, PCB-2, pcb_I have the same name ('Bare board', ignoring case, "
                "spacing, punctuation and word order)",
            ),
        ],
    )


# -- properties ------------------------------------------------------------------------------


@given(st.lists(st.text("AO0Il1-_b8", min_size=1, max_size=4), max_size=25, unique=True))
@settings(max_examples=60, deadline=None)
def test_lookalike_groups_are_the_classes_of_equal_keys(codes: list[str]) -> None:
    groups = checks._groups(([checks.code_key(c)] for c in codes), len(codes))
    # Brute force: every pair compared.
    want = {
        frozenset(j for j in range(len(codes)) if checks.code_key(codes[j]) == checks.code_key(c))
        for c in codes
    }
    assert {frozenset(g) for g in groups} == {g for g in want if len(g) > 1}


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=30))
@settings(max_examples=60, deadline=None)
def test_groups_join_items_that_share_any_key(keys: list[tuple[int, int]]) -> None:
    n = len(keys)
    groups = checks._groups(([f"a{a}", f"b{b}"] for a, b in keys), n)
    # Brute force: the connected components of "shares the first or the second key".
    component = list(range(n))
    changed = True
    while changed:
        changed = False
        for i in range(n):
            for j in range(n):
                if (keys[i][0] == keys[j][0] or keys[i][1] == keys[j][1]) and component[
                    j
                ] < component[i]:
                    component[i], changed = component[j], True
    want: dict[int, set[int]] = {}
    for i, c in enumerate(component):
        want.setdefault(c, set()).add(i)
    assert {frozenset(g) for g in groups} == {frozenset(g) for g in want.values() if len(g) > 1}
