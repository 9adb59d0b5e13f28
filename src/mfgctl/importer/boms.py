"""The ``boms:`` section of an import: BOM revisions, validated together, then stored.

A BOM without ``revision`` is revision ``A``, ``output_qty`` 1, ``active`` true; a line
without ``unit`` is in the child's base unit. Every item a BOM names must exist in the
database or in the same import; two revisions of one item may not both be active; the
BOMs of the database plus the import must not form a cycle. A BOM equal to a stored
revision changes nothing; a changed one becomes a new revision (``bom.save``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mfgctl import qty as q
from mfgctl.domain import bom, bomtree, codes
from mfgctl.domain.items import Item
from mfgctl.errors import InvalidInput
from mfgctl.importer.records import At, Change, known_only, upper
from mfgctl.importer.yamlread import Record, Seq

if TYPE_CHECKING:
    from mfgctl.importer.load import Import

DEFAULT_REVISION = "A"


@dataclass(slots=True)
class BomEntry:
    """A valid BOM record: the revision to store and where the file gives it."""

    rev: bom.Revision
    at: At
    # What the import says about it once stored (an inactive line in a lost unit).
    remarks: tuple[str, ...] = ()


class Boms:
    """The BOM records of one import: checked one by one, then for cycles, then stored."""

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.find_item = job.find_item
        self.refused_items = job.refused_items
        self.guard = job.guard
        self.item_ids = job.item_ids
        self.entries: list[BomEntry] = []
        # The lines that read of BOM records refused for other problems: the cycle
        # check looks at them too, so a cycle is said in the same run.
        self.refused: list[BomEntry] = []
        self.of_item: dict[str, list[BomEntry]] = {}
        self.line_cache: dict[tuple[Any, ...], bom.Line] = {}

    def check(self, at: At) -> None:
        """Validate one BOM record; a valid one is kept for ``write``.

        Every problem of the record is said in one run: each bad field of its own and
        of each line, and the items, units and substitutes of every line that reads.
        """
        rec = at.record
        problems = self.problems
        start = len(problems)
        for key in ("item", "lines"):
            if key not in rec:
                problems.append(at.say("missing", key))
        path = at.path

        def read(parse: Any) -> Any:
            try:
                return parse()
            except InvalidInput as e:
                problems.append(at.explain(e))
                return None

        def parse_active() -> bool:
            active = rec.get("active", True)
            if not isinstance(active, bool):
                raise InvalidInput(f"{path}.active must be true or false, not {active!r}")
            return active

        def parse_output() -> Any:
            output_qty = q.parse_qty(rec.get("output_qty", 1), what=f"{path}.output_qty")
            q.to_micro(output_qty, what=f"{path}.output_qty")
            return output_qty

        parent = None
        if "item" in rec:
            parent = read(lambda: codes.code(rec["item"], what=f"{path}.item"))
        revision = read(
            lambda: bom.revision_code(
                rec.get("revision", DEFAULT_REVISION), what=f"{path}.revision"
            ),
        )
        output_qty = read(parse_output)
        active = read(parse_active)
        note = read(
            lambda: codes.text(rec.get("note"), what=f"{path}.note", limit=500, required=False),
        )
        raw_lines = rec.get("lines")
        if "lines" in rec and (not isinstance(raw_lines, Seq) or not raw_lines):
            problems.append(at.say("must be a non-empty list of lines", "lines"))
            raw_lines = None
        lines: list[bom.Line] = []
        line_recs: list[Record] = []
        line_index: list[int] = []
        for n, raw in enumerate(raw_lines or ()):
            prefix = f"{path}.lines[{n}]."
            if not isinstance(raw, Record):
                problems.append(
                    f"{at.file}:{raw_lines.entry_line(n)}: {prefix[:-1]}: a BOM line must be "
                    "a mapping with item, qty, unit"
                )
                continue
            raw, unknown = known_only(raw, bom.LINE_KEYS)
            for k in unknown:
                problems.append(
                    At(at.file, raw_lines[n], prefix[:-1]).say(
                        f"unknown BOM line key (known: {', '.join(bom.LINE_KEYS)})", k
                    )
                )
            try:
                lines.append(self._parse_line(raw, prefix))
                line_recs.append(raw)
                line_index.append(n)
            except InvalidInput as e:
                for error in _every_field_error(raw, prefix, e):
                    problems.append(at.explain(error, prefix, raw))
                # Its item is still looked up, so an unknown one is said now too.
                try:
                    code = codes.code(raw.get("item"), what=f"{prefix}item")
                except InvalidInput:
                    continue
                if self._unknown(code):
                    problems.append(
                        At(at.file, raw, prefix[:-1]).say(f"unknown item {code!r}", "item")
                    )
        owner = self.find_item(parent) if parent is not None else None
        if parent is not None and self._unknown(parent):
            problems.append(at.say(f"unknown item {parent!r}", "item"))
        remarks: list[str] = []
        # An item the file gives with problems of its own: the record waits for it.
        blocked = parent is not None and owner is None
        for ln, raw, n in zip(lines, line_recs, line_index, strict=True):

            def say(message: str, key: str, raw: Record = raw, n: int = n) -> str:
                return At(at.file, raw, f"{path}.lines[{n}]").say(message, key)

            child = self.find_item(ln.item)
            blocked = blocked or child is None
            if self._unknown(ln.item):
                problems.append(say(f"unknown item {ln.item!r}", "item"))
            elif child is not None and ln.unit and ln.unit != child.unit:
                try:
                    child.factor(ln.unit)
                except InvalidInput as e:
                    if active is not False:
                        problems.append(say(str(e), "unit"))
                    else:
                        # History, as an export writes it after the unit was dropped
                        # (or the base unit changed): stored as it was, never used.
                        remarks.append(
                            f"BOM {owner.code if owner else parent} rev {revision} "
                            f"(inactive) line {n + 1}: {e}; "
                            "stored as history, as given (bom activate refuses it unless "
                            f"{child.code} has that unit)"
                        )
            for s in ln.substitutes:
                blocked = blocked or self.find_item(s) is None
                if self._unknown(s):
                    problems.append(say(f"unknown item {s!r}", "substitutes"))
            mistakes = bom.substitute_mistakes(ln.item, ln.substitutes)
            if mistakes and active is not False:
                problems.append(
                    say(
                        f"{'; '.join(mistakes)}: list each substitute once, and not the "
                        "line's own item",
                        "substitutes",
                    )
                )
            elif mistakes:  # history, as an export writes an old revision stored so
                remarks.append(
                    f"BOM {owner.code if owner else parent} rev {revision} (inactive) line "
                    f"{n + 1}: substitute {'; '.join(mistakes)}; stored as history, as given"
                )
        if len(problems) > start:
            # In the order of the file's lines, as the engineer reads them.
            problems[start:] = sorted(problems[start:], key=lambda p: _line_of(p, at.file))
        refused = len(problems) > start or blocked
        if refused and owner is not None and lines:
            # Kept for the cycle check alone, so a cycle is said with the rest.
            rev = bom.Revision(
                owner.code,
                revision or DEFAULT_REVISION,
                Decimal(1),
                tuple(lines),
                active=active is not False,
            )
            self.refused.append(BomEntry(rev, at))
        if refused or owner is None:
            return
        assert revision is not None and output_qty is not None and active is not None
        siblings = self.of_item.setdefault(upper(owner.code), [])
        for other in siblings:
            if other.rev.revision.upper() == revision.upper():
                problems.append(
                    at.say(
                        f"BOM {owner.code} revision {revision} is given twice "
                        f"(first at {other.at.file}:{other.at.line})",
                        "revision",
                    )
                )
                return
            if other.rev.active and active:
                problems.append(
                    at.say(
                        f"BOM {owner.code} has two active revisions in this import "
                        f"({other.rev.revision} at {other.at.file}:{other.at.line}); "
                        "mark the older one active: false",
                        "revision",
                    )
                )
                return
        rev = bom.Revision(
            item=owner.code,
            revision=revision,
            output_qty=output_qty,
            lines=tuple(lines),
            active=active,
            note=note,
        )
        entry = BomEntry(rev, at, tuple(remarks))
        self.entries.append(entry)
        siblings.append(entry)

    def _unknown(self, code: str) -> bool:
        """Neither stored nor in the file (an item record the file gives with problems
        of its own is not unknown: those problems are said)."""
        return self.find_item(code) is None and upper(code) not in self.refused_items

    def _parse_line(self, raw: Record, prefix: str) -> bom.Line:
        """``bom.parse_line``, remembering lines that differ only in their item.

        A big BOM file repeats the same qty/unit/scrap over and over; parse_line reads
        the item code on its own (``codes.code``), so a line equal to an earlier valid
        one except for the item needs only its item code checked. Lines with
        substitutes always go through parse_line (a rule may relate them to the item).
        """
        if "item" not in raw or "substitutes" in raw:
            return bom.parse_line(raw, where=prefix)
        try:
            # The type too: True == 1 and 2 == Decimal("2.0"), but they read differently.
            key = tuple((k, type(v), v) for k, v in raw.items() if k != "item")
            hash(key)
        except TypeError:
            return bom.parse_line(raw, where=prefix)
        known = self.line_cache.get(key)
        if known is None:
            line = bom.parse_line(raw, where=prefix)
            self.line_cache[key] = line
            return line
        return replace(known, item=codes.code(raw["item"], what=f"{prefix}item"))

    def check_cycles(self) -> None:
        """Refuse cycles in the graph of the database's active BOMs plus the imported ones."""
        graph: dict[str, set[str]] = {}
        for code, rev in bom.active_revisions(self.db).items():
            graph[code] = {upper(ln.item) for ln in rev.lines}
        imported: dict[str, BomEntry] = {}
        for entry in [*self.entries, *self.refused]:
            code = upper(entry.rev.item)
            if entry.rev.active or code not in imported:
                imported[code] = entry
        for code, entry in imported.items():
            children = set()
            for ln in entry.rev.lines:
                children.add(upper(ln.item))
                children.update(upper(s) for s in ln.substitutes)
            if entry.rev.active:
                graph[code] = children
            else:
                graph[code] = graph.get(code, set()) | children
        names = {k: (self.find_item(k) or Item(k, "", "", "", "buy")).code for k in graph}
        sorted_graph = {k: sorted(v) for k, v in graph.items()}
        reported: set[frozenset[str]] = set()
        for cycle in bomtree.find_cycles(sorted_graph, imported):
            if frozenset(cycle) in reported:
                continue
            reported.add(frozenset(cycle))
            owner = next((imported[c] for c in cycle if c in imported), None)
            shown = " -> ".join(names.get(c, c) for c in cycle)
            message = f"BOM cycle: {shown} (an item cannot contain itself)"
            if owner is not None:
                self.problems.append(owner.at.say(message, "lines"))
            else:  # pragma: no cover - stored BOMs are acyclic
                self.problems.append(message)

    def write(self) -> list[Change]:
        """Store the BOM revisions: ``bom.save`` decides for each changed one.

        Two shortcuts keep a 40,000-line import fast, both giving what ``bom.save``
        would: a revision equal to a stored one is left alone without calling it, and
        the only revision of an item that has none yet is inserted in bulk.
        """
        if not self.entries:
            return []
        db = self.db
        stored: dict[str, list[bom.Revision]] = {}
        for r in bom.revisions(db):
            stored.setdefault(upper(r.item), []).append(r)
        changes: list[Change] = []
        fresh: list[bom.Revision] = []
        for b in self.entries:
            code = upper(b.rev.item)
            rev = self._with_units(b.rev)
            revs = stored.get(code, [])
            if not revs and len(self.of_item[code]) == 1:
                fresh.append(rev)
                changes.append(
                    Change("bom", f"{rev.item} rev {rev.revision}", "added", remarks=b.remarks)
                )
                continue
            same = _same_as_stored(rev, revs)
            if same is not None:
                result = bom.SaveResult(rev.item, "unchanged", same, rev.revision)
            else:
                result = self.guard(b.at, lambda rev=rev: bom.save(db, rev))
            if result is not None:
                change = _change_of(result)
                if result.action in ("added", "new_revision"):
                    change = replace(change, remarks=b.remarks)
                else:  # matched to a stored revision: say what of the file it leaves out
                    kept = next(r for r in revs if r.revision == result.revision)
                    change = replace(change, remarks=_left_out(rev, kept))
                changes.append(change)
        if fresh:
            bom.insert_revisions(db, fresh, self.item_ids())
        return changes

    def _with_units(self, rev: bom.Revision) -> bom.Revision:
        """A line without a unit is in the child's base unit (as ``bom.save`` stores it)."""
        if all(ln.unit for ln in rev.lines):
            return rev
        lines = tuple(
            ln if ln.unit else replace(ln, unit=self.find_item(ln.item).unit)  # type: ignore[union-attr]
            for ln in rev.lines
        )
        return replace(rev, lines=lines)


