"""YAML import and export: items, BOMs, locations and opening stock.

An import is one or more YAML files, each holding one or more documents. A document is
a mapping with any of four sections, each a list of records::

    locations: [{code: QC, name: Incoming inspection}]
    items:     [{code: MIC-100, name: MEMS microphone, type: component, unit: pcs, ...}]
    boms:      [{item: HD-200, revision: A, lines: [{item: MIC-100, qty: 2, unit: pcs}]}]
    stock:     [{item: MIC-100, qty: 5000, location: STORES, lot: L2401}]

All files are read and every record is validated before anything is written; then
everything is written in the caller's one transaction, in the order locations, items,
BOMs, stock. Every problem found is reported (``ImportInvalid``), each naming the
file, the line and the field: ``items.yaml:14: items[3].lead_time_days: must be ...``.

Defaults: a BOM without ``revision`` is revision ``A``, ``output_qty`` 1, ``active``
true; a line without ``unit`` is in the child's base unit. Opening stock goes to
``STORES``, into ``pending_inspection`` if the item is inspected on receipt, else
``available``; a lot-tracked item needs ``lot``, a serial-tracked one ``serials``.

Importing is idempotent: a record equal to what is stored changes nothing. A changed
item is updated; a changed BOM becomes a new revision (``bom.save``); an opening
balance already posted with the same quantity is left alone, and one posted with a
different quantity is refused (stock is corrected with ``stock count``/``adjust``).

Reading: PyYAML's C parser (when available) produces events and this module builds
plain data from them itself, remembering the line of every mapping and key. This is
several times faster than PyYAML's node composer and keeps numbers exact: ``0.35``
arrives as ``Decimal('0.35')``, ``12`` as ``int``. Only plain data is accepted: any tag
that would build a Python object (``!!python/...``) or an unknown type is refused.

Export writes the same format back (keys in a fixed order, defaults left out), so
export -> import into a new database -> export gives the same text.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from mfgctl import qty as q
from mfgctl.domain import bom, bomtree, codes, items, ledger, locations, reports, stock
from mfgctl.domain.items import Item
from mfgctl.errors import ImportInvalid, InvalidInput, MfgError
from mfgctl.timefmt import parse_date

SECTIONS = ("locations", "items", "boms", "stock")
LOCATION_KEYS = ("code", "name")
STOCK_KEYS = (
    "item",
    "location",
    "status",
    "lot",
    "serials",
    "qty",
    "unit",
    "expires",
    "cost",
    "date",
)
DEFAULT_REVISION = "A"
DEFAULT_LOCATION = "STORES"
_STR = "tag:yaml.org,2002:str"


# -- reading YAML --------------------------------------------------------------------------


class Record(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers its line and the line of each key (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def key_line(self, key: object) -> int:
        return self.lines.get(key, self.line)


class Seq(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers its line and the line of each entry."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def entry_line(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document of one file."""

    file: str
    number: int
    data: Any


def _new_parser(text: str) -> Any:
    """PyYAML's C parser when it was built with libyaml, else its Python parser."""
    try:
        from yaml.cyaml import CParser
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        return yaml.SafeLoader(text)
    return CParser(text)


_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_TIMESTAMP = yaml.constructor.SafeConstructor()
_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")
_MERGE = object()  # the ``<<`` key
_PY_TAG = re.compile(r"tag:yaml\.org,2002:python/")
_SCALAR_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")
}


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _tag_problem(tag: str) -> str:
    shown = _short_tag(tag)
    if _PY_TAG.match(tag):
        return (
            f"YAML tag {shown} is not allowed: mfgctl reads plain data only and never "
            "builds Python objects from a file"
        )
    return (
        f"YAML tag {shown} is not supported: use plain mappings, lists, text, numbers, "
        "dates and true/false"
    )


def _resolve_plain(value: str) -> object:
    """A plain (unquoted, untagged) scalar as PyYAML would type it, but exact.

    Integers in plain decimal stay ``int``; decimal fractions become ``Decimal`` (so
    0.35 is exact). Octal, hex, sexagesimal, underscores, .nan and .inf are kept as the
    text the user wrote, which the field validators then refuse with a clear message.
    """
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", ()):
        if not regexp.match(value):
            continue
        kind = tag.rsplit(":", 1)[-1]
        if kind == "null":
            return None
        if kind == "bool":
            return value.lower() in ("yes", "true", "on")
        if kind == "int":
            return int(value) if _PLAIN_INT.fullmatch(value) else value
        if kind == "float":
            if _PLAIN_FLOAT.fullmatch(value):
                try:
                    return Decimal(value)
                except InvalidOperation:  # pragma: no cover - the regex admits only numbers
                    return value
            return value
        if kind == "timestamp":
            node = yaml.ScalarNode("tag:yaml.org,2002:timestamp", value)
            try:
                return _TIMESTAMP.construct_yaml_timestamp(node)
            except ValueError:
                return value
        if kind == "merge":
            return _MERGE
        return value
    return value


