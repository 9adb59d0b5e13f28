"""mfgctl run from cron and shell scripts, as real processes: what a script is told when
its environment is not what it meant, or when the output cannot be written after the
command has done its work (a Latin-1 terminal, a reader that went away, a full disk,
Ctrl-C). The exit code and the ``Error:`` line must say whether the command's changes
were saved, so that a script that retries on failure never books twice."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import dump
from hypothesis import given, settings
from hypothesis import strategies as st

from mfgctl import render


def mfgctl(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """Run the real console entry point (``python -m mfgctl``) with a cron-like
    environment: no locale, no terminal, MFGCTL_USER set."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MFGCTL_USER": "cron"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "mfgctl", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output="stdout" not in kwargs,
        **kwargs,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A database with one bought item, W, and nothing in stock."""
    db = tmp_path / "shop.db"
    for args in (
        ["init"],
        ["item", "add", "W", "--name", "Widget", "--type", "component", "--unit", "pcs",
         "--make-or-buy", "buy"],
    ):  # fmt: skip
        r = mfgctl("--db", str(db), *args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    return db


def receipts(db: Path) -> int:
    """How many moves the ledger holds (each receipt is one)."""
    c = sqlite3.connect(db)
    try:
        return int(c.execute("SELECT count(*) FROM move").fetchone()[0])
    finally:
        c.close()


# -- An empty variable is not an unset one (finding t17 #9) -------------------------


def test_an_empty_mfgctl_user_is_refused_not_replaced_by_the_login_name(shop: Path) -> None:
    before = dump(shop)
    r = mfgctl("stock", "receive", "W", "1", cwd=shop.parent,
               env={"MFGCTL_DB": str(shop), "MFGCTL_USER": ""})  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.decode() == (
        "Error: --user (or MFGCTL_USER) must be one line of printable text, 1 to 80 "
        "characters (leave it out for the login name)\n"
    )
    assert dump(shop) == before


def test_user_option_still_wins_over_an_empty_mfgctl_user(shop: Path) -> None:
    r = mfgctl("--user", "anna", "stock", "receive", "W", "1", cwd=shop.parent,
               env={"MFGCTL_DB": str(shop), "MFGCTL_USER": ""})  # fmt: skip
    assert r.returncode == 0, r.stderr
    c = sqlite3.connect(shop)
    assert c.execute("SELECT user FROM move").fetchall() == [("anna",)]
    c.close()


def test_an_empty_mfgctl_db_is_refused_not_taken_for_mfgctl_db_here(tmp_path: Path) -> None:
    r = mfgctl("init", cwd=tmp_path, env={"MFGCTL_DB": ""})
    assert r.returncode == 1
    assert r.stderr.decode() == (
        "Error: MFGCTL_DB is empty: set it to the database file, or unset it for ./mfgctl.db\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_db_option_still_wins_over_an_empty_mfgctl_db(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "-f", "csv", cwd=shop.parent, env={"MFGCTL_DB": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("item,")


# -- A terminal that is not UTF-8 (finding t17 #1) ----------------------------------

LATIN1 = {"PYTHONIOENCODING": "latin-1"}  # what Python takes from LANG=de_DE.ISO-8859-1


def test_a_write_in_a_latin1_locale_prints_an_ascii_table_and_exits_0(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "receive", "W", "5", cwd=shop.parent, env=LATIN1)
    assert (r.returncode, r.stderr) == (0, b"")
    lines = r.stdout.decode("latin-1").splitlines()
    assert lines[0].startswith("+-") and lines[0].endswith("-+")  # Rich's ASCII box
    assert lines[1].startswith("| seq ") and lines[2].startswith("|-----+")
    assert receipts(shop) == 1


NAME = "Widerstand 10 kΩ für Öl ☃ 😀"  # Latin-1, beyond it, and beyond U+FFFF


@pytest.fixture
def named(shop: Path) -> Path:
    r = mfgctl("--db", str(shop), "item", "add", "R10K", "--name", NAME, "--type", "component",
               "--unit", "pcs", "--make-or-buy", "buy", cwd=shop.parent)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return shop


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_json_in_a_narrow_locale_escapes_what_it_cannot_encode_and_means_the_same(
    named: Path, encoding: str
) -> None:
    r = mfgctl("--db", str(named), "item", "list", "-f", "json", cwd=named.parent,
               env={"PYTHONIOENCODING": encoding})  # fmt: skip
    assert (r.returncode, r.stderr) == (0, b"")
    names = [item["name"] for item in json.loads(r.stdout.decode(encoding))]
    assert NAME in names


@pytest.mark.parametrize("fmt", ["table", "csv", "plain", "markdown"])
def test_every_format_in_a_latin1_locale_writes_the_name_with_escapes(
    named: Path, fmt: str
) -> None:
    r = mfgctl("--db", str(named), "item", "list", "-f", fmt, cwd=named.parent, env=LATIN1)
    assert (r.returncode, r.stderr) == (0, b"")
    assert "Widerstand 10 k\\u03a9 für Öl \\u2603 \\ud83d\\ude00" in r.stdout.decode("latin-1")


def test_a_message_in_a_latin1_locale_is_escaped_too(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "receive", "☃", "1", cwd=shop.parent, env=LATIN1)
    assert r.returncode == 1
    assert r.stderr.decode("latin-1").startswith("Error: ")
    assert "\\u2603" in r.stderr.decode("latin-1")
    assert receipts(shop) == 0


class Latin1Pipe(io.StringIO):
    """A pipe in a Latin-1 locale: what Rich sees of sys.stdout there."""

    encoding = "iso8859-1"

    def isatty(self) -> bool:
        return False


def rich_drawn(rows: list[dict[str, object]]) -> str:
    from rich.table import Table
    from rich.text import Text

    out = Latin1Pipe()
    table = Table(header_style="bold")
    for c in rows[0]:
        numeric = any(isinstance(r[c], Decimal) for r in rows)
        table.add_column(c.replace("_", " "), justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(Text(render.text(r[c])) for c in rows[0]))
    render.console(out).print(table)
    return out.getvalue()


ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), min_size=1, max_size=4,
                   unique=True),
    data=st.data(),
)  # fmt: skip
def test_the_fast_ascii_box_equals_richs_in_a_latin1_locale(
    names: list[str], data: st.DataObject
) -> None:
    cells = st.one_of(ascii_text, st.decimals(allow_nan=False, allow_infinity=False, places=3))
    rows = data.draw(st.lists(st.fixed_dictionaries({n: cells for n in names}), min_size=1))
    out = Latin1Pipe()
    render.emit(rows, render.Format.table, stream=out)
    assert out.getvalue() == rich_drawn(rows)
    assert out.getvalue().isascii()


def test_a_table_measures_the_escaped_name_so_its_columns_line_up() -> None:
    out = Latin1Pipe()
    render.emit([{"code": "R10K", "name": NAME}, {"code": "V", "name": "Ventil"}],
                render.Format.table, stream=out)  # fmt: skip
    lines = out.getvalue().splitlines()
    assert len({len(line) for line in lines}) == 1, lines
    out.getvalue().encode("latin-1")  # every character encodable


# -- The output cannot be written after the work is done (finding t17 #4) -----------

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")


@needs_dev_full
def test_a_write_whose_output_hits_a_full_disk_says_its_changes_were_saved(shop: Path) -> None:
    with open("/dev/full", "w") as full:
        r = mfgctl("--db", str(shop), "stock", "receive", "W", "1", "-f", "csv",
                   cwd=shop.parent, stdout=full, stderr=subprocess.PIPE)  # fmt: skip
    assert r.returncode == 74
    assert r.stderr.decode() == (
        "Error: cannot write the output (No space left on device); the changes were saved\n"
    )
    assert receipts(shop) == 1  # saved once: a script must not run it again


@needs_dev_full
def test_a_read_whose_output_hits_a_full_disk_exits_74_not_70(shop: Path) -> None:
    with open("/dev/full", "w") as full:
        r = mfgctl("--db", str(shop), "stock", "-f", "csv", cwd=shop.parent, stdout=full,
                   stderr=subprocess.PIPE)  # fmt: skip
    assert r.returncode == 74
    assert r.stderr.decode() == (
        "Error: cannot write the output (No space left on device); nothing was written\n"
    )


@needs_dev_full
def test_a_refusal_keeps_its_own_line_and_exit_code_with_a_full_disk(shop: Path) -> None:
    before = dump(shop)
    with open("/dev/full", "w") as full:
        r = mfgctl("--db", str(shop), "stock", "receive", "NOPE", "1", cwd=shop.parent,
                   stdout=full, stderr=subprocess.PIPE)  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.decode().startswith("Error: unknown item") and r.stderr.count(b"\n") == 1
    assert dump(shop) == before


def test_a_write_with_stdout_closed_says_its_changes_were_saved(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "receive", "W", "1", cwd=shop.parent,
               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
               preexec_fn=lambda: os.close(1))  # fmt: skip
    assert r.returncode == 74
    assert r.stderr.decode() == (
        "Error: cannot write the output (standard output is closed); the changes were saved\n"
    )
    assert receipts(shop) == 1


def test_messages_that_cannot_be_written_do_not_change_the_outcome(shop: Path) -> None:
    r = mfgctl("--db", str(shop), "stock", "receive", "W", "1", "-f", "plain", cwd=shop.parent,
               stderr=subprocess.DEVNULL, stdout=subprocess.PIPE,
               preexec_fn=lambda: os.close(2))  # fmt: skip
    assert r.returncode == 0
    assert r.stdout.decode().startswith("seq\t")
    assert receipts(shop) == 1


def test_a_bug_after_the_commit_says_the_changes_were_saved(
    shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mfgctl.cli
    import mfgctl.cli.stock

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("renderer on fire")

    monkeypatch.setattr(mfgctl.cli.stock, "emit", broken)
    monkeypatch.setattr(sys, "argv", ["mfgctl", "--db", str(shop), "stock", "receive", "W", "1"])
    monkeypatch.delenv("MFGCTL_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        mfgctl.cli.main()
    assert e.value.code == 70
    err = capsys.readouterr().err
    assert err.startswith("Error: internal error (RuntimeError: renderer on fire); the changes "
                          "were saved. Set MFGCTL_DEBUG=1")  # fmt: skip
    assert receipts(shop) == 1


# -- The reader of the output goes away: ``| head`` (finding t17 #3) ----------------


def to_closed_pipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run mfgctl with stdout a pipe whose reader has already gone: every write fails
    with EPIPE, as in ``mfgctl ... | head -0``."""
    read, write = os.pipe()
    os.close(read)
    try:
        return mfgctl(*args, cwd=cwd, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "plain", "markdown"])
