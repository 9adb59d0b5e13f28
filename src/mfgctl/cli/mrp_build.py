"""``mfgctl mrp can-build``: can a quantity be built now from free stock (registered on
the ``mrp`` group by ``mfgctl.cli.mrp``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, ItemArg, QtyArg, UnitOpt, session
from mfgctl.render import Format, emit, emit_sections, note, to_json

# The answer block of CSV, plain and Markdown: the keys of the JSON document.
ANSWER_COLUMNS = ["item", "qty", "unit", "buildable", "max"]


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
    from mfgctl import qty as q
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
    rows = [lim.as_row() for lim in answer.limits]
    if fmt is Format.table:
        if rows:
            emit(rows, fmt, columns=canbuild.columns(answer.limits), title="Limiting components")
    else:
        # Stdout holds the answer too, yes or no; in CSV and plain also the limiting
        # components' header when there are none: the same two blocks every time.
        answered = {
            "item": answer.item,
            "qty": q.dec(answer.qty),
            "unit": answer.unit,
            "buildable": answer.buildable,
            "max": None if most is None else q.dec(most),
        }
        sections = [("answer", [answered], ANSWER_COLUMNS)]
        if fmt is not Format.markdown:  # for scripts: every column, always
            sections.append(("limiting_components", rows, canbuild.COLUMNS))
        elif rows:  # for the eye, as the table
            sections.append(("limiting_components", rows, canbuild.columns(answer.limits)))
        emit_sections(sections, fmt)
    if most is not None:
        say(canbuild.largest_line(answer, most))


def register(app: typer.Typer) -> None:
    """Add the can-build command to the ``mrp`` group."""
    app.command("can-build")(can_build_cmd)
