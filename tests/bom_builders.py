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


def hd_shop(conn: sqlite3.Connection, *, kit_refdes: str | None = None) -> None:
    """The small shop of test_bom.py and test_cli_bom.py, but for PACK's BOM.

    HD (rev A) holds a PCB that makes 10, a phantom KIT (whose R1 line may carry a
    reference designator), screws with scrap, solder in grams of an item counted in kg
    and a box with a fixed quantity per order.
    """
    for code in ("HD", "PCB", "KIT", "PACK"):
        item(conn, code, make=True)
    for code in ("R1", "R2", "SCREW", "BOX"):
        item(conn, code)
    item(conn, "SOLDER", unit="kg", type="raw")
    bom(
        conn,
        "PCB",
        [
            line("R1", 30, scrap_pct="10", substitutes=["R2"]),
            line("SOLDER", 50, "g", fixed_qty="100"),
            line("SCREW", 20),
        ],
        output_qty=10,
    )
    r1 = line("R1", 1, refdes=kit_refdes) if kit_refdes else line("R1", 1)
    bom(conn, "KIT", [line("SCREW", 2), r1])
    bom(
        conn,
        "HD",
        [
            line("PCB", 1),
            line("KIT", 1, phantom=True),
            line("SCREW", 4, scrap_pct="5"),
            line("SOLDER", 2, "g"),
            line("BOX", 1, fixed_qty="2"),
        ],
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


def layered_bom_set(
    conn: sqlite3.Connection, sizes: list[int], per_bom: int = 20
) -> tuple[str, int]:
    """A BOM set level by level: ``sizes[k]`` items at level k, the last level bought.

    Each make item has up to ``per_bom`` lines (1.5 pcs, 2 % scrap) to items of the next
    level, spread so that every item is used. Returns the top item and the line count.
    """
    codes = [[f"L{lv}-{n}" for n in range(size)] for lv, size in enumerate(sizes)]
    last = len(sizes) - 1
    for lv, level_codes in enumerate(codes):
        for c in level_codes:
            items.insert(
                conn,
                items.build(
                    c,
                    {"name": c, "type": "component", "unit": "pcs"}
                    | {"make_or_buy": "buy" if lv == last else "make"},
                ),
            )
    n_lines = 0
    for lv in range(last):
        below = codes[lv + 1]
        for k, parent in enumerate(codes[lv]):
            children = sorted({below[(k * per_bom + j) % len(below)] for j in range(per_bom)})
            lines = tuple(
                bommod.Line(c, Decimal("1.5"), "pcs", scrap_pct=Decimal(2)) for c in children
            )
            bommod.save(conn, bommod.Revision(parent, "A", Decimal(1), lines))
            n_lines += len(lines)
    return codes[0][0], n_lines
