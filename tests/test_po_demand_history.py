"""Purchase orders and demand keep an append-only history (schema 16): created (add,
import, mrp firm), updated (before -> after), received, shipped, cancelled, each with
who and when, written in the command's own transaction and shown by ``purchase show``
and ``demand show``."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_v16 import downgrade_to_v16
from test_migrations import schema, schema_of_fresh, table_rows, user_version

from mfgctl import db as dbmod
from mfgctl.domain import items, purchases
from mfgctl.errors import MfgError
from mfgctl.migrations import BACKFILLED, SCHEMA_VERSION

V15 = Path(__file__).parent / "schemas" / "v15.sql"  # schema.sql as mfgctl left it at v15

SHOP = """
items:
  - {code: RESIN, name: Resin, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     units: {g: 0.001}}
  - {code: SER, name: Serial part, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: buy, tracking: lot,
     lead_time_days: 2}
"""

Event = tuple[str, str, str | None, str, str]  # user, event, from_state, to_state, note


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def shown(cli: Cli, group: str, number: object) -> dict:
    return json.loads(ok(cli, group, "show", number, "-f", "json").stdout)


def events(cli: Cli, group: str, number: object) -> list[Event]:
    return [
        (h["user"], h["event"], h["from_state"], h["to_state"], h["note"])
        for h in shown(cli, group, number)["history"]
    ]


def as_user(cli: Cli, name: str, *args: object) -> None:
    ok(cli, "--user", name, *args)


# -- purchase orders ----------------------------------------------------------------------------


def test_a_purchase_order_shows_who_changed_what_and_when(cli: Cli, shop: Path) -> None:
    as_user(cli, "anna", "purchase", "add", "RESIN", "100", "--due", "2027-03-05")
    as_user(cli, "bob", "purchase", "update", "PO-1", "--due", "2027-03-19", "--qty", "80")
    as_user(cli, "carol", "purchase", "receive", "1", "--qty", "30", "--lot", "L-7")
    as_user(cli, "carol", "purchase", "receive", "1", "--qty", "20000", "--unit", "g",
            "--lot", "L-8", "--date", day(-2))  # fmt: skip
    as_user(cli, "anna", "purchase", "update", "1", "--qty", "50")  # all of it has come

    history = events(cli, "purchase", "PO-1")

    assert history[:3] == [
        ("anna", "created", None, "open", "added: 100 kg due 2027-03-05"),
        ("bob", "updated", "open", "open", "due 2027-03-05 -> 2027-03-19; qty 100 -> 80"),
        ("carol", "received", "open", "open",
         "30 kg lot L-7 into STORES/available; 30 of 80 received"),
    ]  # fmt: skip
    user, event, source, target, note = history[3]
    assert (user, event, source, target) == ("carol", "received", "open", "open")
    assert note.startswith(f"20 kg lot L-8 into STORES/available, dated {day(-2)} ")
    assert note.endswith("; 50 of 80 received")
    assert history[4] == ("anna", "updated", "open", "received", "qty 80 -> 50")
    assert len(history) == 5


def test_show_prints_every_field_of_the_order_and_its_history_in_order(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "purchase", "add", "RESIN", "10", "--due", "2027-03-05", "--supplier", "Knoll",
       "--ref", "Q-1", "--cost", "2.5")  # fmt: skip
    ok(cli, "purchase", "cancel", "1")
    doc = shown(cli, "purchase", "1")
    [listed] = json.loads(ok(cli, "purchase", "list", "--all", "-f", "json").stdout)
    assert doc["purchase_order"] == [listed]
    assert listed["state"] == "cancelled" and listed["supplier"] == "Knoll"
    history = doc["history"]
    assert [h["event"] for h in history] == ["created", "cancelled"]
    assert history[1]["note"] == "0 of 10 kg received"
    assert history[0]["at"] == listed["created_at"]  # the row and its event: one moment
    assert history[0]["at"] <= history[1]["at"]
    assert list(history[0]) == purchases.HISTORY_COLUMNS


def test_receiving_serials_names_them_and_the_last_receipt_closes_the_order(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "purchase", "add", "SER", "3", "--due", "2027-03-05")
    ok(cli, "purchase", "receive", "1", "--serial", "S1", "--serial", "S2")
    ok(cli, "purchase", "receive", "1", "--serial", "S3")
    assert events(cli, "purchase", "1")[1:] == [
        ("tester", "received", "open", "open",
         "2 pcs serials S1, S2 into STORES/available; 2 of 3 received"),
        ("tester", "received", "open", "received",
         "1 pcs serial S3 into STORES/available; 3 of 3 received"),
    ]  # fmt: skip


def test_import_and_mrp_firm_record_how_an_order_was_created(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        "purchase_orders: [{item: RESIN, qty: 2000, unit: g, due: 2027-04-01}]\n"
        "demand: [{item: P, qty: 7, due: 2027-04-02, kind: sales, ref: SO-7}]\n",
        name="plan.yaml",
    )
    assert events(cli, "purchase", "1") == [
        ("tester", "created", None, "open", "imported: 2 kg due 2027-04-01")
    ]
    assert events(cli, "demand", "1") == [
        ("tester", "created", None, "open", "imported: 7 pcs due 2027-04-02")
    ]
    firmed = ok(cli, "--user", "planner", "mrp", "firm", "--all", "--start", "2027-03-01",
                "-f", "json")  # fmt: skip
    [row] = json.loads(firmed.stdout)
    assert row["created"] == "PO-2"
    assert events(cli, "purchase", "2") == [
        ("planner", "created", None, "open",
         f"firmed from MRP planned order {row['planned']}: 7 pcs due 2027-04-02"),
    ]  # fmt: skip


# -- demand ---------------------------------------------------------------------------------------


def test_a_sales_order_shows_what_the_customer_changed_and_what_was_shipped(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "stock", "receive", "P", "10", "--lot", "A")
    ok(cli, "stock", "receive", "P", "10", "--lot", "B")
    as_user(cli, "anna", "demand", "add", "P", "10", "--due", "2027-03-05", "--kind", "sales",
            "--ref", "SO-1")  # fmt: skip
    as_user(cli, "bob", "demand", "update", "1", "--due", "2027-04-01", "--qty", "12")
    as_user(cli, "carol", "ship", "P", "5", "--to", "ACME", "--ref", "SO-1", "--lot", "A")
    as_user(cli, "carol", "ship", "P", "4", "--to", "ACME", "--ref", "so-1", "--lot", "B")
    as_user(cli, "bob", "demand", "update", "1", "--qty", "9")  # the customer takes no more
    assert events(cli, "demand", "1") == [
        ("anna", "created", None, "open", "added: 10 pcs due 2027-03-05"),
        ("bob", "updated", "open", "open", "due 2027-03-05 -> 2027-04-01; qty 10 -> 12"),
        ("carol", "shipped", "open", "open", "SHIP-1: 5 pcs lot A to ACME; 5 of 12 shipped"),
        ("carol", "shipped", "open", "open", "SHIP-2: 4 pcs lot B to ACME; 9 of 12 shipped"),
        ("bob", "updated", "open", "shipped", "qty 12 -> 9"),
    ]
    # A shipment taking two lots names both, and the last one closes the demand.
    ok(cli, "demand", "add", "P", "8", "--due", "2027-03-06", "--kind", "sales", "--ref", "SO-2")
    ok(cli, "ship", "P", "8", "--to", "Beta", "--ref", "SO-2")
    [(_u, event, source, target, note)] = events(cli, "demand", "2")[1:]
    assert (event, source, target) == ("shipped", "open", "shipped")
    assert re.fullmatch(r"SHIP-3: 8 pcs lots [AB], [AB] to Beta; 8 of 8 shipped", note), note


def test_cancelling_demand_is_recorded_with_what_was_shipped(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "P", "5", "--lot", "A")
    ok(cli, "demand", "add", "P", "4", "--due", "2027-03-05", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "ship", "P", "1", "--to", "ACME", "--demand", "1")
    as_user(cli, "dora", "demand", "cancel", "1")
    ok(cli, "demand", "add", "P", "3", "--due", "2027-03-05", "--kind", "forecast")
    ok(cli, "demand", "cancel", "2")
    assert events(cli, "demand", "1")[-1] == (
        "dora",
        "cancelled",
        "open",
        "cancelled",
        "1 of 4 pcs shipped",
    )
    assert events(cli, "demand", "2")[-1] == (
        "tester",
        "cancelled",
        "open",
        "cancelled",
        "0 of 3 pcs shipped",
    )
    doc = shown(cli, "demand", "2")
    [listed] = [
        d
        for d in json.loads(ok(cli, "demand", "list", "--all", "-f", "json").stdout)
        if d["demand"] == 2
    ]
    assert doc["demand"] == [listed]


# -- refusals write nothing -----------------------------------------------------------------------


def test_a_refused_change_writes_no_event(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "P", "5", "--lot", "A")
    ok(cli, "purchase", "add", "RESIN", "80", "--due", "2027-03-05")
    ok(cli, "purchase", "receive", "1", "--qty", "30", "--lot", "L-7")
    ok(cli, "purchase", "add", "RESIN", "10", "--due", "2027-03-05")
    ok(cli, "purchase", "cancel", "2")
    ok(cli, "demand", "add", "P", "4", "--due", "2027-03-05", "--kind", "sales", "--ref", "SO-1")
    ok(cli, "ship", "P", "2", "--to", "ACME", "--ref", "SO-1")
    ok(cli, "demand", "add", "P", "3", "--due", "2027-03-05", "--kind", "forecast")
    ok(cli, "demand", "cancel", "2")
    before = (events(cli, "purchase", 1), events(cli, "demand", 1))

    for args, message in [
        (("purchase", "update", "1"), "nothing to change"),
        (("purchase", "update", "1", "--qty", "80000", "--unit", "g"), "nothing to change"),
        (("purchase", "update", "1", "--qty", "20"), "below that"),
        (("purchase", "update", "1", "--due", "2027-02-30"), "2027-02-30"),
        (("purchase", "update", "2", "--due", "2027-04-01"), "purchase order 2 is cancelled"),
        (("purchase", "cancel", "2"), "purchase order 2 is cancelled"),
        (("purchase", "receive", "1", "--qty", "51", "--lot", "L-9"), "cannot receive 51"),
        (("demand", "update", "1", "--qty", "1"), "below that"),
        (("demand", "update", "1", "--due", "2027-03-05"), "nothing to change"),
        (("demand", "update", "2", "--qty", "5"), "demand 2 is cancelled"),
        (("demand", "cancel", "2"), "demand 2 is cancelled"),
        (("ship", "P", "3", "--to", "ACME", "--ref", "SO-1"), "cannot ship 3"),
    ]:
        assert message in refused(cli, shop, *args), args

    assert (events(cli, "purchase", 1), events(cli, "demand", 1)) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("purchase", "show", "9"), "Error: no purchase order 9 (see mfgctl purchase list --all)"),
        (("purchase", "show", "PO-9"), "Error: no purchase order 9"),
        (("purchase", "show", "PO-x"), "Error: "),
        (("demand", "show", "9"), "Error: no demand 9 (see mfgctl demand list --all)"),
        (("demand", "show", "nine"), "Error: "),
    ],
)
def test_show_of_an_unknown_record_is_one_line(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    ok(cli, "purchase", "add", "RESIN", "1", "--due", "2027-03-05")
    assert refused(cli, shop, *args).startswith(message)


def test_show_formats(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "P", "4", "--due", "2027-03-05", "--kind", "sales")
    ok(cli, "purchase", "add", "RESIN", "1", "--due", "2027-03-05")
    table = ok(cli, "purchase", "show", "1").stdout
    assert "Purchase order" in table and "History" in table and "added: 1 kg" in table
    markdown = ok(cli, "demand", "show", "1", "-f", "markdown").stdout
    assert "## Demand" in markdown and "## History" in markdown
    header, history = ok(cli, "demand", "show", "1", "-f", "csv").stdout.split("\n\n")
    assert header.startswith("demand,item,name,qty,shipped,open,unit,due,kind,ref,state")
    assert history.splitlines()[0] == "at,user,event,from_state,to_state,note"
    assert history.splitlines()[1].endswith(",tester,created,,open,added: 4 pcs due 2027-03-05")
    plain = ok(cli, "purchase", "show", "1", "-f", "plain").stdout
    assert "\tcreated\t\topen\tadded: 1 kg due 2027-03-05" in plain


# -- the tables are append-only, and older databases get a created event ---------------------------


@pytest.mark.parametrize("table", ["purchase_event", "demand_event"])
def test_the_history_refuses_update_and_delete(cli: Cli, shop: Path, table: str) -> None:
    ok(cli, "purchase", "add", "RESIN", "1", "--due", "2027-03-05")
    ok(cli, "demand", "add", "P", "4", "--due", "2027-03-05", "--kind", "sales")
    before = dump(shop)
    with sqlite3.connect(shop) as c:
        for statement in (f"UPDATE {table} SET note = 'rewritten'", f"DELETE FROM {table}"):
            with pytest.raises(sqlite3.IntegrityError, match="history is append-only"):
                c.execute(statement)
    c.close()
    assert dump(shop) == before


def downgrade_to_v15(path: Path) -> None:
    """The database as mfgctl before schema 16 left it: no history tables."""
    downgrade_to_v16(path)  # v17
    with sqlite3.connect(path) as c:
        c.execute("DROP TABLE purchase_event")  # its index and triggers with it
        c.execute("DROP TABLE demand_event")
        c.execute("PRAGMA user_version = 15")
    c.close()


def test_a_v15_database_gets_a_created_event_for_every_order_and_demand(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    ok(cli, "stock", "receive", "P", "5", "--lot", "A")
    as_user(cli, "anna", "purchase", "add", "RESIN", "100", "--due", "2027-03-05")
    ok(cli, "purchase", "receive", "1", "--qty", "30", "--lot", "L-7")
    as_user(cli, "bob", "purchase", "add", "SER", "2", "--due", "2027-03-06")
    ok(cli, "purchase", "cancel", "2")
    as_user(cli, "carol", "demand", "add", "P", "4", "--due", "2027-03-05", "--kind", "sales",
            "--ref", "SO-1")  # fmt: skip
    ok(cli, "ship", "P", "4", "--to", "ACME", "--ref", "SO-1")
    downgrade_to_v15(shop)
    frozen = tmp_path / "v15.db"
    with sqlite3.connect(frozen) as c:
        c.executescript(V15.read_text(encoding="utf-8"))
    c.close()
    assert schema(shop) == schema(frozen)  # exactly a v15 database
    old = table_rows(shop)

    r = cli("purchase", "list", "--all", "-f", "json")  # upgrades it

    assert r.exit_code == 0, r.stderr
    assert user_version(shop) == SCHEMA_VERSION
    assert table_rows(shop, {t: cols for t, (cols, _rows) in old.items()}) == old
    assert schema(shop) == schema_of_fresh(cli, tmp_path)
    for po in json.loads(r.stdout):
        [created] = shown(cli, "purchase", po["po"])["history"]
        assert created == {
            "at": po["created_at"], "user": po["user"], "event": "created",
            "from_state": None, "to_state": "open", "note": BACKFILLED,
        }  # fmt: skip
    assert [p["user"] for p in json.loads(r.stdout)] == ["anna", "bob"]
    [so] = json.loads(ok(cli, "demand", "list", "--all", "-f", "json").stdout)
    assert so["state"] == "shipped"
    assert events(cli, "demand", 1) == [("carol", "created", None, "open", BACKFILLED)]
    # What happens after the upgrade is recorded after the backfilled event.
    ok(cli, "purchase", "update", "1", "--due", "2027-03-09")
    assert events(cli, "purchase", 1)[1] == (
        "tester",
        "updated",
        "open",
        "open",
        "due 2027-03-05 -> 2027-03-09",
    )


# -- a property: the history explains the row -----------------------------------------------------

NOTE_CREATED = re.compile(r"added: (\S+) kg due (\S+)")
NOTE_RECEIVED = re.compile(r"(\S+) kg lot \S+ into \S+; (\S+) of (\S+) received")


def replay(history: list[dict]) -> tuple[Decimal, Decimal, str, str]:
    """Qty, received, due date and state as the history tells them."""
    first = NOTE_CREATED.fullmatch(history[0]["note"])
    assert first is not None and history[0]["event"] == "created"
    qty, due, received, state = Decimal(first[1]), first[2], Decimal(0), history[0]["to_state"]
    for h in history[1:]:
        assert h["from_state"] == state  # each event starts where the last one ended
        if h["event"] == "updated":
            for change in h["note"].split("; "):
                field, old, _arrow, new = change.split(" ")
                if field == "due":
                    assert old == due
                    due = new
                else:
                    assert (field, Decimal(old)) == ("qty", qty)
                    qty = Decimal(new)
        elif h["event"] == "received":
            got = NOTE_RECEIVED.fullmatch(h["note"])
            assert got is not None, h["note"]
            received += Decimal(got[1])
            assert (Decimal(got[2]), Decimal(got[3])) == (received, qty)
        state = h["to_state"]
    return qty, received, due, state


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["due", "qty", "both", "receive", "cancel"]),
            st.integers(1, 60),
            st.integers(0, 40),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_purchase_orders_history_replays_to_its_row(steps: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = dbmod.create(Path(tmp) / "prop.db")
        try:
            with dbmod.transaction(conn):
                items.add(conn, "R", {"name": "R", "type": "raw", "unit": "kg",
                                      "make_or_buy": "buy", "tracking": "lot"})  # fmt: skip
                purchases.add(conn, item="R", qty=20, due="2027-03-01", user="u")
            for n, (kind, amount, days) in enumerate(steps):
                count = len(purchases.history(conn, purchases.get(conn, 1)))
                due = f"2027-03-{days % 28 + 1:02d}"
                try:
                    with dbmod.transaction(conn):
                        if kind == "receive":
                            purchases.receive(conn, 1, user="u", qty=amount, lot=f"L{n}")
                        elif kind == "cancel":
                            purchases.cancel(conn, 1, user="u")
                        else:
                            purchases.update(
                                conn, 1, user="u",
                                due=due if kind != "qty" else None,
                                qty=amount if kind != "due" else None,
                            )  # fmt: skip
                    grew = 1
                except MfgError:
                    grew = 0  # refused: no event
                found = purchases.get(conn, 1)
                history = purchases.history(conn, found)
                assert len(history) == count + grew
                assert replay(history) == (found.qty, found.received, found.due_on, found.state)
        finally:
            conn.close()
