"""``mfgctl report valuation``: the moving average, by status, as of a date; numbers worked
by hand, and a property over random receipts and issues."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
import valuation_story
from conftest import day, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import items, stock, valuation


def as_json(cli, *args: object) -> list[dict]:
    r = cli(*args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)


def textbook(cli) -> None:
    """Receive 10 @ 2.00, issue 4, receive 10 @ 3.20, issue 6, receive 5 @ 3.05."""
    ok = [
        cli("item", "add", "WIRE", "--name", "Wire", "--type", "raw", "--unit", "m",
            "--make-or-buy", "buy"),
        cli("stock", "receive", "WIRE", "10", "--cost", "2.00", "--date", "2025-01-10"),
        cli("stock", "adjust", "WIRE", "--remove", "4", "--reason", "issue",
            "--date", "2025-01-11"),
        cli("stock", "receive", "WIRE", "10", "--cost", "3.20", "--date", "2025-01-12"),
        cli("stock", "adjust", "WIRE", "--remove", "6", "--reason", "issue",
            "--date", "2025-01-13"),
        cli("stock", "receive", "WIRE", "5", "--cost", "3.05", "--date", "2025-01-14"),
    ]  # fmt: skip
    assert all(r.exit_code == 0 for r in ok), [r.stderr for r in ok]


def test_the_textbook_moving_average(cli, initdb):
    textbook(cli)
    (row,) = as_json(cli, "report", "valuation")
    # 10 @ 2 = 20; issue 4 -> 6 @ 2 = 12; + 10 @ 3.20 = 32 -> 16 @ 44/16 = 2.75;
    # issue 6 -> 10 @ 2.75 = 27.5; + 5 @ 3.05 = 15.25 -> 15 @ 42.75/15 = 2.85.
    assert (row["qty"], row["average_cost"], row["value"]) == (
        15,
        Decimal("2.85"),
        Decimal("42.75"),
    )
    assert row["available"] == Decimal("42.75") and row["basis"] == "average"


def test_as_of_replays_the_ledger_up_to_that_day(cli, initdb):
    textbook(cli)
    (before,) = as_json(cli, "report", "valuation", "--as-of", "2025-01-11")
    assert (before["qty"], before["average_cost"], before["value"]) == (6, 2, 12)
    (second,) = as_json(cli, "report", "valuation", "--as-of", "2025-01-12")
    assert (second["qty"], second["average_cost"], second["value"]) == (16, Decimal("2.75"), 44)
    (third,) = as_json(cli, "report", "valuation", "--as-of", "2025-01-13")
    assert (third["qty"], third["value"]) == (10, Decimal("27.5"))
    assert as_json(cli, "report", "valuation", "--as-of", "2025-01-09") == []


def test_the_table_and_its_total(cli, initdb):
    textbook(cli)
    r = cli("report", "valuation")
    assert r.exit_code == 0, r.stderr
    assert "WIRE" in r.stdout and "2.85" in r.stdout and "42.75" in r.stdout
    assert "Total stock value: 42.75 (1 items)" in r.stderr


def test_refusals_change_nothing(cli, initdb):
    textbook(cli)
    assert "--as-of" in refused(cli, initdb, "report", "valuation", "--as-of", "yesterday")
    assert "unknown item 'NOPE'" in refused(cli, initdb, "report", "valuation", "--item", "NOPE")


SHOP = """
items:
  - {code: PART, name: Part, type: component, unit: pcs, make_or_buy: buy, cost: 9}
  - {code: DEV, name: Device, type: finished, unit: pcs, make_or_buy: make,
     release_criteria: [labeling]}
boms:
  - item: DEV
    lines:
      - {item: PART, qty: 2}
stock:
  - {item: PART, qty: 10, status: available, cost: 1, date: 2025-02-01}
  - {item: PART, qty: 4, status: blocked, cost: 1.5, date: 2025-02-02}
  - {item: PART, qty: 3, status: rework, date: 2025-02-03}
  - {item: PART, qty: 2, status: rejected, date: 2025-02-03}
  - {item: PART, qty: 1, status: pending_inspection, date: 2025-02-03}
