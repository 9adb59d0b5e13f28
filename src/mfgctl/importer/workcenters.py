"""The ``workcenters:`` section of an import: work centres and their downtime windows.

::

    workcenters:
      - code: ASSY
        name: Assembly
        machines: 2
        hours: mon-thu=8,fri=6        # or 8, or [8, 8, 8, 8, 6, 0, 0]
        day_start: '06:00'
        rate: 45.50                   # money per machine-hour
        downtime:
          - {from: '2025-08-04', to: '2025-08-16', reason: Summer holiday}

A record is the whole work centre: a key left out takes its default (1 machine, 8 hours
Monday to Friday, 08:00, no rate, active). A centre equal to the stored one changes
nothing; a different one is updated. Downtime windows not stored yet (same from, to and
reason) are added; stored windows the file does not list are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mfgctl.domain import codes, workcenters
from mfgctl.errors import InvalidInput
from mfgctl.importer.records import At, Change, known_only, upper
from mfgctl.importer.yamlread import Record, Seq

if TYPE_CHECKING:
    from mfgctl.importer.load import Import

_FIELDS = {
    "machines": workcenters.parse_machines,
    "hours": workcenters.parse_hours,
    "day_start": workcenters.parse_clock,
    "rate": workcenters.parse_rate,
}


@dataclass(slots=True)
class CentreEntry:
    centre: workcenters.WorkCentre
    windows: list[workcenters.Downtime]
    at: At


class WorkCentres:
    """The work centre records of one import: each checked, then stored."""

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.guard = job.guard
        self.entries: dict[str, CentreEntry] = {}

    def check(self, at: At) -> None:
        """Validate one work centre record; a valid one is kept for ``write``."""
        rec, path, problems = at.record, at.path, self.problems
        start = len(problems)
        if "code" not in rec:
            problems.append(at.say("missing: every work centre needs a code", "code"))
            return
        try:
            code = codes.code(rec["code"], what=f"{path}.code")
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        # Say every bad field, not only the first one.
        fields = {k: v for k, v in rec.items() if k not in ("code", "downtime")}
        for key, value in fields.items():
            parse = _FIELDS.get(key)
            if parse is None or value is None:
                continue
            try:
                parse(value, what=f"{path}.{key}")
            except InvalidInput as e:
                problems.append(at.explain(e))
        windows = self._windows(at)
        if len(problems) > start:
            return
        try:
            centre = workcenters.build(code, fields, where=f"{path}.")
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        first = self.entries.get(upper(code))
        if first is not None:
            problems.append(
                at.say(
                    f"work centre {code} is given twice (first at {first.at.file}:{first.at.line})",
                    "code",
                )
            )
            return
        self.entries[upper(code)] = CentreEntry(centre, windows, at)

    def _windows(self, at: At) -> list[workcenters.Downtime]:
        raw = at.record.get("downtime")
        if raw is None:
            return []
        if not isinstance(raw, Seq):
            example = "[{from: 2025-08-04, to: 2025-08-16, reason: ...}]"
            self.problems.append(at.say(f"must be a list like {example}", "downtime"))
            return []
        found = []
        for n, entry in enumerate(raw):
            prefix = f"{at.path}.downtime[{n}]."
            if not isinstance(entry, Record):
                self.problems.append(
                    f"{at.file}:{raw.entry_line(n)}: {prefix[:-1]}: a downtime window must be "
                    "a mapping like {from: 2025-08-04 06:00, to: 2025-08-04 14:00, reason: ...}"
                )
                continue
            # Every unknown key is said, and the window's other keys still checked.
            line = entry
            entry, unknown = known_only(entry, workcenters.DOWN_KEYS)
            for k in unknown:
                self.problems.append(
                    At(at.file, line, prefix[:-1]).say(
                        f"unknown key (known: {', '.join(workcenters.DOWN_KEYS)})", k
                    )
                )
            try:
                found.append(workcenters.build_down(entry, where=prefix))
            except InvalidInput as e:
                self.problems.append(at.explain(e, prefix, entry))
        return found

    def write(self, user: str) -> list[Change]:
        """Store each work centre that differs from the stored one, and new windows."""
        changes: list[Change] = []
        for entry in self.entries.values():
            old = workcenters.find(self.db, entry.centre.code)
            done = self.guard(
                entry.at,
                lambda e=entry: workcenters.store(self.db, e.centre, e.windows, user=user),
            )
            if done is None:
                continue
            action, added = done
            detail = []
            if old is not None and action == "changed":
                before, after = old.to_fields(), entry.centre.to_fields()
                detail = [k for k in workcenters.KEYS if before.get(k) != after.get(k)]
                detail = [k for k in detail if k != "code"]
            if added:
                detail.append(f"{added} downtime window{'s' if added != 1 else ''} added")
            changes.append(Change("workcenter", entry.centre.code, action, ", ".join(detail)))
        return changes
