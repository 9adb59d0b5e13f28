"""``mfgctl workcenter``: work centres (capacity, cost rate) and their downtime."""

from __future__ import annotations

from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, done, group, session, user
from mfgctl.render import Format, emit, emit_sections

app = group("Work centres: machines, working hours per weekday, hourly rate, downtime.")

CodeArg = Annotated[str, typer.Argument(help="Work centre code, e.g. ASSY.", show_default=False)]
NameOpt = Annotated[str | None, typer.Option("--name", help="Descriptive name.")]
MachinesOpt = Annotated[
    str | None,
    typer.Option(
        "--machines",
        help="Machines (or people) working in parallel, 1 to 1000 [add: 1].",
        show_default=False,
    ),
]
HoursOpt = Annotated[
    str | None,
    typer.Option(
        "--hours",
        help="Working hours per weekday: 8 (Monday to Friday), 8,8,8,8,6,0,0 (seven values, "
        "Monday first) or mon-thu=8,fri=6 (days not named: none). Decimals like 7.5 are "
        "fine; each day must be whole minutes, 0 to 24 hours [add: 8].",
        show_default=False,
    ),
]
DayStartOpt = Annotated[
    str | None,
    typer.Option(
        "--day-start", help="When the shift starts, HH:MM [add: 08:00].", show_default=False
    ),
]
RateOpt = Annotated[
    str | None,
    typer.Option(
        "--rate",
        help="Cost of one machine-hour (money, an exact decimal like 45.50).",
        show_default=False,
    ),
]


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    code: CodeArg,
    name: NameOpt = None,
    machines: MachinesOpt = None,
    hours: HoursOpt = None,
    day_start: DayStartOpt = None,
    rate: RateOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Add a work centre (default: 1 machine, 8 hours Monday to Friday from 08:00)."""
    from mfgctl.domain import workcenters

    with session(ctx) as db:
        centre = workcenters.add(
            db,
            code,
            name=name,
            machines=1 if machines is None else machines,
            hours=hours,
            day_start=day_start,
            rate=rate,
        )
    emit([centre.as_row()], fmt, columns=workcenters.COLUMNS)
    done(f"Added work centre {centre.code}")


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    code: CodeArg,
    name: NameOpt = None,
    machines: MachinesOpt = None,
    hours: HoursOpt = None,
    day_start: DayStartOpt = None,
    rate: RateOpt = None,
    active: Annotated[
        bool | None,
        typer.Option(
            "--active/--inactive",
            help="Use the work centre, or stop using it (the scheduler leaves it out).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Change a work centre: only the options given change."""
    from mfgctl.domain import workcenters

    with session(ctx) as db:
        centre, changed = workcenters.update(
            db,
            code,
            name=name,
            machines=machines,
            hours=hours,
            day_start=day_start,
            rate=rate,
            active=active,
        )
    emit([centre.as_row()], fmt, columns=workcenters.COLUMNS)
    if changed:
        done(f"Changed work centre {centre.code}: {', '.join(changed)}")
    else:
        done(f"Work centre {centre.code} unchanged")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated work centres.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List work centres: machines, shift start, hours per weekday, weekly hours, rate."""
    from mfgctl.domain import workcenters

    with session(ctx, write=False) as db:
        rows = [c.as_row() for c in workcenters.list_centres(db, include_inactive=all_)]
    emit(rows, fmt, columns=workcenters.COLUMNS, title="Work centres")


@app.command("show")
def show_cmd(ctx: typer.Context, code: CodeArg, fmt: FormatOpt = Format.table) -> None:
    """One work centre and its downtime windows."""
    from mfgctl.domain import workcenters

    with session(ctx, write=False) as db:
        centre, windows = workcenters.show(db, code)
    emit_sections(
        [
            ("workcenter", [centre.as_row()], workcenters.COLUMNS),
            ("downtime", [d.as_row() for d in windows], workcenters.DOWN_COLUMNS),
        ],
        fmt,
    )


@app.command("down")
def down_cmd(
    ctx: typer.Context,
    code: CodeArg,
    start: Annotated[
        str,
        typer.Option(
            "--from",
            help="Start, local time: YYYY-MM-DD HH:MM (a date means its 00:00).",
            show_default=False,
        ),
    ],
    end: Annotated[
        str,
        typer.Option(
            "--to",
            help="End (not included), local time: YYYY-MM-DD HH:MM or a date (its 00:00).",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why: maintenance, holiday...", show_default=False)
    ],
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a downtime window (maintenance, holiday); prints the centre's windows."""
    from mfgctl.domain import workcenters

    with session(ctx) as db:
        window = workcenters.add_down(db, code, start=start, end=end, reason=reason, user=user(ctx))
        centre, windows = workcenters.show(db, code)
    emit([d.as_row() for d in windows], fmt, columns=workcenters.DOWN_COLUMNS)
    done(
        f"Work centre {centre.code} down from {window.as_row()['from']} "
        f"to {window.as_row()['to']}: {window.reason}"
    )


@app.command("up")
def up_cmd(
    ctx: typer.Context,
    code: CodeArg,
    window: Annotated[
        str,
        typer.Argument(
            help="The downtime window's id (mfgctl workcenter show lists them).",
            show_default=False,
        ),
    ],
    fmt: FormatOpt = Format.table,
) -> None:
    """Remove a downtime window (called off); prints the centre's windows left."""
    from mfgctl.domain import workcenters

    with session(ctx) as db:
        gone = workcenters.remove_down(db, code, window)
        centre, windows = workcenters.show(db, code)
    emit([d.as_row() for d in windows], fmt, columns=workcenters.DOWN_COLUMNS)
    row = gone.as_row()
    done(
        f"Work centre {centre.code}: downtime window {gone.id} "
        f"({row['from']} to {row['to']}, {gone.reason}) removed"
    )
