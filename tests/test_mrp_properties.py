"""Property tests of the MRP engine (``mrp.plan``) on random in-memory snapshots: the
gross-to-net identities of every record, lot sizing, dates, pegging, shortages, a
brute-force multi-level explosion with phantoms, determinism; and, through the CLI,
that ``mfgctl mrp`` never writes to the database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from bom_builders import bom, item, line
from conftest import Cli, dump
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mfgctl import db as dbmod
from mfgctl.domain import mrp, mrp_data, mrp_report
from mfgctl.domain.mrp import (
    Component,
    DemandIn,
    OrderNeed,
    Part,
    Receipt,
    Settings,
    Snapshot,
)

UNIT = 1_000_000
START = date(2027, 3, 1)  # a Monday
CODES = [f"I{n}" for n in range(8)]
FAST = settings(max_examples=100, deadline=None)


@cache
def qty_micro() -> st.SearchStrategy[int]:
    """A quantity in micro-units: mostly whole or quarter units, now and then odd."""
    return st.one_of(
        st.integers(1, 20).map(lambda n: n * UNIT),
        st.integers(1, 80).map(lambda n: n * UNIT // 4),
        st.integers(1, 5 * UNIT),
    )


@cache
def day_near(horizon_max: int = 120) -> st.SearchStrategy[date]:
    """A date a little before the start up to past any horizon."""
    return st.integers(-10, horizon_max + 20).map(lambda n: START + timedelta(days=n))


@st.composite
def run_settings(draw: st.DrawFn) -> Settings:
    return Settings(
        start=START + timedelta(days=draw(st.integers(0, 6))),
        horizon_days=draw(st.integers(1, 120)),
        bucket=draw(st.sampled_from(mrp.BUCKETS)),
        include_inspection=draw(st.booleans()),
    )


@st.composite
def parts_for(
    draw: st.DrawFn,
    codes: list[str],
    boms: dict[str, tuple[Component, ...]],
    *,
    plain_lots: bool,
    safety: bool,
) -> dict[str, Part]:
    parts = {}
    # Lot rules in whole or half units, so a lot count stays small.
    lot_qty = st.integers(2, 40).map(lambda n: n * UNIT // 2)
    for code in codes:
        make = code in boms or draw(st.integers(0, 9)) == 0
        fields: dict = {}
        if not plain_lots:
            sizing = draw(st.sampled_from(["lot_for_lot", "fixed", "period"]))
            fields = {
                "lot_sizing": sizing,
                "fixed_order_qty": draw(st.none() | lot_qty),
                "period_days": draw(st.none() | st.integers(1, 30)),
                "moq": draw(st.none() | lot_qty),
                "order_multiple": draw(st.none() | lot_qty),
                "max_order_qty": draw(st.none() | lot_qty.map(lambda n: n * 4)),
            }
        parts[code] = Part(
            code=code,
            make_or_buy="make" if make else "buy",
            method=draw(st.sampled_from(mrp.METHODS)),
            lead_time_days=draw(st.integers(0, 10)),
            safety_stock=draw(st.just(0) | qty_micro()) if safety else 0,
            **fields,
        )
    return parts


@st.composite
def dag_boms(
    draw: st.DrawFn, codes: list[str], *, substitutes: bool = True
) -> dict[str, tuple[Component, ...]]:
    """Random BOMs: a line always points to a later code, so there is no cycle."""
    boms = {}
    for i, parent in enumerate(codes[:-1]):
        later = codes[i + 1 :]
        children = draw(st.lists(st.sampled_from(later), max_size=3, unique=True))
        lines = []
        for child in children:
            others = [c for c in later if c != child]
            subs: tuple[str, ...] = ()
            if substitutes and others:
                subs = tuple(draw(st.lists(st.sampled_from(others), max_size=2, unique=True)))
            lines.append(
                Component(
                    child,
                    num=draw(st.integers(1, 4)),
                    den=draw(st.integers(1, 3)),
                    fixed=draw(st.just(0) | st.integers(1, 3).map(lambda n: n * UNIT)),
                    phantom=draw(st.integers(0, 3)) == 0,
                    substitutes=subs,
                )
            )
        if lines:
            boms[parent] = tuple(lines)
    return boms


@st.composite
def snapshots(draw: st.DrawFn, *, plain_lots: bool = False, safety: bool = True) -> Snapshot:
    """A small plant: items, a BOM DAG (phantoms, substitutes, scrap as rates, fixed
    quantities), free and inspection stock, sales and forecast, purchase and production
    receipts and open production orders' needs, dates around and past the horizon."""
    codes = CODES[: draw(st.integers(2, 6))]
    boms = draw(dag_boms(codes))
    parts = draw(parts_for(codes, boms, plain_lots=plain_lots, safety=safety))
    some_code = st.sampled_from(codes)
    stock = st.dictionaries(some_code, st.integers(0, 30).map(lambda n: n * UNIT // 2))
    demands = [
        DemandIn(n + 1, code, qty, due, kind, f"SO-{n + 1}")
        for n, (code, qty, due, kind) in enumerate(
            draw(
                st.lists(
                    st.tuples(some_code, qty_micro(), day_near(),
                              st.sampled_from(["sales", "forecast"])),
                    max_size=8,
                )
            )
        )
    ]  # fmt: skip
    receipts = [
        Receipt(source, n + 1, code, qty, due)
        for n, (source, code, qty, due) in enumerate(
            draw(
                st.lists(
                    st.tuples(st.sampled_from(["purchase", "production"]), some_code,
                              qty_micro(), day_near()),
                    max_size=4,
                )
            )
        )
    ]  # fmt: skip
    needs = [
        OrderNeed(n + 1, parent, code, qty, due, subs)
        for n, (parent, code, qty, due, subs) in enumerate(
            draw(
                st.lists(
                    st.tuples(some_code, some_code, qty_micro(), day_near(),
                              st.lists(some_code, max_size=1, unique=True).map(tuple)),
                    max_size=3,
                )
            )
        )
    ]  # fmt: skip
    return Snapshot(
        parts=parts,
        boms=boms,
        free=draw(stock),
        inspection=draw(stock),
        demands=demands,
        receipts=receipts,
        order_needs=needs,
    )


def doc(plan: mrp.Plan) -> dict:
    return mrp_report.document(plan, fingerprint="-")


# -- 1. lot-for-lot without safety stock: planned receipts are the net requirements ------


@FAST
@given(snap=snapshots(plain_lots=True, safety=False), s=run_settings())
def test_lot_for_lot_plans_exactly_the_net_requirements(snap: Snapshot, s: Settings) -> None:
    plan = mrp.plan(snap, s)
    for code, record in plan.records.items():
        for index, b in record.buckets.items():
            assert b.planned_receipts == b.net, (code, index, b)


# -- 2. projected on hand: the record identity and the safety-stock floor ---------------


def _identity(start: int, buckets: list[tuple[int, mrp.Bucket]]) -> None:
    on_hand = start
    for index, b in buckets:
        expected = on_hand + b.scheduled + b.planned_receipts - b.gross
        assert b.on_hand == expected, (index, b, on_hand)
        on_hand = b.on_hand


def _dense(plan: mrp.Plan, record: mrp.Record) -> list[tuple[int, mrp.Bucket]]:
    """The grid (``mrp grid -f json``) back in micro-units."""
    out = []
    for index, d in enumerate(mrp_report.dense_buckets(plan, record)):
        micro = {k: int(d[k] * UNIT) for k in d if k != "start"}
        out.append(
            (
                index,
                mrp.Bucket(
                    gross=micro["gross"],
                    scheduled=micro["scheduled_receipts"],
                    on_hand=micro["projected_on_hand"],
                    net=micro["net"],
                    planned_receipts=micro["planned_receipts"],
                    planned_releases=micro["planned_releases"],
                ),
            )
        )
    return out


@FAST
@given(snap=snapshots(), s=run_settings())
def test_projected_on_hand_never_below_safety_stock(snap: Snapshot, s: Settings) -> None:
    plan = mrp.plan(snap, s)
    for code, record in plan.records.items():
        if snap.parts[code].method != "make_to_stock":
            continue
        assert record.safety_stock == snap.parts[code].safety_stock
        for index, b in _dense(plan, record):
            assert b.on_hand >= record.safety_stock, (code, index, b)


@FAST
@given(snap=snapshots(), s=run_settings())
def test_grid_identity_in_every_bucket(snap: Snapshot, s: Settings) -> None:
    """The dense grid: on hand = previous + scheduled + planned receipts - gross."""
    plan = mrp.plan(snap, s)
    for record in plan.records.values():
        _identity(record.on_hand, _dense(plan, record))


@FAST
@given(snap=snapshots(), s=run_settings())
@example(
    # 5 in stock, 10 due on day 2, lead time 1: the release bucket (day 1) shows 0 on
    # hand, and so does ``mrp -f json`` (records), where 5 carry over.
    snap=Snapshot(
        parts={"X": Part("X", lead_time_days=1)},
        free={"X": 5 * UNIT},
        demands=[DemandIn(1, "X", 10 * UNIT, START + timedelta(days=1))],
    ),
    s=Settings(START, 2, "day"),
)
def test_record_identity_in_every_bucket_present(snap: Snapshot, s: Settings) -> None:
    """The sparse record (``mrp -f json`` records): buckets left out carry on hand over."""
    plan = mrp.plan(snap, s)
    for record in plan.records.values():
        _identity(record.on_hand, sorted(record.buckets.items()))


# -- 3. dates ----------------------------------------------------------------------------


@FAST
@given(snap=snapshots(), s=run_settings())
def test_release_is_due_less_lead_time(snap: Snapshot, s: Settings) -> None:
    plan = mrp.plan(snap, s)
    for o in plan.planned:
        part = snap.parts[o.item.upper()]
        assert o.release == o.due - timedelta(days=part.lead_time_days)
        assert o.kind == part.make_or_buy
        assert o.qty > 0


# -- 4. determinism ---------------------------------------------------------------------


@FAST
@given(snap=snapshots(), s=run_settings())
def test_same_snapshot_same_plan(snap: Snapshot, s: Settings) -> None:
    assert doc(mrp.plan(snap, s)) == doc(mrp.plan(snap, s))


# -- 5. multi-level explosion against a brute force ------------------------------------


@st.composite
def explosion_case(draw: st.DrawFn) -> tuple[Snapshot, Settings]:
    """Integer quantities per, no scrap, no stock, no receipts, lead times 0."""
    codes = CODES[: draw(st.integers(2, 8))]
    boms: dict[str, tuple[Component, ...]] = {}
    for i, parent in enumerate(codes[:-1]):
        children = draw(st.lists(st.sampled_from(codes[i + 1 :]), max_size=3, unique=True))
        if children:
            boms[parent] = tuple(
                Component(c, num=draw(st.integers(1, 3)), den=1, phantom=draw(st.booleans()))
                for c in children
            )
    parts = {
        c: Part(c, make_or_buy="make" if c in boms else "buy", method="make_to_stock")
        for c in codes
    }
    s = Settings(
        start=START,
        horizon_days=draw(st.integers(1, 60)),
        bucket=draw(st.sampled_from(mrp.BUCKETS)),
    )
    used = {c.item for lines in boms.values() for c in lines}
    top = [c for c in codes if c not in used]
    demands = [
        DemandIn(n + 1, code, qty * UNIT, START + timedelta(days=offset))
        for n, (code, qty, offset) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(top),
                        st.integers(1, 5),
                        st.integers(0, s.horizon_days - 1),
                    ),
                    min_size=1,
                    max_size=4,
                )
            )
        )
    ]
    return Snapshot(parts=parts, boms=boms, demands=demands), s