def test_a_write_to_a_closed_pipe_exits_141_quietly_with_its_changes_saved(
    shop: Path, fmt: str
) -> None:
    r = to_closed_pipe("--db", str(shop), "stock", "receive", "W", "1", "-f", fmt, cwd=shop.parent)
    assert (r.returncode, r.stderr) == (141, b"")
    assert receipts(shop) == 1


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """1,500 items: an item list of about 250 kB in JSON, more than a pipe holds."""
    db = tmp_path / "many.db"
    data = tmp_path / "items.yaml"
    data.write_text(
        "items:\n"
        + "".join(
            f"  - {{code: P{i:05}, name: Part {i}, type: component, unit: pcs, make_or_buy: buy}}\n"
            for i in range(1500)
        )
    )
    assert mfgctl("--db", str(db), "init", cwd=tmp_path).returncode == 0
    assert mfgctl("--db", str(db), "import", str(data), cwd=tmp_path).returncode == 0
    return db


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "plain", "markdown"])
def test_a_reader_that_stops_after_the_first_bytes_gets_141_in_every_format(
    many: Path, fmt: str
) -> None:
    """As ``| head -c 100``: the reader leaves while mfgctl is writing. A table or a
    JSON document is one long text; Python would take its write, cut short, as done."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mfgctl", "--db", str(many), "item", "list", "-f", fmt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=many.parent,
        env={"PATH": os.environ.get("PATH", ""), "MFGCTL_USER": "cron"},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(100)) == 100
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


def test_check_keeps_exit_4_when_its_report_is_read_to_the_end(many: Path) -> None:
    c = sqlite3.connect(many)
    with c:  # a balance that no move explains: an error check reports
        c.execute("INSERT INTO balance (item_id, location_id, status, lot_id, qty) SELECT "
                  "(SELECT id FROM item WHERE code = 'P00001'), id, 'available', NULL, "
                  "1000000 FROM location WHERE code = 'STORES'")  # fmt: skip
    c.close()
    read = mfgctl("--db", str(many), "check", "-f", "csv", cwd=many.parent)
    assert read.returncode == 4
    assert read.stderr.decode().startswith("Error: check: 2 errors")
    cut = to_closed_pipe("--db", str(many), "check", "-f", "csv", cwd=many.parent)
    assert cut.returncode == 141  # cut short: not 1 ("refused"), and not 0 (all well)


# -- Ctrl-C (findings t17 #7 and #12) -----------------------------------------------


def interruptible(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start mfgctl as a terminal would: SIGINT at its default, whatever this test
    process inherited (a shell's background job ignores it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "mfgctl", *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "MFGCTL_USER": "cron", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="no /proc")


@needs_proc
def test_ctrl_c_before_the_commit_says_nothing_was_written(shop: Path) -> None:
    """The command waits for the write lock (held here) when Ctrl-C comes."""
    before = dump(shop)
    lock = sqlite3.connect(shop, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    proc = interruptible("--db", str(shop), "stock", "receive", "W", "1", cwd=shop.parent,
                         env={"MFGCTL_BUSY_TIMEOUT": "60"})  # fmt: skip
    fds = Path(f"/proc/{proc.pid}/fd")

    def opened() -> bool:
        try:
            return any(os.readlink(fd) == str(shop) for fd in fds.iterdir())
        except OSError:  # a descriptor closed while looking
            return False

    wait_for(opened, "mfgctl to open the database")
    time.sleep(0.5)  # now in BEGIN IMMEDIATE, waiting for the lock
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    lock.execute("ROLLBACK")
    lock.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode() == "Error: interrupted; nothing was written\n"  # not silent (#12)
    assert out == b""
    assert dump(shop) == before


def test_ctrl_c_while_printing_after_the_commit_says_the_changes_were_saved(
    tmp_path: Path,
) -> None:
    """``mfgctl mrp firm --all | less``, then Ctrl-C: the reader has stopped reading, the
    command has committed and is blocked writing its output."""
    db = tmp_path / "plan.db"
    due = (date.today() + timedelta(days=60)).isoformat()
    data = tmp_path / "plan.yaml"
    data.write_text(
        "items:\n"
        + "".join(f"  - {{code: P{i:05}, name: Part {i}, type: component, unit: pcs, "
                  "make_or_buy: buy, lead_time_days: 5}\n" for i in range(3000))
        + "demand:\n"
        + "".join(f"  - {{item: P{i:05}, qty: 7, due: {due}, kind: sales, ref: SO-{i}}}\n"
                  for i in range(3000))
    )  # fmt: skip
    assert mfgctl("--db", str(db), "init", cwd=tmp_path).returncode == 0
    assert mfgctl("--db", str(db), "import", str(data), cwd=tmp_path).returncode == 0
    proc = interruptible("--db", str(db), "mrp", "firm", "--all", "-f", "plain", cwd=tmp_path)

    def firmed() -> int:
        c = sqlite3.connect(db)
        try:
            return int(c.execute("SELECT count(*) FROM purchase_order").fetchone()[0])
        finally:
            c.close()

    wait_for(lambda: firmed() == 3000, "the commit")
    time.sleep(0.3)  # about 140 kB to print: blocked on the full pipe
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().endswith("Error: interrupted; the changes were saved\n")
    assert "nothing was written" not in err.decode()
    assert firmed() == 3000


def test_export_to_stdout_is_utf8_in_any_locale_and_imports_back(named: Path) -> None:
    """A YAML file is UTF-8: in a Latin-1 locale the export still writes the name as
    it is (an escape would be imported back as six characters)."""
    r = mfgctl("--db", str(named), "export", cwd=named.parent, env=LATIN1)
    assert (r.returncode, r.stderr) == (0, b"")
    text = r.stdout.decode("utf-8")
    assert NAME in text and "\\u2126" not in text
    copy = named.parent / "copy.db"
    snapshot = named.parent / "snap.yaml"
    snapshot.write_bytes(r.stdout)
    assert mfgctl("--db", str(copy), "init", cwd=named.parent).returncode == 0
    assert mfgctl("--db", str(copy), "import", str(snapshot), cwd=named.parent).returncode == 0
    r = mfgctl("--db", str(copy), "item", "list", "-f", "json", cwd=named.parent)
    assert NAME in [item["name"] for item in json.loads(r.stdout)]
