"""Loading an import: validate every record against the database, then write them all.

All documents are read and every record is validated before anything is written; then
everything is written in the caller's one transaction, in the order locations, work
centres, items, BOMs, routings, stock, demand, purchase orders. Every problem found is
reported (``ImportInvalid``). A record equal to what is stored changes nothing; a
changed item is updated. The ``workcenters:``, ``boms:``, ``routings:`` and ``stock:``
sections have their own modules (``workcenters``, ``boms``, ``routings``, ``opening``),
``demand:`` and ``purchase_orders:`` share ``planning``; this one owns the document
structure, ``locations:`` and ``items:``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from mfgctl.db import rolled_back
from mfgctl.domain import codes, items, locations, workcenters
from mfgctl.domain.bom import BOM_KEYS
from mfgctl.domain.items import Item
from mfgctl.domain.stages import ROUTING_KEYS
from mfgctl.errors import ImportInvalid, InvalidInput, MfgError
from mfgctl.importer.boms import Boms
from mfgctl.importer.opening import STOCK_KEYS, OpeningStock
from mfgctl.importer.planning import DEMAND_KEYS, PURCHASE_KEYS, DemandSection, PurchaseSection
from mfgctl.importer.records import SECTIONS, At, Change, Result, upper
from mfgctl.importer.routings import Routings
from mfgctl.importer.workcenters import WorkCentres
from mfgctl.importer.yamlread import Document, Record, Seq

LOCATION_KEYS = ("code", "name")
_KEYS: dict[str, tuple[str, ...]] = {
    "locations": LOCATION_KEYS,
    "workcenters": workcenters.KEYS,
    "items": items.KEYS,
    "boms": BOM_KEYS,
    "routings": ROUTING_KEYS,
    "stock": STOCK_KEYS,
    "demand": DEMAND_KEYS,
    "purchase_orders": PURCHASE_KEYS,
}


@dataclass(slots=True)
class _Location:
    code: str
    name: str | None
    at: At
    action: str = "added"


@dataclass(slots=True)
class _Item:
    item: Item
    at: At
    old: Item | None
    action: str
    changed: list[str] = field(default_factory=list)


class Import:
    """Validates every record of an import against the database, then writes them."""

    def __init__(self, db: sqlite3.Connection, documents: Iterable[Document]) -> None:
        self.db = db
        self.problems: list[str] = []
        self.sections: dict[str, list[At]] = {s: [] for s in SECTIONS}
        self.locations: dict[str, _Location] = {}
        self.items: dict[str, _Item] = {}
        self.db_items = {upper(i.code): i for i in items.all_items(db)}
        self.boms = Boms(self)
        self.routings = Routings(self)
        self.workcenters = WorkCentres(self)
        self.stock = OpeningStock(self)
        self.demand = DemandSection(self)
        self.purchase_orders = PurchaseSection(self)
        for doc in documents:
            self._split(doc)

    # -- structure

    def _split(self, doc: Document) -> None:
        data = doc.data
        if data is None:
            return
        if not isinstance(data, Record):
            line = getattr(data, "line", 1)
            self.problems.append(
                f"{doc.file}:{line}: a document must be a mapping with any of "
                f"{', '.join(s + ':' for s in SECTIONS)}"
            )
            return
        for key, value in data.items():
            line = data.key_line(key)
            if key not in SECTIONS:
                self.problems.append(
                    f"{doc.file}:{line}: {key}: unknown section (known: {', '.join(SECTIONS)})"
                )
                continue
            if value is None:
                continue
            if not isinstance(value, Seq):
                self.problems.append(f"{doc.file}:{line}: {key}: must be a list of records")
                continue
            for n, rec in enumerate(value):
                at = At(doc.file, rec, f"{key}[{n}]")
                if not isinstance(rec, Record):
                    self.problems.append(
                        f"{doc.file}:{value.entry_line(n)}: {key}[{n}]: must be a mapping "
                        f"(like {{{_KEYS[key][0]}: ...}})"
                    )
                    continue
                unknown = [k for k in rec if k not in _KEYS[key]]
                for k in unknown:
                    self.problems.append(
                        at.say(f"unknown key (known: {', '.join(_KEYS[key])})", str(k))
                    )
                if not unknown:
                    self.sections[key].append(at)

    def validate(self) -> None:
        for at in self.sections["locations"]:
            self._location(at)
        for at in self.sections["workcenters"]:
            self.workcenters.check(at)
        for at in self.sections["items"]:
            self._item(at)
        for at in self.sections["boms"]:
            self.boms.check(at)
        if self.boms.entries:
            self.boms.check_cycles()
        for at in self.sections["routings"]:
            self.routings.check(at)
        for at in self.sections["stock"]:
            self.stock.check(at)
        for at in self.sections["demand"]:
            self.demand.check(at)
        for at in self.sections["purchase_orders"]:
            self.purchase_orders.check(at)

    # -- locations

    def _location(self, at: At) -> None:
        rec = at.record
        if "code" not in rec:
            self.problems.append(at.say("missing: every location needs a code", "code"))
            return
        try:
            code = codes.code(rec["code"], what=f"{at.path}.code")
            name = codes.text(rec.get("name"), what=f"{at.path}.name", required=False)
        except InvalidInput as e:
            self.problems.append(at.explain(e))
            return
        if upper(code) in self.locations:
            first = self.locations[upper(code)].at
            self.problems.append(
                at.say(
                    f"location {code} is given twice (first at {first.file}:{first.line})", "code"
                )
            )
            return
        try:
            locations.refuse_reserved(code)
        except InvalidInput as e:
            self.problems.append(at.say(str(e), "code"))
            return
        existing = locations.find(self.db, code)
        entry = _Location(code, name, at)
        if existing is not None:
            if not existing.internal:
                self.problems.append(
                    at.say(f"{existing.code} is a virtual place and cannot be redefined", "code")
                )
                return
            entry.code = existing.code
            entry.action = "changed" if name and name != existing.name else "unchanged"
        self.locations[upper(code)] = entry

    def location_known(self, code: str) -> bool:
        if upper(code) in self.locations:
            return True
        loc = locations.find(self.db, code)
        return loc is not None and loc.internal and loc.active

    # -- items

    def _item(self, at: At) -> None:
        rec = at.record
        if "code" not in rec:
            self.problems.append(at.say("missing: every item needs a code", "code"))
            return
        try:
            code = codes.code(rec["code"], what=f"{at.path}.code")
        except InvalidInput as e:
            self.problems.append(at.explain(e))
            return
        raw = {k: v for k, v in rec.items() if k != "code"}
        first = self.items.get(upper(code))
        if first is not None:
            self.problems.append(
                at.say(
                    f"item {code} is given twice (first at {first.at.file}:{first.at.line})", "code"
                )
            )
            return
        try:
            item = items.build(code, raw, where=f"{at.path}.")
        except (InvalidInput, ValueError) as e:
            # Say every bad field, not only the first one build() met.
            start = len(self.problems)
            for key, value in raw.items():
                try:
                    items.PARSERS[key](value, f"{at.path}.{key}")
                except (InvalidInput, ValueError) as field_error:
                    self.problems.append(at.explain(field_error))
            missing = [k for k in items.REQUIRED if k not in raw]
            if missing:
                self.problems.append(at.say(f"item {code} needs {', '.join(missing)}", missing[0]))
            if len(self.problems) == start:
                self.problems.append(at.explain(e))
            return
        old = self.db_items.get(upper(code))
        if old is None:
            self.items[upper(code)] = _Item(item, at, None, "added")
            return
        item = replace(item, code=old.code, id=old.id)
        before, after = old.as_dict(), item.as_dict()
        changed = [k for k in before if before[k] != after[k]]
        action = "changed" if changed else "unchanged"
        self.items[upper(code)] = _Item(item, at, old, action, changed)

    def find_item(self, code: str) -> Item | None:
        entry = self.items.get(upper(code))
        return entry.item if entry is not None else self.db_items.get(upper(code))

    # -- writing

    def write(self, user: str) -> list[Change]:
        """Write everything (the caller holds the transaction); problems raise at the end."""
        changes: list[Change] = []
        db = self.db
        for loc in self.locations.values():
            if loc.action != "unchanged":
                self.guard(loc.at, lambda loc=loc: locations.ensure(db, loc.code, loc.name))
            detail = f"name {loc.name!r}" if loc.action == "changed" else ""
            changes.append(Change("location", loc.code, loc.action, detail))
        self.stop()
        changes.extend(self.workcenters.write(user))
        self.stop()
        # New codes were checked against the database and each other during validation.
        added = [e for e in self.items.values() if e.action == "added"]
        stored = items.insert_many(db, [e.item for e in added])
        for entry, item in zip(added, stored, strict=True):
            entry.item = item
        for entry in self.items.values():
            if entry.action == "changed":
                self.guard(entry.at, lambda e=entry: items.store_update(db, e.old, e.item))
            changes.append(Change("item", entry.item.code, entry.action, ", ".join(entry.changed)))
        self.stop()
        changes.extend(self.boms.write())
        self.stop()
        # Once the file's BOMs are in (a new revision may have replaced the one that
        # used a unit), each changed item keeps what the BOM lines still in use need.
        for entry in self.items.values():
            if entry.action == "changed" and entry.old is not None:
                try:
                    items.refuse_units_in_use(db, entry.old, entry.item)
                except MfgError as e:
                    key = "unit" if "unit" in entry.changed else "units"
                    rec = entry.at.record
                    self.problems.append(entry.at.say(str(e), key if key in rec else None))
        self.stop()
        changes.extend(self.routings.write())
        self.stop()
        changes.extend(self.stock.write(user))
        self.stop()
        changes.extend(self.demand.write(user))
        changes.extend(self.purchase_orders.write(user))
        self.stop()
        return changes

    def item_ids(self) -> dict[str, int]:
        """Item id by upper-cased code, for every item stored or written by this import."""
        ids = {code: i.id for code, i in self.db_items.items()}
        ids.update({code: e.item.id for code, e in self.items.items()})
        return ids

    def guard(self, at: At, fn: Any) -> Any:
        """``fn()``, or None with its domain error noted as a problem of the record at ``at``."""
        try:
            return fn()
        except MfgError as e:
            self.problems.append(at.say(str(e)))
            return None

    def stop(self) -> None:
        """Raise ImportInvalid with every problem found so far, if any."""
        if self.problems:
            raise ImportInvalid(self.problems)


def run(
    db: sqlite3.Connection,
    documents: Iterable[Document],
    *,
    user: str,
    dry_run: bool = False,
) -> Result:
    """Validate every record, then write them all in the caller's transaction.

    With ``dry_run`` the writes run inside a savepoint that is rolled back, so the
    result says exactly what a real import would do and nothing is written.

    Raises:
        ImportInvalid: with every problem found; nothing is written.
    """
    job = Import(db, documents)
    job.validate()
    job.stop()
    if not dry_run:
        return Result(tuple(job.write(user)))
    with rolled_back(db, "import_dry_run"):
        changes = job.write(user)
    return Result(tuple(changes), dry_run=True)