def _same_as_stored(rev: bom.Revision, stored: list[bom.Revision]) -> str | None:
    """The stored revision ``bom.save`` would call unchanged for ``rev``, if any."""
    named = next((r for r in stored if r.revision.upper() == rev.revision.upper()), None)
    if named is not None and named.same_content(rev):
        return None if rev.active and not named.active else named.revision
    active = next((r for r in stored if r.active), None)
    if active is not None and active.same_content(rev):
        return active.revision
    return None


def _line_of(problem: str, file: str) -> int:
    """The line number a problem of ``file`` names (``file:LINE: ...``)."""
    digits = problem[len(file) + 1 :].split(":", 1)[0]
    return int(digits) if problem.startswith(f"{file}:") and digits.isdigit() else 0


def _every_field_error(raw: Record, prefix: str, first: InvalidInput) -> list[InvalidInput]:
    """Every bad field of a BOM line ``bom.parse_line`` refused (it stops at the first):
    each field read on its own next to a valid item and quantity, then the first error
    again if no field alone explains it (a rule between fields)."""
    errors: list[InvalidInput] = []
    for key in ("item", "qty"):
        if key not in raw:
            errors.append(InvalidInput(f"{prefix}{key}: missing"))
    try:
        item = codes.code(raw["item"], what="item") if "item" in raw else "ITEM"
    except InvalidInput:
        item = "ITEM"
    for key, value in raw.items():
        probe = {"item": item, "qty": 1, key: value}
        try:
            bom.parse_line(probe, where=prefix)
        except InvalidInput as e:
            errors.append(e)
    if str(first) not in {str(e) for e in errors}:
        errors.append(first)
    return errors


