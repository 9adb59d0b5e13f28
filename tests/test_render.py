"""Output formats: exact JSON numbers, CSV, plain (tab-separated), Markdown, and no
terminal escape codes where they do not belong."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli
from hypothesis import given
from hypothesis import strategies as st

from mfgctl import qty as q
from mfgctl.render import Format, emit, micro_number, text, to_json

ANSI = re.compile(r"\x1b\[")
ROWS = [
    {"item": "SOLDER", "qty": Decimal("0.35"), "lot": None, "active": True},
    {"item": 'MIC "A", 100', "qty": Decimal("1E+2"), "lot": "[A1]", "active": False},
]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def render(fmt: Format, rows: list[dict] = ROWS, **kw: object) -> str:
    out = io.StringIO()
    emit(rows, fmt, stream=out, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def test_json_numbers_are_exact_decimals() -> None:
    out = render(Format.json)
    assert '"qty":0.35,' in out and '"qty":100,' in out
    assert json.loads(out, parse_float=Decimal)[0]["qty"] == Decimal("0.35")
    assert json.loads(out)[1] == {
        "item": 'MIC "A", 100',
        "qty": 100,
        "lot": "[A1]",
        "active": False,
    }


def test_an_empty_result_is_an_empty_json_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert render(Format.json, []) == "[]\n"
    assert to_json({}) == "{}"


def test_json_keeps_non_ascii_text() -> None:
    assert to_json({"reason": "Lötzinn"}) == '{"reason":"Lötzinn"}'


def test_csv_quotes_what_needs_quoting() -> None:
    out = render(Format.csv)
    assert list(csv.reader(io.StringIO(out))) == [
        ["item", "qty", "lot", "active"],
        ["SOLDER", "0.35", "", "yes"],
        ['MIC "A", 100', "100", "[A1]", "no"],
    ]


def test_plain_is_tab_separated_with_a_header() -> None:
    assert render(Format.plain).splitlines() == [
        "item\tqty\tlot\tactive",
        "SOLDER\t0.35\t\tyes",
        'MIC "A", 100\t100\t[A1]\tno',
    ]


def test_plain_replaces_tabs_inside_values() -> None:
    assert render(Format.plain, [{"a": "x\ty"}]) == "a\nx y\n"


def test_markdown_is_a_pipe_table_with_numbers_right_aligned() -> None:
    lines = render(Format.markdown).splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == ["item", "qty", "lot", "active"]
    assert [c[0] + c[-1] for c in lines[1].split("|")[1:-1]] == [":-", "-:", ":-", ":-"]
    assert [c.strip() for c in lines[2].split("|")[1:-1]] == ["SOLDER", "0.35", "", "yes"]


def test_markdown_escapes_a_pipe_inside_a_cell() -> None:
    lines = render(Format.markdown, [{"name": "Mic | black", "qty": 1}]).splitlines()
    assert "Mic \\| black" in lines[2]
    assert lines[2].count("|") - lines[2].count("\\|") == 3


def test_csv_and_plain_print_the_header_of_an_empty_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert render(Format.csv, [], columns=["item", "qty"]) == "item,qty\n"
    assert render(Format.plain, [], columns=["item", "qty"]) == "item\tqty\n"
    assert render(Format.csv, []) == ""  # no columns known: no blank line either
    assert render(Format.table, []) == ""
    assert capsys.readouterr().err.count("No rows") == 2


def test_a_table_off_a_terminal_has_no_escape_codes_and_no_markup() -> None:
    out = render(Format.table)
    assert not ANSI.search(out)
    assert "[A1]" in out and "0.35" in out


def test_a_table_on_a_terminal_has_colour_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = Terminal()
    emit(ROWS, Format.table, stream=tty)
    assert ANSI.search(tty.getvalue())  # the check below can fail

    monkeypatch.setenv("NO_COLOR", "1")
    tty = Terminal()
    emit(ROWS, Format.table, stream=tty)
    assert not ANSI.search(tty.getvalue())
    assert "[A1]" in tty.getvalue()


def test_text_of_a_cell() -> None:
    assert [text(v) for v in (None, True, Decimal("2.500"), Decimal("-0"), ["a", "b"])] == [
        "",
        "yes",
        "2.5",
        "0",
        "a, b",
    ]


# -- through the CLI ------------------------------------------------------------------------


@pytest.fixture
def solder(cli: Cli, initdb: Path) -> Path:
    cli("item", "add", "SOLDER", "--name", "Solder", "--type", "raw", "--unit", "kg",
        "--make-or-buy", "buy")  # fmt: skip
    cli("stock", "receive", "SOLDER", "0.1")
    cli("stock", "receive", "SOLDER", "0.25")
    return initdb


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "plain", "JSON"])
def test_every_format_shows_exactly_0_35(cli: Cli, solder: Path, fmt: str) -> None:
    r = cli("stock", "--format", fmt)
    assert r.exit_code == 0, r.stderr
    assert "0.35" in r.stdout
    assert "0.35000000000000003" not in r.stdout and "0.3499" not in r.stdout
    assert not ANSI.search(r.stdout)


def test_no_color_output_has_no_escape_codes(
    cli: Cli, solder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    for args in (("stock",), ("stock", "history", "SOLDER"), ("item", "list")):
        r = cli(*args)
        assert r.exit_code == 0
        assert not ANSI.search(r.stdout) and not ANSI.search(r.stderr)


def test_an_empty_report_is_an_empty_json_list(cli: Cli, initdb: Path) -> None:
    r = cli("stock", "-f", "json")
    assert (r.exit_code, r.stdout) == (0, "[]\n")


def test_an_empty_report_as_a_table_says_so_on_stderr(cli: Cli, initdb: Path) -> None:
    r = cli("stock")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "No rows\n")


def test_an_empty_report_as_csv_still_has_its_header(cli: Cli, initdb: Path) -> None:
    r = cli("stock", "-f", "csv")
    assert r.stdout.startswith("item,name,type,unit,physical,available,")


def test_an_unknown_format_is_a_usage_error(cli: Cli, initdb: Path) -> None:
    r = cli("stock", "-f", "xml")
    assert r.exit_code == 2
    assert "xml" in r.stderr


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_micro_number_writes_the_digits_of_the_exact_decimal(micro: int) -> None:
    """The MRP document's fast numbers are the same JSON as the exact Decimals."""
    fast = to_json({"n": micro_number(micro)})
    assert fast == to_json({"n": q.exact(micro)})
    assert Decimal(json.loads(fast, parse_float=Decimal)["n"]) * 1_000_000 == micro


@given(
    st.integers(min_value=1, max_value=10**15 + 10**7)
    | st.integers(min_value=10**14, max_value=10**15 + 10**7),
    st.booleans(),
)
def test_micro_number_digits_where_a_float_carries_them(micro: int, negative: bool) -> None:
    """Where micro_number hands orjson a float, the text is still the exact digits."""
    value = -micro if negative else micro
    assert to_json({"n": micro_number(value)}) == to_json({"n": q.exact(value)})


def test_micro_number_at_the_bounds_of_the_float_path() -> None:
    values = (9, 10, 11, -9, -10, 10**15 - 1, 10**15 + 1, -(10**15 - 1), 123456789012345)
    assert to_json([micro_number(v) for v in values]) == (
        "[\n0.000009,\n0.00001,\n0.000011,\n-0.000009,\n-0.00001,\n999999999.999999,"
        "\n1000000000.000001,\n-999999999.999999,\n123456789.012345\n]"
    )


def test_micro_number_examples() -> None:
    assert to_json([micro_number(v) for v in (0, 1, -1, 1_500_000, -350_000, 5 * 10**9)]) == (
        "[\n0,\n0.000001,\n-0.000001,\n1.5,\n-0.35,\n5000\n]"
    )
