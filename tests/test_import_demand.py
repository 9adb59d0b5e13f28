"""``demand:`` and ``purchase_orders:`` in ``mfgctl import`` and ``mfgctl export``: what a
user sees.

Records are added once (a record the same as a stored one, in any state, is not added
again), quantities are converted exactly to the base unit, every problem names the file,
the line and the field, and a refused or dry-run import leaves the database exactly as
it was.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, refused

ITEMS = """\
items:
  - {code: MIC, name: Microphone, type: component, unit: pcs, make_or_buy: buy,
     units: {reel: 5000}}
  - {code: SLD, name: Solder paste, type: raw, unit: kg, make_or_buy: buy, units: {g: 0.001}}
  - {code: HD, name: Hearing device, type: finished, unit: pcs, make_or_buy: make}
"""

PLAN = f"""\
demand:
  - {{item: HD, qty: 40, due: {day(30)}, kind: sales, ref: SO-1042}}
  - {{item: HD, qty: 25.5, due: {day(60)}, kind: Forecast}}
  - {{item: SLD, qty: 350, unit: g, due: {day(20)}, kind: forecast}}
purchase_orders:
  - {{item: MIC, qty: 2, unit: reel, due: {day(14)}, supplier: Knowles, ref: Q-77,
     unit_cost: 0.85}}
  - {{item: SLD, qty: 0.5, due: {day(7)}}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path / name


def as_json(cli: Cli, *args: object) -> list[dict]:
    r = cli(*args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def imported(cli: Cli, *args: object) -> dict[str, dict]:
    """Import; the summary's counts by kind."""
    rows = as_json(cli, "import", *args)
    return {row.pop("kind"): row for row in rows}


def on(db: Path | None) -> tuple[object, ...]:
    """The global option for another database than the test's."""
    return ("--db", db) if db else ()


def demand_rows(cli: Cli, db: Path | None = None) -> list[tuple]:
    rows = as_json(cli, *on(db), "demand", "list")
    return [(r["item"], r["qty"], r["due"], r["kind"], r["ref"], r["state"]) for r in rows]


def po_rows(cli: Cli, db: Path | None = None) -> list[tuple]:
    rows = as_json(cli, *on(db), "purchase", "list")
    return [
        (r["item"], r["qty"], r["received"], r["due"], r["supplier"], r["ref"], r["unit_cost"])
        for r in rows
    ]


# -- import ------------------------------------------------------------------------------


def test_demand_and_purchase_orders_are_imported_in_base_units(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    counts = imported(cli, f)
    assert counts["demand"] == {"added": 3, "changed": 0, "unchanged": 0}
    assert counts["purchase_order"] == {"added": 2, "changed": 0, "unchanged": 0}
    assert demand_rows(cli) == [
        ("SLD", Decimal("0.35"), day(20), "forecast", None, "open"),
        ("HD", 40, day(30), "sales", "SO-1042", "open"),
        ("HD", Decimal("25.5"), day(60), "forecast", None, "open"),
    ]
    assert po_rows(cli) == [
        ("SLD", Decimal("0.5"), 0, day(7), None, None, None),
        ("MIC", 10000, 0, day(14), "Knowles", "Q-77", Decimal("0.85")),
    ]
    [mic] = as_json(cli, "stock", "--item", "MIC")
    assert mic["on_order"] == 10000


def test_items_may_come_from_another_file_of_the_same_import(cli, initdb, tmp_path):
    items = write(tmp_path, "items.yaml", ITEMS)
    plan = write(tmp_path, "plan.yaml", PLAN)
    counts = imported(cli, plan, items)  # items are written first, whatever the order
    assert (counts["demand"]["added"], counts["purchase_order"]["added"]) == (3, 2)


def test_an_import_without_them_shows_no_demand_rows(cli, initdb, tmp_path):
    counts = imported(cli, write(tmp_path, "items.yaml", ITEMS))
    assert list(counts) == ["location", "item", "bom", "routing", "stock"]


# -- idempotence -------------------------------------------------------------------------


def test_importing_the_same_file_again_adds_nothing(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    imported(cli, f)
    before = dump(initdb)
    counts = imported(cli, f)
    assert counts["demand"] == {"added": 0, "changed": 0, "unchanged": 3}
    assert counts["purchase_order"] == {"added": 0, "changed": 0, "unchanged": 2}
    assert dump(initdb) == before


def test_cancelled_and_received_records_are_not_added_again(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    imported(cli, f)
    assert cli("demand", "cancel", "1").exit_code == 0  # the sales order of 40 HD
    assert cli("purchase", "receive", "1").exit_code == 0  # all 10000 MIC
    assert cli("purchase", "cancel", "2").exit_code == 0  # the solder
    before = dump(initdb)
    counts = imported(cli, f)
    assert (counts["demand"]["added"], counts["purchase_order"]["added"]) == (0, 0)
    assert dump(initdb) == before
    assert po_rows(cli) == []


def test_a_partly_received_order_is_the_same_record_by_ordered_or_open_qty(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    imported(cli, f)
    assert cli("purchase", "receive", "1", "--qty", "3000").exit_code == 0
    assert imported(cli, f)["purchase_order"]["added"] == 0  # ordered: 10000
    open_only = write(
        tmp_path,
        "open.yaml",
        f"purchase_orders:\n  - {{item: MIC, qty: 7000, due: {day(14)}, supplier: Knowles, "
        "ref: Q-77}\n",
    )
    assert imported(cli, open_only)["purchase_order"] == {
        "added": 0,
        "changed": 0,
        "unchanged": 1,
    }


def test_a_record_differing_in_its_identity_is_a_new_one(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    imported(cli, f)
    other = write(
        tmp_path,
        "other.yaml",
        f"""\
        demand:
          - {{item: HD, qty: 40, due: {day(30)}, kind: sales, ref: SO-1043}}
          - {{item: HD, qty: 41, due: {day(30)}, kind: sales, ref: SO-1042}}
          - {{item: HD, qty: 40, due: {day(31)}, kind: sales, ref: SO-1042}}
          - {{item: HD, qty: 40, due: {day(30)}, kind: forecast, ref: SO-1042}}
          - {{item: HD, qty: 40, due: {day(30)}, kind: sales, ref: SO-1042}}
        purchase_orders:
          - {{item: SLD, qty: 0.5, due: {day(7)}, supplier: Felder}}
          - {{item: SLD, qty: 500, unit: g, due: {day(7)}}}
        """,
    )
    counts = imported(cli, other)
    assert counts["demand"] == {"added": 4, "changed": 0, "unchanged": 1}
    # 500 g is the 0.5 kg stored: the same order; another supplier is a new one.
    assert counts["purchase_order"] == {"added": 1, "changed": 0, "unchanged": 1}


def test_a_record_given_twice_is_two_records_and_reimporting_keeps_two(cli, initdb, tmp_path):
    twice = f"  - {{item: HD, qty: 10, due: {day(9)}, kind: forecast}}\n" * 2
    f = write(tmp_path, "twice.yaml", ITEMS + "demand:\n" + twice)
    assert imported(cli, f)["demand"]["added"] == 2
    assert imported(cli, f)["demand"] == {"added": 0, "changed": 0, "unchanged": 2}
    assert len(demand_rows(cli)) == 2


# -- export ------------------------------------------------------------------------------


def test_export_writes_open_demand_and_what_is_still_open_of_purchase_orders(cli, initdb, tmp_path):
    imported(cli, write(tmp_path, "plan.yaml", ITEMS + PLAN))
    assert cli("demand", "cancel", "3").exit_code == 0  # the solder forecast
    assert cli("purchase", "receive", "1", "--qty", "1", "--unit", "reel").exit_code == 0
    assert cli("purchase", "receive", "2").exit_code == 0  # the solder: received
    out = cli("export").stdout
    assert out.endswith(
        "demand:\n"
        f"- {{item: HD, qty: 40, due: {day(30)}, kind: sales, ref: SO-1042}}\n"
        f"- {{item: HD, qty: 25.5, due: {day(60)}, kind: forecast}}\n"
        "purchase_orders:\n"
        f"- {{item: MIC, qty: 5000, due: {day(14)}, supplier: Knowles, ref: Q-77, "
        "unit_cost: 0.85}\n"
    )


def test_export_import_export_gives_the_same_text_and_the_same_on_order(cli, initdb, tmp_path):
    imported(cli, write(tmp_path, "plan.yaml", ITEMS + PLAN))
    assert cli("demand", "add", "HD", "3", "--due", day(5), "--kind", "sales",
               "--ref", "it's: #1").exit_code == 0  # fmt: skip
    assert cli("purchase", "receive", "1", "--qty", "2500").exit_code == 0
    first = cli("export").stdout
    exported = write(tmp_path, "export.yaml", first)
    fresh = tmp_path / "fresh.db"
    assert cli("--db", fresh, "init").exit_code == 0
    assert cli("--db", fresh, "import", exported).exit_code == 0
    assert cli("--db", fresh, "export").stdout == first
    assert demand_rows(cli, fresh) == demand_rows(cli)
    assert as_json(cli, "--db", fresh, "stock") == as_json(cli, "stock")
    [po] = [r for r in po_rows(cli, fresh) if r[0] == "MIC"]
    assert po == ("MIC", 7500, 0, day(14), "Knowles", "Q-77", Decimal("0.85"))
    # Into the database it came from, the export adds no demand and no purchase order.
    counts = imported(cli, exported)
    assert (counts["demand"]["added"], counts["purchase_order"]["added"]) == (0, 0)


def test_a_deactivated_items_open_records_are_left_out_of_the_export(cli, initdb, tmp_path):
    imported(cli, write(tmp_path, "plan.yaml", ITEMS + PLAN))
    # item deactivate now refuses an item with open work: deactivated as before it did.
    assert "cannot be deactivated" in cli("item", "deactivate", "SLD").stderr
    with sqlite3.connect(initdb) as c:
        c.execute("UPDATE item SET active = 0 WHERE code = 'SLD'")
    c.close()
    out = cli("export").stdout
    assert "{item: SLD, qty:" not in out
    fresh = tmp_path / "fresh.db"
    assert cli("--db", fresh, "init").exit_code == 0
    assert cli("--db", fresh, "import", write(tmp_path, "e.yaml", out)).exit_code == 0


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("demand:\n  - {item: HD, qty: 1, due: 2030-01-01}", "3: demand[0].kind: missing"),
        ("demand:\n  - {qty: 1, due: 2030-01-01, kind: sales}", "3: demand[0].item: missing"),
        (
            "demand:\n  - {item: HDX, qty: 1, due: 2030-01-01, kind: sales}",
            "3: demand[0].item: unknown item 'HDX'",
        ),
        (
            "demand:\n  - {item: HD, qty: 0, due: 2030-01-01, kind: sales}",
            "3: demand[0].qty: must be greater than zero",
        ),
        (
            "demand:\n  - {item: HD, qty: 1, due: soon, kind: sales}",
            "3: demand[0].due: 'soon' is not a date (write YYYY-MM-DD)",
        ),
        (
            "demand:\n  - {item: HD, qty: 1, due: 2030-01-01, kind: wish}",
            "3: demand[0].kind: must be one of sales, forecast; got 'wish'",
        ),
        (
            "demand:\n  - {item: HD, qty: 1, unit: box, due: 2030-01-01, kind: sales}",
            "3: demand[0].unit: unit 'box' cannot convert to HD's base unit 'pcs'",
        ),
        (
            "demand:\n  - {item: SLD, qty: 0.0001, unit: g, due: 2030-01-01, kind: sales}",
            "3: demand[0].qty: in kg 0.0000001 has more than 6 decimal places",
        ),
        (
            "demand:\n  - {item: HD, qty: 1, due: 2030-01-01, kind: sales, colour: red}",
            "3: demand[0].colour: unknown key (known: item, qty, unit, due, kind, ref)",
        ),
        (
            "purchase_orders:\n  - {item: HD, qty: 1, due: 2030-01-01}",
            "3: purchase_orders[0].item: HD is a make item: purchase orders are for buy items",
        ),
        (
            "purchase_orders:\n  - {item: MIC, qty: 1, due: 2030-01-01, unit_cost: -1}",
            "3: purchase_orders[0].unit_cost: must not be negative",
        ),
        (
            "purchase_orders:\n  - {item: MIC, qty: 1, due: 2030-01-01, unit_cost: 0.0000001}",
            "3: purchase_orders[0].unit_cost: 0.0000001 has more than 6 decimal places",
        ),
        (
            "purchase_orders:\n  - {item: MIC, due: 2030-01-01}",
            "3: purchase_orders[0].qty: missing",
        ),
        (
            "purchase_orders:\n  - {item: MIC, qty: 1, due: 2030-01-01, cost: 1}",
            "3: purchase_orders[0].cost: unknown key (known: item, qty, unit, due, supplier, "
            "ref, unit_cost)",
        ),
    ],
)
def test_a_bad_record_is_refused_with_its_line_and_field(
    cli, initdb, tmp_path, record: str, problem: str
) -> None:
    imported(cli, write(tmp_path, "items.yaml", ITEMS))
    # Line 1 is a comment, so the record is on line 3.
    f = write(tmp_path, "bad.yaml", "# plan\n" + record + "\n")
    err = refused(cli, initdb, "import", f, one_line=False)
    assert f"Error: {f}:{problem}" in err, err
    assert "nothing was written" in err


def test_every_problem_is_reported_and_nothing_is_written(cli, initdb, tmp_path):
    imported(cli, write(tmp_path, "items.yaml", ITEMS))
    f = write(
        tmp_path,
        "plan.yaml",
        """\
        demand:
          - {item: HD, qty: 5, due: 2030-01-01, kind: sales}
          - item: HD
            qty: -1
            due: 2030-02-30
            kind: sales
        purchase_orders:
          - {item: MIC, qty: 1, due: 2030-01-01}
          - {item: NOPE, qty: 1, due: 2030-01-01}
        """,
    )
    err = refused(cli, initdb, "import", f, one_line=False)
    assert [ln for ln in err.splitlines() if ln.startswith("Error: ")] == [
        f"Error: {f}:4: demand[1].qty: must not be negative, got -1",
        f"Error: {f}:5: demand[1].due: '2030-02-30' is not a date (write YYYY-MM-DD)",
        f"Error: {f}:9: purchase_orders[1].item: unknown item 'NOPE'",
        "Error: import refused: 3 problems; nothing was written",
    ]
    assert demand_rows(cli) == [] and po_rows(cli) == []


def test_a_deactivated_item_takes_no_imported_demand(cli, initdb, tmp_path):
    imported(cli, write(tmp_path, "items.yaml", ITEMS))
    assert cli("item", "deactivate", "HD").exit_code == 0
    f = write(tmp_path, "d.yaml", "demand:\n  - {item: HD, qty: 1, due: 2030-01-01, kind: sales}\n")
    err = refused(cli, initdb, "import", f, one_line=False)
    assert f"{f}:2: demand[0].item: HD is deactivated" in err


# -- dry run -----------------------------------------------------------------------------


def test_dry_run_says_what_would_be_added_and_writes_nothing(cli, initdb, tmp_path):
    f = write(tmp_path, "plan.yaml", ITEMS + PLAN)
    before = dump(initdb)
    r = cli("import", f, "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert f"would add demand HD sales due {day(30)} ref SO-1042 (40 pcs)" in r.stderr
    assert f"would add demand SLD forecast due {day(20)} (0.35 kg)" in r.stderr
    assert (
        f"would add purchase_order MIC due {day(14)} supplier Knowles ref Q-77 (10000 pcs)"
        in r.stderr
    )
    assert "Dry run: nothing was written" in r.stderr
    assert dump(initdb) == before
    imported(cli, f)
    again = cli("import", f, "--dry-run")
    assert "would add" not in again.stderr
