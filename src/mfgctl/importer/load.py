"""Loading an import: validate every record against the database, then write them all.

All documents are read and every record is validated before anything is written; then
everything is written in the caller's one transaction, in the order locations, work
centres, items, BOMs, routings, stock, lots, demand, purchase orders. Every problem found
is reported (``ImportInvalid``). A record equal to what is stored changes nothing; a
changed item is updated. The ``workcenters:``, ``boms:``, ``routings:``, ``stock:`` and
``lots:`` sections have their own modules (``workcenters``, ``boms``, ``routings``,
``opening``, ``lots``),
``demand:`` and ``purchase_orders:`` share ``planning``; this one owns the document
structure, ``locations:`` and ``items:``.
"""

from __future__ import annotations

import re
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
from mfgctl.importer.lots import LOT_KEYS, Lots
from mfgctl.importer.opening import STOCK_KEYS, OpeningStock
from mfgctl.importer.planning import DEMAND_KEYS, PURCHASE_KEYS, DemandSection, PurchaseSection
from mfgctl.importer.records import SECTIONS, At, Change, Result, known_only, upper
from mfgctl.importer.routings import Routings
from mfgctl.importer.workcenters import WorkCentres
from mfgctl.importer.yamlread import Document, Record, Seq

LOCATION_KEYS = ("code", "name", "was")
_KEYS: dict[str, tuple[str, ...]] = {
    "locations": LOCATION_KEYS,
    "workcenters": workcenters.KEYS,
    "items": items.KEYS,
    "boms": BOM_KEYS,
    "routings": ROUTING_KEYS,
    "stock": STOCK_KEYS,
    "lots": LOT_KEYS,
    "demand": DEMAND_KEYS,
    "purchase_orders": PURCHASE_KEYS,
}