def brute_force(snap: Snapshot) -> dict[str, int]:
    """Every path from every demand: the product of the quantities per along it; an item
    reached through a phantom line that has a BOM is passed through, not counted."""
    total: dict[str, int] = defaultdict(int)

    def require(code: str, qty: int) -> None:
        total[code] += qty
        components(code, qty)

    def components(code: str, qty: int) -> None:
        for c in snap.boms.get(code, ()):
            need = qty * c.num // c.den
            if c.phantom and c.item in snap.boms:
                components(c.item, need)
            else:
                require(c.item, need)

    for d in snap.demands:
        require(d.item, d.qty)
    return {k: v for k, v in total.items() if v}


@settings(max_examples=200, deadline=None)
@given(case=explosion_case())
def test_planned_totals_match_a_brute_force_explosion(case: tuple[Snapshot, Settings]) -> None:
    snap, s = case
    plan = mrp.plan(snap, s)
    planned: dict[str, int] = defaultdict(int)
    for o in plan.planned:
        planned[o.item] += o.qty
    assert dict(planned) == brute_force(snap)
    assert plan.shortages == []


def test_brute_force_with_a_phantom_by_hand() -> None:
    """A <- 2 P (phantom, P <- 3 C) + 1 C; 5 A: C = 5*2*3 + 5 = 35, P never planned."""
    snap = Snapshot(
        parts={c: Part(c, make_or_buy="make" if c in "AP" else "buy") for c in "APC"},
        boms={
            "A": (Component("P", 2, 1, phantom=True), Component("C", 1, 1)),
            "P": (Component("C", 3, 1),),
        },
        demands=[DemandIn(1, "A", 5 * UNIT, START + timedelta(days=3))],
    )
    expected = {"A": 5 * UNIT, "C": 35 * UNIT}
    assert brute_force(snap) == expected
    plan = mrp.plan(snap, Settings(START, 30, "week"))
    assert {o.item: o.qty for o in plan.planned} == expected


