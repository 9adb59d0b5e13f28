"""``mfgctl order advance``: record progress of a production order at one of its stages.

Kept apart from cli/order.py (which registers it) because stages are their own concept.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, session
from mfgctl.cli._common import user as user_of
from mfgctl.render import Format, emit


def advance_cmd(
    ctx: typer.Context,
    order: Annotated[
        str, typer.Argument(help="Order number (12 or ORDER-12).", show_default=False)
    ],
    stage: Annotated[
        str,
        typer.Option(
            "--stage",
            "-s",
            help="Stage name, like calibration.",
            show_default=False,
            metavar="NAME",
        ),
    ],
    good: Annotated[
        str, typer.Option("--good", "-g", help="Units that passed the stage.", metavar="QTY")
    ] = "0",
    rejected: Annotated[
        str, typer.Option("--rejected", "-r", help="Units that failed at the stage.", metavar="QTY")
    ] = "0",
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why the --rejected units failed (required with them, refused without).",
            metavar="TEXT",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record progress of an in-progress order at a stage: units passed (--good) and
    failed (--rejected, with --reason). A stage never handles more units than passed
    the stage before it (the first: the order quantity). Prints the order's stages."""
    from mfgctl.domain import stages
    from mfgctl.qty import fmt as fmt_q

    with session(ctx) as db:
        result = stages.advance(
            db,
            order,
            stage=stage,
            good=good,
            rejected=rejected,
            reason=reason,
            user=user_of(ctx),
        )
    found, rows = result.order, result.stages
    emit(
        [s.as_row() for s in rows],
        fmt,
        columns=stages.ORDER_STAGE_COLUMNS,
        title=f"Order {found.id} stages",
    )
    now = stages.current(rows)
    where = f"now at {now.name}" if now else "every stage passed"
    done(
        f"Order {found.id} {result.stage}: {fmt_q(result.good)} good, "
        f"{fmt_q(result.rejected)} rejected "
        f"recorded; {where}"
    )
