"""``mfgctl import`` and ``mfgctl export``: YAML files in, YAML out."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the import and export commands to the root app."""
