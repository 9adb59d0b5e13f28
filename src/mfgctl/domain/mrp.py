"""Material requirements planning: a pure, time-phased, multi-level gross-to-net plan.

``plan(snapshot, settings)`` reads nothing and writes nothing: everything it needs is in
a ``Snapshot`` (``mrp_data.load`` reads one from the database), so a run is
reproducible and testable without SQLite. Quantities are integer micro-units (the
ledger's millionths of a base unit) throughout; the CLI shows them as exact decimals.

The run, item by item in *low-level-code* order (an item is planned only after every
item that uses it, so all of its requirements are known and it is netted once):

1. **Gross requirements** of each bucket: sales orders and forecasts (within a bucket,
   sales consume forecast: the bucket's independent demand is the larger of the two),
   the dependent demand of parents' planned orders (on the parent's release date, BOM
   scrap and fixed quantities included, phantoms passed through to their components)
   and of open production orders (what their materials still need: required - consumed
   - reserved for the order, on the order's start date).
2. **Netting**, bucket by bucket: projected on hand = previous + scheduled receipts
   (open purchase orders, open production orders' expected output) - gross
   requirements. Stock starts at *free* stock (available - reserved) plus finished
   goods awaiting release (with ``include_inspection`` plus stock pending inspection).
   When it would fall below safety stock, the shortfall is the bucket's *net
   requirement*.
3. **Substitutes**: a net requirement from a BOM line with substitutes is first met
   from the substitutes' free stock (in the line's order of preference); the taken
   quantity becomes a gross requirement of the substitute and an exception says so.
4. **Lot sizing** turns a net requirement into planned order receipts (``lot_sizes``),
   due on the first day of the bucket on which stock would fall short, released
   ``lead time`` calendar days earlier (purchase lead time for buy items,
   manufacturing lead time for make items).
5. **Pegging**: supply (stock, receipts, planned orders) is allocated to requirements
   first-in first-out, so every planned order knows the requirements it serves and,
   through them, the top-level demands (sales, forecast, production orders, safety
   stock) behind them at every level.

Manufacturing methods: ``make_to_stock`` (the default) plans against sales, forecast
and safety stock; ``make_to_order`` plans one order per requirement that stock and
receipts do not cover, ignoring forecast and safety stock; ``assemble_to_order`` is
made to order like that, while its forecast (what sales have not consumed) is passed to
its components as dependent demand, so they are planned to stock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from itertools import groupby
from math import ceil, lcm
from operator import attrgetter, itemgetter
from typing import Any

from mfgctl.domain.bomtree import BomCycle, find_cycles, longest_levels
from mfgctl.errors import InvalidInput
from mfgctl.gcpause import paused
from mfgctl.timefmt import parse_plan_date

BUCKETS = ("day", "week", "month")
METHODS = ("make_to_stock", "make_to_order", "assemble_to_order")


# -- inputs --------------------------------------------------------------------------------

WHOLE = 1_000_000  # one base unit in micro-units


@dataclass(frozen=True, slots=True)
class Part:
    """An item's planning data; quantities in micro-units of its base unit."""

    code: str
    name: str = ""
    unit: str = "pcs"
    make_or_buy: str = "buy"
    method: str = "make_to_stock"
    lead_time_days: int = 0
    safety_stock: int = 0
    lot_sizing: str = "lot_for_lot"
    fixed_order_qty: int | None = None
    moq: int | None = None
    max_order_qty: int | None = None
    order_multiple: int | None = None
    period_days: int | None = None
    serial: bool = False  # serial-tracked: planned in whole units (one serial each)


