"""Scripts find a table by its place: in CSV and plain every table of a report is
printed, in a fixed order, with its header even when it has no rows (tester t17 #5).

``mrp`` prints the shortages, the planned orders and the exceptions, always all three;
``mrp can-build`` an answer block (yes or no) and the limiting components; ``status``
its ten tables; ``check`` and ``bom validate`` their header when nothing is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok

from mfgctl.cli.status import SECTIONS
from mfgctl.domain import checks
from mfgctl.domain import mrp_report as rep

MRP_HEADERS = [
    ",".join(rep.SHORTAGE_COLUMNS),
    ",".join(rep.PLANNED_COLUMNS),
    ",".join(rep.EXCEPTION_COLUMNS),
]


def blocks(text: str) -> list[list[str]]:
    """A CSV or plain report split into its tables (on the blank line), each its lines."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    return [b.splitlines() for b in text[:-1].split("\n\n")]


def buy_item(cli: Cli, tmp_path: Path, *, due_in: int, lead: int) -> None:
    import_yaml(
        cli,
        tmp_path,
        f"""
items:
  - {{code: W, name: Widget, type: component, unit: pcs, make_or_buy: buy,
      lead_time_days: {lead}}}
demand:
  - {{item: W, qty: 5, due: {day(due_in)}, kind: sales, ref: SO-1}}
""",
    )


def test_mrp_csv_has_its_three_tables_with_nothing_planned(cli: Cli, initdb: Path) -> None:
    r = ok(cli, "mrp", "-f", "csv")
    assert blocks(r.stdout) == [[h] for h in MRP_HEADERS]
    assert "0 items short, 0 planned orders" in r.stderr


def test_mrp_csv_block_one_is_the_shortages_whether_or_not_anything_is_short(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Due in 60 days, 5 days' lead time: a planned order, nothing short.
    buy_item(cli, tmp_path, due_in=60, lead=5)
    shortages, planned, exceptions = blocks(ok(cli, "mrp", "-f", "csv").stdout)
    assert shortages == [MRP_HEADERS[0]]
    assert planned[0] == MRP_HEADERS[1] and len(planned) == 2 and ",W,buy,5," in planned[1]
    assert exceptions == [MRP_HEADERS[2]]
    # Due tomorrow with 30 days' lead time: W is short, and the late order is an exception.
    ok(cli, "demand", "add", "W", "3", "--due", day(1), "--kind", "sales", "--ref", "SO-2")
    shortages, planned, exceptions = blocks(ok(cli, "mrp", "-f", "csv").stdout)
    assert shortages[0] == MRP_HEADERS[0] and shortages[1].startswith("W,Widget,")
    assert planned[0] == MRP_HEADERS[1] and exceptions[0] == MRP_HEADERS[2]


def test_mrp_plain_names_each_of_its_three_tables(cli: Cli, initdb: Path) -> None:
    out = ok(cli, "mrp", "-f", "plain").stdout
    assert blocks(out) == [
        ["Shortages", MRP_HEADERS[0].replace(",", "\t")],
        ["Planned orders", MRP_HEADERS[1].replace(",", "\t")],
        ["Exceptions", MRP_HEADERS[2].replace(",", "\t")],
    ]


KIT = """
items:
  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 3}
  - {code: C, name: Component, type: component, unit: pcs, make_or_buy: buy}
boms:
  - {item: KIT, lines: [{item: C, qty: 2}]}
stock:
  - {item: C, qty: 7}
"""
LIMITS = "item,needed,free,substitutes,short,unit,path"


def test_can_build_csv_answers_yes_and_no_on_stdout(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, KIT)
    yes = ok(cli, "mrp", "can-build", "KIT", "3", "-f", "csv").stdout
    assert blocks(yes) == [["item,qty,unit,buildable,max", "KIT,3,pcs,yes,"], [LIMITS]]
    no = ok(cli, "mrp", "can-build", "KIT", "4", "--max", "-f", "csv").stdout
    assert blocks(no) == [
        ["item,qty,unit,buildable,max", "KIT,4,pcs,no,3"],
        [LIMITS, "C,8,7,,1,pcs,KIT"],
    ]
    plain = ok(cli, "mrp", "can-build", "KIT", "3", "-f", "plain").stdout
    assert [b[0] for b in blocks(plain)] == ["Answer", "Limiting components"]


@pytest.mark.parametrize("fmt", ["csv", "plain"])
def test_status_prints_all_its_tables_in_order_even_empty(
    cli: Cli, initdb: Path, tmp_path: Path, fmt: str
) -> None:
    sep = "," if fmt == "csv" else "\t"
    headers = [sep.join(c for c in cols if c != "bar") for _key, _title, cols in SECTIONS]
    for _ in range(2):  # empty, then with an item in stock and a demand
        out = blocks(ok(cli, "status", "--no-mrp", "-f", fmt).stdout)
        if fmt == "plain":  # the report's title, then each table under its title
            assert out[0][0].startswith("mfgctl status on ")
            assert [b[0] for b in out[1:]] == [title for _key, title, _cols in SECTIONS]
            out = [b[1:] for b in out[1:]]
        assert [b[0] for b in out] == headers
        buy_item(cli, tmp_path, due_in=60, lead=5)
        ok(cli, "stock", "receive", "W", "2")
    assert f"free{sep}1{sep}0{sep}1" in out[0]  # W, at no cost: uncosted


@pytest.mark.parametrize(
    ("args", "columns"),
    [(("check",), checks.COLUMNS), (("bom", "validate"), ["check", "subject", "message"])],
)
def test_a_clean_report_prints_its_header_in_csv_and_plain(
    cli: Cli, initdb: Path, args: tuple[str, ...], columns: list[str]
) -> None:
    r = ok(cli, *args, "-f", "csv")
    assert r.stdout == ",".join(columns) + "\n"
    assert r.stderr.endswith("no problems found\n")
    assert ok(cli, *args, "-f", "plain").stdout == "\t".join(columns) + "\n"
    assert ok(cli, *args, "-f", "json").stdout == "[]\n"
    assert ok(cli, *args).stdout == ""  # the table: the note on stderr only


def test_mrp_table_for_a_person_says_no_shortages(cli: Cli, initdb: Path) -> None:
    """The fixed shape is for scripts (csv, plain): the table shows what there is."""
    r = cli("mrp")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert r.stderr.startswith("No shortages\n")