# -- 6. lot sizing ----------------------------------------------------------------------


@st.composite
def lot_parts(draw: st.DrawFn) -> Part:
    small = st.none() | st.integers(1, 50)
    return Part(
        "X",
        lot_sizing=draw(st.sampled_from(["lot_for_lot", "fixed", "period"])),
        fixed_order_qty=draw(small),
        period_days=draw(st.none() | st.integers(1, 30)),
        moq=draw(small),
        order_multiple=draw(small),
        max_order_qty=draw(st.none() | st.integers(1, 200)),
    )


def consistent(part: Part) -> bool:
    """A maximum no lower than one multiple, and the minimum reachable below it."""
    cap, m = part.max_order_qty, part.order_multiple
    if not cap:
        return True
    if m:
        if cap < m:
            return False
        cap = cap // m * m
    return not part.moq or part.moq <= cap


@settings(max_examples=1000, deadline=None)
@given(part=lot_parts(), need=st.integers(-5, 500), period=st.none() | st.integers(-5, 600))
def test_lots_cover_the_need_within_the_rules(part: Part, need: int, period: int | None) -> None:
    lots = mrp.lot_sizes(part, need, period)
    if need <= 0:
        assert lots == []
        return
    assert sum(lots) >= need
    assert all(lot > 0 for lot in lots)
    if part.order_multiple:
        assert all(lot % part.order_multiple == 0 for lot in lots), lots
    if consistent(part):
        if part.moq:
            assert all(lot >= part.moq for lot in lots), lots
        if part.max_order_qty:
            assert all(lot <= part.max_order_qty for lot in lots), lots


