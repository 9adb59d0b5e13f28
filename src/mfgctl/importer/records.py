"""What an import says: where a record is (``At``) and what was done with it (``Change``).

Every problem names the file, the line and the field of the record it is about:
``items.yaml:14: items[3].lead_time_days: must be ...``; ``At`` builds those messages,
also from a domain error's text. ``Result`` is what ``run`` returns: one ``Change``
per record, added, changed or unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mfgctl.importer.yamlread import Record

SECTIONS = (
    "locations", "workcenters", "items", "boms", "routings", "stock", "lots", "demand",
    "purchase_orders",
)  # fmt: skip

KINDS = (
    "location", "workcenter", "item", "bom", "routing", "stock", "lot", "demand",
    "purchase_order",
)  # fmt: skip
# Kinds the summary shows only when the import has records of them.
_SHOWN_IF_GIVEN = ("workcenter", "lot", "demand", "purchase_order")
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
    note: str = ""  # a BOM stored under another revision name than the file's
    # What else the user should hear about the record (said on a dry run too).
    remarks: tuple[str, ...] = ()

    def as_row(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "action": self.action, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Result:
    changes: tuple[Change, ...]
    dry_run: bool = False

    def summary(self) -> list[dict[str, Any]]:
        """Per kind of record: how many were added, changed and unchanged (work centres,
        lots, demand and purchase orders only when the import has any)."""
        given = {c.kind for c in self.changes}
        rows = []
        for kind in KINDS:
            if kind in _SHOWN_IF_GIVEN and kind not in given:
                continue
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
        """A line for each BOM stored under another revision name than the file's, and
        each remark (``remarks``)."""
        return [n for c in self.changes for n in (c.note, *c.remarks) if n]

    def remarks(self) -> list[str]:
        """The remarks alone (a dry run says the rest as what it would do)."""
        return [r for c in self.changes for r in c.remarks]


# -- where a record is ---------------------------------------------------------------------

_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")


def known_only(rec: Record, keys: tuple[str, ...]) -> tuple[Record, list[str]]:
    """``rec`` with only the ``keys`` it may have (the lines of each kept), and the keys
    it has beyond them, so a record's unknown keys are reported and the rest of it is
    still checked: one run lists every problem."""
    unknown = [str(k) for k in rec if k not in keys]
    if not unknown:
        return rec, []
    kept = Record(rec.line)
    for k, v in rec.items():
        if k in keys:
            kept[k] = v
            if k in rec.lines:
                kept.lines[k] = rec.lines[k]
    return kept, unknown


def upper(code: str) -> str:
    """A code as records are matched: trimmed, upper-cased."""
    return code.strip().upper()


@dataclass(slots=True)
class At:
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
