"""``mfgctl import`` and ``mfgctl export``: YAML files in, YAML out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mfgctl.cli._common import FormatOpt, OutputFailed, done, fail, session, state, user
from mfgctl.errors import MfgError
from mfgctl.render import Format, emit, note

FilesArg = Annotated[
    list[Path],
    typer.Argument(
        help="YAML files with locations:, items:, boms:, routings:, workcenters:, stock:, "
        "lots:, demand: and purchase_orders: (all validated together).",
        show_default=False,
        metavar="FILE...",
    ),
]


def import_cmd(
    ctx: typer.Context,
    files: FilesArg,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be added or changed; write nothing."),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import YAML, all or nothing: items, BOMs, routings, work centres, locations,
    opening stock, lots, demand and purchase orders.

    Every record is validated first and every problem is reported with its file, line
    and field; then everything is written in one transaction. Re-importing a file
    changes nothing; a changed BOM is stored as a new revision.
    """
    from mfgctl import importer

    try:
        documents = importer.read_files(files)
    except MfgError as e:
        fail(e)
    # A dry run in a read transaction that is rolled back, not a write transaction that
    # commits: committing after the rolled-back savepoint still rewrote the pages it had
    # touched (same content, new change counter), so the file changed on disk.
    with session(ctx, write=not dry_run) as db:
        result = importer.run(db, documents, user=user(ctx), dry_run=dry_run)
    emit(result.summary(), fmt, title="Dry run: would import" if dry_run else "Imported")
    if dry_run:
        for c in result.changed:
            verb = {"changed": "change", "activated": "activate"}.get(c.action, "add")
            detail = f" ({c.detail})" if c.detail else ""
            note(f"would {verb} {c.kind} {c.key}{detail}")
        for message in result.remarks():
            note(f"Note: {message}")
        note("Dry run: nothing was written")
        return
    for message in result.notes():
        note(f"Note: {message}")
    total = len(result.changed)
    done(f"Imported {len(files)} file{'s' if len(files) != 1 else ''}: {total} records written")


def export_cmd(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", metavar="FILE"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the --output FILE if it exists.")
    ] = False,
) -> None:
    """Export YAML that `import` reads back: locations, items, BOM revisions, routings,
    work centres (with downtime), stock (at its moving average), the lots and serials no
    longer in stock, open demand and open purchase orders.

    With --output, FILE is refused if it is the database (or its -wal, -shm) or exists
    (unless --force); it is written to a temporary file beside it and renamed into
    place, so a failed write leaves the old FILE as it was (a symlink: the file it
    points to, the link kept). A FIFO or a device (/dev/stdout) is written through."""
    from mfgctl import importer
    from mfgctl.domain import backup as files

    source = state(ctx).db_path
    if output is not None:
        try:  # before the (long) export: refuse at once
            files.check_target(source, output, force=force, what="export")
        except MfgError as e:
            fail(e)
    with session(ctx, write=False) as db:
        text = importer.export(db)
    if output is None:
        # YAML is UTF-8, whatever the terminal's locale (an escape such as k\u2126 in
        # an unquoted value would be read back as those six characters).
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8")
        sys.stdout.write(text)
        return
    try:
        files.write_text(text, source=source, target=output, force=force)
    except MfgError as e:
        fail(e)
    except BrokenPipeError as e:  # -o /dev/stdout | head: as for stdout itself
        raise OutputFailed(str(output), e) from e
    done(f"Exported to {output}")


def register(app: typer.Typer) -> None:
    """Add the import and export commands to the root app."""
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)
