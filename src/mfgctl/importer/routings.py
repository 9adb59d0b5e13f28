"""The ``routings:`` section of an import: each item's ordered stages.

A routing names a make item (in the database or in the same import) and a non-empty
list of stages, each with ``name`` and optional ``workcenter``, ``setup_min`` (per
order) and ``run_min`` (per unit), in minutes::

    routings:
      - item: HD-200
        stages:
          - {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}
          - {name: qc}

A routing equal to the stored one changes nothing; a different one replaces it
(orders already released keep their own copy of the stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mfgctl.domain import codes, stages
from mfgctl.errors import InvalidInput
from mfgctl.importer.records import At, Change, known_only, upper
from mfgctl.importer.yamlread import Record, Seq

if TYPE_CHECKING:
    from mfgctl.importer.load import Import


@dataclass(slots=True)
class RoutingEntry:
    item: str
    stages: list[stages.Stage]
    at: At


class Routings:
    """The routing records of one import: each checked, then stored."""

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.find_item = job.find_item
        self.guard = job.guard
        self.entries: dict[str, RoutingEntry] = {}

    def check(self, at: At) -> None:
        """Validate one routing record; a valid one is kept for ``write``."""
        rec, path, problems = at.record, at.path, self.problems
        start = len(problems)
        for key in ("item", "stages"):
            if key not in rec:
                problems.append(at.say("missing", key))
        if len(problems) > start:
            return
        try:
            code = codes.code(rec["item"], what=f"{path}.item")
        except InvalidInput as e:
            problems.append(at.explain(e))
            return
        item = self.find_item(code)
        if item is None:
            problems.append(at.say(f"unknown item {code!r}", "item"))
        elif item.make_or_buy != "make":
            problems.append(
                at.say(f"{item.code} is a buy item: only make items have routings", "item")
            )
        raw_stages = rec["stages"]
        if not isinstance(raw_stages, Seq) or not raw_stages:
            problems.append(at.say("must be a non-empty list of stages", "stages"))
            return
        found: list[stages.Stage] = []
        first: dict[str, int] = {}
        for n, raw in enumerate(raw_stages):
            prefix = f"{path}.stages[{n}]."
            if not isinstance(raw, Record):
                problems.append(
                    f"{at.file}:{raw_stages.entry_line(n)}: {prefix[:-1]}: a stage must be a "
                    "mapping like {name: assembly, workcenter: ASSY, setup_min: 15, run_min: 12}"
                )
                continue
            line = raw
            raw, unknown = known_only(raw, stages.STAGE_KEYS)
            for k in unknown:
                problems.append(
                    At(at.file, line, prefix[:-1]).say(
                        f"unknown key (known: {', '.join(stages.STAGE_KEYS)})", k
                    )
                )
            try:
                stage = stages.parse_stage(raw, n + 1, where=prefix)
            except InvalidInput as e:
                problems.append(at.explain(e, prefix, raw))
                continue
            earlier = first.setdefault(stage.name.upper(), n)
            if earlier != n:
                problems.append(
                    At(at.file, raw, prefix[:-1]).say(
                        f"stage {stage.name} is given twice (first as stages[{earlier}])", "name"
                    )
                )
                continue
            found.append(stage)
        if len(problems) > start or item is None:
            return
        other = self.entries.get(upper(item.code))
        if other is not None:
            problems.append(
                at.say(
                    f"the routing of {item.code} is given twice "
                    f"(first at {other.at.file}:{other.at.line})",
                    "item",
                )
            )
            return
        self.entries[upper(item.code)] = RoutingEntry(item.code, found, at)

    def write(self) -> list[Change]:
        """Store each routing that differs from the stored one."""
        changes: list[Change] = []
        for entry in self.entries.values():
            item = self.find_item(entry.item)
            action = self.guard(
                entry.at, lambda e=entry, i=item: stages.store(self.db, i, e.stages)
            )
            if action is not None:
                detail = f"{len(entry.stages)} stages" if action != "unchanged" else ""
                changes.append(Change("routing", entry.item, action, detail))
        return changes
