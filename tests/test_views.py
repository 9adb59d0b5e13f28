"""The SQL views read the same numbers as the commands.

A plant is built with real commands (trace_story's CHIP -> PCB -> HD plant, plus bought
BOLT received at several costs, a GLUE waiting for inspection, a DEV order in progress at
its stages, a released DEV order holding reservations, a claim for a customer, an expired
one, late purchase and production orders). Each view's rows are compared with its
command's JSON: the same rows, the same numbers as Decimal. Hypothesis then drives random
receipts, issues and reservations and checks v_stock and v_valuation after each history.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import valuation_story
from conftest import Cli, day, ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_story import build

from mfgctl.db import schema_sql
from mfgctl.domain import views
from mfgctl.migrations import SCHEMA_VERSION


def view(path: Path, name: str) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as c:
        c.row_factory = sqlite3.Row
        rows = [dict(r) for r in c.execute(f"SELECT * FROM {name}")]
    c.close()
    return rows


def as_json(cli: Cli, *args: object) -> Any:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


def num(value: object) -> Decimal | None:
    """A view's decimal text (or a JSON number) as a Decimal, None kept."""
    return None if value is None else Decimal(str(value))


def same(rows: list[dict[str, Any]], keys: dict[str, str], numbers: set[str]) -> list[dict]:
    """Rows reduced to the compared keys (renamed view column -> JSON key), numbers as
    Decimal so that '12.50' and 12.5 compare equal."""
    return [{j: num(r[v]) if j in numbers else r[v] for v, j in keys.items()} for r in rows]


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    build(cli, initdb)
    ok(cli, "item", "add", "BOLT", "--name", "Bolt", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy", "--cost", "1.5")  # fmt: skip
    ok(cli, "item", "add", "GLUE", "--name", "Glue", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy", "--cost", "0.7", "--inspect-on-receipt")  # fmt: skip
    ok(cli, "item", "add", "DEV", "--name", "Device", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make")  # fmt: skip
    (initdb.parent / "dev.yaml").write_text(
        "boms:\n  - item: DEV\n    revision: A\n    lines:\n"
        "      - {item: BOLT, qty: 4}\n      - {item: SCREW, qty: 1}\n"
    )
    ok(cli, "import", initdb.parent / "dev.yaml")
    ok(cli, "routing", "set", "DEV", "-s", "assembly", "-s", "test")
    # BOLT: 10 at 2 and 30 at 3.25 -> average (20 + 97.5) / 40 = 2.9375.
    ok(cli, "stock", "receive", "BOLT", "10", "--cost", "2")
    ok(cli, "stock", "receive", "BOLT", "30", "--cost", "3.25")
    ok(cli, "stock", "adjust", "BOLT", "--remove", "5", "--reason", "damaged")  # 35 left
    ok(cli, "stock", "receive", "BOLT", "5")  # no cost: at the average, 40 at 2.9375
    ok(cli, "stock", "receive", "GLUE", "2.25")  # pending_inspection, standard cost 0.7
    # Order 3: 5 DEV due two days ago, 20 BOLT and 5 SCREW consumed, 3 passed assembly
    # and 1 failed it: 1 waits at assembly, 3 at test.
    ok(cli, "order", "create", "DEV", "5", "--due", day(-2))
    ok(cli, "order", "release", "3")
    ok(cli, "consume", "3")
    ok(cli, "order", "advance", "3", "-s", "assembly", "-g", "3", "-r", "1", "--reason", "bent")
    # Order 4: 2 DEV released (reserves 8 BOLT, 2 SCREW), nothing consumed.
    ok(cli, "order", "create", "DEV", "2", "--due", day(10))
    ok(cli, "order", "release", "4")
    ok(cli, "reserve", "add", "BOLT", "3", "--for", "CUST-1", "--until", day(5))
    ok(cli, "reserve", "add", "BOLT", "2", "--for", "CUST-2", "--until", day(5))
    # Time passes for CUST-2's claim: its last day was yesterday (no command back-dates).
    with sqlite3.connect(initdb) as c:
        c.execute("UPDATE reservation SET until_on = ? WHERE ref = 'CUST-2'", (day(-1),))
    c.close()
    ok(cli, "purchase", "add", "BOLT", "50", "--due", day(-3), "--supplier", "ACME", "--ref", "X")
    ok(cli, "purchase", "add", "CHIP", "7.5", "--due", day(4), "--supplier", "ACME")
    ok(cli, "stock", "receive", "SCREW", "0.000001")  # one millionth: exact to the end
    return initdb


def test_schema_sql_holds_the_generated_views() -> None:
    text = schema_sql()
    assert views.ddl() in text
    assert f"PRAGMA user_version = {SCHEMA_VERSION};" in text
    assert list(views.views()) == [
        "v_stock", "v_wip_stage", "v_wip", "v_reservations", "v_late_orders", "v_valuation",
        "v_genealogy",
    ]  # fmt: skip


def test_the_decimal_text_is_exact() -> None:
    c = sqlite3.connect(":memory:")
    cases = {
        0: "0", 1: "0.000001", -1: "-0.000001", 12_500_000: "12.5", -250_000: "-0.25",
        1_000_000: "1", 123_456_789: "123.456789", -9_000_000_000_000: "-9000000",
        10**18: "1000000000000",
    }  # fmt: skip
    for micro, text in cases.items():
        assert c.execute(
            f"SELECT {views.decimal_text('x')} FROM (SELECT ? AS x)", (micro,)
        ).fetchone() == (text,)
    assert c.execute(
        f"SELECT {views.decimal_text('x', 12)} FROM (SELECT ? AS x)", (1_500_000_000_001,)
    ).fetchone() == ("1.500000000001",)
    assert c.execute(f"SELECT {views.decimal_text('x')} FROM (SELECT NULL AS x)").fetchone() == (
        None,
    )
    c.close()


_STOCK_NUMBERS = {
    "physical", "available", "reserved", "free", "pending_inspection", "awaiting_release",
    "blocked", "rejected", "rework", "wip", "on_order",
}  # fmt: skip


def stock_matches(cli: Cli, path: Path) -> list[dict]:
    keys = {k: k for k in ("item", "name", "type", "unit", *sorted(_STOCK_NUMBERS))}
    rows = same(view(path, "v_stock"), keys, _STOCK_NUMBERS)
    assert rows == same(as_json(cli, "stock"), keys, _STOCK_NUMBERS)
    return rows


def test_v_stock_equals_the_stock_report(cli: Cli, shop: Path) -> None:
    rows = {r["item"]: r for r in stock_matches(cli, shop)}
    # BOLT: 40 in, 20 consumed into order 3 -> 20; reserved 8 (order 4) + 3 (CUST-1),
    # CUST-2's 2 expired -> free 9; on order 50 (the late PO).
    bolt = rows["BOLT"]
    assert (bolt["physical"], bolt["reserved"], bolt["free"], bolt["on_order"]) == (20, 11, 9, 50)
    # SCREW: 100 + 0.000001 in, 4 into order 2, 5 into order 3 (its WIP), 2 held by order 4.
    assert rows["SCREW"]["physical"] == Decimal("91.000001")
    assert rows["SCREW"]["wip"] == 5
    assert rows["GLUE"]["pending_inspection"] == Decimal("2.25")
    # Orders 3 (5, of which 1 rejected at assembly: 4 can still come) and 4 (2).
    assert rows["DEV"]["on_order"] == 6
    assert rows["CHIP"]["on_order"] == Decimal("7.5")
    with sqlite3.connect(shop) as c:
        micro = c.execute("SELECT free_micro FROM v_stock WHERE item = 'BOLT'").fetchone()
    c.close()
    assert micro == (9_000_000,)


def test_v_wip_and_v_wip_stage_equal_the_wip_report(cli: Cli, shop: Path) -> None:
    report = as_json(cli, "wip")
    keys = {
        "order_id": "order", "item": "item", "qty": "qty", "unit": "unit", "state": "state",
        "stage": "stage", "waiting": "waiting", "finished": "finished",
        "consumed_value": "consumed_value", "age_days": "age_days", "age_from": "age_from",
        "due": "due",
    }  # fmt: skip
    numbers = {"qty", "waiting", "finished", "consumed_value"}
    rows = view(shop, "v_wip")
    assert same(rows, keys, numbers) == same(report, {v: v for v in keys.values()}, numbers)
    assert [json.loads(r["uncosted"]) for r in rows] == [r["uncosted"] for r in report]
    assert [bool(r["late"]) for r in rows] == [r["late"] for r in report]
    # Order 3 (due two days ago) first: at assembly with 1 waiting, nothing finished;
    # consumed 20 BOLT at standard 1.5 = 30, SCREW has no cost.
    first = rows[0]
    assert (first["order_id"], first["stage"], first["waiting"], first["finished"]) == (
        3,
        "assembly",
        "1",
        "0",
    )
    assert (num(first["consumed_value"]), first["uncosted"], first["late"]) == (30, '["SCREW"]', 1)

    stage_keys = {
        "stage": "stage",
        "waiting": "waiting",
        "passed": "passed",
        "rejected": "rejected",
    }
    stage_numbers = {"waiting", "passed", "rejected"}
    by_order: dict[int, list[dict]] = {}
    for r in view(shop, "v_wip_stage"):
        by_order.setdefault(r["order_id"], []).append(r)
    for r in report:
        got = same(by_order.get(r["order"], []), stage_keys, stage_numbers)
        assert got == same(r["stages"], {k: k for k in stage_keys.values()}, stage_numbers)
    # assembly: 5 reached, 3 passed, 1 rejected -> 1 waiting; test: the 3 wait.
    assert [(s["stage"], s["waiting"], s["passed"]) for s in by_order[3]] == [
        ("assembly", "1", "3"), ("test", "3", "0")
    ]  # fmt: skip


def test_v_reservations_equals_reserve_list(cli: Cli, shop: Path) -> None:
    keys = {
        "id": "id", "item": "item", "location": "location", "lot": "lot", "qty": "qty",
        "remaining": "remaining", "unit": "unit", "ref": "ref", "order_id": "order",
        "priority": "priority", "until": "until", "status": "status",
        "created_at": "created_at", "user": "user",
    }  # fmt: skip
    numbers = {"qty", "remaining"}
    rows = view(shop, "v_reservations")
    command = {v: v for v in keys.values()}
    assert same(rows, keys, numbers) == same(
        as_json(cli, "reserve", "list", "--all"), command, numbers
    )
    # The default list leaves out what was consumed or cancelled.
    shown = [r for r in rows if r["status"] in ("open", "expired")]
    assert same(shown, keys, numbers) == same(as_json(cli, "reserve", "list"), command, numbers)
    assert [r["status"] for r in rows if r["ref"].startswith("CUST")] == ["open", "expired"]


def test_v_late_orders_equals_report_late(cli: Cli, shop: Path) -> None:
    report = as_json(cli, "report", "late")
    rows = view(shop, "v_late_orders")
    production = [r for r in rows if r["kind"] == "production"]
    purchase = [r for r in rows if r["kind"] == "purchase"]
    common = {"item": "item", "name": "name", "qty": "qty", "unit": "unit", "state": "state",
              "due": "due", "days_late": "days_late", "ref": "ref"}  # fmt: skip
    numbers = {"qty", "good", "remaining", "received", "open"}
    p_keys = {"id": "order", **common, "done": "good", "remaining": "remaining"}
    assert same(production, p_keys, numbers) == same(
        report["production_orders"], {v: v for v in p_keys.values()}, numbers
    )
    po_keys = {
        "id": "po",
        **common,
        "supplier": "supplier",
        "done": "received",
        "remaining": "open",
    }
    po_keys.pop("state")
    assert same(purchase, po_keys, numbers) == same(
        report["purchase_orders"], {v: v for v in po_keys.values()}, numbers
    )
    assert [json.loads(r["needed_by"]) for r in purchase] == [
        r["needed_by"] for r in report["purchase_orders"]
    ]
    # Order 3, 2 days late with nothing made; the BOLT PO, 3 days late, needed by order 4
    # (order 3 consumed all it needed).
    assert [(r["id"], r["days_late"], r["remaining"]) for r in production] == [(3, 2, "5")]
    assert [(r["item"], r["days_late"], json.loads(r["needed_by"])) for r in purchase] == [
        ("BOLT", 3, ["ORDER-4"])
    ]


_VALUE_NUMBERS = {
    "qty", "average_cost", "value", "available", "wip", "pending_inspection", "blocked",
    "rejected", "rework", "awaiting_release",
}  # fmt: skip


def valuation_matches(cli: Cli, path: Path) -> list[dict]:
    """v_valuation equals report valuation, made items included."""
    keys = {k: k for k in ("item", "name", "unit", "basis", *sorted(_VALUE_NUMBERS))}
    rows = same(view(path, "v_valuation"), keys, _VALUE_NUMBERS)
    assert rows == same(as_json(cli, "report", "valuation"), keys, _VALUE_NUMBERS)
    return rows


def test_v_valuation_equals_the_valuation_report(cli: Cli, shop: Path) -> None:
    rows = {r["item"]: r for r in valuation_matches(cli, shop)}
    # BOLT: 40 at 2.9375, 20 consumed into order 3 (still valued, as WIP): 40 x 2.9375.
    bolt = rows["BOLT"]
    assert (bolt["qty"], bolt["average_cost"], bolt["value"]) == (40, Decimal("2.9375"), 117.5)
    assert (bolt["available"], bolt["wip"], bolt["basis"]) == (
        Decimal("58.75"),
        Decimal("58.75"),
        "average",
    )
    assert (rows["GLUE"]["pending_inspection"], rows["GLUE"]["basis"]) == (
        Decimal("1.575"),
        "standard",
    )
    # Made items are valued like any other: CHIP came in without a cost (basis none, 0),
    # so the PCB made of it and the HD made of PCB and uncosted SCREW cost 0.
    assert (rows["PCB"]["average_cost"], rows["PCB"]["basis"]) == (0, "average")
    assert (rows["HD"]["value"], rows["HD"]["basis"]) == (0, "average")


def test_v_valuation_values_made_items_at_their_completions(cli: Cli, initdb: Path) -> None:
    valuation_story.build(cli)
    rows = {r["item"]: r for r in valuation_matches(cli, initdb)}
    # tests/test_valuation.py works these by hand.
    assert (rows["PCB"]["qty"], rows["PCB"]["average_cost"], rows["PCB"]["basis"]) == (
        4,
        Decimal("3.144364"),
        "average",
    )
    assert (rows["HD"]["average_cost"], rows["HD"]["value"]) == (
        Decimal("3.206364"),
        Decimal("6.412728"),
    )


def test_v_genealogy_agrees_with_trace(cli: Cli, shop: Path) -> None:
    rows = view(shop, "v_genealogy")
    edges = {
        (r["place"], r["input_item"], r["input_lot"], num(r["input_qty"]), r["output_item"],
         r["output_lot"], num(r["output_qty"]))
        for r in rows
    }  # fmt: skip

    # Every edge that a backward trace of each made lot shows.
    traced = set()
    for lot in sorted({r["output_lot"] for r in rows if r["output_lot"]}):
        tree = as_json(cli, "trace", lot, "--backward")

        def walk(node: dict, out: dict | None = None) -> None:
            for child in node.get("children", []):
                if child["type"] == "order":
                    for inp in child.get("children", []):
                        traced.add((
                            child["place"], inp["item"], inp.get("lot"), inp["consumed"],
                            node["item"], node["lot"], child["made"],
                        ))  # fmt: skip
                        walk(inp)

        walk(tree)
    made = {e for e in edges if e[5] is not None}
    assert made == traced
    # Order 3 has consumed and made nothing yet: its inputs with no output.
    assert {e for e in edges if e[5] is None} == {
        ("ORDER-3", "BOLT", None, 20, None, None, None),
        ("ORDER-3", "SCREW", None, 5, None, None, None),
    }
    assert ("ORDER-1", "CHIP", "C1", 8, "PCB", "P1", 4) in edges


def test_views_are_read_only(shop: Path) -> None:
    with sqlite3.connect(shop) as c, pytest.raises(sqlite3.OperationalError, match="view"):
        c.execute("DELETE FROM v_stock")
    c.close()


# -- properties ------------------------------------------------------------------------------

_QTY = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(500), places=6)
_COST = st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(90), places=6)
_STEP = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(["A", "B"]), _QTY, _COST),
    st.tuples(st.just("issue"), st.sampled_from(["A", "B"]), _QTY, st.none()),
    st.tuples(st.just("reserve"), st.sampled_from(["A", "B"]), _QTY, st.none()),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(_STEP, min_size=1, max_size=10))