@dataclass(frozen=True, slots=True)
class Component:
    """One BOM line: a parent order of ``n`` micro-units needs
    ``ceil(n * num / den) + fixed`` micro-units of ``item`` (scrap included), rounded
    up to a whole unit when ``whole`` (a serial-tracked item: each unit is a serial, so
    an order of 10 with 3 made from one needs 4, as ``orders.explode_materials``
    requires it)."""

    item: str
    num: int
    den: int
    fixed: int = 0
    phantom: bool = False
    substitutes: tuple[str, ...] = ()
    whole: bool = False

    def need(self, parent_qty: int) -> int:
        n = -(-parent_qty * self.num // self.den) + self.fixed
        return -(-n // WHOLE) * WHOLE if self.whole else n


@dataclass(frozen=True, slots=True)
class DemandIn:
    """A sales order or forecast: ``qty`` of ``item`` by ``due``. ``reserved``: what
    reservations for a sales order's reference hold for it (stock set aside for that
    customer order, already left out of free stock), so only the rest is required."""

    id: int
    item: str
    qty: int
    due: date
    kind: str = "sales"
    ref: str | None = None
    reserved: int = 0
    # What was shipped against it: no longer required (``qty`` is the rest), but a sales
    # order's shipments still consumed its bucket's forecast.
    shipped: int = 0


@dataclass(frozen=True, slots=True)
class Receipt:
    """A scheduled receipt: an open purchase order or production order's output."""

    source: str  # 'purchase' | 'production'
    id: int
    item: str
    qty: int
    due: date
    started: bool = False  # a production order in progress (it cannot be cancelled)

    @property
    def label(self) -> str:
        return f"PO-{self.id}" if self.source == "purchase" else f"ORDER-{self.id}"

    def stop_hint(self) -> str:
        """The commands that act on a ``cancel`` message for this receipt."""
        if self.source == "purchase":
            return f"mfgctl purchase cancel {self.id}, or mfgctl purchase update {self.id} --due"
        if self.started:
            return (
                f"it is started: finish it short with mfgctl order complete {self.id} --final, "
                f"or mfgctl order update {self.id} --due"
            )
        return f"mfgctl order cancel {self.id}, or mfgctl order update {self.id} --due"


@dataclass(frozen=True, slots=True)
class OrderNeed:
    """What an open production order still needs of one material, from ``due`` (its
    planned start: due date less manufacturing lead time). ``started``: the order is in
    progress, so it needs the material now, whatever ``due`` says: from a run's start
    (``needed_on``)."""

    order_id: int
    order_item: str
    item: str
    qty: int
    due: date
    substitutes: tuple[str, ...] = ()
    started: bool = False

    def needed_on(self, start: date) -> date:
        """When the order needs it, in a run (or ATP) from ``start``."""
        return start if self.started else self.due


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a run reads. Keys of the mappings are upper-cased item codes."""

    parts: Mapping[str, Part]
    boms: Mapping[str, tuple[Component, ...]] = field(default_factory=dict)
    free: Mapping[str, int] = field(default_factory=dict)
    inspection: Mapping[str, int] = field(default_factory=dict)
    demands: Sequence[DemandIn] = ()
    receipts: Sequence[Receipt] = ()
    order_needs: Sequence[OrderNeed] = ()
    # Finished goods awaiting release (made, held only for their release criteria): on
    # hand for planning, as they will be available once signed off.
    ready: Mapping[str, int] = field(default_factory=dict)
    # The free stock (part of ``free``) in lots with an expiry date, per item: (expiry
    # date, lot, quantity), earliest first. It is usable through that date only.
    expiring: Mapping[str, tuple[tuple[date, str, int], ...]] = field(default_factory=dict)
    # The same for the stock pending inspection (part of ``inspection``).
    expiring_inspection: Mapping[str, tuple[tuple[date, str, int], ...]] = field(
        default_factory=dict
    )
    # Stock reserved for a sales reference in a lot that expires before the reference's
    # order it would serve (so it does not cover it): (item, ref, lot, expiry date,
    # quantity, the order's due date).
    stale_reservations: tuple[tuple[str, str, str, date, int, date], ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    start: date
    horizon_days: int = 90
    bucket: str = "week"
    include_inspection: bool = False


MAX_HORIZON_DAYS = 3660


def parse_horizon(value: object) -> int:
    """``--horizon`` as typed (mrp, atp, schedule, status): whole days from 1 to
    ``MAX_HORIZON_DAYS``.

    Raises:
        InvalidInput: anything else.
    """
    text = str(value).strip()
    # ASCII and short before int(): "²" is a digit to isdigit(), and int() refuses
    # more than 4,300 digits with a ValueError.
    if text.isascii() and text.isdigit() and len(text) <= 5:
        days = int(text)
        if 1 <= days <= MAX_HORIZON_DAYS:
            return days
    raise InvalidInput(
        f"--horizon must be a whole number of days from 1 to {MAX_HORIZON_DAYS}, not {value!r}"
    )


def settings(
    *,
    start: object = None,
    horizon: object = 90,
    bucket: object = "week",
    include_inspection: bool = False,
) -> Settings:
    """A run's settings as typed: ``start`` defaults to today.

    Raises:
        InvalidInput: a bad date, horizon or bucket.
    """
    first = date.today() if start is None else parse_plan_date(start, what="--start")
    days = parse_horizon(horizon)
    kind = str(bucket).strip().lower()
    if kind not in BUCKETS:
        raise InvalidInput(f"--bucket must be one of {', '.join(BUCKETS)}; got {bucket!r}")
    return Settings(first, days, kind, include_inspection)


# -- the calendar ---------------------------------------------------------------------------


class Calendar:
    """The run's buckets: the first starts on ``start``, weeks on Mondays, months on
    the 1st; the horizon ends ``horizon_days`` after ``start`` (exclusive)."""

    def __init__(self, settings: Settings) -> None:
        if settings.bucket not in BUCKETS:
            raise ValueError(f"bucket must be one of {BUCKETS}")
        self.start = settings.start
        self.end = settings.start + timedelta(days=settings.horizon_days)
        starts = [self.start]
        d = self.start
        while True:
            if settings.bucket == "day":
                d = d + timedelta(days=1)
            elif settings.bucket == "week":
                d = d + timedelta(days=7 - d.weekday())
            else:
                d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
            if d >= self.end:
                break
            starts.append(d)
        self.starts = starts
        self.iso = [s.isoformat() for s in starts]
        self._ordinals = [s.toordinal() for s in starts]
        self._index: dict[date, int] = {}

    def index(self, day: date) -> int:
        """The bucket of ``day``; a day before the start is in the first bucket."""
        found = self._index.get(day)
        if found is None:
            found = max(bisect_right(self._ordinals, day.toordinal()) - 1, 0)
            self._index[day] = found
        return found

    def inside(self, day: date) -> bool:
        return day < self.end

    def last_day(self, index: int) -> date:
        nxt = self.starts[index + 1] if index + 1 < len(self.starts) else self.end
        return nxt - timedelta(days=1)


# -- results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Root:
    """A top-level reason for a requirement: a demand, an open production order, or an
    item's safety stock."""

    kind: str  # 'sales' | 'forecast' | 'order' | 'safety_stock'
    id: int | None
    item: str
    due: date | None = None
    ref: str | None = None
    n: int = 0  # its index in Plan.roots

    @property
    def label(self) -> str:
        if self.kind == "order":
            return f"ORDER-{self.id} ({self.item})"
        if self.kind == "safety_stock":
            return f"safety stock of {self.item}"
        ref = f" {self.ref}" if self.ref else ""
        return f"{self.kind} {self.id}{ref} ({self.item} due {self.due})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "kind": self.kind,
            "id": self.id,
            "item": self.item,
            "due": self.due.isoformat() if self.due else None,
            "ref": self.ref,
            "label": self.label,
        }


class Element:
    """One gross requirement of an item: ``qty`` due on ``due`` (in bucket ``b``) for
    ``source``.

    ``roots`` are the top-level demands behind it, as a sorted tuple of indices into
    ``Plan.roots``, shared by every requirement of one parent order: pegging through
    every level costs set unions in C rather than Python loops, and a 10,000-item plan
    holds millions of these references."""

    __slots__ = ("b", "due", "order", "qty", "roots", "seq", "source", "substitutes", "supplied")

    def __init__(
        self,
        due: date,
        b: int,
        qty: int,
        source: str,
        roots: tuple[int, ...],
        substitutes: tuple[str, ...] = (),
        order: PlannedOrder | None = None,
    ) -> None:
        self.due = due
        self.b = b
        self.order = order  # the parent's planned order it comes from, if any
        self.qty = qty
        self.source = source  # readable: 'sales 3 SO-1', 'ORDER-5', 'planned 7 (HD-200)'
        self.roots = roots
        self.substitutes = substitutes
        self.seq = 0
        # What covered it, filled by pegging: (supply label, qty, planned order or None).
        self.supplied: list[tuple[str, int, PlannedOrder | None]] = []


@dataclass(slots=True)
class PlannedOrder:
    id: int
    item: str
    kind: str  # 'make' | 'buy'
    qty: int
    release: date
    due: date
    b: int = 0  # the bucket it is due in
    pegging: list[tuple[int, Element]] = field(default_factory=list)
    # The top-level demands it serves through every level (sorted indices into
    # Plan.roots).
    demands: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return f"planned {self.id} ({self.item})"


@dataclass(slots=True)
class Bucket:
    gross: int = 0
    scheduled: int = 0
    on_hand: int = 0
    net: int = 0
    planned_receipts: int = 0
    planned_releases: int = 0


@dataclass(slots=True)
class Record:
    """An item's time-phased record: buckets that had any activity (projected on hand
    carries over the buckets left out)."""

    item: str
    level: int
    on_hand: int
    safety_stock: int
    lead_time_days: int
    buckets: dict[int, Bucket] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    # The first bucket whose stock (before planned receipts) falls below safety stock:
    # from there on, safety stock is a requirement that supply is pegged to.
    safety_from: int | None = None

    def bucket(self, index: int) -> Bucket:
        found = self.buckets.get(index)
        if found is None:
            found = self.buckets[index] = Bucket()
        return found


@dataclass(frozen=True, slots=True)
class Exception_:
    """A planner's message: ``code`` names the kind, ``message`` says what to do."""

    code: str
    item: str
    message: str
    day: date | None = None
    ref: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "item": self.item,
            "date": self.day.isoformat() if self.day else None,
            "ref": self.ref,
            "message": self.message,
        }


EXCEPTION_CODES = {
    "past_due": "a requirement was due before the run's start",
    "past_forecast": "an open forecast was due before the run's start and still counts",
    "inside_lead_time": "a planned order should have been released before the start",
    "expedite": "a scheduled receipt comes after it is needed",
    "delay": "a scheduled receipt comes before it is needed",
    "cancel": "a scheduled receipt is not needed within the horizon",
    "overdue_receipt": "a scheduled receipt was due before the start",
    "no_bom": "a make item has no active BOM",
    "no_lead_time": "a buy item has no purchase lead time",
    "order_short": "an open production order cannot start on time for want of material",
    "substitute": "a substitute's free stock covers a shortage",
    "too_many_lots": "lot-size rules would split one need into more than MAX_LOTS orders",
    "in_inspection": "stock pending inspection, not counted, could cover a shortage",
    "expires_unused": "stock in a lot expires before any requirement uses it",
    "reserved_expiring": "stock reserved for an order is in a lot expiring before it is due",
}


@dataclass(slots=True)
class Shortage:
    item: str
    qty: int
    first_date: date
    roots: tuple[Root, ...]
    planned: tuple[int, ...]
    # Stock of the item pending inspection that the run did not count (planned without
    # ``include_inspection``): inspecting it may cover the shortage.
    inspection: int = 0


@dataclass(slots=True)
class Plan:
    settings: Settings
    calendar: Calendar
    levels: dict[str, int]
    records: dict[str, Record]
    planned: list[PlannedOrder]
    exceptions: list[Exception_]
    shortages: list[Shortage]
    snapshot: Snapshot
    # Every top-level demand (sales, forecast, open order, safety stock), in the order
    # first met; elements and planned orders refer to them by index.
    roots: list[Root] = field(default_factory=list)

    def roots_of(self, ids: Iterable[int]) -> tuple[Root, ...]:
        """The demands behind ``ids`` (an element's or planned order's), in run order."""
        return tuple(self.roots[n] for n in sorted(ids))

    def record(self, item: str) -> Record:
        """The item's record; a quiet one (stock only) if nothing happened to it."""
        key = item.upper()
        found = self.records.get(key)
        if found is not None:
            return found
        part = self.snapshot.parts[key]
        stock = self.snapshot.free.get(key, 0) + self.snapshot.ready.get(key, 0)
        if self.settings.include_inspection:
            stock += self.snapshot.inspection.get(key, 0)
        return Record(part.code, self.levels.get(key, 0), stock, 0, part.lead_time_days)


