"""The ``mfgctl`` command: the root app, global options, and one sub-app per group.

Command modules parse arguments, call one domain function inside a session, and
render the result. They hold no SQL and no business rules.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mfgctl import __version__
from mfgctl.cli import bom, io, item, location, misc, stock
from mfgctl.cli._common import State

app = typer.Typer(
    name="mfgctl",
    help="Inventory and production control for a small manufacturing shop, on one SQLite file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(item.app, name="item")
app.add_typer(bom.app, name="bom")
app.add_typer(location.app, name="location")
app.add_typer(stock.app, name="stock")
misc.register(app)
io.register(app)


def _version(value: bool) -> None:
    if value:
        print(f"mfgctl {__version__}")
        raise typer.Exit()


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers and cron setups
        return "unknown"


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="MFGCTL_DB",
            help="Database file (else $MFGCTL_DB, else ./mfgctl.db).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="MFGCTL_USER",
            help="Who is acting (else $MFGCTL_USER, else login name).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = State(db_path=db or Path("mfgctl.db"), user=(user or "").strip() or _login_name())


def main() -> None:
    """Console-script entry point: no Python traceback reaches a user."""
    try:
        app()
    except KeyboardInterrupt:
        print("Error: interrupted; nothing was written", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: say so in one line, unless debugging
        if os.environ.get("MFGCTL_DEBUG"):
            raise
        print(
            f"Error: internal error ({type(e).__name__}: {e}); nothing was written. "
            "Set MFGCTL_DEBUG=1 to see details and please report it.",
            file=sys.stderr,
        )
        sys.exit(70)
