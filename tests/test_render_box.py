"""The fast table written off a terminal is byte for byte what Rich would draw."""

from __future__ import annotations

import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import render


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def rich_drawn(rows: list[dict]) -> str:
    from rich.table import Table
    from rich.text import Text

    out = Pipe()
    cols = list(rows[0])
    table = Table(header_style="bold")
    for c in cols:
        numeric = any(isinstance(r[c], Decimal) for r in rows)
        table.add_column(c.replace("_", " "), justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(Text(render.text(r[c])) for c in cols))  # text, not markup
    render.console(out).print(table)
    return out.getvalue()


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
cells = st.one_of(ascii_text, st.decimals(allow_nan=False, allow_infinity=False, places=3))


@settings(max_examples=50, deadline=None)
@given(
    names=st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=1, max_size=5,
                   unique=True),
    data=st.data(),
)  # fmt: skip
def test_the_box_table_equals_richs_output(names: list[str], data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.fixed_dictionaries({n: cells for n in names}), min_size=1))
    out = Pipe()
    render.emit(rows, render.Format.table, stream=out)
    assert out.getvalue() == rich_drawn(rows)


def test_non_ascii_cells_are_drawn_by_rich_with_their_real_width() -> None:
    rows = [{"item": "MIC-100", "name": "Mikrofon für Hörgeräte 中"}]
    out = Pipe()
    render.emit(rows, render.Format.table, stream=out)
    assert out.getvalue() == rich_drawn(rows)
    assert "Mikrofon für Hörgeräte 中" in out.getvalue()


def test_markdown_aligns_an_empty_text_column_left() -> None:
    out = Pipe()
    render.emit([{"qty": Decimal(2), "reason": None}], render.Format.markdown, stream=out)
    separator = out.getvalue().splitlines()[1]
    assert separator.startswith("|") and separator.split("|")[1].endswith(":")
    assert separator.split("|")[2].startswith(":")


class Terminal(Pipe):
    def isatty(self) -> bool:
        return True


def test_a_long_report_on_a_terminal_is_written_directly(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    rows = [{"item": f"I-{n}", "qty": Decimal(n)} for n in range(render.RICH_MAX_ROWS + 1)]
    out = Terminal()
    render.emit(rows, render.Format.table, stream=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(rows) + 4  # top rule, header, header rule, rows, bottom rule
    assert lines[3] == "│ I-0   │   0 │"