@dataclass(slots=True)
class _Location:
    code: str
    name: str | None
    at: At
    action: str = "added"
    # The existing location this one was before: renamed to ``code`` (``was:``).
    was: str | None = None


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
        self.keep_going = False  # stop() goes on (trial)
        self.sections: dict[str, list[At]] = {s: [] for s in SECTIONS}
        self.locations: dict[str, _Location] = {}
        # Locations by upper-cased code as the file's renames leave them (None: gone).
        self.renamed: dict[str, locations.Location | None] = {}
        self.items: dict[str, _Item] = {}
        # Codes of the file's item records refused for their own problems: a BOM that
        # names one is not told the item is unknown as well.
        self.refused_items: set[str] = set()
        self.db_items = {upper(i.code): i for i in items.all_items(db)}
        self.boms = Boms(self)
        self.routings = Routings(self)
        self.workcenters = WorkCentres(self)
        self.stock = OpeningStock(self)
        self.lots = Lots(self)
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
                # Unknown keys are problems; the rest of the record is still checked
                # (its nested lines, stages and windows too), so one run says it all.
                known, unknown = known_only(rec, _KEYS[key])
                for k in unknown:
                    self.problems.append(at.say(f"unknown key (known: {', '.join(_KEYS[key])})", k))
                self.sections[key].append(At(doc.file, known, at.path))

    def validate(self) -> None:
        for at in self.sections["locations"]:
            self._location(at)
        self._resolve_locations()
        for at in self.sections["workcenters"]:
            self.workcenters.check(at)
        for at in self.sections["items"]:
            self._item(at)
        for at in self.sections["boms"]:
            self.boms.check(at)
        if self.boms.entries or self.boms.refused:
            self.boms.check_cycles()
        for at in self.sections["routings"]:
            self.routings.check(at)
        for at in self.sections["stock"]:
            self.stock.check(at)
        for at in self.sections["lots"]:
            self.lots.check(at)
        for at in self.sections["demand"]:
            self.demand.check(at)
        for at in self.sections["purchase_orders"]:
            self.purchase_orders.check(at)

    # -- locations

    def _location(self, at: At) -> None:
        """Read one location record; ``_resolve_locations`` then matches it to the database."""
        rec = at.record
        if "code" not in rec:
            self.problems.append(at.say("missing: every location needs a code", "code"))
            return
        try:
            code = codes.code(rec["code"], what=f"{at.path}.code")
            name = codes.text(rec.get("name"), what=f"{at.path}.name", required=False)
            was = None
            if rec.get("was") is not None:
                was = codes.code(rec["was"], what=f"{at.path}.was")
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
        self.locations[upper(code)] = _Location(code, name, at, was=was)

    def _resolve_locations(self) -> None:
        """Match the file's locations to the database: renames (``was``) first, in file
        order, as ``location rename`` would make them one after the other; then each
        location is added, changed (its name) or unchanged."""
        for entry in self.locations.values():
            if entry.was is None:
                continue
            old = self.find_location(entry.was)
            entry.was = None
            if old is None:
                continue  # nothing to rename: the location is added (or matched) by code
            if not old.internal:
                self.problems.append(
                    entry.at.say(f"{old.code} is a virtual place and cannot be renamed", "was")
                )
                continue
            taken = self.find_location(entry.code)
            if (taken is not None and taken.id != old.id) or old.code == entry.code:
                continue  # the code exists already (it wins), or nothing changes
            entry.was = old.code
            self.renamed[upper(old.code)] = None
            self.renamed[upper(entry.code)] = replace(old, code=entry.code)
        for entry in self.locations.values():
            existing = self.find_location(entry.code)
            if existing is None:
                continue  # added
            if not existing.internal:
                self.problems.append(
                    entry.at.say(
                        f"{existing.code} is a virtual place and cannot be redefined", "code"
                    )
                )
                continue
            entry.code = existing.code
            if entry.name == existing.name:
                entry.name = None  # nothing to change
            entry.action = "changed" if entry.name or entry.was else "unchanged"

    def find_location(self, code: str) -> locations.Location | None:
        """The location with this code once the file's renames are made."""
        if upper(code) in self.renamed:
            return self.renamed[upper(code)]
        return locations.find(self.db, code)

    def location_known(self, code: str) -> bool:
        if upper(code) in self.locations:
            return True
        loc = self.find_location(code)
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
        old = self.db_items.get(upper(code))
        try:
            if old is None:
                item = items.build(code, raw, where=f"{at.path}.")
            else:
                # Field by field: a key the record leaves out keeps its stored value.
                missing = [k for k in items.REQUIRED if k not in raw]
                if missing:
                    raise InvalidInput(f"{at.path}.item {code} needs {', '.join(missing)}")
                item = items.revise(old, raw, where=f"{at.path}.")
        except (InvalidInput, ValueError) as e:
            self.refused_items.add(upper(code))
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
        if old is None:
            self.items[upper(code)] = _Item(item, at, None, "added")
            return
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
        for loc in self.locations.values():  # renames first, in file order (as validated)
            if loc.was is not None:
                self.guard(loc.at, lambda loc=loc: locations.rename(db, loc.was, loc.code))
        for loc in self.locations.values():
            if loc.action != "unchanged":
                self.guard(loc.at, lambda loc=loc: locations.ensure(db, loc.code, loc.name))
            said = [f"renamed from {loc.was}"] if loc.was else []
            if loc.action == "changed" and loc.name:  # a new name (None when the same)
                said.append(f"name {loc.name!r}")
            changes.append(Change("location", loc.code, loc.action, ", ".join(said)))
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
        # After the stock: a lot the stock: section brings in is then already recorded.
        changes.extend(self.lots.write())
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

    def trial(self, user: str) -> None:
        """With problems found already: write the valid records anyway, in a savepoint
        that is rolled back, so the checks made while writing (an opening balance
        against the stock held, a unit still used by a stored BOM line, a changed
        revision...) report their problems in the same run, not after the first ones
        are fixed. Stops quietly where a record left out by a problem breaks a later
        step: the problems found stand, and nothing is written."""
        found = len(self.problems)
        refused = {_record_of(p) for p in self.problems}
        self.keep_going = True
        try:
            with rolled_back(self.db, "import_trial"):
                self.write(user)
        except Exception:  # the import is refused with the problems found
            pass
        finally:
            self.keep_going = False
        # A record already refused is not said again in other words by its write.
        self.problems[found:] = [p for p in self.problems[found:] if _record_of(p) not in refused]

    def stop(self) -> None:
        """Raise ImportInvalid with every problem found so far, if any (each once)."""
        if self.problems and not self.keep_going:
            raise ImportInvalid(list(dict.fromkeys(self.problems)))


_RECORD = re.compile(r"(.*?):\d+: ([a-z_]+\[\d+\])[.:]")


def _record_of(problem: str) -> tuple[str, str]:
    """The file and record (``items[3]``) a problem is about (the problem itself if none)."""
    match = _RECORD.match(problem)
    return (match.group(1), match.group(2)) if match else (problem, "")


def run(
    db: sqlite3.Connection,
    documents: Iterable[Document],
    *,
    user: str,
    dry_run: bool = False,
) -> Result:
    """Validate every record, then write them all in the caller's transaction. With
    problems, the valid records' writes are still tried and undone (``Import.trial``),
    so the problems found only while writing are said in the same run.

    With ``dry_run`` the writes run inside a savepoint that is rolled back, so the
    result says exactly what a real import would do and nothing is written.

    Raises:
        ImportInvalid: with every problem found; nothing is written.
    """
    job = Import(db, documents)
    job.validate()
    if job.problems:
        job.trial(user)
    job.stop()
    if not dry_run:
        return Result(tuple(job.write(user)))
    with rolled_back(db, "import_dry_run"):
        changes = job.write(user)
    return Result(tuple(changes), dry_run=True)