def test_v_stock_and_v_valuation_equal_the_commands_after_any_history(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, steps: list
) -> None:
    path = tmp_path_factory.mktemp("views") / "p.db"
    ok(cli, "--db", path, "init")
    ok(cli, "--db", path, "item", "add", "A", "--name", "A", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy", "--cost", "1.25")  # fmt: skip
    ok(cli, "--db", path, "item", "add", "B", "--name", "B", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy")  # fmt: skip
    for n, (action, item, qty, cost) in enumerate(steps):
        if action == "receive":
            extra = [] if cost is None else ["--cost", cost]
            ok(cli, "--db", path, "stock", "receive", item, qty, *extra)
        elif action == "issue":  # what is free, at most qty (refusals are other tests)
            free = next(
                (r["free"] for r in as_json(cli, "--db", path, "stock") if r["item"] == item), 0
            )
            if free > 0:
                ok(
                    cli,
                    "--db",
                    path,
                    "stock",
                    "adjust",
                    item,
                    "--remove",
                    min(qty, free),
                    "--reason",
                    "used",
                )
        else:
            free = next(
                (r["free"] for r in as_json(cli, "--db", path, "stock") if r["item"] == item), 0
            )
            if free > 0:
                ok(cli, "--db", path, "reserve", "add", item, min(qty, free), "--for", f"R{n}")
    stock_matches(_at(cli, path), path)
    valuation_matches(_at(cli, path), path)


def _at(cli: Cli, path: Path) -> Cli:
    """The CLI pointed at another database."""
    return lambda *args, **kw: cli("--db", path, *args, **kw)


def test_v_valuation_shows_null_rather_than_an_inexact_number(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "GOLD", "--name", "Gold", "--type", "raw", "--unit", "g",
       "--make-or-buy", "buy")  # fmt: skip
    # 1,000,000 g at 10: a value of 10,000,000, past what 64-bit millionths squared hold
    # (about 4.6 million); a second receipt would need 10^12 x 10^7 in the average.
    ok(cli, "stock", "receive", "GOLD", "1000000", "--cost", "10")
    ok(cli, "stock", "receive", "GOLD", "1", "--cost", "1")
    report = as_json(cli, "report", "valuation")
    # (10,000,000 + 1) / 1,000,001 = 9.999991000009 -> 9.999991 (half-even to a millionth)
    assert report[0]["average_cost"] == Decimal("9.999991")
    [row] = view(initdb, "v_valuation")
    assert (row["qty"], row["average_cost"], row["value"], row["basis"]) == (
        "1000001",
        None,
        None,
        "overflow",
    )
    with sqlite3.connect(initdb) as c:
        types = c.execute("SELECT typeof(average_cost_micro), typeof(value) FROM v_valuation")
        assert types.fetchone() == ("null", "null")
    c.close()


_MAKE = st.tuples(
    st.just("make"),
    st.sampled_from(["S", "S", "F"]),
    st.integers(min_value=1, max_value=3),
    st.sampled_from([0, 0, 1, 3]),  # units scrapped (at most all)
    st.none(),
)
_MAKING = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(["A", "B"]), _QTY, _COST, st.booleans()),
    _MAKE,
    _MAKE,
    st.tuples(st.just("issue"), st.sampled_from(["A", "S", "F"]), _QTY, st.none(), st.none()),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(first=st.tuples(_COST, _COST), steps=st.lists(_MAKING, min_size=3, max_size=10))
def test_v_valuation_equals_the_report_with_production_after_any_history(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, first: tuple, steps: list
) -> None:
    """From 20 A and 40 B in stock: receipts (some back-dated before everything),
    completions that make good units, scrap or both at two levels (S from A and B, F
    from S and A), and issues."""
    path = tmp_path_factory.mktemp("views") / "p.db"
    at = _at(cli, path)
    ok(at, "init")
    for code, kind, unit, buy, cost in (
        ("A", "raw", "kg", "buy", ["--cost", "1.25"]),
        ("B", "raw", "kg", "buy", []),
        ("S", "subassembly", "pcs", "make", []),
        ("F", "finished", "pcs", "make", []),
    ):
        ok(at, "item", "add", code, "--name", code, "--type", kind, "--unit", unit,
           "--make-or-buy", buy, *cost)  # fmt: skip
    (path.parent / "boms.yaml").write_text(
        "boms:\n"
        "  - item: S\n    lines:\n      - {item: A, qty: 1}\n      - {item: B, qty: 2}\n"
        "  - item: F\n    lines:\n      - {item: S, qty: 1}\n      - {item: A, qty: 0.5}\n"
    )
    ok(at, "import", path.parent / "boms.yaml")
    for code, qty, cost in (("A", 20, first[0]), ("B", 40, first[1])):
        ok(at, "stock", "receive", code, qty, *([] if cost is None else ["--cost", cost]))
    orders = 0
    for action, item, qty, extra, back in steps:
        if action == "receive":
            cost = [] if extra is None else ["--cost", extra]
            dated = ["--date", day(-1)] if back else []
            ok(at, "stock", "receive", item, qty, *cost, *dated)
        elif action == "make":
            orders += 1
            ok(at, "order", "create", item, qty, "--due", day(3))
            if any(at(*args, orders).exit_code for args in (("order", "release"), ("consume",))):
                ok(at, "order", "cancel", orders)  # short of material: nothing made
                continue
            scrap = min(extra, qty)
            ok(at, "order", "complete", orders, "--qty", qty - scrap,
               *(["--scrap", scrap] if scrap else []))  # fmt: skip
        else:
            free = next((r["free"] for r in as_json(at, "stock") if r["item"] == item), 0)
            if free > 0:
                ok(at, "stock", "adjust", item, "--remove", min(qty, free), "--reason", "used")
    valuation_matches(at, path)


def test_v_wip_ages_a_started_order_from_its_start_after_an_update(cli: Cli, shop: Path) -> None:
    # order update writes an in_progress -> in_progress history row: not a new start.
    # The start is moved back (as if the order had started long ago) so the two differ.
    with sqlite3.connect(shop) as c:
        c.execute(
            "UPDATE order_event SET at = '2026-01-05T08:00:00.000000Z' "
            "WHERE order_id = 3 AND to_state = 'in_progress'"
        )
    c.close()
    started = {r["order"]: r["age_days"] for r in as_json(cli, "wip")}
    assert started[3] > 300
    ok(cli, "order", "update", "3", "--priority", "5")
    assert {r["order"]: r["age_days"] for r in as_json(cli, "wip")} == started
    assert {r["order_id"]: r["age_days"] for r in view(shop, "v_wip")} == started
