"""The finite-capacity scheduler (domain/schedule.py): hand-checked cases and properties.

Minute 0 is Monday 2027-03-01 08:00, the start of the default shift (08:00, 8 hours,
Monday to Friday), so minute 480 is the end of Monday's shift and 1440 Tuesday 08:00.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from math import ceil

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mfgctl.domain.schedule import DAY, Centre, Job, Settings, Stage, schedule

START = Settings(datetime(2027, 3, 1, 8, 0))
MON, TUE, WED, THU, FRI = (date(2027, 3, d) for d in range(1, 6))
UNIT = 1_000_000


def job(id: int, due: date, *stages: Stage, qty: int = 1, **kw: object) -> Job:
    return Job(id, f"X{id}", qty * UNIT, due, stages, **kw)  # type: ignore[arg-type]


def segments(plan, id: int) -> list[list[tuple[int, int]]]:
    return [op.segments for op in next(r for r in plan.jobs if r.job.id == id).operations]


def result(plan, id: int):
    return next(r for r in plan.jobs if r.job.id == id)


def test_two_orders_compete_for_one_work_centre() -> None:
    # Both need 300 minutes of ASSY; order 2 is due first, so it goes first and
    # order 1 waits for it: 08:00-13:00 Monday, then 13:00-16:00 and Tuesday 08:00-10:00.
    asm = Stage("assembly", "ASSY", setup=0, run=30 * UNIT)
    plan = schedule([job(1, TUE, asm, qty=10), job(2, MON, asm, qty=10)], [Centre("ASSY")], START)
    assert segments(plan, 2) == [[(0, 300)]]
    assert segments(plan, 1) == [[(300, 480), (1440, 1560)]]
    assert [r.job.id for r in plan.jobs] == [2, 1]
    assert result(plan, 1).late_by == 0  # due Tuesday: ends Tuesday 10:00


def test_a_late_order_is_late_for_capacity() -> None:
    asm = Stage("assembly", "ASSY", run=60 * UNIT)
    plan = schedule([job(1, MON, asm, qty=6), job(2, MON, asm, qty=6)], [Centre("ASSY")], START)
    # Order 1 fills Monday 08:00-14:00; order 2 runs 14:00-16:00 and Tuesday 08:00-12:00.
    late = result(plan, 2)
    assert segments(plan, 2) == [[(360, 480), (1440, 1680)]]
    # Monday ends at midnight: minute 960 (08:00 + 16 h); order 2 ends Tuesday 12:00.
    assert (late.due_end, late.late_by, late.reason) == (960, 1680 - 960, "capacity")
    assert result(plan, 1).reason is None


def test_downtime_splits_a_stage_and_delays_the_next() -> None:
    # Maintenance Monday 10:00-12:00 (minutes 120-240) splits a 4-hour stage.
    down = Centre("ASSY", downtime=((120, 240),))
    plan = schedule([job(1, FRI, Stage("a", "ASSY", run=240 * UNIT))], [down], START)
    assert segments(plan, 1) == [[(0, 120), (240, 360)]]
    # A downtime covering the whole of Monday's shift moves it to Tuesday.
    closed = Centre("ASSY", downtime=((0, 480),))
    plan = schedule([job(1, FRI, Stage("a", "ASSY", run=240 * UNIT))], [closed], START)
    assert segments(plan, 1) == [[(DAY, DAY + 240)]]


def test_changeover_is_skipped_within_a_setup_family() -> None:
    red1 = Stage("paint", "PAINT", setup=45, run=10 * UNIT, family="red")
    blue = Stage("paint", "PAINT", setup=45, run=10 * UNIT, family="blue")
    plan = schedule(
        [job(1, MON, red1), job(2, TUE, red1), job(3, WED, blue)], [Centre("PAINT")], START
    )
    ops = {r.job.id: r.operations[0] for r in plan.jobs}
    assert (ops[1].setup, ops[2].setup, ops[3].setup) == (45, 0, 45)
    assert (ops[1].segments, ops[2].segments, ops[3].segments) == (
        [(0, 55)],
        [(55, 65)],
        [(65, 120)],
    )


def test_an_order_is_held_by_material_until_its_receipt() -> None:
    # The chips arrive Wednesday 08:00 (minute 2 * 1440): the order cannot start earlier
    # and, due Tuesday, it is late because of material alone.
    held = job(1, TUE, Stage("a", "ASSY", run=60 * UNIT), earliest=2 * DAY, held_by="PO-7 (CHIP)")
    plan = schedule([held], [Centre("ASSY")], START)
    r = result(plan, 1)
    assert segments(plan, 1) == [[(2 * DAY, 2 * DAY + 60)]]
    assert (r.reason, r.job.held_by) == ("material", "PO-7 (CHIP)")


def test_parallel_machines_take_orders_side_by_side() -> None:
    asm = Stage("assembly", "ASSY", run=60 * UNIT)
    two = Centre("ASSY", machines=2)
    plan = schedule([job(i, MON, asm, qty=4) for i in (1, 2, 3)], [two], START)
    placed = {r.job.id: (r.operations[0].machine, r.operations[0].segments) for r in plan.jobs}
    assert placed == {1: (1, [(0, 240)]), 2: (2, [(0, 240)]), 3: (1, [(240, 480)])}


def test_stages_follow_each_other_across_work_centres() -> None:
    plan = schedule(
        [
            job(
                1,
                FRI,
                Stage("a", "ASSY", run=100 * UNIT),
                Stage("t", "TEST", setup=20, run=10 * UNIT),
                qty=2,
            )
        ],
        [Centre("ASSY"), Centre("TEST")],
        START,
    )
    assert segments(plan, 1) == [[(0, 200)], [(200, 240)]]


# -- properties ---------------------------------------------------------------------------

CENTRES = ("A", "B", "C")


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Job], list[Centre]]:
    centres = []
    for code in CENTRES:
        minutes = tuple(draw(st.sampled_from([0, 240, 480, 600])) for _ in range(7))
        if not any(minutes):
            minutes = (480, *minutes[1:])
        downs = draw(st.lists(st.tuples(st.integers(0, 6 * DAY), st.integers(1, 600)), max_size=3))
        centres.append(
            Centre(
                code,
                minutes=minutes,
                machines=draw(st.integers(1, 3)),
                day_start=draw(st.sampled_from([0, 360, 480, 1200])),
                downtime=tuple((a, a + n) for a, n in downs),
            )
        )
    jobs = []
    for i in range(1, draw(st.integers(1, 8)) + 1):
        stages = tuple(
            Stage(
                f"s{k}",
                draw(st.sampled_from(CENTRES)),
                setup=draw(st.integers(0, 60)),
                run=draw(st.integers(0, 90 * UNIT)),
                family=draw(st.sampled_from([None, "f1", "f2"])),
            )
            for k in range(draw(st.integers(1, 4)))
        )
        jobs.append(
            Job(
                i,
                f"X{i}",
                draw(st.integers(1, 5 * UNIT)),
                date(2027, 3, draw(st.integers(1, 20))),
                stages,
                priority=draw(st.integers(0, 2)),
                earliest=draw(st.integers(0, 4 * DAY)),
            )
        )
    return jobs, centres


def _working(centre: Centre, minute: int) -> bool:
    """Is ``minute`` inside a shift of ``centre`` and outside its downtime?"""
    day = (minute + 480) // DAY  # minute 0 is Monday 08:00
    for d in (day, day - 1):
        offset = minute + 480 - d * DAY - centre.day_start
        if 0 <= offset < centre.minutes[d % 7]:
            return not any(a <= minute < b for a, b in centre.downtime)
    return False


# Found by hypothesis: two zero-length operations at one minute on one machine, one
# with a setup family and one without.
_ZERO_LENGTH_TIE = (
    [
        Job(1, "X1", 1, date(2027, 3, 1), (Stage("s0", "A", 0, 0, None),), 0, 0, None),
        Job(2, "X2", 1, date(2027, 3, 1), (Stage("s0", "A", 0, 0, "f1"),), 0, 0, None),
    ],
    [Centre("A", (480, 0, 0, 0, 0, 0, 0), 1, 0, ())],
)


@settings(max_examples=150, deadline=None)
@given(case=cases())
@example(case=_ZERO_LENGTH_TIE)
def test_schedule_properties(case: tuple[list[Job], list[Centre]]) -> None:
    jobs, centres = case
    plan = schedule(jobs, centres, START)
    by_code = {c.code: c for c in centres}
    # No two operations overlap on one machine.
    for code, ops in plan.by_centre.items():
        for m in range(1, by_code[code].machines + 1):
            segs = sorted(s for o in ops if o.machine == m for s in o.segments if s[0] < s[1])
            assert all(a[1] <= b[0] for a, b in pairwise(segs)), (code, m)
    for r in plan.jobs:
        t = r.job.earliest
        for stage, op in zip(r.job.stages, r.operations, strict=True):
            centre = by_code[stage.centre]
            # Each operation's length is its setup plus run time, rounded up once...
            assert sum(b - a for a, b in op.segments) == ceil(op.setup + op.run)
            assert op.run == Decimal(stage.run * r.job.qty_micro) / UNIT**2
            assert op.setup in (0, stage.setup)
            # ...in working time only (every segment's first and last minute)...
            for a, b in op.segments:
                if b > a:
                    assert _working(centre, a) and _working(centre, b - 1), (a, b)
            # ...after the previous stage and never before the material.
            assert op.start >= t
            t = op.end
        assert r.late_by == max(r.end - r.due_end, 0)
        assert (r.reason is None) == (r.late_by == 0)
    # Deterministic: the same input gives the same schedule, in any input order.
    again = schedule(list(reversed(jobs)), centres, START)
    assert [(r.job.id, [o.segments for o in r.operations]) for r in again.jobs] == [
        (r.job.id, [o.segments for o in r.operations]) for r in plan.jobs
    ]


def test_a_later_order_uses_the_time_a_held_order_leaves_free() -> None:
    # Order 1 (due first) waits for material until Wednesday; order 2 does not wait for
    # it: it takes Monday morning, in the gap before order 1.
    held = job(1, TUE, Stage("a", "ASSY", run=60 * UNIT), earliest=2 * DAY)
    free = job(2, WED, Stage("a", "ASSY", run=60 * UNIT), qty=2)
    plan = schedule([held, free], [Centre("ASSY")], START)
    assert segments(plan, 1) == [[(2 * DAY, 2 * DAY + 60)]]
    assert segments(plan, 2) == [[(0, 120)]]
    # A gap too short is skipped: 20 hours of work do not fit in the 16 hours of shifts
    # before Wednesday 08:00, so it goes after order 1.
    big = job(2, WED, Stage("a", "ASSY", run=60 * UNIT), qty=20)
    plan = schedule([held, big], [Centre("ASSY")], START)
    assert segments(plan, 2)[0][0] == (2 * DAY + 60, 2 * DAY + 480)


def test_an_operation_does_not_break_a_skipped_setup() -> None:
    # Order 1 (red) paints 08:00-08:55; order 2 (red too, material from 11:20) follows
    # it on the machine without a setup, leaving a gap. Order 3 (blue) would fit in the
    # gap, but in front of order 2 it would take away its skipped setup: it goes last.
    red = Stage("paint", "PAINT", setup=45, run=10 * UNIT, family="red")
    blue = Stage("paint", "PAINT", setup=45, run=10 * UNIT, family="blue")
    plan = schedule(
        [job(1, MON, red), job(2, TUE, red, earliest=200), job(3, WED, blue, earliest=55)],
        [Centre("PAINT")],
        START,
    )
    ops = {r.job.id: r.operations[0] for r in plan.jobs}
    assert [(ops[i].segments, ops[i].setup) for i in (1, 2, 3)] == [
        ([(0, 55)], 45),
        ([(200, 210)], 0),
        ([(210, 265)], 45),
    ]
    # Red order 4 may take the gap: the same family as the order after it.
    plan = schedule(
        [job(1, MON, red), job(2, TUE, red, earliest=200), job(4, WED, red, earliest=55)],
        [Centre("PAINT")],
        START,
    )
    assert next(r for r in plan.jobs if r.job.id == 4).operations[0].segments == [(55, 65)]
