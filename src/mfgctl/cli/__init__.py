"""The ``mfgctl`` command: the root app, global options, and one sub-app per group.

Command modules parse arguments, call one domain function inside a session, and
render the result. They hold no SQL and no business rules.

Command groups are loaded lazily (Click's "lazy group" pattern): ``mfgctl stock``
imports and builds only the ``stock`` group, not every group's options and domain
modules. That keeps start-up within budget as the tool grows; ``--help`` and
completion still list every group.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mfgctl import __version__
from mfgctl.cli import io, misc
from mfgctl.cli._common import State

# Command group -> the module whose ``app`` (a Typer sub-app) implements it, or
# ``module:name`` for an app of another name (one module holding related commands).
GROUPS = {
    # In the order a shop meets them (mfgctl --help lists them so).
    "item": "mfgctl.cli.item",
    "bom": "mfgctl.cli.bom",
    "routing": "mfgctl.cli.routing",
    "workcenter": "mfgctl.cli.workcenter",
    "location": "mfgctl.cli.location",
    "stock": "mfgctl.cli.stock",
    "demand": "mfgctl.cli.demand",
    "purchase": "mfgctl.cli.purchase",
    "order": "mfgctl.cli.order",
    "reserve": "mfgctl.cli.reserve",
    # One-command apps (consume, wip): Typer makes each a plain top-level command.
    "consume": "mfgctl.cli.consume",
    "wip": "mfgctl.cli.wip",
    "inspect": "mfgctl.cli.inspect",
    "release": "mfgctl.cli.release",
    "mrp": "mfgctl.cli.mrp",
    "atp": "mfgctl.cli.atp",
    "ship": "mfgctl.cli.ship",
    "shipments": "mfgctl.cli.ship:shipments_app",
    "return": "mfgctl.cli.ship:return_app",
    "trace": "mfgctl.cli.trace",
    "report": "mfgctl.cli.report",
    "status": "mfgctl.cli.status",
    "schedule": "mfgctl.cli.schedule",
}


class LazyGroup(typer.core.TyperGroup):
    """The root command: builds a group's command only when it is asked for."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 on the command line reach Python as lone surrogates,
        # which SQLite and the terminal cannot encode: refuse them here, once, by name.
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                from mfgctl.cli._common import fail
                from mfgctl.errors import InvalidInput

                raw = arg.encode("utf-8", "surrogateescape")
                shown = raw.decode("utf-8", "backslashreplace")
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                fail(InvalidInput(f"argument '{shown}' is not UTF-8 text: check the encoding"))
        return super().parse_args(ctx, args)  # type: ignore[no-any-return]

    def get_command(self, ctx: typer.Context, name: str) -> typer.core.TyperCommand | None:
        if name not in GROUPS:
            return super().get_command(ctx, name)
        import importlib

        module, _, attr = GROUPS[name].partition(":")
        command = typer.main.get_command(getattr(importlib.import_module(module), attr or "app"))
        command.name = name
        return command


app = typer.Typer(
    name="mfgctl",
    cls=LazyGroup,
    help="Inventory and production control for a small manufacturing shop, on one SQLite file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    # Click takes an empty variable for an unset one; mfgctl does not: ``MFGCTL_DB=$SHOPDB``
    # in a crontab with SHOPDB unset would mean ./mfgctl.db, and an empty MFGCTL_USER the
    # login name, where the script meant something else.
    if db is None and os.environ.get("MFGCTL_DB") == "":
        from mfgctl.cli._common import fail
        from mfgctl.errors import InvalidInput

        fail(
            InvalidInput(
                "MFGCTL_DB is empty: set it to the database file, or unset it for ./mfgctl.db"
            )
        )
    if user is None and os.environ.get("MFGCTL_USER") == "":
        user = ""
    name = _login_name() if user is None else user.strip()
    if not name or len(name) > 80 or not name.isprintable():
        # The name goes into every ledger row this command writes, and into reports. A
        # blank one given on purpose (``--user "$OPERATOR"`` with the variable unset) is
        # refused rather than replaced by the login name behind the user's back.
        from mfgctl.cli._common import fail
        from mfgctl.errors import InvalidInput

        fail(
            InvalidInput(
                "--user (or MFGCTL_USER) must be one line of printable text, 1 to 80 "
                "characters (leave it out for the login name)"
            )
        )
    ctx.obj = State(db_path=db or Path("mfgctl.db"), user=name)


def _encode_anything() -> None:
    """Output never fails on its encoding: in a Latin-1 or ASCII locale a character the
    terminal cannot show is written as an escape (``k\\u2126``, see ``render.ESCAPE``).
    A command has done its work by the time it prints; failing then would be a lie."""
    from mfgctl.render import ESCAPE

    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=ESCAPE)


def _caused_by_ctrl_c(exit: BaseException) -> bool:
    """Whether Typer raised this exit for a KeyboardInterrupt (it turns Ctrl-C into a
    silent ``Exit(130)``, before ``main`` could say what became of the command)."""
    seen: BaseException | None = exit
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def main() -> None:
    """Console-script entry point: no Python traceback reaches a user, and an error line
    says whether the command's changes were saved (a script must not run it again)."""
    from mfgctl.cli._common import OUTCOME, OutputFailed, guard_streams

    OUTCOME.began = OUTCOME.saved = False
    _encode_anything()
    streams = guard_streams()
    try:
        try:
            app()
        except SystemExit as e:
            if e.code == 130 and _caused_by_ctrl_c(e):  # Typer's silent exit on Ctrl-C
                raise KeyboardInterrupt from None
            # The output's last bytes are written now, so that a failure is seen here
            # rather than when Python exits.
            sys.stdout.flush()
            raise
        sys.stdout.flush()
    except OutputFailed as e:
        sys.stdout.silence()  # type: ignore[attr-defined]
        line = f"Error: cannot write the output ({e.error.strerror or e.error}); {OUTCOME.after()}"
        if e.error.errno != errno.EPIPE:
            print(line, file=sys.stderr)
            sys.exit(74)
        # The reader went away (``| head``): not an error of mfgctl's. Exit quietly with
        # the status a shell gives git or grep killed by SIGPIPE, 128 + 13; say something
        # only if a write was undone by it (a command printing before its commit).
        if OUTCOME.began and not OUTCOME.saved:
            print(line, file=sys.stderr)
        sys.exit(141)
    except KeyboardInterrupt:
        sys.stdout.silence()  # type: ignore[attr-defined]  # the rest of the output: dropped
        print(f"Error: interrupted; {OUTCOME.after()}", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: say so in one line, unless debugging
        if os.environ.get("MFGCTL_DEBUG"):
            raise
        print(
            f"Error: internal error ({type(e).__name__}: {e}); {OUTCOME.after()}. "
            "Set MFGCTL_DEBUG=1 to see details and please report it.",
            file=sys.stderr,
        )
        sys.exit(70)
    finally:
        sys.stdout, sys.stderr = streams
        # The process ends here: what is left is freed by the system. Without this,
        # Python's last garbage collection walks every object a large command made
        # (5 s after an MRP run on a 10,000-item plant).
        gc.freeze()
