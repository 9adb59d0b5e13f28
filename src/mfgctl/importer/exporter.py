"""Export: the database's locations, work centres (with their downtime windows), items,
BOM revisions, routings, stock (with its cost), the lots and serials no longer in stock,
open demand and open purchase orders as import YAML.

The same format the importer reads, with keys in a fixed order and defaults left out,
so export -> import into a new database -> export gives the same text. Numbers are
written exactly; text is quoted only where YAML would read it as something else.

Each stock record carries its item's moving average as ``cost`` (when the item has
one from costed inflows), so the rebuilt database values stock as this one does. It
carries no ``date``: one date cannot stand for a balance's history (the age of its
oldest units still held is not recorded), so rebuilt stock starts on the import's day.

A purchase order is written with what is still open as its ``qty`` (what was received
is in the stock already), and a demand with what it still lacks (what was shipped has
left the stock; shipments are not written), so a rebuilt database plans and ships
against the same quantities; received and cancelled orders, shipped and cancelled
demand are not written, nor the open demand and orders of an item an import would refuse them for (a
deactivated item; for an order, a make item).

Lots and serials that hold no stock at a real location (shipped, used up, scrapped)
are written under ``lots:``, so the rebuilt database knows every number given
(``order complete --auto-serials`` goes on after the highest). The location a new
database was made with as ``STORES`` carries ``was: STORES`` once renamed, so the
import renames the new database's own ``STORES``: the round trip holds after a rename.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from mfgctl import qty as q
from mfgctl.domain import (
    bom,
    demand,
    items,
    locations,
    lots,
    purchases,
    reports,
    stages,
    valuation,
    workcenters,
)
from mfgctl.domain.items import Item
from mfgctl.importer.yamlread import IMPLICIT


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
        and not any(r.match(value) for _, r in IMPLICIT.get(value[0], ()))
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
    data["locations"] = _locations(db)
    data["workcenters"] = [_centre(db, c) for c in workcenters.list_centres(db)]
    catalogue = items.all_items(db)
    data["items"] = [_item_fields(i) for i in catalogue]
    boms = []
    for rev in bom.revisions(db):
        out = rev.to_fields()
        out["lines"] = [_Flow(ln) for ln in out["lines"]]
        boms.append(out)
    data["boms"] = boms
    data["routings"] = [
        {"item": code, "stages": [_Flow(s.to_fields()) for s in found]}
        for code, _name, found in stages.all_routings(db)
    ]
    entries: list[dict[str, Any]] = []
    costs = _stock_costs(db, catalogue)
    held: set[tuple[str, str]] = set()  # (item, lot) of the lots in the stock records
    for r in reports.balances_for_export(db):
        expires = r["expires"]
        if r["lot"] is not None:
            held.add((r["item"], r["lot"]))
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
        if r["item"] in costs:
            entry["cost"] = costs[r["item"]]
        entries.append(entry)
    data["stock"] = entries
    data["lots"] = _lots(db, held)
    active = {i.code for i in catalogue if i.active}
    bought = {i.code for i in catalogue if i.active and i.make_or_buy == "buy"}
    data["demand"] = [
        _dated(d.to_fields()) for d in demand.list_demand(db) if d.item in active and d.open_qty > 0
    ]
    data["purchase_orders"] = [
        _dated(p.to_fields()) for p in purchases.list_orders(db) if p.item in bought
    ]
    return {k: v for k, v in data.items() if v}


def _locations(db: sqlite3.Connection) -> list[Any]:
    """The active real locations; the one a new database made as ``STORES`` carries
    ``was: STORES`` once renamed, so an import into a new database renames its own
    ``STORES`` the same way instead of keeping it next to the new code."""
    first = locations.built_in(db)
    out = []
    for loc in locations.list_locations(db):
        if not loc.active:
            continue
        rec = _Flow(code=loc.code, name=loc.name)
        if first is not None and loc.id == first.id and loc.code != locations.DEFAULT:
            rec["was"] = locations.DEFAULT
        out.append(rec)
    return out


def _lots(db: sqlite3.Connection, held: set[tuple[str, str]]) -> list[Any]:
    """The lots and serials that hold no stock at a real location (``held``: those that
    do, written as stock), by item and code; serials of an item with the same expiry
    date one after the other share a record. A lot whose item is no longer tracked the
    way it was (lot or serial) when the lot was recorded is left out: no import takes it.
    """
    out: list[Any] = []
    for lot in lots.master(db):
        if not lot.tracked or (lot.item, lot.code) in held:
            continue
        last = out[-1] if out else None
        if (
            lot.serial
            and last is not None
            and "serials" in last
            and (last["item"], last.get("expires")) == (lot.item, lot.expires)
        ):
            last["serials"].append(lot.code)
            continue
        rec = _Flow(item=lot.item)
        if lot.serial:
            rec["serials"] = [lot.code]
        else:
            rec["lot"] = lot.code
        if lot.expires is not None:
            rec["expires"] = lot.expires
        out.append(rec)
    return out


def _stock_costs(db: sqlite3.Connection, catalogue: list[Item]) -> dict[str, Decimal]:
    """Item code -> its moving average now, for the items valued by costed inflows.

    Every stock record of an item carries that one average as its ``cost``, so a
    database rebuilt from the export starts each item at the same average (inflows all
    at the average leave it exact). An item valued at its standard cost (basis
    ``standard``) or at none gets no ``cost``: the import values it the same way.
    """
    state = valuation.replay(db)
    return {
        i.code: state.average[i.id]
        for i in catalogue
        if state.basis.get(i.id) == "average" and i.id in state.average
    }


def _centre(db: sqlite3.Connection, centre: workcenters.WorkCentre) -> dict[str, Any]:
    """A work centre: one flow line, or a block with its downtime windows."""
    out = centre.to_fields()
    windows = workcenters.downtime(db, centre)
    if not windows:
        return _Flow(out)
    out["downtime"] = [_Flow(d.to_fields()) for d in windows]
    return out


def _dated(fields: dict[str, Any]) -> _Flow:
    """A record with its ``due`` written as a YAML date."""
    return _Flow({**fields, "due": date.fromisoformat(fields["due"])})


def export(db: sqlite3.Connection) -> str:
    """The database's locations, work centres, items, BOM revisions, routings, stock,
    lots no longer in stock, open demand and open purchase orders as import YAML."""
    data = export_data(db)
    header = "# mfgctl export: import it with `mfgctl import FILE`\n"
    if not data:
        return header + "{}\n"
    return header + "".join(_emit(data))
