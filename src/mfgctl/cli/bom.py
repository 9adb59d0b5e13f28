"""``mfgctl bom``: bills of materials."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Bills of materials: show, where-used, explode, diff, validate.", no_args_is_help=True
)
