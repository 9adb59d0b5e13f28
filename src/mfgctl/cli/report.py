"""``mfgctl report ...``: reports that read the ledger and the orders.

The group's commands live in modules of their own, each adding its commands with
``register(app)``: ``report_value`` (valuation) and ``report_flow`` (variance, yield,
slow-moving stock, late orders, suppliers).
"""

from __future__ import annotations

import typer

from mfgctl.cli import report_flow, report_value

app = typer.Typer(add_completion=False, rich_markup_mode=None, no_args_is_help=True)


@app.callback()
def report() -> None:
    """Reports: valuation, yield and variance, slow-moving stock, late orders, suppliers."""


report_value.register(app)
report_flow.register(app)