class _Builder:
    """Builds plain data (Record, Seq, scalars) from a YAML event stream."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[str] = []
        self.cache: dict[str, object] = {}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.file}:{line}: {message}")

    def scalar(self, ev: Any, line: int) -> object:
        tag = ev.tag
        value = ev.value
        if tag is None or tag == "!":
            if not ev.implicit[0]:
                return value  # quoted: always text
            found = self.cache.get(value, self)
            if found is self:
                found = self.cache[value] = _resolve_plain(value)
            return found
        if tag not in _SCALAR_TAGS:
            self.problem(line, _tag_problem(tag))
            return None
        if tag == _STR:
            return value
        found = _resolve_plain(value)
        kind = tag.rsplit(":", 1)[-1]
        expected = {
            "int": int,
            "float": (Decimal, int),
            "bool": bool,
            "null": type(None),
            "timestamp": (date, datetime),
        }[kind]
        if (isinstance(found, bool) and kind != "bool") or not isinstance(found, expected):
            self.problem(line, f"{value!r} cannot be read as {_short_tag(tag)}")
            return None
        return found

    def documents(self, text: str) -> list[Any]:
        docs: list[Any] = []
        # Each frame: [container, pending key, key line, merges]; the bottom frame is the
        # document itself.
        stack: list[list[Any]] = []
        anchors: dict[str, Any] = {}
        root: list[Any] = [None]
        parser = _new_parser(text)
        get_event = parser.get_event
        scalar_event = yaml.ScalarEvent
        cache = self.cache
        record = Record
        while True:
            ev = get_event()
            if ev is None:
                break
            cls = type(ev)
            if cls is scalar_event:
                tag = ev.tag
                value = ev.value
                frame = stack[-1] if stack else None
                if frame is not None and frame[1] is self and type(frame[0]) is record:
                    # A key: always the text as written (``yes:`` stays "yes"), except a
                    # plain ``<<``, the merge key. Tags on keys are checked all the same.
                    line = ev.start_mark.line + 1
                    if tag is not None and tag != "!" and tag != _STR:
                        self.scalar(ev, line)
                    if value == "<<" and tag is None and ev.implicit[0]:
                        value = _MERGE
                    frame[1] = value
                    frame[2] = line
                    if ev.anchor:
                        anchors[ev.anchor] = ev.value
                    continue
                if tag is None and ev.implicit[0] and ev.anchor is None:
                    found = cache.get(value, self)
                    if found is self:
                        found = cache[value] = _resolve_plain(value)
                    value = found
                else:
                    value = self.scalar(ev, ev.start_mark.line + 1)
                    if ev.anchor:
                        anchors[ev.anchor] = value
                # The common case inline: a scalar value in a mapping.
                if frame is not None and value is not _MERGE:
                    container = frame[0]
                    key = frame[1]
                    if type(container) is record and key is not _MERGE and key not in container:
                        container[key] = value
                        container.lines[key] = frame[2]
                        frame[1] = self
                        continue
                self.add(stack, root, value, ev.start_mark.line + 1)
                continue
            line = ev.start_mark.line + 1
            if cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                mapping = cls is yaml.MappingStartEvent
                default = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
                if ev.tag not in (None, "!", default):
                    self.problem(line, _tag_problem(ev.tag))
                container: Any = Record(line) if mapping else Seq(line)
                if ev.anchor:
                    anchors[ev.anchor] = container
                self.add(stack, root, container, line)
                stack.append([container, self, 0, None])
            elif cls is yaml.MappingEndEvent:
                frame = stack.pop()
                if frame[3]:
                    self.merge(frame[0], frame[3], line)
            elif cls is yaml.SequenceEndEvent:
                stack.pop()
            elif cls is yaml.AliasEvent:
                if ev.anchor not in anchors:
                    self.problem(line, f"unknown alias *{ev.anchor}")
                    self.add(stack, root, None, line)
                else:
                    self.add(stack, root, anchors[ev.anchor], line)
            elif cls is yaml.DocumentStartEvent:
                anchors = {}
                root = [None]
                stack = []
            elif cls is yaml.DocumentEndEvent:
                docs.append(root[0])
        if hasattr(parser, "dispose"):
            parser.dispose()
        return docs

    def add(self, stack: list[list[Any]], root: list[Any], value: Any, line: int) -> None:
        if not stack:
            root[0] = value
            return
        frame = stack[-1]
        container = frame[0]
        if type(container) is Seq:
            container.append("<<" if value is _MERGE else value)
            container.lines.append(line)
            return
        if frame[1] is self:  # a key that is not a plain scalar: a container or an alias
            if isinstance(value, Record | Seq):
                self.problem(line, "a mapping or list cannot be a key")
                value = ("<complex key>", line)
            elif value is not _MERGE:
                value = "" if value is None else str(value)
            frame[1] = value
            frame[2] = line
            return
        key, key_line = frame[1], frame[2]
        frame[1] = self
        if key is _MERGE:
            frame[3] = [*(frame[3] or []), (value, line)]
            return
        if key in container:
            self.problem(key_line, f"key {key!r} is given twice in this mapping")
        container[key] = "<<" if value is _MERGE else value
        container.lines[key] = key_line

    def merge(self, target: Record, merges: list[tuple[Any, int]], line: int) -> None:
        for value, at in merges:
            sources = value if isinstance(value, Seq) else [value]
            for source in sources:
                if not isinstance(source, Record):
                    self.problem(at, "<< must merge a mapping or a list of mappings")
                    continue
                for k, v in source.items():
                    if k not in target:
                        target[k] = v
                        target.lines[k] = source.key_line(k)


def parse(text: str, file: str) -> tuple[list[Document], list[str]]:
    """The documents of one YAML text, and the problems found reading it."""
    builder = _Builder(file)
    try:
        docs = builder.documents(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        what = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        detail = f"{context}, {what}" if context else what
        return [], [*builder.problems, f"{where}: malformed YAML: {detail}"]
    return [Document(file, n, d) for n, d in enumerate(docs)], builder.problems


def read_files(paths: Sequence[str | Path]) -> list[Document]:
    """Read and parse every file; raises ImportInvalid with every reading problem."""
    documents: list[Document] = []
    problems: list[str] = []
    for path in paths:
        name = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            problems.append(f"{name}: cannot read the file: {e.strerror or e}")
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            problems.append(f"{name}:{line}: not UTF-8 text (byte {raw[e.start]:#04x})")
            continue
        docs, found = parse(text, name)
        documents.extend(docs)
        problems.extend(found)
    if problems:
        raise ImportInvalid(problems)
    return documents


# -- results -------------------------------------------------------------------------------

KINDS = ("location", "item", "bom", "stock")
_SUMMARY_ACTION = {
    "added": "added",
    "changed": "changed",
    "activated": "changed",
    "new_revision": "changed",
    "unchanged": "unchanged",
}


@dataclass(frozen=True, slots=True)
class Change:
    """What the import did (or would do) with one record."""

    kind: str
    key: str
    action: str
    detail: str = ""
    note: str = ""

    def as_row(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "action": self.action, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Result:
    changes: tuple[Change, ...]
    dry_run: bool = False

    def summary(self) -> list[dict[str, Any]]:
        """Per kind of record: how many were added, changed and unchanged."""
        rows = []
        for kind in KINDS:
            counts = {"added": 0, "changed": 0, "unchanged": 0}
            for c in self.changes:
                if c.kind == kind:
                    counts[_SUMMARY_ACTION[c.action]] += 1
            rows.append({"kind": kind, **counts})
        return rows

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    def notes(self) -> list[str]:
        """A line for each BOM stored under another revision name than the file's."""
        return [c.note for c in self.changes if c.note]