# -- low-level codes ------------------------------------------------------------------------


def low_level_codes(
    parts: Iterable[str], boms: Mapping[str, Sequence[Component]]
) -> dict[str, int]:
    """The deepest level at which each item occurs in any active BOM (0 = never a
    component). A substitute is placed below the item it stands in for, and that item
    below every other item using the substitute (so the substitute's own requirements
    are known when it is offered), unless that would close a loop; then only the BOM
    decides.

    Raises:
        BomCycle: the active BOMs contain a cycle.
    """
    nodes = list(parts)
    graph = {p: list(dict.fromkeys(c.item for c in lines)) for p, lines in boms.items()}
    cycles = find_cycles(graph, nodes)
    if cycles:
        raise BomCycle(cycles[0])
    with_subs = {p: list(children) for p, children in graph.items()}
    parents: dict[str, set[str]] = defaultdict(set)
    for p, children in graph.items():
        for child in children:
            parents[child].add(p)
    for lines in boms.values():
        for c in lines:
            for s in c.substitutes:
                with_subs.setdefault(c.item, []).append(s)
                # Every other user of the substitute is planned before the item it stands
                # in for, so its requirements are known when the substitution is decided.
                for user in sorted(parents.get(s, ())):
                    if user != c.item:
                        with_subs.setdefault(user, []).append(c.item)
    if not find_cycles(with_subs, nodes):
        graph = with_subs
    return longest_levels(graph, nodes)


# -- lot sizing ----------------------------------------------------------------------------


MAX_LOTS = 1000  # planned orders one bucket's need may be split into


def order_step(part: Part) -> int | None:
    """What every planned order of ``part`` is a multiple of: its order multiple; for
    a serial-tracked item also a whole unit (one serial each), so the smallest
    quantity that is both."""
    m = part.order_multiple
    if part.serial:
        return lcm(m, WHOLE) if m else WHOLE
    return m


