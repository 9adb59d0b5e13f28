"""Small builders for BOM test data, through the domain functions (not the importer).

``item`` and ``bom`` write; call them inside ``with dbmod.transaction(conn):``. The
``mem_*`` builders make in-memory ``Structure`` data for pure and property tests.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from mfgctl.domain import bom as bommod
from mfgctl.domain import items
from mfgctl.domain.bomtree import Structure


def item(
    conn: sqlite3.Connection,
    code: str,
    *,
    unit: str = "pcs",
    make: bool = False,
    type: str | None = None,
    **fields: Any,
) -> items.Item:
    """Add an item: a buy component by default, a make subassembly with ``make=True``."""
    raw = {
        "name": fields.pop("name", f"{code} name"),
        "type": type or ("subassembly" if make else "component"),
        "unit": unit,
        "make_or_buy": "make" if make else "buy",
        **fields,
    }
    return items.add(conn, code, raw)


def line(child: str, qty: object, unit: str = "", **fields: Any) -> bommod.Line:
    """A BOM line from import keys (``qty`` as text keeps it exact)."""
    raw: dict[str, Any] = {"item": child, "qty": str(qty), **fields}
    if unit:
        raw["unit"] = unit
    return bommod.parse_line(raw)


def bom(
    conn: sqlite3.Connection,
    parent: str,
    lines: list[bommod.Line],
    *,
    revision: str = "A",
    output_qty: object = 1,
    active: bool = True,
) -> bommod.SaveResult:
    """Save a BOM revision of ``parent``."""
    return bommod.save(
        conn,
        bommod.Revision(
            item=parent,
            revision=revision,
            output_qty=Decimal(str(output_qty)),
            lines=tuple(lines),
            active=active,
        ),
    )


def mem_item(code: str, *, unit: str = "pcs", make: bool = False, **kw: Any) -> items.Item:
    return items.Item(
        code=code,
        name=f"{code} name",
        type="subassembly" if make else "component",
        unit=unit,
        make_or_buy="make" if make else "buy",
        **kw,
    )


def mem_structure(item_list: list[items.Item], revisions: list[bommod.Revision]) -> Structure:
    """A structure from in-memory items and (active) revisions."""
    return Structure(
        items={i.code.upper(): i for i in item_list},
        boms={r.item.upper(): r for r in revisions},
    )


def mem_rev(parent: str, lines: list[bommod.Line], output_qty: object = 1) -> bommod.Revision:
    return bommod.Revision(
        item=parent, revision="A", output_qty=Decimal(str(output_qty)), lines=tuple(lines)
    )
