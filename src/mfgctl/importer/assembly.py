"""Multi-level assembly BOMs from NopSCADlib (``bom/bom.json``), as items and BOMs.

NopSCADlib's ``scripts/bom.py`` writes a JSON list of assembly objects::

    [{"name": "picker_assembly", "count": 2, "assemblies": {},
      "vitamins": {"rail(MGN7, 100): Linear rail MGN7 x 100mm": {"count": 2}},
      "printed": {"vacuum_mount.stl": {"count": 2, "colour": "..."}},
      "routed": {"nema_holes.dxf": {"count": 2}}}, ...]

``count`` is how many of the assembly one top-level product needs; every count inside
an assembly is the **total over all its copies**, not a quantity per assembly. So the
quantity per parent is the count divided by the parent's own ``count``: 2 rails in a
picker built twice is 1 rail per picker. Where a count does not divide evenly, the
BOM is stored for that many assemblies instead (``output_qty``), so it stays exact.

What becomes what:

* an assembly: a make item (``finished`` for a top assembly, else ``subassembly``)
  whose BOM (revision ``A``) lists its sub-assemblies, vitamins, printed and routed
  parts, all in ``pcs``;
* a vitamin (``"call: description"``): a bought component, named by its description
  (spaces tidied). Vitamins with the same description are one item, whatever call drew
  them (a belt drawn along two paths is one belt);
* a printed ``.stl`` or routed ``.dxf`` part: a make component without a BOM (its
  material is not in the file; ``mfgctl check`` reports it as ``bom_missing``).

Item codes come from the text alone, so the same part gets the same code on every
import: NFKD-folded to ASCII, ``x`` between dimensions closed up (``1497mm x 620mm``
becomes ``1497MMX620MM``), upper-cased, every run of characters a code may not hold
(spaces, commas, brackets, colons...) made one ``-``; ``--prefix`` goes in front. A
code longer than 40 characters is cut and ends in ``-`` plus 4 hex digits of a SHA-1 of
the text; two different parts of one file that would share a code both get that suffix.

An existing item with the derived code is used as it is (never changed), so a shop can
rename parts, add costs or other units after the first import. Importing the same
file again changes nothing: items exist and each BOM equals its stored revision; a
changed assembly becomes a new revision (``bom.save``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from mfgctl.domain import bom, bomtree, codes, items
from mfgctl.errors import ImportInvalid, InvalidInput, RuleViolation

REVISION = "A"
UNIT = "pcs"
MAX_PREFIX = 20
# Keys NopSCADlib writes for its pictures: nothing to do with the BOM.
RENDER_KEYS = frozenset({"big", "ngb", "zoomed"})
PART_SECTIONS = ("vitamins", "printed", "routed")
KNOWN_KEYS = frozenset({"name", "count", "assemblies", *PART_SECTIONS}) | RENDER_KEYS
_NOT_CODE = re.compile(r"[^A-Za-z0-9._/+#-]+")
_EDGE = "-._/+#"
# "1497mm x 620mm x 2mm" -> "1497mmx620mmx2mm": dimensions stay readable and short.
_DIMENSIONS = re.compile(r"(?:(?<=[0-9])|(?<=mm))\s+x\s+(?=[0-9])")
# "call(args): description"; custom vitamins write "call(args) : description".
_VITAMIN = re.compile(r"(.*?\))\s*:\s*(.*)", re.DOTALL)
KIND_NAMES = {"printed": "3D printed", "routed": "CNC routed"}


@dataclass(frozen=True, slots=True)
class Part:
    """One item the file names: its kind, where it comes from, and what it becomes."""

    kind: str  # assembly | vitamin | printed | routed
    source: str  # assembly name, vitamin key (the first met) or file name
    identity: str  # what makes two parts the same (kind + tidied text)
    code: str
    name: str
    make_or_buy: str
    type: str

    def as_row(self, action: str) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "item": self.code,
            "name": self.name,
            "make_or_buy": self.make_or_buy,
            "type": self.type,
            "action": action,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A file read and checked: the items, one BOM per assembly with lines, warnings."""

    file: str
    tops: tuple[str, ...]  # item codes of the assemblies no other assembly uses
    parts: tuple[Part, ...]
    boms: tuple[bom.Revision, ...]
    assemblies: int
    warnings: tuple[str, ...]


