"""``mfgctl bom``: bills of materials."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, done, fail, group, session
from mfgctl.errors import ChecksFailed
from mfgctl.render import Format, emit, emit_tree, note, text

app = group(
    "Bills of materials: show, where-used, explode, cost, diff, validate; import from CSV "
    "(KiCad, spreadsheets) and assembly JSON."
)


RevisionOpt = Annotated[
    str | None,
    typer.Option("--revision", "-r", help="BOM revision (default: the active one)."),
]
RevArg = Annotated[str, typer.Argument(help="BOM revision.", show_default=False)]

TREE_COLUMNS = (
    "level",
    "item",
    "name",
    "qty",
    "unit",
    "qty_per",
    "line_unit",
    "scrap_pct",
    "fixed_qty",
    "phantom",
    "substitutes",
    "revision",
    "refdes",
    "note",
)
LIST_COLUMNS = ("item", "revision", "active", "output_qty", "lines", "created")
EXPLODE_COLUMNS = ("item", "name", "type", "make_or_buy", "unit", "qty", "level")
USAGE_COLUMNS = (
    "level",
    "parent",
    "parent_name",
    "revision",
    "item",
    "qty_per",
    "per",
    "unit",
    "phantom",
)
DIFF_COLUMNS = ("change", "item", "field", "old", "new")
PROBLEM_COLUMNS = ("check", "subject", "message")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    item: Annotated[
        str | None, typer.Argument(help="Only this item's revisions.", show_default=False)
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List BOM revisions: item, revision, active, output quantity, lines, created."""
    from mfgctl.domain import bom

    with session(ctx, write=False) as db:
        found = bom.revisions(db, item)
    emit([r.as_row() for r in found], fmt, columns=LIST_COLUMNS)


def _label(node: Mapping[str, Any]) -> str:
    """One line of the tree: item, name, requirement, then the line as written."""
    head = f"{node['item']} {node['name']}  {text(node['qty'])} {node['unit']}"
    if node["level"] == 0:
        return f"{head}  (revision {node['revision']}, makes {text(node['output_qty'])})"
    details = [f"per: {text(node['qty_per'])} {node['line_unit']}"]
    if node["scrap_pct"]:
        details.append(f"scrap {text(node['scrap_pct'])}%")
    if node["fixed_qty"]:
        details.append(f"fixed {text(node['fixed_qty'])} {node['line_unit']}")
    if node["substitutes"]:
        details.append(f"substitutes: {', '.join(node['substitutes'])}")
    if node["refdes"]:
        details.append(f"refdes {node['refdes']}")
    if node["note"]:
        details.append(f"note: {node['note']}")
    if node["revision"]:
        details.append(f"rev {node['revision']}")
    mark = "  [phantom]" if node["phantom"] else ""
    return f"{head}{mark}  ({'; '.join(details)})"


