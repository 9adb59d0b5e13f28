"""The ``demand:`` and ``purchase_orders:`` sections of an import: open demand and open
purchase orders, each added once.

A record names an active item (in the database or in the same import; a purchase order
a buy item), a ``qty`` in ``unit`` (default the base unit, stored exactly in the base
unit) and a ``due`` date::

    demand:          [{item: HD-200, qty: 40, due: 2025-07-01, kind: sales, ref: SO-1042}]
    purchase_orders: [{item: MIC-100, qty: 2, unit: reel, due: 2025-06-20,
                       supplier: Knowles, ref: Q-77, unit_cost: 0.85}]

A record is the same as a stored one, in any state, with the same identity: for demand
its item, ``kind``, ``due``, ``ref`` and quantity; for a purchase order its item,
``due``, ``supplier``, ``ref`` and quantity; an open demand or order matches its ordered
or its still-open quantity (not yet shipped or received: what ``export`` writes). Such a
record changes nothing, so importing a file again, or an export, adds nothing; a stored
record is matched by one record at most, so a file giving a record twice has two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mfgctl import qty as q
from mfgctl import timefmt
from mfgctl.domain import codes, demand, items, purchases
from mfgctl.domain.items import Item
from mfgctl.errors import InvalidInput, RuleViolation
from mfgctl.importer.records import At, Change, upper

if TYPE_CHECKING:
    from mfgctl.importer.load import Import

DEMAND_KEYS = ("item", "qty", "unit", "due", "kind", "ref")
PURCHASE_KEYS = ("item", "qty", "unit", "due", "supplier", "ref", "unit_cost")

Field = Callable[[str, Callable[[Any, str], Any]], Any]


@dataclass(slots=True)
class Planned:
    """A valid record: what to add, unless it matched a stored one (``stored``)."""

    item: Item
    qty: Decimal  # in the base unit
    due: str
    fields: dict[str, Any]
    at: At
    stored: str | None = None  # the stored record it is, like "demand 3 (cancelled)"


class _Section:
    """One section's records: each checked and matched, then the new ones added."""

    kind = ""  # as the import's summary names it
    required: tuple[str, ...] = ()

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.find_item = job.find_item
        self.guard = job.guard
        self.entries: list[Planned] = []
        self._pool: dict[tuple[Any, ...], list[tuple[int, str]]] | None = None
        self._matched: set[int] = set()

    # -- what differs between demand and purchase orders

    def fields(self, field: Field) -> dict[str, Any]:
        raise NotImplementedError

    def usable(self, item: Item) -> None:
        """Raise a domain error for an item this section cannot take."""

    def identity(
        self, code: str, qty: Decimal, due: str, fields: dict[str, Any]
    ) -> tuple[Any, ...]:
        raise NotImplementedError

    def stored(self) -> Iterable[tuple[int, str, list[tuple[Any, ...]]]]:
        """Every stored record: its id, how to name it, its identities."""
        raise NotImplementedError

    def add(self, entry: Planned, user: str) -> object:
        """Add the record through the domain; returns what was stored."""
        raise NotImplementedError

    def key(self, entry: Planned) -> str:
        raise NotImplementedError

    # -- shared

    def check(self, at: At) -> None:
        """Validate one record; a valid one is matched against the stored ones and kept."""
        rec, path, problems = at.record, at.path, self.problems
        start = len(problems)
        for key in self.required:
            if key not in rec:
                problems.append(at.say("missing", key))
        if len(problems) > start:
            return

        def field(key: str, parse: Callable[[Any, str], Any]) -> Any:
            if key not in rec:
                return None
            try:
                return parse(rec[key], f"{path}.{key}")
            except (InvalidInput, ValueError) as e:
                problems.append(at.explain(e))
                return None

        item = field("item", self._item)
        number = field("qty", lambda v, what: q.parse_qty(v, what=what))
        unit = field("unit", lambda v, what: q.parse_unit(v, what=what))
        due = field("due", lambda v, what: timefmt.parse_plan_date(v, what=what).isoformat())
        fields = self.fields(field)
        if len(problems) > start:
            return
        try:
            amount = item.to_base(number, unit)
        except InvalidInput as e:
            problems.append(at.say(str(e), "unit"))
            return
        try:
            q.to_micro(amount, what=f"{path}.qty in {item.unit}")
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        try:
            items.check_whole(item, amount)
        except InvalidInput as e:
            problems.append(at.say(str(e), "qty"))
            return
        entry = Planned(item, amount, due, fields, at)
        entry.stored = self._match(self.identity(upper(item.code), amount, due, fields))
        self.entries.append(entry)

    def _item(self, value: object, what: str) -> Item:
        code = codes.code(value, what=what)
        item = self.find_item(code)
        if item is None:
            raise InvalidInput(f"{what} unknown item {code!r}")
        if not item.active:
            raise InvalidInput(
                f"{what} {item.code} is deactivated: it takes no new demand or orders"
            )
        try:
            self.usable(item)
        except RuleViolation as e:
            raise InvalidInput(f"{what} {e}") from None
        return item

    def _match(self, identity: tuple[Any, ...]) -> str | None:
        """The stored record this one is (each is matched once), or None."""
        if self._pool is None:
            self._pool = {}
            for record_id, name, identities in self.stored():
                for ident in identities:
                    self._pool.setdefault(ident, []).append((record_id, name))
        for record_id, name in self._pool.get(identity, ()):
            if record_id not in self._matched:
                self._matched.add(record_id)
                return name
        return None

    def write(self, user: str) -> list[Change]:
        """Add every record that matched no stored one; problems are collected."""
        changes: list[Change] = []
        for entry in self.entries:
            detail = f"{q.fmt(entry.qty)} {entry.item.unit}"
            if entry.stored is not None:
                changes.append(Change(self.kind, self.key(entry), "unchanged", entry.stored))
                continue
            if self.guard(entry.at, lambda e=entry: self.add(e, user)) is not None:
                changes.append(Change(self.kind, self.key(entry), "added", detail))
        return changes


