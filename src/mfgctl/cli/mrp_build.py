"""``mfgctl mrp can-build``: can a quantity be built now from free stock (registered on
the ``mrp`` group by ``mfgctl.cli.mrp``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the can-build command to the ``mrp`` group."""