def _left_out(given: bom.Revision, kept: bom.Revision) -> tuple[str, ...]:
    """What of the file's revision ``given`` an import leaves out when it matches the
    stored revision ``kept`` (the same lines, ``Revision.same_content``): said, never
    dropped silently."""
    said = []
    where = f"BOM {kept.item} rev {given.revision}"
    if not given.same_order(kept):
        said.append(
            f"{where}: the file lists the lines of stored revision {kept.revision} in "
            "another order; the order of the lines is no change, and the stored order is "
            "kept (export writes it)"
        )
    if (given.note or None) != (kept.note or None):
        file_note = (
            f"the file's note {given.note!r} is not stored"
            if given.note
            else ("the file has no note")
        )
        stored = f"its note {kept.note!r}" if kept.note else "no note"
        said.append(
            f"{where}: {file_note}: stored revision {kept.revision} keeps {stored} (a "
            "stored revision is never rewritten; export writes its note)"
        )
    if not given.active and kept.active and given.revision.upper() == kept.revision.upper():
        said.append(
            f"{where}: active: false is not applied: revision {kept.revision} stays the "
            f"active one (to make another active: mfgctl bom activate {kept.item} REV)"
        )
    return tuple(said)


def _change_of(result: bom.SaveResult) -> Change:
    """The change a ``bom.save`` result reports, with a note when the revision was renamed."""
    if result.action == "new_revision":
        detail = f"new revision: the file's revision {result.requested} differs from the stored one"
        note = (
            f"BOM {result.item}: revision {result.requested} differs from the stored one; "
            f"stored as new revision {result.revision}"
        )
        return Change("bom", f"{result.item} rev {result.revision}", result.action, detail, note)
    if result.action == "activated":
        detail = f"revision {result.revision} made active again"
    elif result.requested.upper() != result.revision.upper():
        detail = f"same as stored revision {result.revision}"
    else:
        detail = ""
    return Change("bom", f"{result.item} rev {result.revision}", result.action, detail)