def _flatten(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for child in node["children"]:
        yield child
        yield from _flatten(child)


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    item: ItemArg,
    revision: RevisionOpt = None,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty", "-q", help="Quantity of ITEM to show (default: the BOM's output quantity)."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Show a BOM as an indented tree through every level, with quantities and units.

    Children are expanded through their active revisions. Each line shows what QTY of
    ITEM needs of it in its base unit (scrap and fixed quantity included), then the
    line as written; phantoms and substitutes are marked.
    """
    from mfgctl import qty as q
    from mfgctl.domain import bomtree

    with session(ctx, write=False) as db:
        amount = None if qty is None else q.parse_qty(qty, what="--qty")
        root = bomtree.tree(db, item, qty=amount, revision=revision)
    if fmt in (Format.table, Format.json):
        emit_tree(root, fmt, label=_label)
        return
    emit([dict(n) for n in _flatten(root)], fmt, columns=TREE_COLUMNS)


@app.command("where-used")
def where_used_cmd(ctx: typer.Context, item: ItemArg, fmt: FormatOpt = Format.table) -> None:
    """List every active BOM that uses ITEM, and the BOMs above them, at every level.

    Level 1 rows use ITEM directly; a level 2 row uses the parent above it, and so on.
    qty_per is the line's quantity (in unit) per the parent's output quantity (per).
    """
    from mfgctl.domain import bomtree

    with session(ctx, write=False) as db:
        uses = bomtree.where_used(db, item)
    emit([u.as_row() for u in uses], fmt, columns=USAGE_COLUMNS)


@app.command("explode")
def explode_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: Annotated[
        str,
        typer.Option("--qty", "-q", help="Quantity of ITEM to make, in its base unit."),
    ],
    revision: RevisionOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Total requirements of every item at every level to make QTY of ITEM.

    Scrap and fixed quantities are included; an item used in several places appears
    once with its total, at its low-level code (the deepest level it occurs at).
    Phantoms are passed through: their components appear in their place. A buy item
    is bought (as bom cost and mrp do): it appears, its BOM's components do not.
    """
    from mfgctl import qty as q
    from mfgctl.domain import bomtree

    with session(ctx, write=False) as db:
        amount = q.parse_qty(qty, what="--qty")
        rows = bomtree.explode(db, item, amount, revision=revision)
    emit([r.as_row() for r in rows], fmt, columns=EXPLODE_COLUMNS)


COST_COLUMNS = (
    "level", "item", "name", "qty", "unit", "source", "unit_cost", "material_cost",
    "stage_minutes", "stage_cost", "cost", "material_only_cost", "material_only_unit_cost",
    "phantom", "scrap_pct", "fixed_qty",
)  # fmt: skip


def _cost_label(node: Mapping[str, Any]) -> str:
    """One line of the cost tree: a leaf's qty x unit cost, a made item's roll-up."""
    head = f"{node['item']} {node['name']}  {text(node['qty'])} {node['unit']}"
    if node["source"] in ("bom", "phantom"):
        stages = f"stages {text(node['stage_cost'])} for {text(node['stage_minutes'])} min"
        parts = [f"materials {text(node['material_cost'])}"]
        if node["source"] == "bom":
            parts.append(stages)
            parts.append(
                f"material only {text(node['material_only_cost'])}"
                f" = {text(node['material_only_unit_cost'])}/{node['unit']}"
            )
        if node["level"] == 0:
            parts.append(f"revision {node['revision']}")
        mark = "  [phantom]" if node["source"] == "phantom" else ""
        return (
            f"{head}  cost {text(node['cost'])} = {text(node['unit_cost'])}/{node['unit']}"
            f"{mark}  ({'; '.join(parts)})"
        )
    return f"{head} x {text(node['unit_cost'])} ({node['source']}) = {text(node['cost'])}" + (
        "  [phantom]" if node.get("phantom") else ""
    )


@app.command("cost")
def cost_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: Annotated[
        str | None,
        typer.Option(
            "--qty",
            "-q",
            help="Batch of ITEM to cost; fixed quantities are spread over it "
            "(default: the BOM's output quantity).",
        ),
    ] = None,
    revision: RevisionOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Rolled-up standard cost of QTY of ITEM through every level, as a tree.

    A bought item costs its standard cost (else its moving average, else 0, said on
    stderr); a made item the cost of its lines (scrap and fixed quantities included)
    plus its stage cost; a phantom its components. Stage cost is 0 until work centres
    have rates. "material only" is a made item's cost without stage cost at any level:
    the standard an order that consumes it compares its moving average with.
    """
    from mfgctl import qty as q
    from mfgctl.domain import costing

    with session(ctx, write=False) as db:
        amount = None if qty is None else q.parse_qty(qty, what="--qty")
        root = costing.roll_up(db, item, qty=amount, revision=revision)
    if fmt in (Format.table, Format.json):
        emit_tree(root, fmt, label=_cost_label)
    else:
        emit([root, *_flatten(root)], fmt, columns=COST_COLUMNS)
    for message in root["notes"]:
        done(message)


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    item: ItemArg,
    rev1: RevArg,
    rev2: RevArg,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compare two BOM revisions of ITEM: lines added, removed and changed.

    Lines are matched by child item; a changed line gets one row per changed field,
    old -> new.
    """
    from mfgctl.domain import bomcheck

    with session(ctx, write=False) as db:
        changes = bomcheck.diff(db, item, rev1, rev2)
    if not changes and fmt in (Format.table, Format.markdown):
        done(f"no differences between revisions {rev1} and {rev2} of {item}")
        return
    emit([c.as_row() for c in changes], fmt, columns=DIFF_COLUMNS)


@app.command("activate")
def activate_cmd(
    ctx: typer.Context, item: ItemArg, revision: RevArg, fmt: FormatOpt = Format.table
) -> None:
    """Make REVISION the active BOM of ITEM (refused if it would close a BOM cycle, if a
    line is in a unit its item does not have, or if a line's substitutes name its own
    item or one item twice)."""
    from mfgctl.domain import bomtree

    with session(ctx) as db:
        rev = bomtree.activate(db, item, revision)
    emit([rev.as_row()], fmt, columns=LIST_COLUMNS)
    done(f"{rev.item}: revision {rev.revision} is now the active BOM")


@app.command("validate")
def validate_cmd(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """Check every active BOM and report all problems; exit 4 if any is found.

    Finds cycles (named as a path A -> B -> A), units that cannot convert to the
    child's base unit, child items whose own unit redefines a built-in one (g=0.01 for a
    kg item), non-positive quantities, deactivated items in active BOMs,
    make items without an active BOM, and phantom lines whose child has no active BOM.
    """
    from mfgctl.domain import bomcheck

    with session(ctx, write=False) as db:
        problems = bomcheck.validate(db)
    if problems:
        emit([p.as_row() for p in problems], fmt, columns=PROBLEM_COLUMNS)
        n = len(problems)
        fail(ChecksFailed(f"bom validate: {n} problem{'s' if n != 1 else ''} found"))
    if fmt in (Format.json, Format.csv, Format.plain):  # [] or the header alone
        emit([], fmt, columns=PROBLEM_COLUMNS)
    done("bom validate: no problems found")


ASSEMBLY_COLUMNS = (
    "file", "top", "assemblies", "make_created", "buy_created", "items_existing",
    "boms_added", "boms_new_revision", "boms_unchanged", "bom_lines", "warnings", "dry_run",
)  # fmt: skip
ASSEMBLY_ITEM_COLUMNS = ("kind", "source", "item", "name", "make_or_buy", "type", "action")


@app.command("import-assembly")
def import_assembly_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="NopSCADlib bom.json (bom/bom.json).", show_default=False),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be done; write nothing.")
    ] = False,
    prefix: Annotated[
        str | None,
        typer.Option("--prefix", help="Put P in front of every item code (e.g. DP-).", metavar="P"),
    ] = None,
    show_items: Annotated[
        bool,
        typer.Option("--items", help="List every part's item code instead of the summary."),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import a NopSCADlib multi-level assembly BOM (JSON), all or nothing.

    Assemblies become make items with BOMs, vitamins bought components, printed (.stl)
    and routed (.dxf) parts make items without a BOM. Counts, totals over all copies of
    an assembly in the file, become quantities per parent. Importing the same file
    again changes nothing.
    """
    from mfgctl.errors import MfgError
    from mfgctl.importer import assembly

    try:
        plan = assembly.read(file, prefix=prefix)
    except MfgError as e:
        fail(e)
    with session(ctx) as db:
        report = assembly.apply(db, plan, dry_run=dry_run)
    if show_items:
        emit(report.item_rows(), fmt, columns=ASSEMBLY_ITEM_COLUMNS)
    else:
        columns = ASSEMBLY_COLUMNS
        if fmt is Format.json:
            columns = (*ASSEMBLY_COLUMNS[:-1], "warning_messages", "dry_run")
        emit([report.summary()], fmt, columns=columns)
    for message in report.warnings:
        note(f"Warning: {message}")
    if dry_run:
        note("Dry run: nothing was written")


CSV_LINE_COLUMNS = ("item", "name", "qty", "unit", "refdes", "mpn", "matched", "rows")


@app.command("import-csv")
def import_csv_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV BOM (KiCad export or spreadsheet).", show_default=False)
    ],
    item: Annotated[str, typer.Option("--item", "-i", help="The item the BOM makes (must exist).")],
    revision: Annotated[
        str, typer.Option("--revision", "-r", help="Revision to store the BOM as.")
    ] = "A",
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="kicad (a reference column is required) or generic (references optional); "
            "default: kicad when the file has a reference column.",
        ),
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD: read the column as reference, quantity, value, footprint, "
            "manufacturer, mpn, description, dnp, fitted, code, or ignore it (repeatable).",
            metavar="COLUMN=FIELD",
        ),
    ] = None,
    create_items: Annotated[
        bool,
        typer.Option(
            "--create-items", help="Create parts not found as bought components (code from MPN)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be done; write nothing.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import a KiCad or spreadsheet CSV BOM as one BOM revision of ITEM, all or nothing.

    Finds the separator and header, splits references (C1,C2 / C1 C2 / C1-C3), groups
    rows of the same part into one line, leaves out DNP rows and rows with nothing to
    buy, and matches parts to items by MPN. Prints the lines (JSON: the whole report);
    warnings and left-out rows go to stderr with their row numbers. Importing the same
    file again changes nothing.
    """
    from mfgctl.errors import MfgError
    from mfgctl.importer import bomcsv

    try:
        parsed = bomcsv.parse_file(file, profile=profile, map_specs=maps or ())
    except MfgError as e:
        fail(e)
    with session(ctx) as db:
        report = bomcsv.store(
            db, parsed, item=item, revision=revision, create_items=create_items, dry_run=dry_run
        )
    summary = report.summary()
    if fmt is Format.json:
        from mfgctl.render import to_json

        print(to_json(summary))
    else:
        emit(summary["lines"], fmt, columns=CSV_LINE_COLUMNS)
    for left in summary["dnp"]:
        note(f"DNP: row {left['row']} {left['refs']} ({left['reason']})")
    for left in summary["left_out"]:
        note(f"Left out: row {left['row']} {left['refs']} ({left['reason']})")
    for w in summary["warnings"]:
        note(f"Warning: row {w['row']}: {w['message']}" if w["row"] else f"Warning: {w['message']}")
    verb = {"unchanged": "unchanged", "added": "added", "activated": "activated again"}
    what = verb.get(report.action, f"stored as new revision (file said {report.requested})")
    note(
        f"{'Dry run: ' if dry_run else ''}{file.name}: {summary['rows_read']} rows read; "
        f"{report.item} revision {report.revision} {what}: {summary['line_count']} lines, "
        f"{text(summary['placements'])} placements; left out: {summary['dnp_rows']} DNP rows "
        f"({text(summary['dnp_placements'])} placements), {summary['left_out_rows']} rows with "
        f"nothing to buy or two part numbers ({text(summary['left_out_placements'])} "
        f"placements); {len(report.created)} items created; "
        f"{len(summary['warnings'])} warnings" + ("; nothing was written" if dry_run else "")
    )
