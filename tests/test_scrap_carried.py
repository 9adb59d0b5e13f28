"""Scrap booked after an order's good units (the floor counts the bad ones at the end of
the run) is carried by the good units as it is when booked with them: the scrap-only
completion passes its material at once to the item's stock on hand (``carried``), so 8
good and 2 scrapped are worth the same booked together or apart, and the valuation
agrees with the order's cost."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from conftest import Cli, dump, import_yaml, ok
from hypothesis import example, given, settings
from hypothesis import strategies as st
from schema_v16 import downgrade_to_v16
from test_migrations import schema, schema_of_fresh, user_version
from typer.testing import CliRunner

from mfgctl.cli import app
from mfgctl.migrations import SCHEMA_VERSION

PLANT = """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: F, name: F, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: F
    lines:
      - {item: A, qty: 1}
"""


def valuation(cli: Cli) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    rows = json.loads(ok(cli, "report", "valuation", "-f", "json").stdout, parse_float=Decimal)
    return {r["item"]: (r["qty"], r["average_cost"], r["value"]) for r in rows}


def view(path: Path) -> dict[str, tuple[str, str, str]]:
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT item, qty, average_cost, value FROM v_valuation").fetchall()
    c.close()
    return {item: (qty, avg, value) for item, qty, avg, value in rows}


def two_orders(cli: Cli, tmp_path: Path) -> None:
    """Order 1: 8 good and 2 scrapped booked together; order 2: the same, good first,
    scrap last (which completes it)."""
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "30", "--cost", "1")
    for n in ("1", "2"):
        ok(cli, "order", "create", "F", "10", "--due", "2030-12-10")
        ok(cli, "order", "release", n)
        ok(cli, "consume", n)
    ok(cli, "order", "complete", "1", "--qty", "8", "--scrap", "2", "--reason", "bad")
    ok(cli, "order", "complete", "2", "--qty", "8")
    r = ok(cli, "order", "complete", "2", "--scrap", "2", "--reason", "bad")
    assert "order 2 is completed" in r.stderr


def test_scrap_booked_last_costs_what_it_costs_booked_together(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    two_orders(cli, tmp_path)
    # Both orders' 8 units cost 10 (1.25 each): 30 received, nothing shipped, 30 on hand.
    assert valuation(cli) == {
        "A": (10, 1, 10),
        "F": (16, Decimal("1.25"), 20),
    }
    assert view(initdb) == {"A": ("10", "1", "10"), "F": ("16", "1.25", "20")}
    # The order's own cost says the same 10.
    doc = json.loads(ok(cli, "order", "show", "2", "-f", "json").stdout, parse_float=Decimal)
    total = next(r for r in doc["cost"] if r["part"] == "total")
    assert (total["actual"], total["standard"], total["variance"]) == (10, 10, 0)


def test_scrap_after_good_then_final_is_carried_too(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "1")
    ok(cli, "order", "create", "F", "10", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "6")
    ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
    ok(cli, "order", "complete", "1", "--final")
    r = ok(cli, "order", "close", "1")
    # 8 of the 10 A went into 6 good and 2 scrapped units; the other 2 are used up at
    # the close (a loss, like scrap): the 6 good ones carry 8.
    assert valuation(cli) == {"F": (6, Decimal("1.333333"), Decimal("7.999998"))}
    assert view(initdb) == {"F": ("6", "1.333333", "7.999998")}
    assert "actual 10, standard 8, variance +2" in r.stderr


def test_scrap_after_the_good_units_left_is_a_loss(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    """With nothing of the item on hand when the scrap is booked, nothing can carry its
    material: it leaves stock as a loss, like scrap (report and view alike)."""
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "1")
    ok(cli, "order", "create", "F", "10", "--due", "2030-12-10")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "8")
    ok(cli, "ship", "F", "8", "--to", "ACME")
    ok(cli, "order", "complete", "1", "--scrap", "2", "--reason", "bad")
    assert valuation(cli) == {}
    assert view(initdb) == {}
    ok(cli, "stock", "receive", "F", "1", "--cost", "3")  # a later inflow is not lifted
    assert valuation(cli) == {"F": (1, 3, 3)}
    assert view(initdb) == {"F": ("1", "3", "3")}


# -- for random splits, value is neither made nor lost --------------------------------------

SPLIT_PLANT = """
items:
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy}
  - {code: F1, name: F1, type: finished, unit: pcs, make_or_buy: make}
  - {code: F2, name: F2, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: F1
    lines:
      - {item: A, qty: 3}
  - item: F2
    lines:
      - {item: A, qty: 3}
"""


@st.composite
def splits(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Completions (good, scrapped) of an order, at least one good unit in all."""
    parts = draw(
        st.lists(
            st.tuples(st.integers(0, 4), st.integers(0, 3)).filter(lambda p: p[0] + p[1] > 0),
            min_size=1,
            max_size=5,
        )
    )
    if not any(good for good, _bad in parts):
        parts[draw(st.integers(0, len(parts) - 1))] = (1, parts[0][1])
    return parts


@settings(max_examples=15, deadline=None)
@given(parts=splits(), cost=st.sampled_from(["0.7", "1.13", "2.000001"]))
@example(parts=[(8, 0), (0, 2)], cost="1.13")  # good first, scrap last
@example(parts=[(0, 1), (3, 0), (0, 2), (4, 1)], cost="0.7")  # scrap before, between, with
@example(parts=[(2, 0), (4, 0), (0, 1), (0, 2)], cost="2.000001")  # two scrap-only last
def test_split_completions_keep_the_value_the_orders_consumed(
    parts: list[tuple[int, int]], cost: str
) -> None:
    """F1 completes its good and scrapped units at once, F2 (the same BOM) in parts,
    scrap before, with or after the good units: F2 is worth what F1 is, and stock value
    (A left, F1, F2) equals the receipts: the scrap's material is carried, not lost."""
    good = sum(g for g, _b in parts)
    bad = sum(b for _g, b in parts)
    qty = good + bad
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        path, data = Path(tmp) / "t.db", Path(tmp) / "plant.yaml"
        data.write_text(SPLIT_PLANT, encoding="utf-8")

        def run(*args: object) -> str:
            r = runner.invoke(app, ["--db", str(path), *map(str, args)])
            assert r.exit_code == 0, (args, r.stderr)
            return r.stdout

        run("init")
        run("import", data)
        run("stock", "receive", "A", 6 * qty + 5, "--cost", cost)
        for n, item in ((1, "F1"), (2, "F2")):
            run("order", "create", item, qty, "--due", "2030-12-10")
            run("order", "release", n)
            run("consume", n)
        together = ["--qty", good] + (["--scrap", bad, "--reason", "bad"] if bad else [])
        run("order", "complete", 1, *together)
        for g, b in parts:
            run(
                "order",
                "complete",
                2,
                "--qty",
                g,
                *(["--scrap", b, "--reason", "bad"] if b else []),
            )
        rows = json.loads(run("report", "valuation", "-f", "json"), parse_float=Decimal)
        values = {r["item"]: r["value"] for r in rows}
        shown = [json.loads(run("order", "show", n, "-f", "json")) for n in (1, 2)]
    orders = [doc["order"][0]["state"] for doc in shown]
    assert orders == ["completed", "completed"]
    # Each completion's unit cost, and each new average, is rounded to a millionth.
    slack = Decimal("0.000001") * qty * (len(parts) + 1)
    assert abs(values["F2"] - values["F1"]) <= slack, (values, parts)
    received = Decimal(cost) * (6 * qty + 5)
    assert abs(values["A"] + values["F1"] + values["F2"] - received) <= 2 * slack, (values, parts)


# -- schema 17: stored completions get their carry --------------------------------------------


def test_a_v16_database_gets_the_scrap_booked_last_carried(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    two_orders(cli, tmp_path)
    with sqlite3.connect(initdb) as c:
        posted = c.execute("SELECT * FROM completion ORDER BY first_seq").fetchall()
    c.close()
    # Order 2's scrap-only completion carries 2 A at 1 (millionths).
    assert [row[2:6] + row[7:] for row in posted] == [
        (1, 2, 8_000_000, 1_250_000, None),
        (2, 2, 8_000_000, 1_000_000, None),
        (2, 2, 0, None, 2_000_000),
    ]
    downgrade_to_v16(initdb)  # as mfgctl 16 left it: the 2.00 lost
    frozen = tmp_path / "v16.db"
    with sqlite3.connect(frozen) as c:
        c.executescript((Path(__file__).parent / "schemas" / "v16.sql").read_text("utf-8"))
    c.close()
    assert schema(initdb) == schema(frozen)
    assert view(initdb)["F"] == ("16", "1.125", "18")
    before = dump(initdb)

    r = cli("report", "valuation", "-f", "json")  # upgrades it

    assert r.exit_code == 0, r.stderr
    assert dump(initdb) != before
    assert user_version(initdb) == SCHEMA_VERSION
    with sqlite3.connect(initdb) as c:
        assert c.execute("SELECT * FROM completion ORDER BY first_seq").fetchall() == posted
        # Still append-only.
        try:
            c.execute("UPDATE completion SET carried = 0")
        except sqlite3.IntegrityError as e:
            assert "immutable" in str(e)
        else:
            raise AssertionError("completion rows could be updated")
    c.close()
    assert valuation(cli)["F"] == (16, Decimal("1.25"), 20)
    assert view(initdb)["F"] == ("16", "1.25", "20")
    assert schema(initdb) == schema_of_fresh(cli, tmp_path)