@dataclass(slots=True)
class Report:
    """What an import did (or, on a dry run, would do)."""

    plan: Plan
    dry_run: bool
    created: list[Part] = field(default_factory=list)
    existing: list[Part] = field(default_factory=list)
    bom_actions: dict[str, str] = field(default_factory=dict)  # item code -> save action
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        actions = list(self.bom_actions.values())
        return {
            "file": self.plan.file,
            "top": list(self.plan.tops),
            "assemblies": self.plan.assemblies,
            "make_created": sum(p.make_or_buy == "make" for p in self.created),
            "buy_created": sum(p.make_or_buy == "buy" for p in self.created),
            "items_existing": len(self.existing),
            "boms_added": actions.count("added"),
            "boms_new_revision": actions.count("new_revision"),
            "boms_unchanged": actions.count("unchanged") + actions.count("activated"),
            "bom_lines": sum(len(r.lines) for r in self.plan.boms),
            "warnings": len(self.warnings),
            "warning_messages": list(self.warnings),
            "dry_run": self.dry_run,
        }

    def item_rows(self) -> list[dict[str, Any]]:
        created = {p.identity for p in self.created}
        return [
            p.as_row("created" if p.identity in created else "existing") for p in self.plan.parts
        ]


# -- codes and names -------------------------------------------------------------------


def tidy(text: str) -> str:
    """Text with runs of white space made one space, trimmed."""
    return " ".join(text.split())


def readable(text: str) -> str:
    """A name as an item may hold it: printable, one line, at most 200 characters."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in tidy(text))
    return shown if len(shown) <= 200 else shown[:197] + "..."


def _suffix(identity: str) -> str:
    return hashlib.sha1(identity.encode()).hexdigest()[:4].upper()


def derive_code(text: str, identity: str, *, prefix: str = "", hashed: bool = False) -> str:
    """The item code for a part's text (see the module docstring for the rules)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    folded = _DIMENSIONS.sub("x", folded)
    body = _NOT_CODE.sub("-", folded).strip(_EDGE).upper()
    body = re.sub(r"-{2,}", "-", body)
    code = prefix + body
    if hashed or not body or len(code) > codes.MAX_CODE:
        keep = codes.MAX_CODE - 5
        code = (prefix + body)[:keep].rstrip(_EDGE) + "-" + _suffix(identity)
        if not code[0].isalnum():  # an empty body and no prefix
            code = "P" + code
    return code


def split_vitamin(key: str) -> tuple[str, str]:
    """A vitamin key as (OpenSCAD call, description); a key without a call is all
    description."""
    m = _VITAMIN.fullmatch(key)
    if m and tidy(m.group(2)):
        return m.group(1).strip(), tidy(m.group(2))
    return "", tidy(key)


def _assembly_name(name: str) -> str:
    words = tidy(name.replace("_", " "))
    return words[:1].upper() + words[1:]


def _file_name(kind: str, filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    words = tidy(stem.replace("_", " "))
    return f"{words[:1].upper() + words[1:]}, {KIND_NAMES[kind]} ({filename})"


# -- reading ---------------------------------------------------------------------------


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def load_json(path: Path) -> Any:
    """The file's JSON (numbers exact); InvalidInput names the line and column."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{name}: not UTF-8 text (byte {e.start})") from e
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{name}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from e
    except _Duplicate as e:
        raise InvalidInput(
            f"{name}: key {str(e)!r} appears twice in one object (JSON keeps only one)"
        ) from e
    except RecursionError as e:
        raise InvalidInput(f"{name}: nested too deeply to be a NopSCADlib BOM") from e


def _count(value: object) -> int | None:
    """A whole count of at least 1, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value) if value >= 1 else None
    return None


def _shown(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, Decimal) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(slots=True)
class _Assembly:
    name: str
    count: int
    where: str
    children: list[tuple[str, int, str]]  # (child assembly name, total count, where)
    parts: list[tuple[str, str, int]]  # (kind, text, total count)


