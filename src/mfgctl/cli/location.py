"""``mfgctl location``: real stock locations (stores, line-side, QC area)."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, group, session
from mfgctl.domain import locations
from mfgctl.render import Format, emit

app = group("Stock locations.")


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Location code, e.g. QC or LINE-1.")],
    name: Annotated[str | None, typer.Option("--name", help="Descriptive name.")] = None,
) -> None:
    """Add a real location that holds stock."""
    with session(ctx) as db:
        loc = locations.add(db, code, name)
    done(f"Added location {loc.code}")


@app.command("rename")
def rename_cmd(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The location's current code.", show_default=False)],
    new: Annotated[str, typer.Argument(help="Its new code.", show_default=False)],
) -> None:
    """Give a real location a new code; its stock, moves and history follow it."""
    with session(ctx) as db:
        before, after = locations.rename(db, old, new)
    done(f"Renamed location {before.code} to {after.code}")


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Location code.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="New descriptive name.", show_default=False)],
) -> None:
    """Change a real location's descriptive name."""
    with session(ctx) as db:
        loc, changed = locations.update(db, code, name=name)
    done(
        f"Updated location {loc.code}: name {loc.name}"
        if changed
        else f"{loc.code}: nothing changed"
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Include the virtual places (SUPPLIER, CUSTOMER, ...).")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List locations."""
    with session(ctx, write=False) as db:
        rows = [loc.as_row() for loc in locations.list_locations(db, include_virtual=all_)]
    emit(rows, fmt)