def _text(value: object, what: str) -> str | None:
    return codes.text(value, what=what, required=False)


class DemandSection(_Section):
    """``demand:``: sales orders and forecasts."""

    kind = "demand"
    required = ("item", "qty", "due", "kind")

    def fields(self, field: Field) -> dict[str, Any]:
        return {
            "kind": field("kind", lambda v, what: demand.parse_kind(v, what=what)),
            "ref": field("ref", _text),
        }

    def identity(
        self, code: str, qty: Decimal, due: str, fields: dict[str, Any]
    ) -> tuple[Any, ...]:
        return (code, fields["kind"], due, fields["ref"], qty)

    def stored(self) -> Iterable[tuple[int, str, list[tuple[Any, ...]]]]:
        for d in demand.list_demand(self.db, include_all=True):
            same = (upper(d.item), d.kind, d.due_on, d.ref)
            identities = [(*same, d.qty)]
            if d.state == "open" and d.shipped:
                identities.append((*same, d.open_qty))
            yield d.id, f"demand {d.id} ({d.state})", identities

    def add(self, entry: Planned, user: str) -> object:
        return demand.add(
            self.db,
            item=entry.item.code,
            qty=entry.qty,
            due=entry.due,
            kind=entry.fields["kind"],
            ref=entry.fields["ref"],
            user=user,
            how="imported",
        )

    def key(self, entry: Planned) -> str:
        ref = entry.fields["ref"]
        return f"{entry.item.code} {entry.fields['kind']} due {entry.due}" + (
            f" ref {ref}" if ref else ""
        )


class PurchaseSection(_Section):
    """``purchase_orders:``: open purchase orders of buy items."""

    kind = "purchase_order"
    required = ("item", "qty", "due")

    def fields(self, field: Field) -> dict[str, Any]:
        return {
            "supplier": field("supplier", _text),
            "ref": field("ref", _text),
            "unit_cost": field("unit_cost", _unit_cost),
        }

    def usable(self, item: Item) -> None:
        purchases.check_buy(item)

    def identity(
        self, code: str, qty: Decimal, due: str, fields: dict[str, Any]
    ) -> tuple[Any, ...]:
        return (code, due, fields["supplier"], fields["ref"], qty)

    def stored(self) -> Iterable[tuple[int, str, list[tuple[Any, ...]]]]:
        for p in purchases.list_orders(self.db, include_all=True):
            same = (upper(p.item), p.due_on, p.supplier, p.ref)
            identities = [(*same, p.qty)]
            if p.state == "open" and p.received:
                identities.append((*same, p.open_qty))
            yield p.id, f"purchase order {p.id} ({p.state})", identities

    def add(self, entry: Planned, user: str) -> object:
        return purchases.add(
            self.db,
            item=entry.item.code,
            qty=entry.qty,
            due=entry.due,
            supplier=entry.fields["supplier"],
            ref=entry.fields["ref"],
            cost=entry.fields["unit_cost"],
            user=user,
            how="imported",
        )

    def key(self, entry: Planned) -> str:
        f = entry.fields
        extra = "".join(f" {k} {f[k]}" for k in ("supplier", "ref") if f[k])
        return f"{entry.item.code} due {entry.due}{extra}"


def _unit_cost(value: object, what: str) -> Decimal:
    cost = q.parse_qty(value, what=what, allow_zero=True)
    q.to_micro(cost, what=what)
    return cost
