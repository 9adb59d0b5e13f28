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
