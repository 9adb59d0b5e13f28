"""Stock in a lot is usable through its expiry date only, so MRP and ATP count it for
requirements due by then (first expired, first used, as release, backflush and ship
pick) and plan the rest: what a lot still holds the day after its expiry date is a
requirement of that day (``lot L (expires D)``), with an ``expires_unused`` exception.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from conftest import Cli, day, import_yaml, ok
from hypothesis import given
from hypothesis import strategies as st

from mfgctl.domain.mrp import expiries

SHOP = """
items:
  - {code: GLUE, name: Glue, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     lead_time_days: 7}
"""


def plan(cli: Cli, *args: object) -> dict:
    return json.loads(ok(cli, "mrp", "--horizon", "120", *args, "-f", "json").stdout)


def buys(doc: dict) -> list[tuple[str, int, str]]:
    return [(o["item"], o["qty"], o["due_date"]) for o in doc["planned_orders"]]


def unused(doc: dict) -> list[tuple[str, str, str]]:
    return [(e["item"], e["date"], e["ref"]) for e in doc["exceptions"]
            if e["code"] == "expires_unused"]  # fmt: skip


def test_a_lot_expiring_before_the_demand_does_not_cover_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "GLUE", "10", "--lot", "G1", "--expires", day(5))
    ok(cli, "demand", "add", "GLUE", "8", "--due", day(55), "--kind", "sales", "--ref", "SO-9")
    doc = plan(cli)
    # Before: "No shortages", nothing bought: the 10 kg were counted on day 55.
    assert buys(doc) == [("GLUE", 8, day(55))]
    assert unused(doc) == [("GLUE", day(6), "lot G1")]  # dated the day the stock is gone
    [message] = [e["message"] for e in doc["exceptions"] if e["code"] == "expires_unused"]
    assert message == (
        f"10 GLUE in lot G1 expire on {day(5)} before any requirement uses them: from "
        f"{day(6)} they are not counted (use them sooner, or extend the date after a re-test: "
        "mfgctl stock expiry GLUE G1 --expires DATE --reason ...)"
    )
    # The grid shows the loss as a requirement in the bucket of the day after.
    [record] = [r for r in doc["records"] if r["item"] == "GLUE"]
    lost = [b for b in record["buckets"] if b["gross"] == 10]
    assert len(lost) == 1 and lost[0]["projected_on_hand"] == 0
    # A run starting after the expiry date does not count it either.
    assert buys(plan(cli, "--start", day(20))) == [("GLUE", 8, day(55))]
    # explain says where the stock went.
    text = ok(cli, "mrp", "explain", "GLUE", "--horizon", "120").stdout
    assert f"10 kg of lot G1 (expires {day(5)}), unused: gone on {day(6)}" in text
    # ATP: the stock is gone the day after the expiry date; the order is over-committed.
    atp = json.loads(ok(cli, "atp", "GLUE", "--horizon", "120", "-f", "json").stdout)
    rows = {r["date"]: (r["expiring"], r["cumulative"], r["atp"]) for r in atp["rows"]}
    assert rows[day(6)] == (10, 0, 0)
    assert rows[day(55)] == (0, -8, 0)
    assert atp["over_committed"] == [day(55)]


def test_requirements_use_the_first_expiring_lot_first(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "GLUE", "6", "--lot", "A", "--expires", day(10))
    ok(cli, "stock", "receive", "GLUE", "10", "--lot", "B", "--expires", day(60))
    for qty, due in (("4", day(3)), ("8", day(30)), ("5", day(70))):
        ok(cli, "demand", "add", "GLUE", qty, "--due", due, "--kind", "sales")
    doc = plan(cli)
    # 16 kg against 17: without expiry 1 would be bought. A gives 4 by day 3 and loses
    # 2; B gives 8 on day 30 and loses 2 after day 60: day 70's 5 are all bought.
    assert buys(doc) == [("GLUE", 5, day(70))]
    assert unused(doc) == [("GLUE", day(11), "lot A"), ("GLUE", day(61), "lot B")]
    assert doc["shortages"] == []


def test_stock_reserved_from_the_lot_is_not_lost_to_the_plan(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "GLUE", "10", "--lot", "G1", "--expires", day(5))
    ok(cli, "reserve", "GLUE", "4", "--for", "SO-1")
    doc = plan(cli)
    [record] = [r for r in doc["records"] if r["item"] == "GLUE"]
    # Free stock 6 (4 reserved for SO-1): only the free 6 expire in the plan's eyes.
    assert [b["gross"] for b in record["buckets"] if b["gross"]] == [6]
    assert buys(doc) == []


def test_a_lot_good_past_the_horizon_or_without_a_date_changes_nothing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "LONG", "--expires", day(400))
    ok(cli, "stock", "receive", "GLUE", "5", "--lot", "NONE")
    ok(cli, "demand", "add", "GLUE", "8", "--due", day(55), "--kind", "sales")
    doc = plan(cli)
    assert buys(doc) == [] and unused(doc) == []


# -- the rule, without a database ------------------------------------------------------------

START = date(2027, 1, 1)
LOTS = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 20)), max_size=5).map(
    lambda lots: sorted((START + timedelta(d), f"L{n}", q) for n, (d, q) in enumerate(lots))
)
NEEDS = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 15)), max_size=8).map(
    lambda needs: sorted((START + timedelta(d), q) for d, q in needs)
)


def fefo_by_day(lots: list, needs: list) -> int:
    """An independent count of what the needs use of the lots: day by day, each day's
    needs take from the lots still good that day, earliest expiry first."""
    left = {lot: q for _d, lot, q in lots}
    used = 0
    for due, need in needs:
        for d, lot, _q in lots:
            if d >= due and need > 0:
                take = min(need, left[lot])
                left[lot] -= take
                need -= take
                used += take
    return used


@given(LOTS, NEEDS)
def test_what_is_lost_is_what_the_needs_could_not_use(lots: list, needs: list) -> None:
    lost = expiries(lots, needs)
    assert sum(q for _d, _l, q in lost) + fefo_by_day(lots, needs) == sum(q for *_x, q in lots)
    expiry = {lot: d for d, lot, _q in lots}
    held = {lot: q for _d, lot, q in lots}
    for day_lost, lot, qty in lost:
        assert day_lost == expiry[lot] + timedelta(days=1)
        assert 0 < qty <= held[lot]
    assert [d for d, _l, _q in lost] == sorted(d for d, _l, _q in lost)


@given(LOTS, NEEDS, st.tuples(st.integers(0, 50), st.integers(1, 15)))
def test_one_more_need_never_loses_more(lots: list, needs: list, extra: tuple) -> None:
    more = sorted([*needs, (START + timedelta(extra[0]), extra[1])])
    assert sum(q for *_x, q in expiries(lots, more)) <= sum(q for *_x, q in expiries(lots, needs))