def lot_sizes(part: Part, need: int, period_need: int | None = None) -> list[int]:
    """Planned order quantities that cover ``need`` (micro-units), by the item's rules.

    1. The base: lot-for-lot orders ``need``; period order quantity orders
       ``period_need`` (the net requirements of the next ``period_days``);
       fixed order quantity orders as many lots of ``fixed_order_qty`` as cover
       ``need`` (a need of 250 with a fixed quantity of 100 is three orders of 100).
    2. Each lot is raised to the minimum order quantity, then rounded up to the order
       multiple.
    3. A lot above the maximum order quantity is split into lots of the maximum
       (rounded down to the multiple, never below one multiple) and a last lot of the
       rest, which rule 2 applies to again.

    A need that would take more than ``MAX_LOTS`` orders gets ``MAX_LOTS``: the last
    one carries the rest (the run reports it as ``too_many_lots``).
    """
    if need <= 0:
        return []
    m = order_step(part)

    def adjust(lot: int) -> int:
        if part.moq and lot < part.moq:
            lot = part.moq
        if m and lot % m:
            lot += m - lot % m
        return lot

    fixed = part.fixed_order_qty if part.lot_sizing == "fixed" else None
    if fixed:
        # The fixed lot as it will be ordered (raised to the minimum, rounded up to the
        # multiple) decides how many lots cover the need: a fixed 20 with a minimum of 50
        # is one order of 50 for a need of 30, not two.
        fixed = adjust(fixed)
        n = -(-need // fixed)
        lots = [fixed] * min(n, MAX_LOTS - 1)
        if n >= MAX_LOTS:
            lots.append(fixed * (n - len(lots)))
    elif part.lot_sizing == "period" and period_need is not None:
        lots = [max(period_need, need)]
    else:
        lots = [need]

    lots = [adjust(lot) for lot in lots]
    cap = part.max_order_qty
    if not cap:
        return lots
    if m:
        cap = max(cap // m * m, m)
    out: list[int] = []
    for lot in lots:
        full, rest = divmod(lot, cap)
        if rest == 0:
            full, rest = full - 1, cap
        take = max(min(full, MAX_LOTS - 1 - len(out)), 0)
        out.extend([cap] * take)
        rest += (full - take) * cap
        out.append(adjust(rest) if rest <= cap else rest)
    if len(out) > MAX_LOTS:
        out[MAX_LOTS - 1 :] = [sum(out[MAX_LOTS - 1 :])]
    return out


# -- the run -------------------------------------------------------------------------------


def explode(
    lines: Sequence[Component],
    qty: int,
    boms: Mapping[str, Sequence[Component]],
) -> list[tuple[Component, int]]:
    """The components ``qty`` of a parent needs, phantoms passed through: each item's
    exact need summed over every line and phantom path that reaches it, rounded up to
    the micro-unit (and a whole unit) once, as an order of the parent requires it
    (``orders.explode_materials``: 0.116667 + 0.003334 through a phantom would be
    0.120001, the order needs 0.12). One pair an item, with its first line (whose
    substitutes the order takes), in the order the lines reach it."""
    exact: dict[str, Fraction] = {}
    first: dict[str, Component] = {}

    def walk(lines: Sequence[Component], parent: Fraction) -> None:
        for c in lines:
            need = parent * c.num / c.den + c.fixed
            if c.phantom and c.item in boms:
                walk(boms[c.item], need)
            else:
                first.setdefault(c.item, c)
                exact[c.item] = exact.get(c.item, 0) + need

    walk(lines, Fraction(qty))
    out = []
    for item, need in exact.items():
        c = first[item]
        n = ceil(need)
        out.append((c, -(-n // WHOLE) * WHOLE if c.whole else n))
    return out


def leaf_items(code: str, boms: Mapping[str, Sequence[Component]]) -> Iterable[str]:
    """The items an order of ``code`` requires (one per line and phantom path, active or
    not), phantoms passed through."""
    for c in boms.get(code, ()):
        if c.phantom and c.item in boms:
            yield from leaf_items(c.item, boms)
        else:
            yield c.item


def explode_paths(
    lines: Sequence[Component],
    qty: int,
    boms: Mapping[str, Sequence[Component]],
) -> list[tuple[Component, int]]:
    """The components ``qty`` of a parent needs, one pair for each path (a line, or a
    line through phantoms), each rounded on its own: which paths reach which items."""
    out: list[tuple[Component, int]] = []
    for c in lines:
        need = c.need(qty)
        if c.phantom and c.item in boms:
            out.extend(explode_paths(boms[c.item], need, boms))
        else:
            out.append((c, need))
    return out


def expiries(
    lots: Sequence[tuple[date, str, int]], needs: Iterable[tuple[date, int]]
) -> list[tuple[date, str, int]]:
    """What of the stock in ``lots`` (expiry date, lot, quantity; earliest first) is
    lost to expiry: the requirements ``needs`` (due date, quantity; in date order) draw
    on the lots first-expired first (as release, backflush and ship pick), each only on
    a lot still good on its date (a lot is good through its expiry date); what a lot
    still holds the day after its expiry date is lost then. Returns (day lost, lot,
    quantity), in date order; stock that outlives the requirements is lost too."""
    queue: list[list[Any]] = [[day, lot, qty] for day, lot, qty in lots if qty > 0]
    lost: list[tuple[date, str, int]] = []
    one = timedelta(days=1)
    head = 0
    for due, need in needs:
        while head < len(queue) and queue[head][0] < due:
            day, lot, qty = queue[head]
            if qty > 0:
                lost.append((day + one, lot, qty))
            head += 1
        k = head
        while need > 0 and k < len(queue):
            take = min(need, queue[k][2])
            queue[k][2] -= take
            need -= take
            k += 1
    lost.extend((day + one, lot, qty) for day, lot, qty in queue[head:] if qty > 0)
    return lost


class _Run:
    def __init__(
        self,
        snap: Snapshot,
        settings: Settings,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.snap = snap
        self.settings = settings
        self.cal = Calendar(settings)
        self.progress = progress
        self.levels = low_level_codes(snap.parts, snap.boms)
        self.gross: dict[str, list[Element]] = defaultdict(list)
        self.receipts: dict[str, list[Receipt]] = defaultdict(list)
        self.records: dict[str, Record] = {}
        self.planned: list[PlannedOrder] = []
        self.exceptions: list[Exception_] = []
        self.done: set[str] = set()
        self.seq = 0
        self.next_id = 0
        self.short: list[Shortage] = []
        self.roots: list[Root] = []
        self.root_ids: dict[tuple[str, object], tuple[int]] = {}
        self.safety_roots: set[int] = set()
        self.started: set[str] = set()  # the labels of production orders in progress
        self.order_items: dict[str, str] = {}  # what each open production order makes
        self.cum_lt: dict[str, int] = {}  # cumulative lead times (cumulative_lead_time)
        # The material requirements of each open production order (by its label), so
        # that once its output is pegged they carry the demands it serves.
        self.order_elements: dict[str, list[Element]] = defaultdict(list)

    def root(
        self, kind: str, id: int | None, item: str, due: date | None = None, ref: str | None = None
    ) -> tuple[int]:
        """The (one) index set of a top-level demand, registered on first use."""
        key = (kind, id if kind != "safety_stock" else item)
        found = self.root_ids.get(key)
        if found is None:
            n = len(self.roots)
            self.roots.append(Root(kind, id, item, due, ref, n))
            if kind == "safety_stock":
                self.safety_roots.add(n)
            found = self.root_ids[key] = (n,)
        return found

    # -- inputs ------------------------------------------------------------------------

    def add(self, item: str, element: Element) -> None:
        self.seq += 1
        element.seq = self.seq
        self.gross[item].append(element)

    def on_hand(self, item: str) -> int:
        extra = self.snap.inspection.get(item, 0) if self.settings.include_inspection else 0
        return self.snap.free.get(item, 0) + self.snap.ready.get(item, 0) + extra

    def independent_demand(self) -> None:
        """Sales and forecast inside the horizon; sales consume forecast per bucket."""
        cal = self.cal
        # Assemble-to-order: the item's stock beyond its sales orders covers its forecast
        # first, and so does what its open orders bring by the forecast's date (an order
        # of 9 for a sale of 5 leaves 4); only the rest is passed to its components.
        ato_spare: dict[str, int] = {}
        ato_receipts: dict[str, list[tuple[date, int]]] = {}
        for d in self.snap.demands:
            part = self.snap.parts.get(d.item)
            if part is None or part.method != "assemble_to_order" or not cal.inside(d.due):
                continue
            if d.item not in ato_spare:
                ato_spare[d.item] = self.on_hand(d.item)
                ato_receipts[d.item] = []
            if d.kind == "sales":
                ato_spare[d.item] -= d.qty - d.reserved
        for r in self.snap.receipts:
            if r.item in ato_receipts:
                ato_receipts[r.item].append((r.due, r.qty))
        for queue in ato_receipts.values():
            queue.sort(reverse=True)  # the earliest last, to pop as forecasts come
        by_bucket: dict[tuple[str, int], list[DemandIn]] = defaultdict(list)
        for d in sorted(self.snap.demands, key=lambda d: (d.due, d.id)):
            if d.item not in self.snap.parts or not cal.inside(d.due):
                continue
            if d.qty == 0 and d.due < cal.start:
                continue  # shipped before the plan's start: no forecast of it is left
            by_bucket[(d.item, cal.index(d.due))].append(d)
        for (item, b), found in by_bucket.items():
            part = self.snap.parts[item]
            sales = [d for d in found if d.kind == "sales"]
            forecast = [d for d in found if d.kind == "forecast"]
            for d in sales:
                if d.qty > d.reserved:  # stock reserved for the order covers the rest
                    root = self.root("sales", d.id, part.code, d.due, d.ref)
                    self.add(item, Element(d.due, b, d.qty - d.reserved, self.label(root), root))
            # Forecast beyond what sales consumed (reserved, shipped or not), taken from
            # the latest forecast back.
            left = sum(d.qty for d in forecast) - sum(d.qty + d.shipped for d in sales)
            if left <= 0 or part.method == "make_to_order":
                continue
            kept: list[tuple[DemandIn, int]] = []
            for d in reversed(forecast):
                take = min(d.qty, left)
                if take > 0:
                    kept.append((d, take))
                    left -= take
            for d, qty in reversed(kept):
                if part.method == "assemble_to_order":
                    coming = ato_receipts[item]
                    while coming and coming[-1][0] <= d.due:
                        ato_spare[item] += coming.pop()[1]
                    covered = min(max(ato_spare[item], 0), qty)
                    ato_spare[item] -= covered
                    qty -= covered
                    if qty <= 0:
                        continue
                root = self.root("forecast", d.id, part.code, d.due, d.ref)
                element = Element(d.due, b, qty, self.label(root), root)
                if d.due < cal.start:
                    self.exceptions.append(
                        Exception_(
                            "past_forecast",
                            part.code,
                            f"forecast {d.id} of {part.code} was due {d.due}, before the "
                            f"start: {_n(qty)} still count in the first bucket; cancel it "
                            f"(mfgctl demand cancel {d.id}) or move it (mfgctl demand update "
                            f"{d.id} --due DATE) if it will still sell",
                            d.due,
                            f"forecast {d.id}",
                        )
                    )
                if part.method == "assemble_to_order":
                    self.pass_forecast(part, element)
                else:
                    self.add(item, element)

    def pass_forecast(self, part: Part, element: Element) -> None:
        """An assemble-to-order forecast: its components are planned to stock."""
        lines = self.snap.boms.get(part.code.upper())
        if not lines:
            return
        release = element.due - timedelta(days=part.lead_time_days)
        b = self.cal.index(release)
        for c, need in explode(lines, element.qty, self.snap.boms):
            source = f"{element.source} via {part.code}"
            self.add(c.item, Element(release, b, need, source, element.roots, c.substitutes))

    def supply_inputs(self) -> None:
        for r in self.snap.receipts:
            if r.item in self.snap.parts and self.cal.inside(r.due):
                self.receipts[r.item].append(r)
        # Sorted, so requirements due the same day are served in the same order
        # whatever the order of the snapshot's list.
        start = self.cal.start
        for n in sorted(
            self.snap.order_needs, key=lambda n: (n.needed_on(start), n.order_id, n.item)
        ):
            due = n.needed_on(start)
            if n.qty <= 0 or not self.cal.inside(due):
                continue
            if n.item not in self.snap.parts:
                # A material deactivated while the order still lacks it: not planned,
                # but not left out silently either.
                self.exceptions.append(
                    Exception_(
                        "inactive_material",
                        n.item,
                        f"ORDER-{n.order_id} ({n.order_item}) still needs {_n(n.qty)} "
                        f"{n.item}, which is deactivated: MRP plans nothing for it "
                        f"(reactivate it: mfgctl item update {n.item} --active, or cancel "
                        f"the order: mfgctl order cancel {n.order_id})",
                        max(due, start),
                        f"ORDER-{n.order_id}",
                    )
                )
                continue
            root = self.root("order", n.order_id, n.order_item, due)
            label = f"ORDER-{n.order_id}"
            if n.started:
                self.started.add(label)
            self.order_items[label] = n.order_item
            b = self.cal.index(due)
            element = Element(due, b, n.qty, label, root, n.substitutes)
            self.order_elements[label].append(element)
            self.add(n.item, element)

    # -- one item ------------------------------------------------------------------------

    def run(self) -> Plan:
        for item, ref, lot, expires, qty, due in self.snap.stale_reservations:
            code = self.snap.parts[item].code if item in self.snap.parts else item
            self.exceptions.append(
                Exception_(
                    "reserved_expiring",
                    code,
                    f"{_n(qty)} {code} reserved for {ref} in lot {lot} expire on {expires}, "
                    f"before {ref} is due on {due}: they will not be shipped, so they do not "
                    f"cover it; reserve from a lot good by then (mfgctl reserve cancel, then "
                    f"mfgctl reserve {code} QTY --for {ref} --lot LOT)",
                    expires,
                    ref,
                )
            )
        self.independent_demand()
        self.supply_inputs()
        order = sorted(self.snap.parts, key=lambda c: (self.levels.get(c, 0), c))
        total = len(order)
        for n, code in enumerate(order, start=1):
            part = self.snap.parts[code]
            if (
                self.gross.get(code)
                or self.receipts.get(code)
                or part.safety_stock
                or code in self.snap.expiring
                or (self.settings.include_inspection and code in self.snap.expiring_inspection)
            ):
                self.plan_item(code, part)
            self.done.add(code)
            if self.progress is not None and (n % 500 == 0 or n == total):
                self.progress(n, total)
        self.unplanned()
        return Plan(
            self.settings,
            self.cal,
            self.levels,
            self.records,
            self.planned,
            self.exceptions,
            sorted(self.short, key=lambda s: (s.first_date, s.item)),
            self.snap,
            self.roots,
        )

    def unplanned(self) -> None:
        """Requirements of items no run plans (a BOM line to a deactivated item, which
        ``check`` reports as ``bom_inactive``): an ``inactive_material`` exception each,
        not a silent gap."""
        for code, left in sorted(self.gross.items()):
            if code in self.snap.parts or not left:
                continue
            sources = list(dict.fromkeys(e.source for e in left))
            named = ", ".join(sources[:3]) + (
                f" and {len(sources) - 3} more" if len(sources) > 3 else ""
            )
            self.exceptions.append(
                Exception_(
                    "inactive_material",
                    code,
                    f"{named} {'needs' if len(sources) == 1 else 'need'} "
                    f"{_n(sum(e.qty for e in left))} {code}, which is "
                    "deactivated: MRP plans nothing for it (reactivate it: mfgctl item "
                    f"update {code} --active, or store revisions without it)",
                    max(min(e.due for e in left), self.cal.start),
                    sources[0],
                )
            )

    def plan_item(self, code: str, part: Part) -> None:
        cal = self.cal
        to_order = part.method in ("make_to_order", "assemble_to_order")
        safety = 0 if to_order else part.safety_stock
        # Full free stock: what substitutions took from it is among its requirements.
        start_stock = self.on_hand(code)
        record = Record(
            part.code,
            self.levels.get(code, 0),
            start_stock,
            safety,
            part.lead_time_days,
        )
        # By date, then as they came: every requirement is appended with the next seq,
        # and the sort is stable, so this is the order of (due, seq).
        elements = self.gross.pop(code, [])
        elements.sort(key=_due)
        lots = self.snap.expiring.get(code, ())
        if self.settings.include_inspection and code in self.snap.expiring_inspection:
            lots = tuple(sorted((*lots, *self.snap.expiring_inspection[code])))
        if lots:
            elements = self.expire(part, elements, lots)
        receipts = sorted(self.receipts.get(code, []), key=lambda r: (r.due, r.source, r.id))
        self.check_data(code, part, bool(elements))
        # Sorted by date, so each bucket's requirements are one run of the list.
        by_bucket = {b: list(run) for b, run in groupby(elements, _bucket_of)}
        sr: dict[int, int] = defaultdict(int)
        # Each bucket's receipts on their days, for the dips before them that a new order
        # could cover; one due by the soonest a new order of its quantity could come
        # (released at the start, with everything it needs: ``ready_days``) counts from
        # the start: a new order would not beat it (expedite it). So does a production
        # order that ``mrp firm`` dated late by when its materials can come.
        arriving: dict[int, list[tuple[date, int]]] = defaultdict(list)
        # Likewise a later bucket's receipt due by then: a shortfall before it is met by
        # expediting it (rescheduling it in), not by a new order that could not come
        # sooner; by bucket, to count down as they arrive.
        soon: dict[int, int] = defaultdict(int)
        later: list[Receipt] = []  # the receipts that count on their days
        for r in receipts:
            b = cal.index(r.due)
            sr[b] += r.qty
            if r.due <= cal.start + timedelta(days=self.ready_days(code, r.qty)):
                arriving[b].append((cal.start, r.qty))
                soon[b] += r.qty
            else:
                arriving[b].append((r.due, r.qty))
                later.append(r)
        soon_left = sum(soon.values())
        events = sorted(set(by_bucket) | set(sr) | ({0} if start_stock < safety else set()))
        poh = start_stock
        orders: list[PlannedOrder] = []
        buckets = record.buckets
        for pos, b in enumerate(events):
            bucket = buckets[b] = Bucket(scheduled=sr.get(b, 0))
            todo = by_bucket.get(b, ())
            available = poh + bucket.scheduled
            gross = sum(map(_qty, todo))
            # A substitute stands in only for what the item's own stock cannot give (as
            # order release and backflush use it): rebuilding the item's safety stock is
            # the item's own replenishment, planned below.
            if gross > max(available, 0):
                gross -= self.substitute(code, todo, gross - max(available, 0))
            bucket.gross = gross
            after = available - gross
            # Stock after each requirement, the bucket's receipts added on their days: a
            # requirement before a receipt of the same bucket may dip below the end.
            walk = self.walk(poh, arriving.get(b, ()), todo) if b in sr else None
            low = min(after, min(run for _d, run in walk)) if walk else after
            soon_left -= soon.get(b, 0)  # arrived, in this bucket's stock now
            if low + soon_left < safety:
                lift = soon_left  # what receipts to expedite will cover is not planned
                low += lift
                if record.safety_from is None and safety:
                    record.safety_from = b
                bucket.net = safety - low
                if to_order:
                    new = self.order_each(part, todo, poh + lift, arriving.get(b, ()))
                else:
                    arrivals = arriving.get(b, ())
                    # Due the first day stock would fall below safety stock.
                    due = self.first_below(poh + lift, arrivals, todo, safety, cal.starts[b])
                    period = None
                    if part.lot_sizing == "period":
                        # The receipts counted from the start (``lift``) are not
                        # counted again on their days.
                        period = self.period_need(
                            part,
                            events[pos:],
                            by_bucket,
                            {k: v - soon.get(k, 0) for k, v in sr.items()},
                            later,
                            after + lift,
                            due,
                        )
                    need = bucket.net
                    # An order due before the (cumulative) lead time from the start is
                    # late: it covers only what is needed by then, and the rest of the
                    # bucket gets an order of its own, due (and released) later, in time
                    # for it and its components.
                    on_time = cal.start + timedelta(days=self.cumulative_lead_time(code))
                    if due < on_time and todo and todo[-1].due >= on_time:
                        walk = walk or self.walk(poh, arrivals, todo)
                        late = min(run for d, run in walk if d < on_time) + lift
                        need = min(safety - late, need)
                    new = self.lots(part, need, period, due, b)
                    covered = sum(o.qty for o in new)
                    if covered < bucket.net:
                        later = self.first_below(poh + lift + covered, arrivals, todo, safety, due)
                        new += self.lots(part, bucket.net - covered, None, later, b)
                orders.extend(new)
                bucket.planned_receipts = sum(o.qty for o in new)
                after += bucket.planned_receipts
            bucket.on_hand = poh = after
        released: list[int] = []  # each order's release bucket
        for o in orders:
            b = cal.index(o.release)
            released.append(b)
            releasing = buckets.get(b)
            if releasing is None:
                # A bucket with only a release carries projected on hand over.
                before = bisect_right(events, b)
                carried = buckets[events[before - 1]].on_hand if before else start_stock
                releasing = buckets[b] = Bucket(on_hand=carried)
            releasing.planned_releases += o.qty
        record.elements = [e for e in elements if e.qty > 0]
        record.receipts = receipts
        self.records[code] = record
        self.peg(record, orders, start_stock)
        self.peg_through_orders(record)
        short = self.find_shortage(part, record, orders, start_stock)
        self.receipt_messages(part, record, receipts, orders, start_stock, short)
        self.planned.extend(orders)
        lines = self.snap.boms.get(code)
        if part.make_or_buy != "make" or not lines:
            return
        # The orders' dependent demand, on their release dates (phantoms passed through).
        gross_of = self.gross
        seq = self.seq
        boms = self.snap.boms
        # Through a phantom, or with an item on two lines, an item's need is summed
        # before it is rounded (``explode``).
        phantom = any(c.phantom and c.item in boms for c in lines)
        if phantom or len({c.item for c in lines}) < len(lines):
            for o, b in zip(orders, released, strict=True):
                for c, need in explode(lines, o.qty, boms):
                    e = Element(o.release, b, need, o.label, o.demands, c.substitutes, o)
                    seq += 1
                    e.seq = seq
                    gross_of[c.item].append(e)
        else:  # no phantom to pass through: the lines' arithmetic inlined
            targets = [
                (gross_of[c.item].append, c.num, c.den, c.fixed, c.substitutes, c.whole)
                for c in lines
            ]
            for o, b in zip(orders, released, strict=True):
                label, roots, release, qty = o.label, o.demands, o.release, o.qty
                for append, num, den, fixed, substitutes, whole in targets:
                    need = -(-qty * num // den) + fixed
                    if whole:
                        need = -(-need // WHOLE) * WHOLE
                    e = Element(release, b, need, label, roots, substitutes, o)
                    seq += 1
                    e.seq = seq
                    append(e)
        self.seq = seq

    def expire(
        self, part: Part, elements: list[Element], lots: Sequence[tuple[date, str, int]]
    ) -> list[Element]:
        """The requirements with the stock of expiring lots that they leave unused: a
        requirement of the day after the lot's expiry date within the horizon (it serves
        no demand: ``roots`` empty, never a shortage), with an ``expires_unused``
        exception. The stock it takes is no longer there for later requirements, so
        they are planned."""
        cal = self.cal
        lost = expiries(lots, ((e.due, e.qty) for e in elements))
        if not lost:
            return elements
        for day, lot, qty in lost:
            if not cal.inside(day):
                break
            expired = day - timedelta(days=1)
            e = Element(day, cal.index(day), qty, f"lot {lot} (expires {expired})", ())
            self.seq += 1
            e.seq = self.seq
            elements.append(e)
            self.exceptions.append(
                Exception_(
                    "expires_unused",
                    part.code,
                    f"{_n(qty)} {part.code} in lot {lot} expire on {expired} before any "
                    f"requirement uses them: from {day} they are not counted (use them "
                    f"sooner, or extend the date after a re-test: mfgctl stock expiry "
                    f"{part.code} {lot} --expires DATE --reason ...)",
                    day,
                    f"lot {lot}",
                )
            )
        # The lost stock goes first on its day: that day's requirements cannot use it.
        elements.sort(key=lambda e: (e.due, bool(e.roots)))
        return elements

    def label(self, root: tuple[int]) -> str:
        return self.roots[root[0]].label

    def demands(self, ids: set[int]) -> tuple[Root, ...]:
        """The demands behind ``ids`` in run order; safety stock left out when real
        demands are among them."""
        real = ids - self.safety_roots
        return tuple(self.roots[n] for n in sorted(real or ids))

    def check_data(self, code: str, part: Part, used: bool) -> None:
        if not used:
            return
        if part.make_or_buy == "make" and not self.snap.boms.get(code):
            self.exceptions.append(
                Exception_(
                    "no_bom",
                    part.code,
                    f"{part.code} is a make item without an active BOM: its planned orders "
                    "need no material, which is surely wrong (mfgctl bom)",
                )
            )
        if part.make_or_buy == "buy" and part.lead_time_days == 0:
            self.exceptions.append(
                Exception_(
                    "no_lead_time",
                    part.code,
                    f"{part.code} is a buy item without a purchase lead time: it is planned "
                    "as if it arrived the day it is ordered "
                    f"(mfgctl item update {part.code} --purchase-lead-time-days N)",
                )
            )

    def walk(
        self, poh: int, arrivals: Sequence[tuple[date, int]], todo: Sequence[Element]
    ) -> list[tuple[date, int]]:
        """A bucket's stock after each of its requirements, in date order, from ``poh``
        with the bucket's receipts (arrival day, quantity) added on their days, before
        that day's requirements; a requirement due before the start counts at it."""
        start = self.cal.start
        out = []
        run, i, n = poh, 0, len(arrivals)
        for e in todo:
            day = e.due if e.due > start else start
            while i < n and arrivals[i][0] <= day:
                run += arrivals[i][1]
                i += 1
            run -= e.qty
            out.append((e.due, run))
        return out

    def first_below(
        self,
        poh: int,
        arrivals: Sequence[tuple[date, int]],
        todo: Sequence[Element],
        safety: int,
        default: date,
    ) -> date:
        """The first day of a bucket on which stock, from ``poh``, falls below
        ``safety`` (``walk``'s stock, without the list); ``default`` if it never does."""
        if not arrivals:
            for e in todo:
                poh -= e.qty
                if poh < safety:
                    return e.due
            return default
        for day, run in self.walk(poh, arrivals, todo):
            if run < safety:
                return day
        return default

    def cumulative_lead_time(self, code: str) -> int:
        """An item's lead time plus the longest cumulative lead time of its components
        (through phantoms, which take none): how long from the start before an order of
        it released then, and everything it needs, can be ready."""
        found = self.cum_lt.get(code)
        if found is None:
            part = self.snap.parts[code]
            longest = 0
            if part.make_or_buy == "make":
                for child in self.components(code):
                    longest = max(longest, self.cumulative_lead_time(child))
            found = self.cum_lt[code] = part.lead_time_days + longest
        return found

    def ready_days(self, code: str, qty: int) -> int:
        """How many days from the start before a new order of ``qty`` of the item,
        released then, can come: its lead time, plus for a make item the longest time
        before the components its free stock does not cover can come (what is on the
        shelf is there now; the rest takes its own ready days). The cumulative lead
        time, less what stock already holds: one C in stock does not make an order that
        needs ten come sooner."""
        part = self.snap.parts[code]
        longest = 0
        lines = self.snap.boms.get(code)
        if part.make_or_buy == "make" and lines:
            for c, need in explode(lines, qty, self.snap.boms):
                if c.item not in self.snap.parts:
                    continue
                lacking = need - max(self.on_hand(c.item), 0)
                if lacking > 0:
                    longest = max(longest, self.ready_days(c.item, lacking))
        return part.lead_time_days + longest

    def components(self, code: str) -> Iterable[str]:
        """The active items an order of ``code`` requires, phantoms passed through."""
        return (item for item in leaf_items(code, self.snap.boms) if item in self.snap.parts)

    def lots(
        self, part: Part, need: int, period: int | None, due: date, b: int
    ) -> list[PlannedOrder]:
        """The planned orders that cover ``need`` due on ``due`` by the lot-size rules."""
        sizes = lot_sizes(part, need, period)
        if len(sizes) >= MAX_LOTS:
            self.exceptions.append(
                Exception_(
                    "too_many_lots",
                    part.code,
                    f"{part.code} needs more than {MAX_LOTS} orders on {due} by its lot-size "
                    "rules: the last one carries the rest (check its fixed and maximum order "
                    "quantities)",
                    due,
                )
            )
        return [self.new_order(part, qty, due, b) for qty in sizes]

    def period_need(
        self,
        part: Part,
        events: list[int],
        by_bucket: Mapping[int, list[Element]],
        sr: Mapping[int, int],
        receipts: Sequence[Receipt],
        after: int,
        due: date,
    ) -> int | None:
        """Period order quantity: what keeps stock at safety stock through the
        ``period_days`` from ``due``: the later buckets that start before the period
        ends, in the last of them only what is due before the end (a need on a Wednesday
        with 14 days covers two weekly buckets' requirements, not three)."""
        if part.lot_sizing != "period" or not part.period_days:
            return None
        cal = self.cal
        safety = part.safety_stock
        end = due + timedelta(days=part.period_days)
        need = safety - after
        level = after
        for b in events[1:]:
            if cal.starts[b] >= end:
                break
            todo = by_bucket.get(b, ())
            if cal.last_day(b) < end:
                level += sr.get(b, 0) - sum(e.qty for e in todo)
            else:
                level += sum(r.qty for r in receipts if r.due < end and cal.index(r.due) == b)
                level -= sum(e.qty for e in todo if e.due < end)
            need = max(need, safety - level)
        return need

    def order_each(
        self,
        part: Part,
        todo: Sequence[Element],
        available: int,
        arrivals: Sequence[tuple[date, int]] = (),
    ) -> list[PlannedOrder]:
        """Make-to-order: one planned order for each requirement that stock (and the
        bucket's ``arrivals`` that come by its day, as ``walk`` adds them) does not
        cover."""
        out = []
        # Each requirement's orders follow the item's minimum, multiple and maximum (on a
        # lot-for-lot base: a fixed or period quantity would serve other demands).
        own = part if part.lot_sizing == "lot_for_lot" else replace(part, lot_sizing="lot_for_lot")
        start = self.cal.start
        i, n = 0, len(arrivals)
        for e in todo:
            day = e.due if e.due > start else start
            while i < n and arrivals[i][0] <= day:
                available += arrivals[i][1]
                i += 1
            take = min(max(available, 0), e.qty)
            available -= take
            if e.qty > take:
                lots = lot_sizes(own, e.qty - take)
                for qty in lots:
                    out.append(self.new_order(part, qty, e.due, e.b))
                # What the rules made beyond this need serves the next requirement.
                available += sum(lots) - (e.qty - take)
        return out

    def new_order(self, part: Part, qty: int, due: date, b: int) -> PlannedOrder:
        self.next_id += 1
        return PlannedOrder(
            id=self.next_id,
            item=part.code,
            kind=part.make_or_buy,
            qty=qty,
            release=due - timedelta(days=part.lead_time_days),
            due=due,
            b=b,
        )

    def spare(self, key: str) -> int:
        """What of an item not planned yet is free for another's use: its free stock less
        its safety stock and every requirement of it known so far (its own demand, its
        parents' planned orders, what earlier substitutions took), whatever their dates: a
        substitute's stock never goes to another item while its own requirements need it."""
        part = self.snap.parts[key]
        safety = 0 if part.method in ("make_to_order", "assemble_to_order") else part.safety_stock
        return self.on_hand(key) - safety - sum(e.qty for e in self.gross.get(key, ()))

    def substitute(self, code: str, todo: Sequence[Element], short: int) -> int:
        """Cover up to ``short`` from substitutes' spare stock; returns what was taken."""
        taken = 0
        for e in todo:
            for sub in e.substitutes:
                if taken >= short or e.qty == 0:
                    break
                key = sub.upper()
                if key in self.done or key == code or key not in self.snap.parts:
                    continue
                take = min(self.spare(key), e.qty, short - taken)
                if take <= 0:
                    continue
                e.qty -= take
                taken += take
                part = self.snap.parts[code]
                stand_in = Element(e.due, e.b, take, f"{e.source} instead of {part.code}", e.roots)
                stand_in.order = e.order
                self.add(key, stand_in)
                sub_code = self.snap.parts[key].code
                self.exceptions.append(
                    Exception_(
                        "substitute",
                        part.code,
                        f"{part.code} is short on {e.due}: use {_n(take)} {sub_code} "
                        f"(a substitute with free stock) for {e.source}",
                        e.due,
                        sub_code,
                    )
                )
        return taken

    # -- pegging and messages ---------------------------------------------------------

    def peg(self, record: Record, orders: list[PlannedOrder], start_stock: int) -> None:
        """Allocate supply to requirements first-in first-out (by bucket, then date)."""
        cal = self.cal
        supplies: list[list[Any]] = [[-1, date.min, "stock", max(start_stock, 0), None]]
        for r in record.receipts:
            supplies.append([cal.index(r.due), r.due, r.label, r.qty, None])
        for o in orders:
            supplies.append([o.b, o.due, o.label, o.qty, o])
        supplies.sort(key=lambda s: (s[0], s[1]))
        demands = list(record.elements)
        if record.safety_stock:
            # Safety stock is pegged after the requirements of the first bucket whose stock
            # falls below it (a planned order that only rebuilds it serves no demand, so a
            # late one endangers none); never below it, it is held from the end.
            part = self.snap.parts[record.item.upper()]
            root = self.root("safety_stock", None, part.code)
            label = self.label(root)
            b = record.safety_from
            if b is None:
                last = len(cal.starts) - 1
                demands.append(Element(cal.end, last, record.safety_stock, label, root))
            else:
                at = bisect_right(demands, b, key=_bucket_of)
                demands.insert(at, Element(cal.starts[b], b, record.safety_stock, label, root))
        # The supply being drawn on: its label, what is left of it, its planned order.
        pending = iter(supplies)
        label, rest, order = "", 0, None
        for e in demands:
            left = e.qty
            while left > 0:
                if rest == 0:
                    found = next(pending, None)
                    if found is None:
                        break
                    _b, _due, label, rest, order = found
                    continue
                take = left if left < rest else rest
                e.supplied.append((label, take, order))
                if order is not None:
                    order.pegging.append((take, e))
                rest -= take
                left -= take
        for o in orders:
            if len(o.pegging) == 1:
                o.demands = o.pegging[0][1].roots  # shared, not copied
            else:
                o.demands = tuple(sorted(set().union(*[e.roots for _q, e in o.pegging])))

    def peg_through_orders(self, record: Record) -> None:
        """Pegging through open production orders: the demands an order's output was
        pegged to (a customer order it will ship to) join its materials' requirements,
        so a component's shortage names the customer order behind the production
        order, as it did before the order was firmed from a planned one."""
        mine = {r.label for r in record.receipts if r.label in self.order_elements}
        if not mine:
            return
        served: dict[str, set[int]] = {}
        for e in record.elements:
            for label, _qty, order in e.supplied:
                if order is None and label in mine:
                    served.setdefault(label, set()).update(e.roots)
        for label, roots in served.items():
            for element in self.order_elements[label]:
                element.roots = tuple(sorted(roots.union(element.roots)))

    def receipt_messages(
        self,
        part: Part,
        record: Record,
        receipts: list[Receipt],
        orders: list[PlannedOrder],
        start_stock: int,
        short: set[int],
    ) -> None:
        """Exceptions on planned orders released late and on scheduled receipts;
        ``short``: the ids of the item's requirements found short."""
        cal = self.cal
        for o in orders:
            if o.due < cal.start:
                self.exceptions.append(
                    Exception_(
                        "past_due",
                        part.code,
                        f"{o.label}: {_n(o.qty)} {part.code} were needed on {o.due}, before "
                        "the start: the requirement is already late",
                        o.due,
                        o.label,
                    )
                )
            elif o.release < cal.start:
                # Released now, it arrives a lead time from the start: is anything it
                # serves due before then (a shortage), or only safety stock?
                soonest = cal.start + timedelta(days=part.lead_time_days)
                early = [
                    e
                    for _q, e in o.pegging
                    if e.due < soonest and not self.safety_roots.issuperset(e.roots)
                ]
                if early:
                    effect = "short unless expedited"
                elif part.safety_stock:
                    effect = (
                        f"stock stays below its safety stock ({_n(part.safety_stock)}) "
                        f"until it arrives unless expedited (released now: {soonest}, in "
                        "time for what it serves)"
                    )
                else:
                    effect = f"release it now: it arrives {soonest}, in time for what it serves"
                self.exceptions.append(
                    Exception_(
                        "inside_lead_time",
                        part.code,
                        f"{o.label}: {_n(o.qty)} {part.code} needed {o.due} should have been "
                        f"released {o.release} ({part.lead_time_days} days lead time): "
                        f"{effect}",
                        o.release,
                        o.label,
                    )
                )
        if not receipts:
            return
        first = self.first_needs(record, receipts, start_stock)
        soonest = cal.start + timedelta(days=part.lead_time_days)
        for n, r in enumerate(receipts):
            s = cal.index(r.due)
            e = first.get(n)
            if e is None:
                self.exceptions.append(
                    Exception_(
                        "cancel",
                        part.code,
                        f"{r.label} ({_n(r.qty)} {part.code} due {r.due}) is not needed "
                        f"within the horizon: cancel or delay it ({r.stop_hint()})",
                        r.due,
                        r.label,
                    )
                )
            elif r.due < cal.start and e.due <= soonest:
                # Overdue and needed before a new order could come: whatever the
                # bucket, chase it (needed later, it is delayed, below).
                self.exceptions.append(
                    Exception_(
                        "overdue_receipt",
                        part.code,
                        f"{r.label} was due {r.due}: {_n(r.qty)} {part.code} are overdue "
                        "(counted as arriving now): chase it",
                        r.due,
                        r.label,
                    )
                )
            elif e.due < r.due:  # to the day, as shortages are found
                # A planned order that can still be released and is there by the need.
                gap = next((o for o in orders if o.due <= e.due and o.release >= cal.start), None)
                # The last day a new order for it, with what it needs, could be placed.
                latest = e.due - timedelta(days=self.ready_days(part.code.upper(), e.qty))
                held = e.source == "safety stock" and not e.roots  # first_needs' safety
                why = f" to keep safety stock ({_n(record.safety_stock)})" if held else ""
                if gap:
                    meanwhile = (
                        f", or release {gap.label}, planned to cover the gap (then {r.label} "
                        "comes early: delay it)"
                    )
                elif record.safety_stock and not any(
                    x.due < r.due for x in record.elements if id(x) in short
                ):  # nothing short before it comes: only safety stock waits
                    meanwhile = " (stock stays below its safety stock until it comes)"
                elif latest >= cal.start:
                    meanwhile = f" (or order anew by {latest}: that arrives in time)"
                else:
                    meanwhile = " (nothing else can arrive before it: short until it comes)"
                # Needed before the start (by a late order's release): needed now.
                when = f"on {e.due}" if e.due >= cal.start else f"now (since {e.due})"
                self.exceptions.append(
                    Exception_(
                        "expedite",
                        part.code,
                        f"{r.label} due {r.due} is needed {when}{why}: expedite it{meanwhile}",
                        max(e.due, cal.start),
                        r.label,
                    )
                )
            elif e.b > s or r.due < cal.start:
                self.exceptions.append(
                    Exception_(
                        "delay",
                        part.code,
                        f"{r.label} due {r.due} is not needed before {e.due}: delay it",
                        e.due,
                        r.label,
                    )
                )

    def first_needs(
        self, record: Record, receipts: list[Receipt], start_stock: int
    ) -> dict[int, Element]:
        """Each scheduled receipt's first requirement (by its index in ``receipts``):
        the requirements, earliest first, take free stock and then the receipts in due
        order, planned orders left out, so the receipts a planner can move are judged
        together and their messages never contradict (two receipts are not both
        expedited for one gap, nor both cancelled when one is needed). Safety stock is
        held from the start: a receipt that keeps stock at it is needed."""
        needs: Iterable[Element] = record.elements
        if record.safety_stock:
            held = Element(self.cal.start, 0, record.safety_stock, "safety stock", ())
            needs = [held, *record.elements]
        first: dict[int, Element] = {}
        stock = max(start_stock, 0)
        k, rest = 0, receipts[0].qty
        for e in needs:
            left = e.qty - min(stock, e.qty)
            stock -= e.qty - left
            while left > 0 and k < len(receipts):
                first.setdefault(k, e)
                take = min(rest, left)
                rest -= take
                left -= take
                if rest == 0:
                    k += 1
                    rest = receipts[k].qty if k < len(receipts) else 0
            if k == len(receipts):
                break
        return first

    def find_shortage(
        self, part: Part, record: Record, orders: list[PlannedOrder], start_stock: int
    ) -> set[int]:
        """What stock, scheduled receipts and planned orders cannot cover by its date:
        each requirement, earliest first, takes from the supply that has arrived by its
        day (to the day, as planned orders are dated: a purchase order due on Saturday
        does not cover Tuesday's requirement of the same week; what was due before the
        start counts at the start; a planned order that should have been released before
        the start arrives a lead time after the start, if released then). Requirements
        that only replenish safety stock are left out (a late one is an exception, not a
        shortage)."""
        cal = self.cal
        start = cal.start
        supplies = [(date.min, max(start_stock, 0))]
        supplies += [(max(r.due, start), r.qty) for r in record.receipts]
        # A planned order released late arrives, released today, a lead time from now.
        soonest = start + timedelta(days=part.lead_time_days)
        supplies += [(o.due if o.release >= start else soonest, o.qty) for o in orders]
        supplies.sort(key=_first)
        supplies.append((date.max, 0))  # a sentinel after every day
        i, pool = 0, 0
        owed = 0  # what short requirements still wait for: the next supply goes to them
        arrives = supplies[0][0]
        short: list[tuple[Element, int]] = []
        safety_only = self.safety_roots.issuperset
        for e in record.elements:
            b = e.due if e.due > start else start
            while arrives <= b:
                pool += supplies[i][1]
                i += 1
                arrives = supplies[i][0]
            if owed and pool:
                paid = min(owed, pool)
                owed -= paid
                pool -= paid
            qty = e.qty
            if pool >= qty:
                pool -= qty
            else:
                if not safety_only(e.roots):
                    short.append((e, qty - pool))
                    owed += qty - pool
                pool = 0
        if not short:
            return set()
        late = tuple(o.id for o in orders if o.release < cal.start)
        total = sum(n for _e, n in short)
        # What was due before the start counts at the start: it is short from then.
        first = max(min(e.due for e, _n in short), start)
        pending = 0
        if not self.settings.include_inspection:
            # What is pending inspection and still good on the first short day.
            key = part.code.upper()
            pending = self.snap.inspection.get(key, 0) - sum(
                qty for day, _lot, qty in self.snap.expiring_inspection.get(key, ()) if day < first
            )
        self.short.append(
            Shortage(
                part.code,
                total,
                first,
                self.demands(set().union(*[e.roots for e, _n in short])),
                late,
                pending,
            )
        )
        if pending > 0:
            self.exceptions.append(
                Exception_(
                    "in_inspection",
                    part.code,
                    f"{_n(pending)} {part.code} pending inspection could cover "
                    f"{_n(min(pending, total))} of the {_n(total)} short from {first}: "
                    f"inspect it (mfgctl inspect {part.code} --pass) or plan with "
                    "--include-inspection to count it",
                    first,
                )
            )
        for e, n in short:
            if e.source.startswith("ORDER-"):
                # "ORDER-5", or "ORDER-5 instead of X" for a substitute's requirement.
                order = e.source.split(" ", 1)[0]
                what = "cannot go on" if order in self.started else "cannot start on"
                self.exceptions.append(
                    Exception_(
                        "order_short",
                        part.code,
                        f"{e.source} ({self.order_items[order]}) {what} {e.due}: "
                        f"{_n(n)} {part.code} are not in stock and cannot arrive in time",
                        e.due,
                        e.source,
                    )
                )
        return {id(e) for e, _n in short}


_due = attrgetter("due")
_first = itemgetter(0)
_bucket_of = attrgetter("b")
_qty = attrgetter("qty")


def _n(micro: int) -> str:
    from mfgctl.qty import dec, fmt

    return fmt(dec(micro))


def plan(
    snap: Snapshot,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """The MRP run on ``snap``: pure, deterministic, writes nothing.

    Raises:
        BomCycle: the active BOMs contain a cycle.
    """
    with paused():  # millions of objects that live until the run ends
        return _Run(snap, settings, progress).run()
