"""Turn rows into output: a Rich table, JSON, CSV, Markdown or plain text.

Knows nothing of the domain: a row is a dict whose keys are snake_case column names
and whose values are text, numbers (Decimal is printed exactly), booleans or None.
Data goes to stdout; notes go to stderr. Rich is imported only for tables and trees;
JSON, CSV and plain text are printed without it, so scripts get plain bytes.
"""

from __future__ import annotations

import codecs
import csv
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

RICH_MAX_ROWS = 500


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    plain = "plain"


def text(value: Any) -> str:
    """A cell as text: exact decimals, yes/no for booleans, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        out = format(value.normalize(), "f")
        return "0" if out == "-0" else out
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return str(value)


class Exact(Decimal):
    """A Decimal written in JSON with exactly its digits, trailing zeros included
    (a measurement typed ``-42.50`` stays ``-42.50``); any other Decimal is written
    without them."""


_Fragment: Any = None  # orjson.Fragment, once orjson is imported


def _default(value: Any) -> Any:
    # orjson writes str, int, bool, None, dates, lists, tuples and dicts itself.
    if isinstance(value, Exact):
        return _Fragment(format(value, "f"))
    if isinstance(value, Decimal):
        # Exact. str() is four times faster than text(), which is needed only where
        # str() writes an exponent or trailing zeros (9090.00 -> 9090).
        out = str(value)
        if "E" in out or ("." in out and out[-1] == "0"):
            out = text(value)
        return _Fragment(out)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# Between these bounds (in micro-units) a float of ``value / 1_000_000`` is written by
# orjson with exactly the digits of the exact decimal: such a decimal has at most 15
# significant digits, so it is the shortest text that reads back as that float, and
# orjson writes the shortest text, in positional notation from 0.00001 up (below, it
# writes an exponent: 1e-6). tests/test_render.py checks the digits, bounds included.
_FLOAT_LOW = 10
_FLOAT_HIGH = 10**15


def micro_number(value: int) -> Any:
    """Integer micro-units as a JSON number with exactly its digits: an int when whole,
    else its decimal text (``1500000`` -> ``1.5``), with no Decimal made on the way (a
    large MRP document writes millions of them). The text is written by orjson from a
    float where that gives the same digits (see ``_FLOAT_LOW``), else from an
    ``orjson.Fragment``; the float is never computed with, only written."""
    whole, rest = divmod(value, 1_000_000)
    if not rest:
        return whole
    if _FLOAT_LOW <= value < _FLOAT_HIGH or -_FLOAT_HIGH < value <= -_FLOAT_LOW:
        return value / 1_000_000
    global _Fragment
    if _Fragment is None:
        import orjson

        _Fragment = orjson.Fragment
    if value < 0:
        whole, rest = divmod(-value, 1_000_000)
        return _Fragment(f"-{whole}.{rest:06d}".rstrip("0").encode())
    return _Fragment(f"{whole}.{rest:06d}".rstrip("0").encode())


def _dumps(value: Any) -> str:
    global _Fragment
    import orjson

    _Fragment = orjson.Fragment
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def to_json(value: Any) -> str:
    """JSON in which a Decimal is an exact number (``0.35``, never ``0.35000000000000003``)
    and a date is ISO text; a list's items one per line.

    orjson writes it (about six times faster than the standard library on the MRP
    document, and it writes an exact number as given through ``orjson.Fragment``)."""
    if isinstance(value, list | tuple) and value:
        return "[\n" + ",\n".join(_dumps(v) for v in value) + "\n]"
    return _dumps(value)


def write_json(document: Mapping[str, Any], stream: IO[str] | None = None) -> None:
    """Write a JSON object whose values may be iterators (say, generators of a large
    report's rows): each of their items is written as it comes, one per line, so the
    whole document is never held in memory."""
    out = stream or sys.stdout
    out.write("{")
    for n, (key, value) in enumerate(document.items()):
        out.write(("," if n else "") + "\n" + _dumps(str(key)) + ": ")
        if isinstance(value, Iterator):
            out.write("[")
            for k, item in enumerate(value):
                out.write(("," if k else "") + "\n" + _dumps(item))
            out.write("\n]")
        else:
            out.write(_dumps(value))
    out.write("\n}\n")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


# The error handler for text an output stream cannot encode (a Latin-1 or ASCII locale):
# each such character becomes a JSON escape, ``kΩ`` -> ``k\u2126`` (a character beyond
# U+FFFF as its surrogate pair). Output then never fails on its encoding, nothing is lost
# (the code point is there to read), and a JSON document stays valid JSON meaning exactly
# the same text: Python's own "backslashreplace" writes ``\U0001f600``, which is not JSON,
# and "replace" writes "?", which cannot be told from a real "?".
ESCAPE = "mfgctl-escape"


def _escape_unencodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error(ESCAPE, _escape_unencodable)


def _encoding(stream: IO[str]) -> str:
    """The stream's encoding as Rich reads it (Rich draws ASCII boxes unless it is UTF)."""
    return (getattr(stream, "encoding", None) or "utf-8").lower()


def _encodable(stream: IO[str]) -> Callable[[str], str]:
    """Text as the stream will write it: characters it cannot encode escaped beforehand,
    so a table measures the width of what is printed."""
    encoding = _encoding(stream)
    if encoding.startswith("utf"):
        return str
    return lambda value: value.encode(encoding, ESCAPE).decode(encoding)


def console(stream: IO[str] | None = None):  # -> rich.console.Console, imported lazily
    from rich.console import Console

    stream = stream or sys.stdout
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return Console(file=stream, highlight=False)
    if stream.isatty():
        # NO_COLOR: Rich's own no_color still writes bold and underline codes;
        # without a colour system it writes none at all.
        return Console(file=stream, color_system=None, highlight=False)
    # Not a terminal: no colour codes, and wide enough that no column is wrapped.
    return Console(file=stream, color_system=None, width=400, highlight=False, soft_wrap=False)


def note(message: str) -> None:
    """A message for the user (not data): stderr, never markup-interpreted."""
    print(message, file=sys.stderr)


def emit(
    rows: Sequence[Mapping[str, Any]],
    fmt: Format = Format.table,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Print rows in the chosen format. Columns default to the first row's keys."""
    out = stream or sys.stdout
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt is Format.json:
        out.write(to_json([{c: r.get(c) for c in cols} for r in rows]) + "\n")
        return
    if not rows and (fmt in (Format.table, Format.markdown) or not cols):
        # CSV and plain still print their header line when the columns are known,
        # so a script reading them sees the same shape with or without rows.
        note("No rows")
        return
    if fmt is Format.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows([[text(r.get(c)) for c in cols] for r in rows])
    elif fmt is Format.plain:
        out.write("\t".join(cols) + "\n")
        for r in rows:
            out.write("\t".join(text(r.get(c)).replace("\t", " ") for c in cols) + "\n")
    elif fmt is Format.markdown:
        from tabulate import tabulate

        numeric = [
            any(_is_number(r.get(c)) for r in rows)
            and all(_is_number(r.get(c)) or r.get(c) is None for r in rows)
            for c in cols
        ]
        # A "|" inside a cell would end it: Markdown escapes it as "\|".
        shown = _encodable(out)
        body = [[shown(text(r.get(c))).replace("|", "\\|") for c in cols] for r in rows]
        align = ["right" if n else "left" for n in numeric]
        out.write(
            tabulate(body, headers=cols, tablefmt="pipe", colalign=align, disable_numparse=True)
            + "\n"
        )
    else:
        _rich_table(rows, cols, title, out)


def _rich_table(
    rows: Sequence[Mapping[str, Any]], cols: list[str], title: str | None, out: IO[str]
) -> None:
    shown = _encodable(out)
    headers = [c.replace("_", " ") for c in cols]
    right = [any(_is_number(r.get(c)) for r in rows) for c in cols]
    cells = [[shown(text(r.get(c))) for c in cols] for r in rows]
    # Rich fits a table to the terminal, but takes about a second per 1,000 rows; a long
    # report (and any output to a pipe or file) is written directly instead.
    if (not out.isatty() or len(cells) > RICH_MAX_ROWS) and _box_table(headers, right, cells, out):
        return
    from rich.table import Table

    table = Table(title=title, header_style="bold", title_justify="left")
    for header, numeric in zip(headers, right, strict=True):
        table.add_column(header, justify="right" if numeric else "left")
    for row in cells:
        table.add_row(*(_escape(v) for v in row))
    console(out).print(table)


def _box_table(headers: list[str], right: list[bool], cells: list[list[str]], out: IO[str]) -> bool:
    """Write the table Rich would draw off a terminal (no colour, no title), fast.

    Rich takes seconds for a 10,000-row report; this takes milliseconds and gives the
    same bytes. Only for trimmed ASCII text, where a character's width is 1; returns False
    (and writes nothing) otherwise, and the caller lets Rich draw the table. On a stream
    that is not UTF-8 (a Latin-1 locale) the box is ASCII, as Rich draws it there.
    """

    def simple(value: str) -> bool:  # Rich trims outer spaces; let it handle those cells
        return value.isascii() and value == value.strip()

    if not all(simple(h) for h in headers) or not all(simple(v) for r in cells for v in r):
        return False
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]

    def rule(left: str, fill: str, cross: str, end: str) -> str:
        return left + cross.join(fill * (w + 2) for w in widths) + end + "\n"

    def line(values: list[str], bar: str) -> str:
        padded = (
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        )
        return bar + bar.join(f" {v} " for v in padded) + bar + "\n"

    if _encoding(out).startswith("utf"):
        parts = [rule("┏", "━", "┳", "┓"), line(headers, "┃"), rule("┡", "━", "╇", "┩")]
        parts.extend(line(row, "│") for row in cells)
        parts.append(rule("└", "─", "┴", "┘"))
    else:  # Rich's box.ASCII
        parts = [rule("+", "-", "-", "+"), line(headers, "|"), rule("|", "-", "+", "|")]
        parts.extend(line(row, "|") for row in cells)
        parts.append(rule("+", "-", "-", "+"))
    out.write("".join(parts))
    return True


def _escape(value: str) -> Any:
    # Cells are plain text: "[A1]" is a lot code, not Rich markup.
    from rich.text import Text

    return Text(value)


def emit_sections(
    sections: Sequence[tuple[str, Sequence[Mapping[str, Any]], Sequence[str]]], fmt: Format
) -> None:
    """Several tables one after another, each ``(name, rows, columns)``: JSON one object
    with a key per name; otherwise a blank line between tables, each under its name
    (``in_house`` as ``In house``): a ``##`` heading in Markdown, a line in a table or
    plain text, none in CSV (a script splits on the blank line)."""
    if fmt is Format.json:
        body = {name: [{c: r.get(c) for c in cols} for r in rows] for name, rows, cols in sections}
        sys.stdout.write(to_json(body) + "\n")
        return
    for n, (name, rows, cols) in enumerate(sections):
        if n:
            sys.stdout.write("\n")
        heading = name.replace("_", " ").capitalize()
        if fmt is Format.markdown:
            sys.stdout.write(f"## {heading}\n\n")
        elif fmt is not Format.csv:
            sys.stdout.write(f"{heading}\n")
        emit(rows, fmt, columns=cols)  # the heading is printed above


def emit_tree(
    root: Mapping[str, Any], fmt: Format, *, label: Any, children: str = "children"
) -> None:
    """A tree (nested dicts with a ``children`` list): a Rich tree, or JSON as it is.

    ``label`` turns one node into its one-line text. CSV and Markdown give one row per
    node, ``depth`` (0 for the root) and ``text``, in tree order; plain text prints the
    tree as indented lines.
    """
    if fmt is Format.json:
        sys.stdout.write(to_json(root) + "\n")
        return
    if fmt in (Format.csv, Format.markdown):

        def rows(node: Mapping[str, Any], depth: int) -> Iterable[dict[str, Any]]:
            yield {"depth": depth, "text": label(node)}
            for child in node.get(children, ()):
                yield from rows(child, depth + 1)

        emit(list(rows(root, 0)), fmt, columns=["depth", "text"])
        return
    if fmt is Format.table:
        from rich.text import Text
        from rich.tree import Tree

        def grow(node: Mapping[str, Any], branch: Any) -> None:
            for child in node.get(children, ()):
                grow(child, branch.add(Text(label(child))))

        tree = Tree(Text(label(root)))
        grow(root, tree)
        console().print(tree)
        return

    def lines(node: Mapping[str, Any], depth: int) -> Iterable[str]:
        yield "  " * depth + label(node)
        for child in node.get(children, ()):
            yield from lines(child, depth + 1)

    sys.stdout.write("\n".join(lines(root, 0)) + "\n")
