"""A tree (``mrp explain``, ``trace``) in every format: CSV and Markdown are one row per
node (depth, text), as the README's Output section promises a script, not indented text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import Cli, ok


def test_explain_as_csv_is_one_row_per_node(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "FG", "--name", "Finished", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy", "--purchase-lead-time-days", "2")  # fmt: skip
    ok(cli, "demand", "add", "FG", "5", "--due", "2030-01-16", "--kind", "sales", "--ref", "SO-1")
    args = ("mrp", "explain", "FG", "--start", "2030-01-07")
    rows = list(csv.DictReader(io.StringIO(ok(cli, *args, "-f", "csv").stdout)))
    plain = ok(cli, *args, "-f", "plain").stdout.splitlines()
    # The same nodes in the same order; the depth is the plain tree's indentation.
    assert [r["text"] for r in rows] == [line.strip() for line in plain]
    assert [int(r["depth"]) for r in rows] == [
        (len(line) - len(line.lstrip())) // 2 for line in plain
    ]
    assert rows[0]["depth"] == "0" and rows[0]["text"].startswith("FG (Finished): buy")
    assert any("sales 1 SO-1" in r["text"] for r in rows)
    table = ok(cli, *args, "-f", "markdown").stdout.splitlines()
    assert [cell.strip() for cell in table[0].split("|")[1:3]] == ["depth", "text"]
    assert len(table) == len(rows) + 2  # header and rule