# -- validation ----------------------------------------------------------------------------


@dataclass(slots=True)
class _At:
    """Where a record is: file, line, and its path like ``items[3]``."""

    file: str
    record: Any
    path: str

    @property
    def line(self) -> int:
        return getattr(self.record, "line", 0)

    def line_of(self, key: object) -> int:
        rec = self.record
        return rec.key_line(key) if isinstance(rec, Record) else self.line

    def say(self, message: str, key: str | None = None) -> str:
        if key is None:
            return f"{self.file}:{self.line}: {self.path}: {message}"
        return f"{self.file}:{self.line_of(key)}: {self.path}.{key}: {message}"

    def explain(self, error: Exception, prefix: str | None = None, rec: Any = None) -> str:
        """A domain message (which names ``prefix + field``) as ``file:line: field: text``."""
        rec = self.record if rec is None else rec
        prefix = f"{self.path}." if prefix is None else prefix
        # Values as the user wrote them: 2.5, not Decimal('2.5').
        text = _DECIMAL_REPR.sub(r"\1", str(error))
        line = getattr(rec, "line", self.line)
        if not text.startswith(prefix):
            return f"{self.file}:{line}: {prefix.rstrip('.')}: {text}"
        rest = text[len(prefix) :]
        keys = sorted((k for k in rec if isinstance(k, str)), key=len, reverse=True)
        for key in keys if isinstance(rec, Record) else ():
            if rest.startswith(key) and rest[len(key) : len(key) + 1] in ("", " ", ":", "[", "."):
                tail = rest[len(key) :]
                index = re.match(r"\[\d+\]", tail)
                name = key + (index.group(0) if index else "")
                tail = tail[len(index.group(0)) :] if index else tail
                msg = tail.lstrip(" :") or "invalid"
                return f"{self.file}:{rec.key_line(key)}: {prefix}{name}: {msg}"
        return f"{self.file}:{line}: {prefix.rstrip('.')}: {rest.lstrip(' :.')}"