"""


def test_value_by_status_sums_to_the_item_total(cli, initdb, tmp_path: Path):
    (tmp_path / "shop.yaml").write_text(SHOP, encoding="utf-8")
    assert cli("import", tmp_path / "shop.yaml").exit_code == 0
    # An order for 4 DEV needs 8 PART: consumed into WIP; 2 good + 1 scrapped DEV relieve
    # 8 x 3/4 = 6 PART, leaving 2 in WIP.
    for args in (
        ("order", "create", "DEV", "4", "--due", day(5)),
        ("order", "release", "1"),
        ("consume", "1"),
        ("order", "complete", "1", "--qty", "2", "--scrap", "1"),
    ):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
    rows = {r["item"]: r for r in as_json(cli, "report", "valuation")}
    part, dev = rows["PART"], rows["DEV"]
    # PART: 10 @ 1, then 4 @ 1.5: 16 / 14 = 1.142857142... kept as 1.142857; the
    # uncosted rework, rejected and inspection stock comes in at that average.
    # On hand 20 - 6 relieved = 14: available 2, WIP 2, blocked 4, rework 3, rejected 2,
    # pending inspection 1.
    avg = Decimal("1.142857")
    assert (part["qty"], part["average_cost"]) == (14, avg)
    assert part["value"] == Decimal("15.999998")  # 14 x 1.142857
    assert part["available"] == part["wip"] == part["rejected"] == Decimal("2.285714")
    assert part["blocked"] == Decimal("4.571428")
    assert part["rework"] == Decimal("3.428571")
    assert part["pending_inspection"] == avg
    assert part["awaiting_release"] == 0
    statuses = [part[s] for s in valuation.STATUS_COLUMNS]
    assert sum(statuses) == part["value"]
    # DEV: the 6 PART relieved, 6 x 1.142857 = 6.857142, over the 2 good units (the
    # scrapped one never enters stock): 3.428571 each, awaiting release.
    assert (dev["qty"], dev["average_cost"]) == (2, Decimal("3.428571"))
    assert dev["awaiting_release"] == dev["value"] == Decimal("6.857142")
    assert dev["basis"] == "average"
    # The replay's own count of what is on hand agrees with the balances, item by item
    # (so the next inflow weighs the right quantity).
    conn = dbmod.connect(initdb)
    try:
        state = valuation.replay(conn)
        ids = {it.code: it.id for it in items.all_items(conn)}
    finally:
        conn.close()
    assert {code: state.on_hand[ids[code]] for code in rows} == {
        code: int(row["qty"] * 1_000_000) for code, row in rows.items()
    }


def test_an_uncosted_item_is_valued_at_its_standard_then_zero(cli, initdb):
    for args in (
        ("item", "add", "STD", "--name", "S", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy", "--cost", "0.5"),
        ("item", "add", "FREE", "--name", "F", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy"),
        ("stock", "receive", "STD", "4"),
        ("stock", "receive", "FREE", "3"),
    ):  # fmt: skip
        assert cli(*args).exit_code == 0
    rows = {r["item"]: r for r in as_json(cli, "report", "valuation")}
    assert (rows["STD"]["value"], rows["STD"]["basis"]) == (2, "standard")  # 4 x 0.5
    assert (rows["FREE"]["value"], rows["FREE"]["basis"]) == (0, "none")


# -- property ---------------------------------------------------------------------------

CODES = ("A", "B")
operation = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from(["receive", "receive", "issue"]),
    st.integers(min_value=1, max_value=50),
    st.one_of(st.none(), st.integers(min_value=0, max_value=500)),  # cost in cents
)


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(operation, min_size=1, max_size=25))
def test_valuation_total_is_on_hand_times_average(ops) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "v.db")
        try:
            with dbmod.transaction(conn):
                for code in CODES:
                    items.add(
                        conn,
                        code,
                        {"name": code, "type": "component", "unit": "pcs", "make_or_buy": "buy"},
                    )
            # The model: on hand and average per item, the method written out plainly.
            on_hand = dict.fromkeys(CODES, Decimal(0))
            average: dict[str, Decimal | None] = dict.fromkeys(CODES)
            for code, kind, n, cents in ops:
                amount = Decimal(n)
                with dbmod.transaction(conn):
                    if kind == "issue":
                        if amount > on_hand[code]:
                            continue
                        stock.adjust(
                            conn, item=code, qty=amount, direction="remove", reason="x", user="t"
                        )
                        on_hand[code] -= amount
                        continue
                    cost = None if cents is None else Decimal(cents) / 100
                    stock.receive(conn, item=code, qty=amount, user="t", cost=cost)
                if cost is None:
                    cost = average[code] if average[code] is not None else Decimal(0)
                old = average[code] or Decimal(0)
                held = on_hand[code]
                average[code] = _round((held * old + amount * cost) / (held + amount))
                on_hand[code] += amount
            rows = {r["item"]: r for r in valuation.report(conn)}
            expected = Decimal(0)
            for code in CODES:
                if on_hand[code] == 0:
                    assert code not in rows
                    continue
                row = rows[code]
                assert row["qty"] == on_hand[code]
                assert row["average_cost"] == average[code]
                assert row["value"] == on_hand[code] * average[code]
                assert sum(row[s] for s in valuation.STATUS_COLUMNS) == row["value"]
                assert row["value"] >= 0
                expected += on_hand[code] * average[code]
            assert valuation.total(list(rows.values())) == expected >= 0
        finally:
            conn.close()


# -- made items ---------------------------------------------------------------------------


def stored_costs(path: Path) -> list[tuple[int, str, int, int | None]]:
    """(order, item, good micro-units, unit cost in millionths) of every completion."""
    conn = dbmod.connect(path)
    try:
        return [
            tuple(r)
            for r in conn.execute(
                "SELECT c.order_id, i.code, c.good, c.unit_cost FROM completion AS c "
                "JOIN item AS i ON i.id = c.item_id ORDER BY c.first_seq"
            )
        ]
    finally:
        conn.close()


def test_a_two_level_made_item_is_valued_at_its_stored_completion_costs(cli, initdb):
    valuation_story.build(cli)
    # CHIP: 10 @ 1.00 + 5 @ 1.30 = 16.5 -> 15 @ 1.1. SCREW: 100 @ 0.031.
    # Order 1 (3 good PCB, 1 scrapped) relieves 8 CHIP and 4 SCREW: 8.8 + 0.124 = 8.924
    # over 3 good units: 2.974666... -> 2.974667 (half-even to a millionth).
    # CHIP: 7 @ 1.1 = 7.7 + 4 @ 1.45 = 5.8 -> 13.5 / 11 = 1.2272727... -> 1.227273.
    # Order 2 relieves 8 CHIP and 4 SCREW: 9.818184 + 0.124 = 9.942184 / 3 = 3.3140613...
    # -> 3.314061. PCB: 3 @ 2.974667 = 8.924001 + 3 @ 3.314061 = 9.942183 -> 18.866184 / 6
    # = 3.144364.
    # Order 3 (2 HD) relieves 2 PCB and 4 SCREW: 6.288728 + 0.124 = 6.412728 / 2 = 3.206364.
    assert stored_costs(initdb) == [
        (1, "PCB", 3_000_000, 2_974_667),
        (2, "PCB", 3_000_000, 3_314_061),
        (3, "HD", 2_000_000, 3_206_364),
    ]
    rows = {r["item"]: r for r in as_json(cli, "report", "valuation")}
    assert {code: (r["qty"], r["average_cost"], r["value"]) for code, r in rows.items()} == {
        "CHIP": (3, Decimal("1.227273"), Decimal("3.681819")),
        "SCREW": (88, Decimal("0.031"), Decimal("2.728")),
        "PCB": (4, Decimal("3.144364"), Decimal("12.577456")),  # 6 made, 2 used in HD
        "HD": (2, Decimal("3.206364"), Decimal("6.412728")),
    }
    assert {r["basis"] for r in rows.values()} == {"average"}
    # One item alone replays only its own rows, and gives the same.
    (pcb,) = as_json(cli, "report", "valuation", "--item", "PCB")
    assert pcb == rows["PCB"]
    # As of a moment between orders 1 and 2 only completion 1 counts.
    conn = dbmod.connect(initdb)
    try:
        ((between,),) = conn.execute("SELECT effective_at FROM move WHERE seq = 12").fetchall()
        state = valuation.replay(conn, as_of=between)
        pcb_id = items.get(conn, "PCB").id
    finally:
        conn.close()
    assert (state.on_hand[pcb_id], state.average[pcb_id]) == (3_000_000, Decimal("2.974667"))
    # Order 3's actual cost reads the same averages: its 2 PCB at 3.144364 and 4 SCREW at
    # 0.031, what its HD came in at.
    cost = {r["part"]: r["actual"] for r in as_json(cli, "order", "show", "3")["cost"]}
    assert (cost["PCB"], cost["SCREW"], cost["total"]) == (
        Decimal("6.288728"),
        Decimal("0.124"),
        Decimal("6.412728"),
    )


def test_a_back_dated_receipt_does_not_change_a_posted_completion_cost(cli, initdb):
    valuation_story.build(cli)
    costs = stored_costs(initdb)
    before = {r["item"]: r for r in as_json(cli, "report", "valuation")}
    # 10 CHIP at 5.00, dated yesterday: before every completion.
    r = cli("stock", "receive", "CHIP", "10", "--cost", "5", "--date", day(-1))
    assert r.exit_code == 0, r.stderr
    # The costs were fixed when the completions were posted ...
    assert stored_costs(initdb) == costs
    after = {r["item"]: r for r in as_json(cli, "report", "valuation")}
    assert after["PCB"] == before["PCB"] and after["HD"] == before["HD"]
    # ... while CHIP's own average moves from that day on: 10 @ 5 = 50, + 10 @ 1 -> 20
    # @ 3, + 5 @ 1.3 -> 25 @ 66.5 / 25 = 2.66; 8 relieved -> 17 @ 2.66 = 45.22; + 4 @
    # 1.45 -> 21 @ 51.02 / 21 = 2.4295238... -> 2.429524; 8 relieved -> 13.
    assert (after["CHIP"]["qty"], after["CHIP"]["average_cost"]) == (13, Decimal("2.429524"))
    assert after["CHIP"]["value"] == 13 * Decimal("2.429524")


def test_the_database_refuses_to_change_a_completion(cli, initdb):
    valuation_story.build(cli)
    conn = dbmod.connect(initdb)
    try:
        for sql in ("UPDATE completion SET unit_cost = 0", "DELETE FROM completion"):
            with pytest.raises(sqlite3.IntegrityError, match="completions are immutable"):
                conn.execute(sql)
    finally:
        conn.close()
    assert len(stored_costs(initdb)) == 3
