"""Reading import YAML: plain data with line numbers, exact numbers, no Python objects.

PyYAML's C parser (when available) produces events and this module builds plain data
from them itself, remembering the line of every mapping and key (``Record``, ``Seq``).
This is several times faster than PyYAML's node composer and keeps numbers exact:
``0.35`` arrives as ``Decimal('0.35')``, ``12`` as ``int``. Only plain data is
accepted: any tag that would build a Python object (``!!python/...``) or an unknown type
is refused. Anchors, aliases and ``<<`` merge keys work as in YAML 1.1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from mfgctl.errors import ImportInvalid

_STR = "tag:yaml.org,2002:str"


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


# How PyYAML types a plain scalar, by its first character (also used when writing).
IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_TIMESTAMP = yaml.constructor.SafeConstructor()
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
    for tag, regexp in IMPLICIT.get(value[0] if value else "", ()):
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
    except yaml.reader.ReaderError as e:
        # A control character such as NUL: PyYAML's own message spans two lines.
        line = text[: e.position].count("\n") + 1
        shown = chr(e.character) if isinstance(e.character, int) else str(e.character)
        return [], [
            *builder.problems,
            f"{file}:{line}: malformed YAML: character {shown!r} "
            f"(U+{ord(shown[:1] or ' '):04X}) is not allowed in a YAML file",
        ]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        what = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        detail = " ".join((f"{context}, {what}" if context else what).split())  # one line
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