@dataclass(slots=True)
class _Location:
    code: str
    name: str | None
    at: _At
    action: str = "added"


@dataclass(slots=True)
class _Item:
    item: Item
    at: _At
    old: Item | None
    action: str
    changed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Bom:
    rev: bom.Revision
    at: _At


@dataclass(slots=True)
class _Opening:
    item: Item
    qty: Decimal  # in the base unit
    number: Decimal  # as written, in ``unit``
    location: str
    status: str
    lot: str | None
    serials: list[str]
    expires: date | None
    cost: object
    unit: str | None
    when: str | None
    at: _At

    @property
    def key(self) -> str:
        what = f" lot {self.lot}" if self.lot else ""
        return f"{self.item.code}{what} at {self.location}/{self.status}"


def _upper(code: str) -> str:
    return code.strip().upper()


class _Import:
    """Validates every record of an import against the database, then writes them."""

    def __init__(self, db: sqlite3.Connection, documents: Iterable[Document]) -> None:
        self.db = db
        self.problems: list[str] = []
        self.sections: dict[str, list[_At]] = {s: [] for s in SECTIONS}
        self.locations: dict[str, _Location] = {}
        self.items: dict[str, _Item] = {}
        self.boms: list[_Bom] = []
        self.boms_of: dict[str, list[_Bom]] = {}
        self.line_cache: dict[tuple[Any, ...], bom.Line] = {}
        self.stock: list[_Opening] = []
        self.db_items = {_upper(i.code): i for i in items.all_items(db)}
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
                at = _At(doc.file, rec, f"{key}[{n}]")
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
        for at in self.sections["items"]:
            self._item(at)
        for at in self.sections["boms"]:
            self._bom(at)
        if self.boms:
            self._cycles()
        for at in self.sections["stock"]:
            self._opening(at)

    # -- locations

    def _location(self, at: _At) -> None:
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
        if _upper(code) in self.locations:
            first = self.locations[_upper(code)].at
            self.problems.append(
                at.say(
                    f"location {code} is given twice (first at {first.file}:{first.line})", "code"
                )
            )
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
        self.locations[_upper(code)] = entry

    def _location_known(self, code: str) -> bool:
        if _upper(code) in self.locations:
            return True
        loc = locations.find(self.db, code)
        return loc is not None and loc.internal and loc.active

    # -- items

    def _item(self, at: _At) -> None:
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
        first = self.items.get(_upper(code))
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
        old = self.db_items.get(_upper(code))
        if old is None:
            self.items[_upper(code)] = _Item(item, at, None, "added")
            return
        item = replace(item, code=old.code, id=old.id)
        before, after = old.as_dict(), item.as_dict()
        changed = [k for k in before if before[k] != after[k]]
        action = "changed" if changed else "unchanged"
        self.items[_upper(code)] = _Item(item, at, old, action, changed)

    def _find_item(self, code: str) -> Item | None:
        entry = self.items.get(_upper(code))
        return entry.item if entry is not None else self.db_items.get(_upper(code))

    # -- BOMs

    def _bom(self, at: _At) -> None:
        rec = at.record
        problems = self.problems
        start = len(problems)
        for key in ("item", "lines"):
            if key not in rec:
                problems.append(at.say("missing", key))
        if len(problems) > start:
            return
        path = at.path
        try:
            parent = codes.code(rec["item"], what=f"{path}.item")
            revision = bom.revision_code(
                rec.get("revision", DEFAULT_REVISION), what=f"{path}.revision"
            )
            output_qty = q.parse_qty(rec.get("output_qty", 1), what=f"{path}.output_qty")
            q.to_micro(output_qty, what=f"{path}.output_qty")
            active = rec.get("active", True)
            if not isinstance(active, bool):
                raise InvalidInput(f"{path}.active must be true or false, not {active!r}")
            note = codes.text(rec.get("note"), what=f"{path}.note", limit=500, required=False)
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        raw_lines = rec["lines"]
        if not isinstance(raw_lines, Seq) or not raw_lines:
            problems.append(at.say("must be a non-empty list of lines", "lines"))
            return
        lines: list[bom.Line] = []
        line_recs: list[Record] = []
        for n, raw in enumerate(raw_lines):
            prefix = f"{path}.lines[{n}]."
            if not isinstance(raw, Record):
                problems.append(
                    f"{at.file}:{raw_lines.entry_line(n)}: {prefix[:-1]}: a BOM line must be "
                    "a mapping with item, qty, unit"
                )
                continue
            try:
                lines.append(self._parse_line(raw, prefix))
                line_recs.append(raw)
            except InvalidInput as e:
                problems.append(at.explain(e, prefix, raw))
        if len(problems) > start:
            return
        owner = self._find_item(parent)
        if owner is None:
            problems.append(at.say(f"unknown item {parent!r}", "item"))
        for n, (ln, raw) in enumerate(zip(lines, line_recs, strict=True)):

            def say(message: str, key: str, raw: Record = raw, n: int = n) -> str:
                return _At(at.file, raw, f"{path}.lines[{n}]").say(message, key)

            child = self._find_item(ln.item)
            if child is None:
                problems.append(say(f"unknown item {ln.item!r}", "item"))
            elif ln.unit and ln.unit != child.unit:
                try:
                    child.factor(ln.unit)
                except InvalidInput as e:
                    problems.append(say(str(e), "unit"))
            for s in ln.substitutes:
                if self._find_item(s) is None:
                    problems.append(say(f"unknown item {s!r}", "substitutes"))
        if len(problems) > start or owner is None:
            return
        siblings = self.boms_of.setdefault(_upper(owner.code), [])
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
        entry = _Bom(rev, at)
        self.boms.append(entry)
        siblings.append(entry)

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

    def _cycles(self) -> None:
        """Refuse cycles in the graph of the database's active BOMs plus the imported ones."""
        graph: dict[str, set[str]] = {}
        for code, rev in bom.active_revisions(self.db).items():
            graph[code] = {_upper(ln.item) for ln in rev.lines}
        imported: dict[str, _Bom] = {}
        for entry in self.boms:
            code = _upper(entry.rev.item)
            if entry.rev.active or code not in imported:
                imported[code] = entry
        for code, entry in imported.items():
            children = set()
            for ln in entry.rev.lines:
                children.add(_upper(ln.item))
                children.update(_upper(s) for s in ln.substitutes)
            if entry.rev.active:
                graph[code] = children
            else:
                graph[code] = graph.get(code, set()) | children
        names = {k: (self._find_item(k) or Item(k, "", "", "", "buy")).code for k in graph}
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

    # -- opening stock

    def _opening(self, at: _At) -> None:
        rec = at.record
        path = at.path
        if "item" not in rec:
            self.problems.append(at.say("missing", "item"))
            return
        start = len(self.problems)
        try:
            code = codes.code(rec["item"], what=f"{path}.item")
        except InvalidInput as e:
            self.problems.append(at.explain(e))
            return
        item = self._find_item(code)
        if item is None:
            self.problems.append(at.say(f"unknown item {code!r}", "item"))
            return
        # A deactivated item may still hold stock: its opening balance is accepted.

        def check(key: str, fn: Any) -> Any:
            if key not in rec or rec[key] is None:
                return None
            try:
                return fn(rec[key])
            except (InvalidInput, ValueError) as e:
                self.problems.append(at.explain(e))
                return None

        location = check("location", lambda v: codes.code(v, what=f"{path}.location"))
        location = location or DEFAULT_LOCATION
        if ("location" not in rec or len(self.problems) == start) and not self._location_known(
            location
        ):
            self.problems.append(
                at.say(
                    f"unknown location {location!r}: add it under locations: first",
                    "location",
                )
            )
        status = check("status", lambda v: _status(v, f"{path}.status"))
        if status is None:
            status = "pending_inspection" if item.inspect_on_receipt else "available"
        lot = check("lot", lambda v: codes.lot_code(v, what=f"{path}.lot"))
        serials = check("serials", lambda v: _serials(v, f"{path}.serials")) or []
        unit = check("unit", lambda v: q.parse_unit(v, what=f"{path}.unit"))
        expires = check("expires", lambda v: parse_date(v, what=f"{path}.expires"))
        when = check("date", lambda v: _past_date(v, f"{path}.date"))
        cost = check("cost", lambda v: q.parse_qty(v, what=f"{path}.cost", allow_zero=True))
        amount: Decimal | None = None
        number = Decimal(0)
        if "qty" in rec:
            try:
                number = q.parse_qty(rec["qty"], what=f"{path}.qty")
                amount = item.to_base(number, unit)
                q.to_micro(amount, what=f"{path}.qty in {item.unit}")
            except InvalidInput as e:
                self.problems.append(at.say(str(e).replace(f"{path}.qty ", ""), "qty"))
        elif item.tracking != "serial":
            self.problems.append(at.say("missing", "qty"))
        # Tracking rules, said with the field to fix.
        if item.tracking == "none" and (lot or serials):
            key = "lot" if lot else "serials"
            self.problems.append(at.say(f"{item.code} is not lot- or serial-tracked", key))
        if item.tracking == "lot":
            if serials:
                self.problems.append(
                    at.say(f"{item.code} is lot-tracked: give lot, not serials", "serials")
                )
            elif lot is None and rec.get("lot") is None:
                self.problems.append(
                    at.say(f"missing: {item.code} is lot-tracked, give the lot number", "lot")
                )
        if item.tracking == "serial":
            if lot:
                self.problems.append(
                    at.say(f"{item.code} is serial-tracked: give serials, not lot", "lot")
                )
            elif not serials and rec.get("serials") is None:
                self.problems.append(
                    at.say(f"missing: {item.code} is serial-tracked, list its serials", "serials")
                )
            elif serials and amount is not None and amount != len(serials):
                self.problems.append(
                    at.say(
                        f"{q.fmt(amount)} must equal the number of serials ({len(serials)})",
                        "qty",
                    )
                )
            if serials:
                amount = number = Decimal(len(serials))
        if len(self.problems) > start or amount is None:
            return
        entry = _Opening(
            item, amount, number, location, status, lot, serials, expires, cost, unit, when, at
        )
        for other in self.stock:
            same = (
                other.item.code == item.code
                and _upper(other.location) == _upper(location)
                and other.status == status
            )
            if not same:
                continue
            overlap = {s.upper() for s in other.serials} & {s.upper() for s in serials}
            if (not serials and (other.lot or "").upper() == (lot or "").upper()) or overlap:
                self.problems.append(
                    at.say(
                        f"opening stock {entry.key} is given twice (first at "
                        f"{other.at.file}:{other.at.line}); give it once with the total",
                        "item",
                    )
                )
                return
        self.stock.append(entry)

    # -- writing

    def write(self, user: str) -> list[Change]:
        """Write everything (the caller holds the transaction); problems raise at the end."""
        changes: list[Change] = []
        db = self.db
        for loc in self.locations.values():
            if loc.action != "unchanged":
                self._guard(loc.at, lambda loc=loc: locations.ensure(db, loc.code, loc.name))
            detail = f"name {loc.name!r}" if loc.action == "changed" else ""
            changes.append(Change("location", loc.code, loc.action, detail))
        self._stop()
        # New codes were checked against the database and each other during validation.
        added = [e for e in self.items.values() if e.action == "added"]
        for entry, stored in zip(
            added, items.insert_many(db, [e.item for e in added]), strict=True
        ):
            entry.item = stored
        for entry in self.items.values():
            if entry.action == "changed":
                self._guard(entry.at, lambda e=entry: items.store_update(db, e.old, e.item))
            changes.append(Change("item", entry.item.code, entry.action, ", ".join(entry.changed)))
        self._stop()
        changes.extend(self._write_boms())
        self._stop()
        for opening in self.stock:
            done = self._guard(opening.at, lambda o=opening: self._post(o, user))
            if done is not None:
                changes.append(Change("stock", opening.key, done, _stock_detail(opening)))
        self._stop()
        return changes

    def _write_boms(self) -> list[Change]:
        """Store the BOM revisions: ``bom.save`` decides for each changed one.

        Two shortcuts keep a 40,000-line import fast, both giving what ``bom.save``
        would: a revision equal to a stored one is left alone without calling it, and
        the only revision of an item that has none yet is inserted in bulk.
        """
        if not self.boms:
            return []
        db = self.db
        stored: dict[str, list[bom.Revision]] = {}
        for r in bom.revisions(db):
            stored.setdefault(_upper(r.item), []).append(r)
        changes: list[Change] = []
        fresh: list[bom.Revision] = []
        for b in self.boms:
            code = _upper(b.rev.item)
            rev = self._with_units(b.rev)
            revs = stored.get(code, [])
            if not revs and len(self.boms_of[code]) == 1:
                fresh.append(rev)
                changes.append(Change("bom", f"{rev.item} rev {rev.revision}", "added"))
                continue
            same = _same_as_stored(rev, revs)
            if same is not None:
                result = bom.SaveResult(rev.item, "unchanged", same, rev.revision)
            else:
                result = self._guard(b.at, lambda rev=rev: bom.save(db, rev))
            if result is not None:
                changes.append(_bom_change(result))
        if fresh:
            ids = {code: i.id for code, i in self.db_items.items()}
            ids.update({code: e.item.id for code, e in self.items.items()})
            bom.insert_revisions(db, fresh, ids)
        return changes

    def _with_units(self, rev: bom.Revision) -> bom.Revision:
        """A line without a unit is in the child's base unit (as ``bom.save`` stores it)."""
        if all(ln.unit for ln in rev.lines):
            return rev
        lines = tuple(
            ln if ln.unit else replace(ln, unit=self._find_item(ln.item).unit)  # type: ignore[union-attr]
            for ln in rev.lines
        )
        return replace(rev, lines=lines)

    def _guard(self, at: _At, fn: Any) -> Any:
        try:
            return fn()
        except MfgError as e:
            self.problems.append(at.say(str(e)))
            return None

    def _stop(self) -> None:
        if self.problems:
            raise ImportInvalid(self.problems)

    def _post(self, o: _Opening, user: str) -> str:
        """Post one opening balance unless the same one was posted before."""
        db = self.db
        item = items.get(db, o.item.code)
        loc = locations.get(db, o.location)

        def posted(item_id: int, location_id: int, status: str, lot_id: int | None) -> Decimal:
            return stock.opening_qty(
                db, item_id=item_id, location_id=location_id, status=status, lot_id=lot_id
            )

        if item.tracking == "serial":
            new = []
            for s in o.serials:
                lot = ledger.find_lot(db, item, s)
                if lot is None:
                    new.append(s)
                elif posted(item.id, loc.id, o.status, lot.id) != 1:
                    raise InvalidInput(
                        f"serial {lot.code} of {item.code} already exists outside this "
                        "opening balance: leave it out, or correct stock with stock adjust"
                    )
            if not new:
                return "unchanged"
            stock.receive(
                db,
                item=item.code,
                qty=len(new),
                user=user,
                location=loc.code,
                serials=new,
                expires=o.expires,
                cost=o.cost if o.unit is None else None,
                when=o.when,
                source="OPENING",
                status=o.status,
            )
            return "added"
        lot = ledger.find_lot(db, item, o.lot) if o.lot else None
        before = Decimal(0)
        if lot is not None or not o.lot:
            before = posted(item.id, loc.id, o.status, lot.id if lot else None)
        if before:
            if before == o.qty:
                return "unchanged"
            raise InvalidInput(
                f"opening stock of {o.key} was already imported as {q.fmt(before)} "
                f"{item.unit}, not {q.fmt(o.qty)}: an opening balance is not changed by a "
                "new import; correct it with `mfgctl stock count` or `mfgctl stock adjust`"
            )
        stock.receive(
            db,
            item=item.code,
            qty=o.number,
            unit=o.unit,
            user=user,
            location=loc.code,
            lot=o.lot,
            expires=o.expires,
            cost=o.cost,
            when=o.when,
            source="OPENING",
            status=o.status,
        )
        return "added"