class _Reader:
    """Checks a parsed file, collecting every problem before giving up."""

    def __init__(self, file: str, prefix: str) -> None:
        self.file = file
        self.prefix = prefix
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.file}: {where}: {message}")

    def read(self, data: Any) -> Plan:
        if not isinstance(data, list) or not data:
            raise InvalidInput(
                f"{self.file}: expected a JSON list of assembly objects (NopSCADlib "
                f"bom/bom.json), found {_kind_of(data)}"
            )
        assemblies: dict[str, _Assembly] = {}
        for n, obj in enumerate(data):
            found = self._assembly(n, obj)
            if found is None:
                continue
            if found.name in assemblies:
                self.problem(
                    found.where, f"assembly {found.name!r} is given twice "
                    f"(first at {assemblies[found.name].where})"
                )  # fmt: skip
                continue
            assemblies[found.name] = found
        self._check_children(assemblies)
        if self.problems:
            raise ImportInvalid(self.problems)
        return self._plan(assemblies)

    def _assembly(self, n: int, obj: object) -> _Assembly | None:
        where = f"[{n}]"
        if not isinstance(obj, dict):
            self.problem(where, f"an assembly must be a JSON object, not {_kind_of(obj)}")
            return None
        name = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(where, "name: missing or not text (an assembly needs its name)")
            return None
        name = name.strip()
        where = f"[{n}] {name}"
        start = len(self.problems)
        count = _count(obj.get("count"))
        if count is None:
            shown = _shown(obj.get("count"))
            self.problem(where, f"count: must be a whole number of at least 1, not {shown}")
        unknown = sorted(k for k in obj if k not in KNOWN_KEYS)
        if unknown:
            self.warnings.append(f"{self.file}: {where}: ignored unknown keys {', '.join(unknown)}")
        children: list[tuple[str, int, str]] = []
        for key, value in self._section(obj, "assemblies", where):
            at = f"{where}: assemblies[{key!r}]"
            c = _count(value)
            if c is None:
                self.problem(at, f"must be a whole number of at least 1, not {_shown(value)}")
            else:
                children.append((key.strip(), c, at))
        parts: list[tuple[str, str, int]] = []
        for section in PART_SECTIONS:
            for key, value in self._section(obj, section, where):
                at = f"{where}: {section}[{key!r}]"
                # Older NopSCADlib writes "key": 3 instead of "key": {"count": 3}.
                raw = value.get("count") if isinstance(value, dict) else value
                c = _count(raw)
                if c is None:
                    self.problem(
                        at, "count: must be a whole number of at least 1 "
                        f"(as {{\"count\": 3}} or 3), not {_shown(raw)}"
                    )  # fmt: skip
                elif not tidy(key):
                    self.problem(at, "an empty name")
                else:
                    parts.append((section[:-1] if section == "vitamins" else section, key, c))
        if len(self.problems) > start or count is None:
            return None
        return _Assembly(name, count, where, children, parts)

    def _section(self, obj: Mapping[str, Any], key: str, where: str) -> Iterator[tuple[str, Any]]:
        value = obj.get(key)
        if value is None:
            return
        if not isinstance(value, dict):
            self.problem(where, f"{key}: must be an object of name: count, not {_kind_of(value)}")
            return
        yield from value.items()

    def _check_children(self, assemblies: Mapping[str, _Assembly]) -> None:
        placed: dict[str, int] = {}
        for a in assemblies.values():
            for child, n, at in a.children:
                if child not in assemblies:
                    self.problem(at, f"no assembly named {child!r} in the file")
                elif child == a.name:
                    self.problem(at, f"{a.name} cannot contain itself")
                else:
                    placed[child] = placed.get(child, 0) + n
        if self.problems:
            return
        graph = {a.name: [c for c, _, _ in a.children] for a in assemblies.values()}
        for cycle in bomtree.find_cycles(graph, sorted(graph)):
            self.problem(
                assemblies[cycle[0]].where,
                f"assemblies form a cycle: {' -> '.join(cycle)} (an item cannot contain itself)",
            )
            return
        for a in assemblies.values():
            if a.name in placed and placed[a.name] != a.count:
                self.warnings.append(
                    f"{self.file}: {a.where}: count is {a.count} but its parents place "
                    f"{placed[a.name]} in all; quantities per parent follow each parent's "
                    "own count"
                )
            elif a.name not in placed and a.count != 1:
                self.warnings.append(
                    f"{self.file}: {a.where}: a top assembly with count {a.count}; its BOM makes "
                    f"{a.count} and is stored as such"
                )

    def _plan(self, assemblies: Mapping[str, _Assembly]) -> Plan:
        used = {c for a in assemblies.values() for c, _, _ in a.children}
        # Every distinct part, in the order the file first names it.
        texts: dict[str, tuple[str, str, str]] = {}  # identity -> (kind, source, text)
        for a in assemblies.values():
            texts.setdefault(f"assembly:{a.name}", ("assembly", a.name, a.name))
        for a in assemblies.values():
            for kind, key, _ in a.parts:
                texts.setdefault(_identity(kind, key), (kind, key, _text(kind, key)))
        first = {i: derive_code(t, i, prefix=self.prefix) for i, (_, _, t) in texts.items()}
        by_code: dict[str, list[str]] = {}
        for identity, code in first.items():
            by_code.setdefault(code.upper(), []).append(identity)
        parts: dict[str, Part] = {}
        for identity, (kind, source, text) in texts.items():
            clash = len(by_code[first[identity].upper()]) > 1
            code = derive_code(text, identity, prefix=self.prefix, hashed=clash)
            parts[identity] = _part(kind, source, identity, code, top=source not in used)
        if len({p.code.upper() for p in parts.values()}) != len(parts):  # pragma: no cover
            raise InvalidInput(f"{self.file}: two parts would get the same item code")
        revs = []
        for a in assemblies.values():
            revs.extend(self._bom(a, parts))
        tops = tuple(
            parts[f"assembly:{a.name}"].code for a in assemblies.values() if a.name not in used
        )
        return Plan(
            file=self.file,
            tops=tops,
            parts=tuple(parts.values()),
            boms=tuple(revs),
            assemblies=len(assemblies),
            warnings=tuple(self.warnings),
        )

    def _bom(self, a: _Assembly, parts: Mapping[str, Part]) -> list[bom.Revision]:
        totals: dict[str, int] = {}  # item code -> total count, in file order
        for child, n, _ in a.children:
            code = parts[f"assembly:{child}"].code
            totals[code] = totals.get(code, 0) + n
        for kind, key, n in a.parts:
            code = parts[_identity(kind, key)].code
            totals[code] = totals.get(code, 0) + n
        code = parts[f"assembly:{a.name}"].code
        if not totals:
            self.warnings.append(f"{self.file}: {a.where}: an empty assembly; {code} gets no BOM")
            return []
        # Per parent: total / count. Where that is not whole, store the BOM for as many
        # assemblies as it takes to be whole (exact, where 1/3 would not be).
        g = math.gcd(a.count, *totals.values())
        if g != a.count:
            self.warnings.append(
                f"{self.file}: {a.where}: counts are not whole per assembly (built "
                f"{a.count} times); {code}'s BOM is stored for {a.count // g} assemblies "
                "(output_qty)"
            )
        lines = tuple(bom.Line(item=c, qty=Decimal(n // g), unit=UNIT) for c, n in totals.items())
        return [
            bom.Revision(
                item=code,
                revision=REVISION,
                output_qty=Decimal(a.count // g),
                lines=lines,
                note=f"NopSCADlib assembly {a.name} from {self.file}",
            )
        ]


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "a number" if not isinstance(value, bool) else "true/false"


def _identity(kind: str, key: str) -> str:
    if kind == "vitamin":
        return f"vitamin:{split_vitamin(key)[1].casefold()}"
    return f"{kind}:{key.strip()}"


def _text(kind: str, key: str) -> str:
    return split_vitamin(key)[1] if kind == "vitamin" else key.strip()


def _part(kind: str, source: str, identity: str, code: str, *, top: bool) -> Part:
    if kind == "assembly":
        name = readable(_assembly_name(source))
        return Part(
            kind, source, identity, code, name, "make", "finished" if top else "subassembly"
        )
    if kind == "vitamin":
        return Part(
            kind, source, identity, code, readable(split_vitamin(source)[1]), "buy", "component"
        )
    return Part(
        kind,
        source,
        identity,
        code,
        readable(_file_name(kind, source.strip())),
        "make",
        "component",
    )


# -- the import ------------------------------------------------------------------------


def prefix_code(prefix: str | None) -> str:
    """``--prefix`` checked: the start of a code, at most 20 characters."""
    if not prefix:
        return ""
    text = codes.code(prefix, what="--prefix")
    if len(text) > MAX_PREFIX:
        raise InvalidInput(f"--prefix {text!r} is longer than {MAX_PREFIX} characters")
    return text.upper()


def read(path: Path, *, prefix: str | None = None) -> Plan:
    """Read and check a NopSCADlib ``bom.json``; nothing touches the database.

    Raises:
        InvalidInput: the file cannot be read or is not JSON (naming line and column).
        ImportInvalid: every structural problem, each naming the assembly and key.
    """
    pre = prefix_code(prefix)
    return _Reader(path.name, pre).read(load_json(path))


def apply(db: sqlite3.Connection, plan: Plan, *, dry_run: bool = False) -> Report:
    """Create the missing items and store the BOMs in the caller's transaction.

    With ``dry_run`` it all runs inside a savepoint that is rolled back: the report
    says exactly what a real import would do, and nothing is written.
    """
    from mfgctl.db import rolled_back

    if not dry_run:
        return _write(db, plan, dry_run=False)
    with rolled_back(db, "assembly_dry_run"):
        return _write(db, plan, dry_run=True)


def _write(db: sqlite3.Connection, plan: Plan, *, dry_run: bool) -> Report:
    report = Report(plan, dry_run, warnings=list(plan.warnings))
    problems: list[str] = []
    new: list[items.Item] = []
    found: dict[str, items.Item] = {}
    for p in plan.parts:
        item = items.find(db, p.code)
        if item is None:
            new.append(
                items.build(
                    p.code,
                    {"name": p.name, "type": p.type, "unit": UNIT, "make_or_buy": p.make_or_buy},
                )
            )
            report.created.append(p)
            continue
        found[p.code.upper()] = item
        report.existing.append(p)
        if item.make_or_buy != p.make_or_buy:
            report.warnings.append(
                f"{item.code} exists as a {item.make_or_buy} item; the file "
                f"{'makes' if p.make_or_buy == 'make' else 'buys'} it ({p.kind} {p.source!r}); "
                "left as it is"
            )
        try:
            item.factor(UNIT)
        except InvalidInput:
            problems.append(
                f"{item.code} ({p.kind} {p.source!r}) exists counted in {item.unit!r}, and the "
                f"file counts it in pieces: give it a unit {UNIT} "
                f"(mfgctl item update {item.code} --units {UNIT}=...) or rename it"
            )
    if problems:
        raise ImportInvalid(problems)
    items.insert_many(db, new)
    _refuse_cycles(db, plan)
    for rev in plan.boms:
        result = bom.save(db, rev)
        report.bom_actions[result.item] = result.action
        if result.action == "new_revision":
            report.warnings.append(
                f"{result.item}: the BOM differs from revision {rev.revision}; stored as "
                f"revision {result.revision} (now active)"
            )
    return report


def _refuse_cycles(db: sqlite3.Connection, plan: Plan) -> None:
    """The stored BOMs plus the file's must not form a cycle (an existing item with a
    derived code may already contain one of the file's assemblies)."""
    graph: dict[str, set[str]] = {
        code: {ln.item.upper() for ln in rev.lines}
        for code, rev in bom.active_revisions(db).items()
    }
    for rev in plan.boms:
        graph[rev.item.upper()] = {ln.item.upper() for ln in rev.lines}
    sorted_graph = {k: sorted(v) for k, v in graph.items()}
    cycles = bomtree.find_cycles(sorted_graph, [r.item.upper() for r in plan.boms])
    if cycles:
        raise RuleViolation(
            f"BOM cycle with stored BOMs: {' -> '.join(cycles[0])} (an item cannot contain "
            "itself); nothing was written"
        )
