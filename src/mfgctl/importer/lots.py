"""The ``lots:`` section of an import: lot and serial numbers recorded without stock.

A record names a lot-tracked item's ``lot`` or a serial-tracked item's ``serials``, with
an optional ``expires`` date::

    lots:
      - {item: GLUE, lot: G-2409, expires: 2026-03-31}
      - {item: HD-200, serials: [SN-0001, SN-0002]}

Each lot or serial not recorded yet is added to the item's lot master with no stock
(``ledger.ensure_lot``): ``export`` writes the lots and serials that hold no stock at a
real location (shipped, used up, scrapped), so a database rebuilt from it knows them,
and ``order complete --auto-serials`` numbers after the highest serial, not from 1
again. One already recorded changes nothing; one without an expiry date takes the
file's; one with another expiry date is refused (``stock expiry`` changes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from mfgctl.domain import codes, items, ledger
from mfgctl.domain.items import Item
from mfgctl.errors import InvalidInput
from mfgctl.importer.opening import _serials
from mfgctl.importer.records import At, Change, upper
from mfgctl.timefmt import parse_date

if TYPE_CHECKING:
    from mfgctl.importer.load import Import

LOT_KEYS = ("item", "lot", "serials", "expires")


@dataclass(slots=True)
class LotEntry:
    """A valid record: one lot, or one or more serials, of an item."""

    item: str
    codes: list[str]
    serial: bool
    expires: date | None
    at: At


class Lots:
    """The ``lots:`` records of one import: each checked, then recorded."""

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.find_item = job.find_item
        self.guard = job.guard
        self.entries: list[LotEntry] = []
        self._seen: dict[tuple[str, str], At] = {}

    def check(self, at: At) -> None:
        """Validate one record; a valid one is kept for ``write``."""
        rec, path, problems = at.record, at.path, self.problems
        if "item" not in rec:
            problems.append(at.say("missing", "item"))
            return
        start = len(problems)
        try:
            item = self.find_item(codes.code(rec["item"], what=f"{path}.item"))
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        if item is None:
            problems.append(at.say(f"unknown item {str(rec['item']).strip()!r}", "item"))
            return
        expires = None
        try:
            if rec.get("expires") is not None:
                expires = parse_date(rec["expires"], what=f"{path}.expires")
            found: list[str] = []
            if rec.get("lot") is not None:
                found = [codes.lot_code(rec["lot"], what=f"{path}.lot")]
            if rec.get("serials") is not None:
                found = _serials(rec["serials"], f"{path}.serials")
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        serial = rec.get("serials") is not None
        if serial and rec.get("lot") is not None:
            problems.append(at.say("give lot or serials, not both", "serials"))
        elif not found:
            problems.append(at.say("missing: give lot (or serials for a serial-tracked item)"))
        elif item.tracking == "none":
            key = "serials" if serial else "lot"
            problems.append(
                at.say(f"{item.code} is not lot- or serial-tracked: it has no lots", key)
            )
        elif serial and item.tracking != "serial":
            problems.append(at.say(f"{item.code} is lot-tracked: give lot, not serials", "serials"))
        elif not serial and item.tracking != "lot":
            problems.append(at.say(f"{item.code} is serial-tracked: give serials, not lot", "lot"))
        if len(problems) > start:
            return
        for code in found:
            key = (upper(item.code), upper(code))
            first = self._seen.setdefault(key, at)
            if first is not at:
                problems.append(
                    at.say(
                        f"{item.code} {'serial' if serial else 'lot'} {code} is given twice "
                        f"(first at {first.file}:{first.line})",
                        "serials" if serial else "lot",
                    )
                )
                return
            stored = ledger.find_lot(self.db, item, code) if item.id is not None else None
            if stored is not None and expires and stored.expires_on not in (None, str(expires)):
                problems.append(
                    at.say(
                        f"{item.code} {'serial' if serial else 'lot'} {stored.code} expires "
                        f"{stored.expires_on}, not {expires}; to change its expiry date: "
                        f"mfgctl stock expiry {item.code} {stored.code} --expires {expires} "
                        "--reason ...",
                        "expires",
                    )
                )
                return
        self.entries.append(LotEntry(item.code, found, serial, expires, at))

    def write(self) -> list[Change]:
        """Record every lot and serial not recorded yet; problems are collected."""
        changes: list[Change] = []
        for entry in self.entries:
            item = items.get(self.db, entry.item)
            word = "serial" if entry.serial else "lot"
            detail = f"expires {entry.expires}" if entry.expires else ""
            for code in entry.codes:
                action = self.guard(
                    entry.at, lambda c=code, e=entry, i=item: self._record(i, c, e.expires)
                )
                if action is not None:
                    changes.append(Change("lot", f"{item.code} {word} {code}", action, detail))
        return changes

    def _record(self, item: Item, code: str, expires: date | None) -> str:
        """Record one lot or serial unless it is; what was done (added, changed, unchanged)."""
        before = ledger.find_lot(self.db, item, code)
        ledger.ensure_lot(self.db, item, code, expires_on=expires)
        if before is None:
            return "added"
        return "changed" if expires and not before.expires_on else "unchanged"