@settings(max_examples=300, deadline=None)
@given(need=st.integers(1, 10**12), period=st.none() | st.integers(-5, 10**12))
def test_plain_lot_for_lot_is_the_need(need: int, period: int | None) -> None:
    assert mrp.lot_sizes(Part("X"), need, period) == [need]


def test_lot_sizing_examples_from_the_readme() -> None:
    assert mrp.lot_sizes(Part("X", lot_sizing="fixed", fixed_order_qty=100), 250) == [100] * 3
    split = Part("X", moq=30, order_multiple=25, max_order_qty=110)
    # 240 -> lots of 100 (110 rounded down to the multiple) and 40, raised to 50.
    assert mrp.lot_sizes(split, 240) == [100, 100, 50]


# -- 7. pegging -------------------------------------------------------------------------


@FAST
@given(snap=snapshots(), s=run_settings())
def test_pegging_allocates_supply_to_requirements(snap: Snapshot, s: Settings) -> None:
    plan = mrp.plan(snap, s)
    for o in plan.planned:
        assert all(qty > 0 for qty, _e in o.pegging)
        assert sum(qty for qty, _e in o.pegging) <= o.qty, o
        # Both sides of the allocation agree.
        for qty, e in o.pegging:
            assert (o.label, qty, o) in e.supplied
    for code, record in plan.records.items():
        if snap.parts[code].method != "make_to_stock":
            continue
        for e in record.elements:
            assert sum(qty for _label, qty, _o in e.supplied) == e.qty, (code, e.source)


