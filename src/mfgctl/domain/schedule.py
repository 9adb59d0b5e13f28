"""Finite-capacity production scheduling: a pure, deterministic forward scheduler.

``schedule(orders, centres, settings)`` reads nothing and writes nothing. Time is whole
minutes from the run's start (``Settings.start``, a naive local date-time); the CLI
turns them back into date-times.

The rules:

* **Work centres** work in one shift a day: from ``day_start`` (minutes after
  midnight) for that weekday's minutes (``minutes[0]`` Monday ... ``minutes[6]``
  Sunday), on each of their ``machines`` identical machines (or people), never inside
  a downtime window. An operation that does not fit in what is left of a shift
  pauses and goes on in the next working minutes: a shift's end or a downtime window
  splits it (its ``segments``), it never runs outside working time.
* **Orders** are taken in priority order: earliest due date first, then the higher
  ``priority``, then the lower id. Each order's stages run in routing order, each
  after the previous one of the same order has ended, and the first not before the
  order's ``earliest`` minute (when its material is available, from MRP data) nor the
  run's start.
* **An operation** takes ``setup + run_per_unit x qty`` working minutes (``qty``: the
  stage's own, else the job's), the sum rounded up to a whole minute once, on one
  machine of its work centre: the machine that finishes it first (the lowest-numbered on a
  tie). A machine runs one operation at a time
  (an operation goes into the first gap between a machine's booked operations that it
  fits in whole, from its earliest start, else after the last: a later order may use
  time an earlier one left free, say while it waits for material). The setup is skipped
  when the machine's previous operation belongs to the same setup ``family``; an
  operation is not put in front of one that skipped its setup unless it has the same
  family.
* **Late** orders end after the end of their due date. Why: ``material`` when the
  order would be late even with every machine to itself (its material comes too
  late), ``capacity`` when it is late only because other orders use the machines,
  ``both`` when material makes it late and waiting for machines makes it later still.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

DAY = 1440
PICO = 1_000_000_000_000  # micro-minutes per unit x micro-units: millionths squared
MAX_DAYS = 3660  # an operation that finds no working minute within this is refused


class NoCapacity(ValueError):
    """A work centre without working time (no hours, or down) for MAX_DAYS."""


@dataclass(frozen=True, slots=True)
class Centre:
    code: str
    minutes: tuple[int, ...] = (480, 480, 480, 480, 480, 0, 0)  # Monday .. Sunday
    machines: int = 1
    day_start: int = 480  # 08:00
    downtime: tuple[tuple[int, int], ...] = ()  # [from, to) in run minutes

    def __post_init__(self) -> None:
        if len(self.minutes) != 7 or any(not 0 <= m <= DAY for m in self.minutes):
            raise ValueError("minutes: 7 values from 0 to 1440, Monday first")
        if self.machines < 1 or not 0 <= self.day_start < DAY:
            raise ValueError("machines >= 1 and 0 <= day_start < 1440")


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    centre: str
    setup: int | Decimal = 0  # minutes (exact, may be a fraction), once per operation
    run: int = 0  # millionths of a minute per unit (2.5 min/unit = 2_500_000)
    family: str | None = None
    # The micro-units this stage still has to make, when not the job's ``qty_micro``
    # (a partly progressed order: the units that have not yet passed or failed it).
    qty: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A production order to schedule: ``qty_micro`` units (the most any stage has
    left), ``stages`` in routing order, each for its own ``Stage.qty`` when it has one."""

    id: int
    item: str
    qty_micro: int  # micro-units (the ledger's millionths)
    due: date
    stages: tuple[Stage, ...]
    priority: int = 0
    earliest: int = 0  # run minute its material is available
    held_by: str | None = None  # what material holds it, when earliest > 0

    def qty_of(self, stage: Stage) -> int:
        """The micro-units ``stage`` runs for this job."""
        return self.qty_micro if stage.qty is None else stage.qty

    def run_exact(self, stage: Stage) -> Decimal:
        """Run time of the stage's quantity in minutes, exact."""
        return Decimal(stage.run * self.qty_of(stage)) / PICO

    def minutes(self, stage: Stage, setup: int | Decimal) -> int:
        """Working minutes of the operation: ``setup`` plus the run, rounded up once."""
        setup_pico = int(Decimal(setup) * PICO)  # exact: a setup has at most 6 decimals
        return -(-(setup_pico + stage.run * self.qty_of(stage)) // PICO)


@dataclass(frozen=True, slots=True)
class Settings:
    start: datetime  # naive local time; minute 0

    def minute(self, when: datetime) -> int:
        return int((when - self.start).total_seconds() // 60)

    def at(self, minute: int) -> datetime:
        return self.start + timedelta(minutes=minute)

    def end_of(self, day: date) -> int:
        """The first minute after ``day`` (a due date ends at midnight)."""
        return self.minute(datetime.combine(day + timedelta(days=1), datetime.min.time()))


@dataclass(slots=True)
class Operation:
    job: int
    stage: str
    position: int
    centre: str
    machine: int
    setup: int | Decimal  # exact minutes, 0 when skipped (same family)
    run: Decimal  # exact minutes; the segments last setup + run rounded up to a minute
    segments: list[tuple[int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.segments[0][0] if self.segments else 0

    @property
    def end(self) -> int:
        return self.segments[-1][1] if self.segments else 0


@dataclass(slots=True)
class JobResult:
    job: Job
    operations: list[Operation]
    start: int
    end: int
    due_end: int
    late_by: int  # minutes after the end of the due date; 0 when on time
    reason: str | None  # 'capacity' | 'material' | 'both' | None


@dataclass(slots=True)
class Schedule:
    settings: Settings
    jobs: list[JobResult]
    by_centre: dict[str, list[Operation]]

    def utilisation(self, centre: Centre, until: int) -> tuple[int, int]:
        """(busy, available) machine-minutes of ``centre`` from minute 0 to ``until``."""
        busy = sum(
            min(b, until) - a
            for op in self.by_centre.get(centre.code, ())
            for a, b in op.segments
            if a < until
        )
        available = sum(b - a for a, b in _windows(centre, self.settings, 0, until))
        return busy, available * centre.machines


def _windows(centre: Centre, settings: Settings, frm: int, until: int) -> Iterator[tuple[int, int]]:
    """Working intervals [a, b) of one machine of ``centre`` within [frm, until)."""
    # The run minute of the start day's 00:00 (<= 0).
    midnight = settings.minute(datetime.combine(settings.start.date(), datetime.min.time()))
    first_day = (frm - midnight) // DAY - 1  # the previous day's shift may reach past midnight
    weekday0 = settings.start.weekday()
    day = first_day
    downs = sorted(centre.downtime)
    while True:
        day_at = midnight + day * DAY
        if day_at >= until:
            return
        length = centre.minutes[(weekday0 + day) % 7]
        a, b = day_at + centre.day_start, day_at + centre.day_start + length
        a, b = max(a, frm), min(b, until)
        yield from _minus(a, b, downs)
        day += 1


def _minus(a: int, b: int, downs: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """[a, b) less the downtime intervals (sorted)."""
    for d0, d1 in downs:
        if a >= b:
            return
        if d1 <= a or d0 >= b:
            continue
        if d0 > a:
            yield a, d0
        a = max(a, d1)
    if a < b:
        yield a, b


class _Calendar:
    """One machine's working windows of a work centre ([a, b), downtime taken out), made
    day by day as far as a question needs, with the working minutes before each window
    (prefix sums): how much work fits between two minutes is two lookups, so a gap that
    is too short is skipped without walking its shifts."""

    __slots__ = ("centre", "cum", "day", "downs", "ends", "midnight", "starts", "weekday0")

    def __init__(self, centre: Centre, settings: Settings) -> None:
        self.centre = centre
        # The run minute of the start day's 00:00 (<= 0); the day before's shift may
        # reach past midnight into the run, so the windows begin with that day.
        self.midnight = settings.minute(
            datetime.combine(settings.start.date(), datetime.min.time())
        )
        self.weekday0 = settings.start.weekday()
        self.downs = sorted(centre.downtime)
        self.day = -1
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cum: list[int] = []  # working minutes before each window

    def _extend(self, until: int) -> None:
        """Make every window that starts before ``until``."""
        c = self.centre
        total = self.cum[-1] + self.ends[-1] - self.starts[-1] if self.cum else 0
        while self.midnight + self.day * DAY < until:
            day_at = self.midnight + self.day * DAY
            length = c.minutes[(self.weekday0 + self.day) % 7]
            a = day_at + c.day_start
            for x, y in _minus(a, a + length, self.downs):
                self.starts.append(x)
                self.ends.append(y)
                self.cum.append(total)
                total += y - x
            self.day += 1

    def work_before(self, t: int) -> int:
        """Working minutes from the calendar's beginning to minute ``t``."""
        self._extend(t + 1)
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(t, self.ends[i]) - self.starts[i]

    def fits(self, frm: int, minutes: int, by: int) -> bool:
        """Do ``minutes`` (> 0) of work from ``frm`` on end by minute ``by``?"""
        return by > frm and self.work_before(by) - self.work_before(frm) >= minutes

    def place(self, frm: int, minutes: int) -> list[tuple[int, int]]:
        """The working segments that run ``minutes`` from ``frm`` on (one machine)."""
        until = frm + MAX_DAYS * DAY
        self._extend(frm + 1)
        i = bisect_right(self.ends, frm)  # the first window that ends after frm
        out: list[tuple[int, int]] = []
        left = minutes
        while True:
            if i == len(self.starts):
                self._extend(self.midnight + (self.day + 7) * DAY)
                if i == len(self.starts) and self.midnight + self.day * DAY >= until:
                    break
                continue
            a, b = max(self.starts[i], frm), min(self.ends[i], until)
            if a >= until:
                break
            i += 1
            if minutes == 0:
                # A zero-length operation sits at the first working minute.
                return [(a, a)]
            take = min(b - a, left)
            if take <= 0:
                continue
            out.append((a, a + take))
            left -= take
            if left == 0:
                return out
        c = self.centre.code
        if minutes == 0:
            raise NoCapacity(f"work centre {c} has no working time")
        raise NoCapacity(
            f"work centre {c} has not {minutes:,} working minutes within {MAX_DAYS} days of "
            f"the operation's earliest start (check the order's quantity and the stage's "
            "times)"
        )


def _run_alone(job: Job, calendars: dict[str, _Calendar], frm: int) -> int:
    """When the job would end with every machine to itself, starting at ``frm``."""
    t = frm
    for stage in job.stages:
        segs = calendars[stage.centre.upper()].place(t, job.minutes(stage, stage.setup))
        t = segs[-1][1]
    return t


def _span(op: tuple[int, int, str | None, bool]) -> tuple[int, int]:
    return op[0], op[1]


class _Machine:
    """One machine's booked operations: sorted (start, end, family, setup skipped)."""

    __slots__ = ("booked",)

    def __init__(self) -> None:
        self.booked: list[tuple[int, int, str | None, bool]] = []

    def slot(
        self, cal: _Calendar, t: int, stage: Stage, job: Job
    ) -> tuple[list[tuple[int, int]], int | Decimal]:
        """The earliest placement from ``t``: the first gap between booked operations it
        fits in whole, else after the last. (segments, setup minutes)"""
        booked = self.booked
        n = len(booked)
        k = max(bisect_right(booked, (t,)) - 1, 0)  # the last operation starting before t
        while k < n and booked[k][1] <= t:
            k += 1  # ends by t: the gap after it is where to look (ends are in order too)
        family = stage.family
        while True:
            before = booked[k - 1] if k else None
            start = max(t, before[1]) if before else t
            setup = 0 if family is not None and before and before[2] == family else stage.setup
            minutes = job.minutes(stage, setup)
            if k == n:
                return cal.place(start, minutes), setup
            after = booked[k]
            # An operation after the gap that skipped its setup must keep its neighbour's
            # family: only the same family may go in front of it.
            if not (after[3] and after[2] != family) and start < after[0]:
                if minutes == 0:
                    segs = cal.place(start, 0)
                    if segs[-1][1] <= after[0]:
                        return segs, setup
                elif cal.fits(start, minutes, after[0]):
                    return cal.place(start, minutes), setup
            k += 1
            # Operations back to back leave no gap: skip them without looking closer.
            while k < n and booked[k - 1][1] >= booked[k][0]:
                k += 1

    def book(self, segs: list[tuple[int, int]], stage: Stage, setup: int | Decimal) -> None:
        skipped = setup == 0 and stage.setup > 0
        # By start and end only: two zero-length operations at one minute must not
        # compare their families (a name and None do not order).
        insort(self.booked, (segs[0][0], segs[-1][1], stage.family, skipped), key=_span)


def priority_order(jobs: Sequence[Job]) -> list[Job]:
    return sorted(jobs, key=lambda j: (j.due, -j.priority, j.id))


def schedule(jobs: Sequence[Job], centres: Sequence[Centre], settings: Settings) -> Schedule:
    """Schedule ``jobs`` on ``centres`` (see the module's rules).

    Raises:
        ValueError: a stage names an unknown work centre.
        NoCapacity: a work centre never works.
    """
    by_code = {c.code.upper(): c for c in centres}
    for j in jobs:
        for s in j.stages:
            if s.centre.upper() not in by_code:
                raise ValueError(
                    f"order {j.id}: stage {s.name} names unknown work centre {s.centre}"
                )
    machines: dict[str, list[_Machine]] = {
        code: [_Machine() for _ in range(c.machines)] for code, c in by_code.items()
    }
    calendars = {code: _Calendar(c, settings) for code, c in by_code.items()}
    by_centre: dict[str, list[Operation]] = {c.code: [] for c in centres}
    results = []
    for job in priority_order(jobs):
        t = max(job.earliest, 0)
        ops: list[Operation] = []
        for pos, stage in enumerate(job.stages):
            centre = by_code[stage.centre.upper()]
            best: tuple[int, int, list[tuple[int, int]], int | Decimal] | None = None
            cal = calendars[centre.code.upper()]
            for m, machine in enumerate(machines[centre.code.upper()]):
                try:
                    segs, setup = machine.slot(cal, t, stage, job)
                except NoCapacity as e:
                    raise NoCapacity(
                        f"order {job.id} ({job.item}), stage {stage.name}: {e}"
                    ) from None
                if best is None or segs[-1][1] < best[0]:
                    best = (segs[-1][1], m, segs, setup)
            assert best is not None  # every centre has at least one machine
            end, m, segs, setup = best
            machines[centre.code.upper()][m].book(segs, stage, setup)
            run = job.run_exact(stage)
            op = Operation(job.id, stage.name, pos, centre.code, m + 1, setup, run, segs)
            ops.append(op)
            by_centre[centre.code].append(op)
            t = end
        start = ops[0].start if ops else max(job.earliest, 0)
        end = ops[-1].end if ops else start
        due_end = settings.end_of(job.due)
        late_by = max(end - due_end, 0)
        reason = None
        if late_by:
            alone_free = _run_alone(job, calendars, 0)
            alone = _run_alone(job, calendars, max(job.earliest, 0))
            material = alone > due_end and alone > alone_free
            capacity = end > alone or alone_free > due_end
            reason = "both" if material and capacity else "material" if material else "capacity"
        results.append(JobResult(job, ops, start, end, due_end, late_by, reason))
    for ops in by_centre.values():
        ops.sort(key=lambda o: (o.machine, o.start, o.job))
    return Schedule(settings, results, by_centre)
