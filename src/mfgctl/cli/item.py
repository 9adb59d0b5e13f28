"""``mfgctl item``: items and their units and planning data."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, done, group, session
from mfgctl.domain import items
from mfgctl.render import Format, emit, text

app = group("Items: codes, units, make/buy and planning data.")

# One --option per item field; the option name is the import key with dashes.
# (key, type, help). The domain validates every value, as it does for YAML imports.
FIELD_OPTIONS: list[tuple[str, Any, str]] = [
    ("name", str, "Descriptive name."),
    ("type", str, "raw, component, subassembly, finished or packaging."),
    ("unit", str, "Base unit the item is counted in (pcs, g, m, ...)."),
    (
        "units",
        list[str],
        "Extra unit as NAME=FACTOR base units, e.g. reel=5000 (repeatable); update adds or "
        "re-factors the named units and keeps the others.",
    ),
    ("make_or_buy", str, "make or buy."),
    ("method", str, "make_to_stock, make_to_order or assemble_to_order (make items)."),
    ("tracking", str, "none, lot or serial."),
    ("lead_time_days", str, "Lead time in days: purchase (buy) or manufacturing (make)."),
    ("purchase_lead_time_days", str, "Purchase lead time in days."),
    ("mfg_lead_time_days", str, "Manufacturing lead time in days."),
    ("moq", str, "Minimum order quantity."),
    ("max_order_qty", str, "Maximum order quantity (a larger need is split)."),
    ("order_multiple", str, "Orders are rounded up to a multiple of this."),
    ("safety_stock", str, "Safety stock in the base unit."),
    ("lot_sizing", str, "lot_for_lot, fixed or period."),
    ("fixed_order_qty", str, "Order quantity for lot_sizing fixed."),
    ("period_days", str, "Days of need one order covers, for lot_sizing period."),
    ("cost", str, "Standard cost per base unit."),
    ("inspect_on_receipt", bool, "Receipts go to pending_inspection first."),
    ("release_criteria", str, "Comma-separated release criteria, e.g. inspection,labeling."),
    ("serial_pattern", str, "How order completion numbers serials, e.g. HD200-{yyyy}-{seq:05}."),
    ("backflush", bool, "Starting an order of this item consumes its materials (make items)."),
    ("planning_reviewed", str, "Date the planning data was last reviewed (YYYY-MM-DD)."),
    ("active", bool, "--active reactivates a deactivated item (see item deactivate)."),
]


_QTY_KEYS = {"moq", "max_order_qty", "order_multiple", "safety_stock", "fixed_order_qty"}


def _metavar(key: str) -> str | None:
    if key.endswith("_days"):
        return "DAYS"
    if key in _QTY_KEYS:
        return "QTY"
    return {"cost": "MONEY", "planning_reviewed": "DATE", "units": "NAME=FACTOR"}.get(key, "TEXT")


def _option(key: str, kind: Any, help: str) -> Any:
    flag = "--" + key.replace("_", "-")
    if kind is bool:
        option = typer.Option(f"{flag}/--no-{flag[2:]}", help=help, show_default=False)
    else:
        option = typer.Option(flag, help=help, show_default=False, metavar=_metavar(key))
    return Annotated[kind | None, option]


def with_item_options(
    *, leave_out: tuple[str, ...] = ()
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command ``fn(..., **fields)`` one keyword option per item field, but for
    the fields in ``leave_out`` (not offered in its --help, and a usage error if given)."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        sig = inspect.signature(fn, eval_str=True)
        params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
        params += [
            inspect.Parameter(
                key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_option(key, kind, h)
            )
            for key, kind, h in FIELD_OPTIONS
            if key not in leave_out
        ]
        fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return fn

    return decorate


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave, as raw item fields (units as a mapping)."""
    raw = {k: v for k, v in fields.items() if v is not None}
    if "units" in raw:
        pairs: dict[str, str] = {}
        for spec in raw["units"]:
            name, sep, factor = spec.partition("=")
            if not sep:
                raise typer.BadParameter(f"{spec!r} is not NAME=FACTOR", param_hint="--units")
            pairs[name.strip()] = factor.strip()
        raw["units"] = pairs
    return raw


# An item is added active: --active/--no-active go with item update (and item
# deactivate), so add does not offer them.
@app.command("add")
@with_item_options(leave_out=("active",))
def add_cmd(ctx: typer.Context, code: ItemArg, **fields: Any) -> None:
    """Add an item. --name, --type, --unit and --make-or-buy are required."""
    with session(ctx) as db:
        item = items.add(db, code, _given(fields))
    done(f"Added item {item.code} ({item.name})")


RemoveUnitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--remove-unit",
        metavar="NAME",
        show_default=False,
        help="Drop one of the item's extra units (repeatable); refused while an active "
        "BOM line is written in it.",
    ),
]


@app.command("update")
@with_item_options()
def update_cmd(
    ctx: typer.Context, code: ItemArg, remove_unit: RemoveUnitOpt = None, **fields: Any
) -> None:
    """Change fields of an item; fields not given keep their value."""
    with session(ctx) as db:
        item, changed = items.update(db, code, _given(fields), remove_units=remove_unit or ())
    done(
        f"Updated {item.code}: {', '.join(changed)}" if changed else f"{item.code}: nothing changed"
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    type: Annotated[str | None, typer.Option("--type", help="Only items of this type.")] = None,
    make_or_buy: Annotated[str | None, typer.Option("--make-or-buy", help="make or buy.")] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Text in code or name.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated items.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List items."""
    with session(ctx, write=False) as db:
        found = items.list_items(
            db, type=type, make_or_buy=make_or_buy, include_inactive=all_, search=search
        )
    emit([i.as_row() for i in found], fmt, columns=items.ROW_COLUMNS)


@app.command("show")
def show_cmd(ctx: typer.Context, code: ItemArg, fmt: FormatOpt = Format.table) -> None:
    """Show every field of one item."""
    with session(ctx, write=False) as db:
        item = items.get(db, code)
    full = item.as_dict()
    if fmt is Format.json:
        emit([full], fmt)
        return
    emit([{"field": k, "value": _cell(v)} for k, v in full.items()], fmt)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"1 {u} = {text(f)}" for u, f in value.items())
    return text(value)


@app.command("deactivate")
def deactivate_cmd(ctx: typer.Context, code: ItemArg) -> None:
    """Deactivate an item: it keeps its history but takes no new receipts."""
    with session(ctx) as db:
        item = items.deactivate(db, code)
    done(f"Deactivated {item.code}")