# -- 8. shortages -----------------------------------------------------------------------


@FAST
@given(snap=snapshots(), s=run_settings())
def test_enough_free_stock_is_never_short(snap: Snapshot, s: Settings) -> None:
    plan = mrp.plan(snap, s)
    short = {sh.item for sh in plan.shortages}
    for record in plan.records.values():
        if record.on_hand >= sum(e.qty for e in record.elements):
            assert record.item not in short, record.item
    for sh in plan.shortages:
        record = plan.records[sh.item.upper()]
        assert 0 < sh.qty <= sum(e.qty for e in record.elements)


# -- demand outside the horizon ---------------------------------------------------------


@FAST
@given(snap=snapshots(), s=run_settings(), data=st.data())
def test_sales_and_forecast_after_the_horizon_are_left_out(
    snap: Snapshot, s: Settings, data: st.DataObject
) -> None:
    end = s.start + timedelta(days=s.horizon_days)
    late = DemandIn(
        999,
        data.draw(st.sampled_from(sorted(snap.parts))),
        data.draw(qty_micro()),
        end + timedelta(days=data.draw(st.integers(0, 30))),
        data.draw(st.sampled_from(["sales", "forecast"])),
    )
    more = Snapshot(
        snap.parts,
        snap.boms,
        snap.free,
        snap.inspection,
        [*snap.demands, late],
        snap.receipts,
        snap.order_needs,
    )
    assert doc(mrp.plan(more, s)) == doc(mrp.plan(snap, s))


@FAST
@given(
    snap=snapshots(),
    s=run_settings(),
    late=st.tuples(st.sampled_from(CODES[:2]), qty_micro(), st.integers(0, 30)),
)
@example(
    # ORDER-1 needs 10 X 10 days after a 30-day horizon: a planned order of 10 X, due
    # after the horizon, in the last bucket.
    snap=Snapshot(parts={"I0": Part("I0"), "I1": Part("I1")}),
    s=Settings(START, 30, "week"),
    late=("I0", 10 * UNIT, 10),
)
def test_order_needs_after_the_horizon_are_left_out(
    snap: Snapshot, s: Settings, late: tuple[str, int, int]
) -> None:
    code, qty, days = late
    end = s.start + timedelta(days=s.horizon_days)
    need = OrderNeed(999, code, code, qty, end + timedelta(days=days))
    more = Snapshot(
        snap.parts,
        snap.boms,
        snap.free,
        snap.inspection,
        snap.demands,
        snap.receipts,
        [*snap.order_needs, need],
    )
    assert doc(mrp.plan(more, s)) == doc(mrp.plan(snap, s))


# -- the order of the inputs ------------------------------------------------------------


