"""``mfgctl shipments`` lists what left for customers; ``mfgctl return`` takes back what a
customer sent back: into stock pending inspection (or another status), never more than
the shipment sent of a lot or serial less what came back already, traced and recalled
like any unit in house; every refusal leaves the database unchanged."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trace_story import build


def as_json(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


@pytest.fixture
def widgets(cli: Cli, initdb: Path) -> Path:
    """WIDGET (lot-tracked): lots W1 and W2, 10 each; BOLT (untracked): 50. SHIP-1 sends
    15 WIDGET to Acme (all of W1, 5 of W2), SHIP-2 sends 20 BOLT to Bolt & Co."""
    ok(cli, "item", "add", "WIDGET", "--name", "Widget", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--tracking", "lot")  # fmt: skip
    ok(cli, "item", "add", "BOLT", "--name", "Bolt", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "stock", "receive", "WIDGET", "10", "--lot", "W1")
    ok(cli, "stock", "receive", "WIDGET", "10", "--lot", "W2")
    ok(cli, "stock", "receive", "BOLT", "50")
    ok(cli, "ship", "WIDGET", "15", "--to", "Acme", "--ref", "SO-1", "--note", "DHL 123")
    ok(cli, "ship", "BOLT", "20", "--to", "Bolt & Co")
    return initdb


def stock_of(cli: Cli, item: str) -> dict[tuple[str | None, str], Decimal]:
    """(lot, status) -> quantity, in house."""
    rows = as_json(cli, "stock", "--item", item, "--by-lot")
    out: dict[tuple[str | None, str], Decimal] = {}
    for r in rows:
        for status in ("available", "pending_inspection", "blocked", "rejected", "rework"):
            if r[status]:
                out[(r.get("lot"), status)] = Decimal(r[status])
    return out


def test_shipments_lists_each_shipment_with_its_lots(cli: Cli, widgets: Path) -> None:
    rows = as_json(cli, "shipments")
    assert [
        (r["shipment"], r["customer"], r["item"], r["qty"], r["returned"], r["lots"], r["ref"])
        for r in rows
    ] == [
        ("SHIP-1", "Acme", "WIDGET", 15, 0, "W1, W2", "SO-1"),
        ("SHIP-2", "Bolt & Co", "BOLT", 20, 0, "", None),
    ]
    assert rows[0]["note"] == "DHL 123" and rows[0]["user"] == "tester"
    # Filters: customer (any case), item, lot, reference.
    assert [r["shipment"] for r in as_json(cli, "shipments", "--customer", "acme")] == ["SHIP-1"]
    assert [r["shipment"] for r in as_json(cli, "shipments", "--item", "BOLT")] == ["SHIP-2"]
    assert [r["shipment"] for r in as_json(cli, "shipments", "--lot", "w2")] == ["SHIP-1"]
    assert [r["shipment"] for r in as_json(cli, "shipments", "--ref", "SO-1")] == ["SHIP-1"]
    assert as_json(cli, "shipments", "--since", "2999-01-01") == []
    assert len(as_json(cli, "shipments", "--until", "2999-01-01")) == 2


def test_shipments_says_so_when_there_are_none(cli: Cli, initdb: Path) -> None:
    r = ok(cli, "shipments")
    assert (r.stdout, r.stderr) == ("", "No shipments\n")
    assert as_json(cli, "shipments") == []
    err = refused(cli, initdb, "shipments", "--since", "last week")
    assert "--since 'last week' is not a date" in err


def test_a_return_comes_back_pending_inspection(cli: Cli, widgets: Path) -> None:
    r = ok(cli, "return", "SHIP-1", "2", "--lot", "W1", "--reason", "cracked housing")
    assert r.stderr == "Took back 2 pcs WIDGET from Acme (SHIP-1) into STORES/pending_inspection\n"
    assert stock_of(cli, "WIDGET") == {
        ("W2", "available"): Decimal(5),
        ("W1", "pending_inspection"): Decimal(2),
    }
    [row] = as_json(cli, "shipments", "--item", "WIDGET")
    assert (row["qty"], row["returned"]) == (15, 2)
    last = as_json(cli, "stock", "history", "WIDGET")[-1]
    assert (last["kind"], last["ref"], last["reason"]) == (
        "customer_return",
        "SHIP-1",
        "returned by Acme: cracked housing",
    )
    # The rest of W1 can come back, not more: 10 went out, 2 came back.
    err = refused(cli, widgets, "return", "1", "9", "--lot", "W1", "--reason", "x")
    assert err == (
        "Error: SHIP-1 has 8 pcs of WIDGET lot W1 at Acme (shipped less returned): "
        "cannot take back 9; nothing was returned\n"
    )
    ok(cli, "return", "1", "8", "--lot", "W1", "--reason", "whole lot", "--status", "blocked")
    assert stock_of(cli, "WIDGET")[("W1", "blocked")] == 8
    err = refused(cli, widgets, "return", "SHIP-1", "1", "--lot", "W1", "--reason", "x")
    assert "SHIP-1 has 0 pcs of WIDGET lot W1 at Acme" in err
    assert ok(cli, "check").exit_code == 0


def test_a_shipment_of_several_lots_needs_the_lot_named(cli: Cli, widgets: Path) -> None:
    err = refused(cli, widgets, "return", "SHIP-1", "1", "--reason", "x")
    assert err == "Error: SHIP-1 sent WIDGET in several lots (W1, W2): name the --lot returned\n"
    # A lot the shipment never took.
    ok(cli, "stock", "receive", "WIDGET", "3", "--lot", "W3")
    err = refused(cli, widgets, "return", "SHIP-1", "1", "--lot", "W3", "--reason", "x")
    assert "SHIP-1 has 0 pcs of WIDGET lot W3 at Acme" in err


def test_an_untracked_return_and_the_refusals(cli: Cli, widgets: Path) -> None:
    ok(cli, "return", "SHIP-2", "5", "--reason", "wrong size", "--status", "available")
    assert stock_of(cli, "BOLT") == {(None, "available"): Decimal(35)}  # 50 - 20 + 5
    for args, message in [
        (("SHIP-9", "1"), "Error: no shipment SHIP-9 (mfgctl shipments lists them)\n"),
        (("SHIP-x", "1"), "Error: shipment must be SHIP-<number> or a number, not 'SHIP-x'\n"),
        (("SHIP-2", "0"), "Error: quantity must be greater than zero\n"),
        (("SHIP-2", "16"), None),
        (("SHIP-2", "1", "--lot", "B1"), None),
        (("SHIP-2", "1", "--status", "shelved"), None),
        (("SHIP-2", "1", "--location", "CUSTOMER"), None),
    ]:
        err = refused(cli, widgets, "return", *args, "--reason", "r")
        if message is not None:
            assert err == message
    assert "cannot take back 16" in refused(cli, widgets, "return", "2", "16", "--reason", "r")
    err = refused(cli, widgets, "return", "2", "1", "--status", "shelved", "--reason", "r")
    assert "--status must be one of pending_inspection, blocked, rejected, rework, available" in err
    err = refused(cli, widgets, "return", "2", "1", "--reason", " ")
    assert "--reason" in err
    r = cli("return", "2", "1")
    assert r.exit_code == 2 and "--reason" in r.stderr  # required


def test_serials_come_back_by_name_and_a_recall_holds_them(cli: Cli, db_path: Path) -> None:
    ok(cli, "init")
    build(cli, db_path)  # HD serials S-1, S-2 released; made from PCB lot P1, CHIP lot C1
    ok(cli, "ship", "HD", "2", "--to", "Hifi Shop", "--serial", "S-1", "--serial", "S-2")
    err = refused(cli, db_path, "return", "SHIP-1", "1", "--reason", "noise")
    assert err == "Error: HD is serial-tracked: name the units returned with --serial for each\n"
    err = refused(cli, db_path, "return", "SHIP-1", "2", "--serial", "S-1", "--reason", "noise")
    assert "quantity 2 must equal the number of serials (1)" in err
    ok(cli, "return", "SHIP-1", "1", "--serial", "S-2", "--reason", "noise in left cup")
    # The recall of the chip lot: S-2 is back in house, so it is blocked; S-1 is still
    # at the customer, so it is listed as shipped.
    recall = json.loads(
        ok(cli, "trace", "C1", "--forward", "--hold", "--reason", "bad chips", "-f", "json").stdout
    )
    shipped = [(s["customer"], s["lot"], s["qty"]) for s in recall["shipped"]]
    assert shipped == [("Hifi Shop", "S-1", 1)]
    assert stock_of(cli, "HD") == {("S-2", "blocked"): Decimal(1)}
    err = refused(cli, db_path, "return", "SHIP-1", "1", "--serial", "S-2", "--reason", "again")
    assert "SHIP-1 has 0 pcs of HD serial S-2 at Hifi Shop" in err
    assert ok(cli, "check").exit_code == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(min_value=1, max_value=12), max_size=6))
def test_returns_never_exceed_what_went_out(cli: Cli, widgets: Path, amounts: list[int]) -> None:
    """Whatever is asked back, a lot never returns more than it shipped, and what is in
    house plus what is still at the customer stays what was received."""
    for n in amounts:
        outstanding = 10 - sum(
            Decimal(v) for (lot, _s), v in stock_of(cli, "WIDGET").items() if lot == "W1"
        )
        r = cli("return", "SHIP-1", str(n), "--lot", "W1", "--reason", "batch")
        assert (r.exit_code == 0) == (n <= outstanding), (n, outstanding, r.stderr)
    [row] = as_json(cli, "shipments", "--item", "WIDGET")
    in_house = sum(stock_of(cli, "WIDGET").values())
    assert in_house + row["qty"] - row["returned"] == 20
    assert 0 <= row["returned"] <= 10
    assert cli("check").exit_code == 0


def test_a_return_comes_back_at_the_cost_it_left_with(cli: Cli, initdb: Path) -> None:
    """Returned goods re-enter valued stock at the moving average in effect when the
    shipment left, not at today's: 10 in at 10, 5 shipped (at 10), 10 in at 20 (15 at
    16.666667); 2 back at 10 make 17 at (15 x 16.666667 + 2 x 10) / 17 = 15.882353."""
    ok(cli, "item", "add", "GADGET", "--name", "Gadget", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "stock", "receive", "GADGET", "10", "--cost", "10")
    ok(cli, "ship", "GADGET", "5", "--to", "Acme")
    ok(cli, "stock", "receive", "GADGET", "10", "--cost", "20")
    (before,) = as_json(cli, "report", "valuation")
    assert before["average_cost"] == Decimal("16.666667")
    ok(cli, "return", "SHIP-1", "2", "--reason", "unopened", "--status", "available")
    (after,) = as_json(cli, "report", "valuation")
    assert (after["qty"], after["average_cost"]) == (17, Decimal("15.882353"))
    assert after["value"] == Decimal("270.000001")  # 17 x 15.882353
    # The view replays the same moves and agrees.
    with sqlite3.connect(initdb) as c:
        view = c.execute("SELECT average_cost_micro FROM v_valuation").fetchone()
    assert view == (15_882_353,)
