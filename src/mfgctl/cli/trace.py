"""``mfgctl trace``: where a lot or serial came from, where it went, and recalls."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from mfgctl.cli._common import FormatOpt, done, session
from mfgctl.cli._common import user as user_of
from mfgctl.render import Format, emit_sections, emit_tree, to_json

# One command: Typer makes a one-command app a plain top-level command.
app = typer.Typer(add_completion=False, rich_markup_mode=None)


def _n(node: Mapping[str, Any], key: str) -> str:
    from mfgctl import qty as q

    return f"{q.fmt(node[key])} {node.get('unit', '')}".rstrip()


def label(node: Mapping[str, Any]) -> str:
    """One line of text for a node of a trace tree."""
    kind = node["type"]
    if kind in ("lot", "serial"):
        text = f"{node['item']} {kind} {node['lot']}"
        if "consumed" in node:
            text += f": {_n(node, 'consumed')} consumed"
        if "made" in node:
            text += f": {_n(node, 'made')} made"
        return text + (" (traced above)" if node.get("repeat") else "")
    if kind == "order":
        text = f"order {node['order']} ({node['item']}, {node['state']})"
        if "consumed" in node:
            return f"{text}: consumed {_n(node, 'consumed')}"
        return f"{text}: made {_n(node, 'made')}"
    if kind == "untracked":
        verb = "consumed" if "consumed" in node else "made"
        return f"{node['item']} (untracked, no lot to follow): {_n(node, verb)} {verb}"
    if kind == "stock":
        return f"at {node['location']}/{node['status']}: {_n(node, 'qty')}"
    if kind == "wip":
        return f"in WIP of order {node['order']} ({node['state']}): {_n(node, 'qty')}"
    if kind == "scrapped":
        return f"scrapped: {_n(node, 'qty')}"
    if kind == "shipped":
        ref = f", {node['ref']}" if node.get("ref") else ""
        customer = node["customer"] or "CUSTOMER (no shipment record)"
        return f"shipped to {customer}: {_n(node, 'qty')} ({node['shipment']}{ref}, {node['at']})"
    # receipt, opening, adjust: how the lot came in
    source = node["from"] + (f" {node['supplier']}" if node.get("supplier") else "")
    ref = f" ({node['ref']})" if node.get("ref") else ""
    verb = "received" if kind == "receipt" else f"{kind}:"
    return (
        f"{verb} {_n(node, 'qty')} from {source}{ref} into {node['into']} on {node['at']} "
        f"by {node['user']}"
    )


@app.command("trace")
def trace_cmd(
    ctx: typer.Context,
    lot: Annotated[str, typer.Argument(help="Lot or serial number.", show_default=False)],
    backward: Annotated[
        bool,
        typer.Option(
            "--backward", help="What it was made from, down to supplier receipts (default)."
        ),
    ] = False,
    forward: Annotated[
        bool,
        typer.Option("--forward", help="What was made from it, and where every unit is now."),
    ] = False,
    hold: Annotated[
        bool,
        typer.Option(
            "--hold",
            help="Recall (with --forward and --reason): block every affected unit in house.",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it is recalled (with --hold).")
    ] = None,
    item: Annotated[
        str | None,
        typer.Option("--item", "-i", help="The item, when several items have this lot code."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Trace a lot or serial through production: --backward to its component lots and
    supplier receipts, --forward to every lot made from it and where each unit is (place,
    status, customer). --forward --hold --reason TEXT recalls it: every affected unit
    still in house is blocked (inspection records), its reservations cancelled, and the
    shipped units listed by customer."""
    from mfgctl.domain import trace

    if backward and forward:
        raise typer.BadParameter("give --backward or --forward, not both")
    if hold and not forward:
        raise typer.BadParameter("--hold recalls forward: give --forward --hold --reason TEXT")
    if hold and not reason:
        raise typer.BadParameter("--hold needs --reason TEXT (it is recorded on every block)")
    if reason and not hold:
        raise typer.BadParameter("--reason goes with --hold")
    if hold:
        with session(ctx) as db:
            result = trace.recall(db, lot, reason=reason or "", user=user_of(ctx), item=item)
        _recall_out(result, fmt)
        return
    with session(ctx, write=False) as db:
        tree = (trace.forward if forward else trace.backward)(db, lot, item=item)
    emit_tree(tree, fmt, label=label)


def _recall_out(result: Any, fmt: Format) -> None:
    from mfgctl.domain import trace

    if fmt is Format.json:
        sys.stdout.write(to_json(result.document()) + "\n")
    else:
        # The tree, then the two tables as the multi-table reports print theirs: each
        # under its name (the JSON key), a "##" heading in Markdown, in CSV only a blank
        # line between them.
        emit_tree(result.tree, fmt, label=label)
        sys.stdout.write("\n")
        emit_sections(
            [
                ("in_house", result.rows, trace.RECALL_COLUMNS),
                ("shipped", result.shipped, trace.SHIPPED_COLUMNS),
            ],
            fmt,
        )
    customers = sorted({s["customer"] or "CUSTOMER" for s in result.shipped})
    done(
        f"Recall of {result.tree['item']} {result.tree['type']} {result.tree['lot']}: "
        f"{result.blocked} place(s) blocked now, {len(result.cancelled)} reservation(s) "
        f"cancelled; shipped to {len(customers)} customer(s)"
        + (f" ({', '.join(customers)})" if customers else "")
    )
