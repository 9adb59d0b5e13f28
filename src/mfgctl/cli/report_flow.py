"""Commands of ``mfgctl report`` (see cli/report.py): yield and variance of production,
slow-moving stock, late orders, suppliers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, session
from mfgctl.render import Format, emit, emit_sections

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="From this day on (YYYY-MM-DD).", metavar="DATE"),
]
ItemOpt = Annotated[str | None, typer.Option("--item", help="Only orders making this item.")]


def _tables(
    tables: Mapping[str, list[dict[str, Any]]], columns: Mapping[str, Sequence[str]], fmt: Format
) -> None:
    """A report's tables by name, each with its columns (``render.emit_sections``)."""
    emit_sections([(name, rows, columns[name]) for name, rows in tables.items()], fmt)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``report`` group."""

    @app.command("yield")
    def yield_cmd(
        ctx: typer.Context,
        order: Annotated[
            str | None, typer.Option("--order", help="One production order (12 or ORDER-12).")
        ] = None,
        item: ItemOpt = None,
        since: SinceOpt = None,
        until: Annotated[
            str | None,
            typer.Option("--until", help="Up to this day, included (YYYY-MM-DD).", metavar="DATE"),
        ] = None,
        by: Annotated[
            str, typer.Option("--by", help="One row per order, per item, or per month and item.")
        ] = "order",
        fmt: FormatOpt = Format.table,
    ) -> None:
        """Yield of started production orders: good output / units started per order and
        per stage, rejects by stage and reason, planned vs actual use per component, and
        scrap by reason; per order or rolled up by item or by the month started (per item)."""
        from mfgctl.domain import flow_reports

        with session(ctx, write=False) as db:
            tables = flow_reports.yield_report(
                db, order=order, item=item, since=since, until=until, by=by
            )
        _tables(tables, flow_reports.columns(by.strip().lower()), fmt)

    @app.command("variance")
    def variance_cmd(
        ctx: typer.Context,
        since: SinceOpt = None,
        item: ItemOpt = None,
        threshold: Annotated[
            str, typer.Option("--threshold", help="Flag beyond this percent, either way.")
        ] = "5",
        min_orders: Annotated[
            str, typer.Option("--min-orders", help="Flag only lines used by this many orders.")
        ] = "3",
        show_all: Annotated[
            bool, typer.Option("--all", help="Every BOM line used, flagged or not.")
        ] = False,
        fmt: FormatOpt = Format.table,
    ) -> None:
        """BOM lines whose actual use over completed orders differs from plan by more than
        the threshold, so the BOM can be corrected."""
        from mfgctl.domain import flow_reports

        with session(ctx, write=False) as db:
            rows = flow_reports.variance(
                db,
                since=since,
                item=item,
                threshold=threshold,
                min_orders=min_orders,
                show_all=show_all,
            )
        emit(rows, fmt, columns=flow_reports.VARIANCE_COLUMNS, title="BOM variance")

    @app.command("slow-moving")
    def slow_moving_cmd(
        ctx: typer.Context,
        days: Annotated[
            str, typer.Option("--days", help="Idle for more than this many days.")
        ] = "90",
        fmt: FormatOpt = Format.table,
    ) -> None:
        """Items with stock on hand and no issue (consumption, shipment) for more than N
        days: quantity, last issue and movement, value at standard cost."""
        from mfgctl.domain import supply_reports

        with session(ctx, write=False) as db:
            rows = supply_reports.slow_moving(db, days=days)
        emit(rows, fmt, columns=supply_reports.SLOW_COLUMNS, title="Slow-moving stock")

    @app.command("late")
    def late_cmd(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
        """Open production and purchase orders past their due date, with days late and
        what they are for."""
        from mfgctl.domain import supply_reports as sr

        with session(ctx, write=False) as db:
            tables = sr.late(db)
        if fmt is not Format.json:
            for row in tables["purchase_orders"]:
                row["needed_by"] = ", ".join(row["needed_by"])
        columns = {
            "production_orders": sr.LATE_PRODUCTION_COLUMNS,
            "purchase_orders": sr.LATE_PURCHASE_COLUMNS,
        }
        _tables(tables, columns, fmt)

    @app.command("suppliers")
    def suppliers_cmd(
        ctx: typer.Context,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Deliveries received from this day on.", metavar="DATE"),
        ] = None,
        fmt: FormatOpt = Format.table,
    ) -> None:
        """Per supplier: purchase orders received in full, on-time share, average and worst
        delay against the due date; per item the observed lead time beside the item's."""
        from mfgctl.domain import supply_reports as sr

        with session(ctx, write=False) as db:
            tables = sr.suppliers(db, since=since)
        columns = {
            "suppliers": sr.SUPPLIER_COLUMNS,
            "items": sr.SUPPLIER_ITEM_COLUMNS,
            "deliveries": sr.DELIVERY_COLUMNS,
        }
        _tables(tables, columns, fmt)