def _reordered(snap: Snapshot) -> Snapshot:
    """The same inputs (the same ``mrp_data.fingerprint``), listed the other way round."""
    return Snapshot(
        dict(reversed(snap.parts.items())),
        dict(reversed(snap.boms.items())),
        dict(reversed(snap.free.items())),
        dict(reversed(snap.inspection.items())),
        snap.demands[::-1],
        snap.receipts[::-1],
        snap.order_needs[::-1],
    )


@FAST
@given(snap=snapshots(), s=run_settings())
@example(
    # 5 X free, ORDER-1 and ORDER-2 both need 5 on day 3: which one is short (and how
    # the planned order is pegged) follows the order of the snapshot's list.
    snap=Snapshot(
        parts={"X": Part("X", lead_time_days=10)},
        free={"X": 5 * UNIT},
        order_needs=[
            OrderNeed(1, "P", "X", 5 * UNIT, START + timedelta(days=2)),
            OrderNeed(2, "Q", "X", 5 * UNIT, START + timedelta(days=2)),
        ],
    ),
    s=Settings(START, 30, "week"),
)
def test_plan_does_not_depend_on_the_order_of_the_inputs(snap: Snapshot, s: Settings) -> None:
    assert mrp_data.fingerprint(_reordered(snap)) == mrp_data.fingerprint(snap)
    assert doc(mrp.plan(_reordered(snap), s)) == doc(mrp.plan(snap, s))


# -- the CLI writes nothing -------------------------------------------------------------

CLI_START = "2027-03-01"


@pytest.fixture
def shop(initdb: Path, cli: Cli) -> Path:
    """HD (make, 5 days) <- 1 PCB (make, 3 days, phantom KIT) <- 2 CHIP (buy, 20 days),
    1 CASE (buy), with stock, inspection, sales, forecast, a purchase and an order."""
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            item(conn, "HD", make=True, type="finished", mfg_lead_time_days=5)
            item(conn, "PCB", make=True, mfg_lead_time_days=3, safety_stock="2")
            item(conn, "KIT", make=True)
            item(conn, "CHIP", purchase_lead_time_days=20, moq="50", order_multiple="25")
            item(conn, "CASE", purchase_lead_time_days=2, inspect_on_receipt=True)
            item(conn, "SCREW", purchase_lead_time_days=1)
            bom(conn, "HD", [line("PCB", 1), line("CASE", 1), line("KIT", 1, phantom=True)])
            bom(conn, "PCB", [line("CHIP", 2)])
            bom(conn, "KIT", [line("SCREW", 4)])
    finally:
        conn.close()
    for args in (
        ("stock", "receive", "CHIP", "6"),
        ("stock", "receive", "CASE", "100"),
        ("stock", "receive", "SCREW", "30"),
        ("demand", "add", "HD", "10", "--due", "2027-03-12", "--kind", "sales", "--ref", "SO-1"),
        ("demand", "add", "HD", "25", "--due", "2027-04-20", "--kind", "forecast"),
        ("purchase", "add", "CHIP", "40", "--due", "2027-03-20"),
        ("order", "create", "PCB", "5", "--due", "2027-03-15"),
    ):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
    return initdb


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st.lists(
        st.tuples(
            st.sampled_from(["run", "grid"]),
            st.sampled_from(mrp.BUCKETS),
            st.integers(1, 200),
            st.booleans(),
            st.lists(st.sampled_from(["HD", "PCB", "KIT", "CHIP", "CASE", "SCREW"]), max_size=2),
            st.sampled_from(["json", "table", "plain", "csv"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mrp_never_writes_to_the_database(cli: Cli, shop: Path, runs: list) -> None:
    before = dump(shop)
    for command, bucket, horizon, inspection, only, fmt in runs:
        args: list[object] = ["mrp", command]
        if command == "grid":
            args.append(only[0] if only else "CHIP")
        else:
            args += [a for code in only for a in ("--item", code)]
        args += ["--start", CLI_START, "--bucket", bucket, "--horizon", horizon, "-f", fmt]
        if inspection:
            args.append("--include-inspection")
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
    assert dump(shop) == before
