"""``mfgctl mrp can-build``: can a quantity be built now from free stock (registered on
the ``mrp`` group by ``mfgctl.cli.mrp``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, QtyArg, UnitOpt, session
from mfgctl.render import Format, emit, note, to_json


def can_build_cmd(
    ctx: typer.Context,
    item: ItemArg,
    qty: QtyArg,
    largest: Annotated[
        bool,
        typer.Option("--max", help="Also find the largest whole quantity buildable now."),
    ] = False,
    unit: UnitOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Can QTY of ITEM (in --unit, default its base unit) be built now from free stock, building
    subassemblies from their components where needed? Prints yes or no and each
    limiting component with its shortfall; the exit code is 0 either way (JSON:
    `buildable`)."""
    from mfgctl.domain import canbuild, items, mrp_data

    with session(ctx, write=False) as db:
        micro = canbuild.parse_qty(qty, items.get(db, item) if unit else None, unit)
        check = canbuild.CanBuild(mrp_data.load(db), item)
    answer = check.answer(micro)
    most = check.largest() if largest else None
    # The answer is the report's first line: on stdout for a table, else on stderr so
    # that stdout holds only the rows (or the JSON document).
    say = (lambda line: sys.stdout.write(line + "\n")) if fmt is Format.table else note
    say(canbuild.verdict(answer))
    if fmt is Format.json:
        sys.stdout.write(to_json(canbuild.document(answer, most)) + "\n")
        if most is not None:
            say(canbuild.largest_line(answer, most))
        return
    if answer.limits:
        rows = [lim.as_row() for lim in answer.limits]
        emit(rows, fmt, columns=canbuild.columns(answer.limits), title="Limiting components")
    if most is not None:
        say(canbuild.largest_line(answer, most))


def register(app: typer.Typer) -> None:
    """Add the can-build command to the ``mrp`` group."""
    app.command("can-build")(can_build_cmd)