_KEYS: dict[str, tuple[str, ...]] = {
    "locations": LOCATION_KEYS,
    "items": items.KEYS,
    "boms": bom.BOM_KEYS,
    "stock": STOCK_KEYS,
}


def _same_as_stored(rev: bom.Revision, stored: list[bom.Revision]) -> str | None:
    """The stored revision ``bom.save`` would call unchanged for ``rev``, if any."""
    named = next((r for r in stored if r.revision.upper() == rev.revision.upper()), None)
    if named is not None and named.same_content(rev):
        return None if rev.active and not named.active else named.revision
    active = next((r for r in stored if r.active), None)
    if active is not None and active.same_content(rev):
        return active.revision
    return None


def _status(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be one of {', '.join(ledger.STATUSES)}; got {value!r}")
    return ledger.parse_status(value, what=what)


def _serials(value: object, what: str) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a list of serial numbers")
    result: list[str] = []
    seen: set[str] = set()
    for n, s in enumerate(value):
        serial = codes.lot_code(s, what=f"{what}[{n}]")
        if serial.upper() in seen:
            raise InvalidInput(f"{what}[{n}] serial {serial} is given twice")
        seen.add(serial.upper())
        result.append(serial)
    return result


def _past_date(value: object, what: str) -> str:
    day = parse_date(value, what=what)
    if day > date.today():
        raise InvalidInput(f"{what} {day.isoformat()} is in the future: back-dating only")
    return day.isoformat()


def _bom_change(result: bom.SaveResult) -> Change:
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


def _stock_detail(o: _Opening) -> str:
    if o.serials:
        return f"{len(o.serials)} serials"
    return f"{q.fmt(o.qty)} {o.item.unit}"


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
    job = _Import(db, documents)
    job.validate()
    job._stop()
    if not dry_run:
        return Result(tuple(job.write(user)))
    db.execute("SAVEPOINT import_dry_run")
    try:
        changes = job.write(user)
    finally:
        db.execute("ROLLBACK TO import_dry_run")
        db.execute("RELEASE import_dry_run")
    return Result(tuple(changes), dry_run=True)


# -- export --------------------------------------------------------------------------------


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line: ``{code: MIC-100, name: ...}``."""


# A string may be written plain when it cannot be mistaken for YAML syntax or for
# another type (PyYAML's own resolver decides the latter); otherwise it is single-quoted.
_PLAIN_TEXT = re.compile(r"[^\W][^:,\[\]{}]*(?<! )")


def _text(value: str) -> str:
    if (
        _PLAIN_TEXT.fullmatch(value)
        and " #" not in value
        and value.isprintable()
        and not any(r.match(value) for _, r in _IMPLICIT.get(value[0], ()))
    ):
        return value
    return "'" + value.replace("'", "''") + "'"


def _flow(value: Any) -> str:
    """One value in YAML flow style: exact numbers, dates, quoted text where needed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return q.fmt(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _text(str(value))


def _emit(data: dict[str, list[Any]]) -> Iterable[str]:
    """Block style for sections and BOMs, one flow mapping per line for records."""
    for section, records in data.items():
        yield f"{section}:\n"
        for rec in records:
            if isinstance(rec, _Flow):
                yield f"- {_flow(rec)}\n"
                continue
            lead = "- "
            for key, value in rec.items():
                if isinstance(value, list) and value and isinstance(value[0], dict):
                    yield f"{lead}{key}:\n"
                    yield from (f"  - {_flow(v)}\n" for v in value)
                else:
                    yield f"{lead}{key}: {_flow(value)}\n"
                lead = "  "


def _item_fields(item: Item) -> dict[str, Any]:
    out = items.to_fields(item)
    if "planning_reviewed" in out:
        out["planning_reviewed"] = date.fromisoformat(out["planning_reviewed"])
    if "units" in out:
        out["units"] = _Flow(out["units"])
    return _Flow(out)


def export_data(db: sqlite3.Connection) -> dict[str, list[Any]]:
    """Everything an import takes, as plain data in the import format."""
    data: dict[str, list[Any]] = {}
    data["locations"] = [
        _Flow(code=loc.code, name=loc.name) for loc in locations.list_locations(db) if loc.active
    ]
    data["items"] = [_item_fields(i) for i in items.all_items(db)]
    boms = []
    for rev in bom.revisions(db):
        out = rev.to_fields()
        out["lines"] = [_Flow(ln) for ln in out["lines"]]
        boms.append(out)
    data["boms"] = boms
    entries: list[dict[str, Any]] = []
    for r in reports.balances_for_export(db):
        expires = r["expires"]
        if r["serial"]:
            last = entries[-1] if entries else None
            if (
                last is not None
                and "serials" in last
                and (last["item"], last["location"], last["status"], last.get("expires"))
                == (r["item"], r["location"], r["status"], expires)
            ):
                last["serials"].append(r["lot"])
                last["qty"] += 1
                continue
            entry = _Flow(item=r["item"], location=r["location"], status=r["status"])
            entry["serials"] = [r["lot"]]
            entry["qty"] = 1
        else:
            entry = _Flow(item=r["item"], location=r["location"], status=r["status"])
            if r["lot"] is not None:
                entry["lot"] = r["lot"]
            entry["qty"] = r["qty"]
        if expires is not None:
            entry["expires"] = expires
        entries.append(entry)
    data["stock"] = entries
    return {k: v for k, v in data.items() if v}


def export(db: sqlite3.Connection) -> str:
    """The database's locations, items, BOM revisions and stock as import YAML."""
    data = export_data(db)
    header = "# mfgctl export: import it with `mfgctl import FILE`\n"
    if not data:
        return header + "{}\n"
    return header + "".join(_emit(data))
