"""Forward-only schema migrations, keyed by ``PRAGMA user_version``.

A new database gets ``schema.sql`` whole. An older one runs the steps below from its
version up, all in one ``BEGIN IMMEDIATE`` transaction together with the version bump,
so a crash leaves it at the old version, never half-way. Each step says why it exists.
``tests/test_migrations.py`` proves that an upgraded database has exactly the schema
of a fresh one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 17


def _v2_stock_count(db: sqlite3.Connection) -> None:
    """v2: keep a record of physical counts.

    Why: a count used to be only its adjusting move, so a count that matched the
    ledger left no trace, and the counted and expected figures were lost.
    """
    db.execute(
        """
        CREATE TABLE stock_count (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            location_id INTEGER NOT NULL REFERENCES location (id),
            status      TEXT NOT NULL,
            lot_id      INTEGER REFERENCES lot (id),
            counted     INTEGER NOT NULL CHECK (counted >= 0),
            expected    INTEGER NOT NULL,
            move_seq    INTEGER REFERENCES move (seq),
            counted_at  TEXT NOT NULL,
            user        TEXT NOT NULL,
            note        TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX stock_count_item ON stock_count (item_id, counted_at)")


_V3_PRODUCTION = (
    """
        CREATE TABLE production_order (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            bom_id      INTEGER NOT NULL REFERENCES bom (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            due_on      TEXT NOT NULL,
            state       TEXT NOT NULL DEFAULT 'planned'
                CHECK (state IN ('planned', 'released', 'in_progress', 'completed', 'closed',
                                 'cancelled')),
            priority    INTEGER NOT NULL DEFAULT 0,
            ref         TEXT,
            location_id INTEGER NOT NULL UNIQUE REFERENCES location (id),
            created_at  TEXT NOT NULL,
            note        TEXT
        ) STRICT
    """,
    """
        CREATE INDEX production_order_state ON production_order (state, due_on)
    """,
    """
        CREATE INDEX production_order_item ON production_order (item_id, state)
    """,
    """
        CREATE TABLE order_material (
            order_id    INTEGER NOT NULL REFERENCES production_order (id),
            position    INTEGER NOT NULL,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            substitutes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(substitutes)),
            PRIMARY KEY (order_id, position)
        ) STRICT, WITHOUT ROWID
    """,
    """
        CREATE TABLE order_event (
            id          INTEGER PRIMARY KEY,
            order_id    INTEGER NOT NULL REFERENCES production_order (id),
            at          TEXT NOT NULL,
            user        TEXT NOT NULL,
            from_state  TEXT,
            to_state    TEXT NOT NULL,
            note        TEXT
        ) STRICT
    """,
    """
        CREATE INDEX order_event_order ON order_event (order_id, id)
    """,
    """
        CREATE TABLE reservation (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            location_id INTEGER NOT NULL REFERENCES location (id),
            lot_id      INTEGER REFERENCES lot (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= qty),
            ref         TEXT NOT NULL,
            order_id    INTEGER REFERENCES production_order (id),
            priority    INTEGER NOT NULL DEFAULT 0,
            until_on    TEXT,
            state       TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'consumed', 'cancelled')),
            created_at  TEXT NOT NULL,
            user        TEXT NOT NULL
        ) STRICT
    """,
    """
        CREATE INDEX reservation_open ON reservation (item_id, location_id, lot_id)
        WHERE state = 'open'
    """,
    """
        CREATE INDEX reservation_ref ON reservation (ref, state)
    """,
    """
        CREATE INDEX reservation_order ON reservation (order_id) WHERE order_id IS NOT NULL
    """,
    """
        CREATE TABLE inspection (
            id           INTEGER PRIMARY KEY,
            item_id      INTEGER NOT NULL REFERENCES item (id),
            lot_id       INTEGER REFERENCES lot (id),
            location_id  INTEGER NOT NULL REFERENCES location (id),
            qty          INTEGER NOT NULL CHECK (qty > 0),
            result       TEXT NOT NULL
                CHECK (result IN ('pass', 'fail', 'rework', 'hold', 'unblock')),
            from_status  TEXT NOT NULL,
            to_status    TEXT NOT NULL,
            note         TEXT,
            measurements TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(measurements)),
            user         TEXT NOT NULL,
            at           TEXT NOT NULL,
            move_seq     INTEGER REFERENCES move (seq)
        ) STRICT
    """,
    """
        CREATE INDEX inspection_lot ON inspection (item_id, lot_id, at)
    """,
    """
        CREATE TABLE release_signoff (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            lot_id      INTEGER NOT NULL REFERENCES lot (id),
            criterion   TEXT NOT NULL,
            note        TEXT,
            user        TEXT NOT NULL,
            at          TEXT NOT NULL,
            UNIQUE (item_id, lot_id, criterion)
        ) STRICT
    """,
)


def _v3_production(db: sqlite3.Connection) -> None:
    """v3: production orders, their frozen materials and history, reservations,
    inspection records and release sign-offs.

    Why: the production flow needs stock to be claimed (reserved) before it is used,
    orders to keep their own copy of the BOM, and every quality decision recorded.
    """
    for statement in _V3_PRODUCTION:
        db.execute(statement)


_V4_ROUTINGS = (
    """
        ALTER TABLE item ADD COLUMN serial_pattern TEXT
    """,
    """
        CREATE TABLE routing_stage (
            item_id     INTEGER NOT NULL REFERENCES item (id),
            position    INTEGER NOT NULL CHECK (position > 0),
            name        TEXT NOT NULL COLLATE NOCASE,
            workcenter  TEXT,
            setup_min   INTEGER NOT NULL DEFAULT 0 CHECK (setup_min >= 0),
            run_min     INTEGER NOT NULL DEFAULT 0 CHECK (run_min >= 0),
            PRIMARY KEY (item_id, position),
            UNIQUE (item_id, name)
        ) STRICT
    """,
    """
        CREATE TABLE order_stage (
            order_id    INTEGER NOT NULL REFERENCES production_order (id),
            position    INTEGER NOT NULL CHECK (position > 0),
            name        TEXT NOT NULL COLLATE NOCASE,
            workcenter  TEXT,
            setup_min   INTEGER NOT NULL DEFAULT 0 CHECK (setup_min >= 0),
            run_min     INTEGER NOT NULL DEFAULT 0 CHECK (run_min >= 0),
            good        INTEGER NOT NULL DEFAULT 0 CHECK (good >= 0),
            rejected    INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
            PRIMARY KEY (order_id, position)
        ) STRICT, WITHOUT ROWID
    """,
    """
        CREATE TABLE stage_event (
            id          INTEGER PRIMARY KEY,
            order_id    INTEGER NOT NULL REFERENCES production_order (id),
            position    INTEGER NOT NULL,
            good        INTEGER NOT NULL CHECK (good >= 0),
            rejected    INTEGER NOT NULL CHECK (rejected >= 0),
            reason      TEXT,
            user        TEXT NOT NULL,
            at          TEXT NOT NULL
        ) STRICT
    """,
    """
        CREATE INDEX stage_event_order ON stage_event (order_id, position)
    """,
)


def _v4_routings(db: sqlite3.Connection) -> None:
    """v4: routings (an item's stages), each order's stages with their progress, and a
    serial-number pattern on items.

    Why: work-in-progress is visible only stage by stage, and completion of a
    serial-tracked item needs to number its serials.
    """
    for statement in _V4_ROUTINGS:
        db.execute(statement)


def _v5_balance_by_place(db: sqlite3.Connection) -> None:
    """v5: an index of balances by place.

    Why: the wip report read each order's place by scanning every balance row (about
    2.5 ms an order, 13 s for 5,000 open orders).
    """
    db.execute("CREATE INDEX balance_place ON balance (location_id, item_id)")


def _v6_backflush(db: sqlite3.Connection) -> None:
    """v6: ``item.backflush``.

    Why: for items made in one go, starting an order should consume its materials
    without a separate ``consume`` command.
    """
    db.execute(
        "ALTER TABLE item ADD COLUMN "
        "backflush INTEGER NOT NULL DEFAULT 0 CHECK (backflush IN (0, 1))"
    )


_V7_DEMAND_PURCHASING = (
    """
        CREATE TABLE demand (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            due_on      TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('sales', 'forecast')),
            ref         TEXT,
            state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'cancelled')),
            created_at  TEXT NOT NULL,
            user        TEXT NOT NULL
        ) STRICT
    """,
    """
        CREATE INDEX demand_item_due ON demand (item_id, due_on)
    """,
    """
        CREATE TABLE purchase_order (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            received    INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= qty),
            due_on      TEXT NOT NULL,
            supplier    TEXT,
            ref         TEXT,
            state       TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'received', 'cancelled')),
            unit_cost   INTEGER CHECK (unit_cost >= 0),
            created_at  TEXT NOT NULL,
            user        TEXT NOT NULL
        ) STRICT
    """,
    """
        CREATE INDEX purchase_order_item_due ON purchase_order (item_id, due_on)
    """,
)


def _v7_demand_purchasing(db: sqlite3.Connection) -> None:
    """v7: demand (sales orders and forecasts) and purchase orders.

    Why: planning needs to know what is wanted and by when, and what is already coming
    from suppliers; a receipt against a purchase order keeps its open quantity right.
    """
    for statement in _V7_DEMAND_PURCHASING:
        db.execute(statement)


_V8_MRP_RUN = """
    CREATE TABLE mrp_run (
        id                  INTEGER PRIMARY KEY,
        created_at          TEXT NOT NULL,
        user                TEXT NOT NULL,
        start_on            TEXT NOT NULL,
        horizon_days        INTEGER NOT NULL CHECK (horizon_days > 0),
        bucket              TEXT NOT NULL CHECK (bucket IN ('day', 'week', 'month')),
        include_inspection  INTEGER NOT NULL DEFAULT 0 CHECK (include_inspection IN (0, 1)),
        fingerprint         TEXT NOT NULL,
        note                TEXT,
        result              TEXT NOT NULL CHECK (json_valid(result))
    ) STRICT
"""


def _v8_mrp_run(db: sqlite3.Connection) -> None:
    """v8: saved MRP runs.

    Why: a planner compares today's plan with yesterday's (what moved, what is newly
    short) and firms planned orders from the run they looked at.
    """
    db.execute(_V8_MRP_RUN)


_V9_SHIPPING = (
    # SQLite cannot change a CHECK constraint in place: the demand table is rebuilt. The
    # old one is renamed out of the way (not the new one renamed in, which would store
    # its name quoted and differ from a fresh schema), copied, and dropped.
    """
        ALTER TABLE demand RENAME TO demand_v8
    """,
    """
        CREATE TABLE demand (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            due_on      TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('sales', 'forecast')),
            ref         TEXT,
            state       TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'cancelled', 'shipped')),
            created_at  TEXT NOT NULL,
            user        TEXT NOT NULL
        ) STRICT
    """,
    """
        INSERT INTO demand (id, item_id, qty, due_on, kind, ref, state, created_at, user)
        SELECT id, item_id, qty, due_on, kind, ref, state, created_at, user FROM demand_v8
    """,
    """
        DROP TABLE demand_v8
    """,
    """
        CREATE INDEX demand_item_due ON demand (item_id, due_on)
    """,
    """
        CREATE TABLE shipment (
            id          INTEGER PRIMARY KEY,
            customer    TEXT NOT NULL,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            qty         INTEGER NOT NULL CHECK (qty > 0),
            ref         TEXT,
            demand_id   INTEGER REFERENCES demand (id),
            shipped_at  TEXT NOT NULL,
            user        TEXT NOT NULL,
            note        TEXT
        ) STRICT
    """,
    """
        CREATE INDEX shipment_customer ON shipment (customer, shipped_at)
    """,
    """
        CREATE INDEX shipment_demand ON shipment (demand_id) WHERE demand_id IS NOT NULL
    """,
    """
        CREATE INDEX move_lot ON move (lot_id, item_id) WHERE lot_id IS NOT NULL
    """,
)


def _v9_shipping(db: sqlite3.Connection) -> None:
    """v9: shipments, a ``shipped`` state for demand, and an index of moves by lot.

    Why: goods must be traceable to the customer who received them (a recall lists
    shipped units by customer), a sales order that has been shipped in full must stop
    counting as open demand, and a trace reads every lot's moves without scanning the
    whole ledger.
    """
    for statement in _V9_SHIPPING:
        db.execute(statement)


_V10_SCHEDULING = (
    "ALTER TABLE production_order ADD COLUMN planned_start TEXT",
    "ALTER TABLE production_order ADD COLUMN planned_end TEXT",
    "ALTER TABLE routing_stage ADD COLUMN family TEXT",
    "ALTER TABLE order_stage ADD COLUMN family TEXT",
    """
        CREATE TABLE workcenter (
            id          INTEGER PRIMARY KEY,
            code        TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name        TEXT NOT NULL,
            machines    INTEGER NOT NULL DEFAULT 1 CHECK (machines >= 1),
            day_start   INTEGER NOT NULL DEFAULT 480 CHECK (day_start >= 0 AND day_start < 1440),
            minutes     TEXT NOT NULL DEFAULT '[480,480,480,480,480,0,0]'
                CHECK (json_valid(minutes) AND json_array_length(minutes) = 7),
            rate        INTEGER CHECK (rate >= 0),
            active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at  TEXT NOT NULL
        ) STRICT
    """,
    """
        CREATE TABLE workcenter_down (
            id              INTEGER PRIMARY KEY,
            workcenter_id   INTEGER NOT NULL REFERENCES workcenter (id),
            from_at         TEXT NOT NULL,
            to_at           TEXT NOT NULL,
            reason          TEXT NOT NULL,
            user            TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            CHECK (to_at > from_at)
        ) STRICT
    """,
    "CREATE INDEX workcenter_down_wc ON workcenter_down (workcenter_id, from_at)",
)


def _v10_scheduling(db: sqlite3.Connection) -> None:
    """v10: work centres with their capacity and downtime, setup families on stages,
    and each order's committed planned start and end.

    Why: a schedule that ignores capacity creates bottlenecks; ``mfgctl schedule``
    needs to know how long each work centre works, on how many machines, and when it
    is down, and ``schedule --commit`` keeps its result on the orders.
    """
    for statement in _V10_SCHEDULING:
        db.execute(statement)


def _v11_views(db: sqlite3.Connection) -> None:
    """v11: read-only SQL views of the main reports (``v_stock``, ``v_wip_stage``,
    ``v_wip``, ``v_reservations``, ``v_late_orders``, ``v_valuation``, ``v_genealogy``).

    Why: the database is an interface; the sqlite3 shell, Datasette or a spreadsheet
    should read the same numbers as mfgctl without reimplementing its rules. The SQL is
    generated by ``domain/views.py`` (imported here only when an upgrade runs, to keep
    start-up light); ``schema.sql`` holds the same text.
    """
    from mfgctl.domain import views

    for statement in views.statements():
        db.execute(statement)


_V12_COMPLETION = (
    """
        CREATE TABLE completion (
            first_seq    INTEGER PRIMARY KEY REFERENCES move (seq),
            last_seq     INTEGER NOT NULL,
            order_id     INTEGER NOT NULL REFERENCES production_order (id),
            item_id      INTEGER NOT NULL REFERENCES item (id),
            good         INTEGER NOT NULL CHECK (good >= 0),
            unit_cost    INTEGER CHECK (unit_cost >= 0),
            effective_at TEXT NOT NULL,
            CHECK (last_seq >= first_seq)
        ) STRICT
    """,
    """
        CREATE INDEX completion_item ON completion (item_id, effective_at, first_seq)
    """,
    # check's completion finding reads every 'make' move: a few among millions.
    "CREATE INDEX move_make ON move (seq) WHERE kind = 'make'",
    """
        CREATE TRIGGER completion_is_append_only_update BEFORE UPDATE ON completion
        BEGIN
            SELECT RAISE(ABORT, 'completions are immutable, like the ledger moves they sum up');
        END
    """,
    """
        CREATE TRIGGER completion_is_append_only_delete BEFORE DELETE ON completion
        BEGIN
            SELECT RAISE(ABORT, 'completions are immutable, like the ledger moves they sum up');
        END
    """,
)


def _v12_completion_cost(db: sqlite3.Connection) -> None:
    """v12: ``completion``, one row per ``order complete`` with its good units and the
    unit cost of its output, fixed when it is posted; rows backfilled for the ledger's
    completions; ``v_valuation`` dropped (v17 re-creates it to read them).

    Why: a made item's cost is the material each completion relieved at the
    components' averages of that moment. Found again on every replay (by grouping
    consecutive moves), it tied every made item's average to its components' whole
    history, and the ``v_valuation`` view, a per-item replay, could not show it at
    all. Stored, each item's average depends only on its own rows: the report and the
    view replay the same stream, per item, and agree for made items too.
    """
    from mfgctl.domain import valuation_backfill

    for statement in _V12_COMPLETION:
        db.execute(statement)
    valuation_backfill.backfill(db)
    # A database that was at v11 has the old v_valuation; v11 run now made it from the
    # current generator, which reads columns of ``completion`` added later (v17). Either
    # is dropped here and v17 makes the current one: until then no view may name a
    # column that is not there yet (SQLite checks every view when v13 renames a table).
    db.execute("DROP VIEW IF EXISTS v_valuation")


_V13_SIGNOFF_BATCHES = (
    # SQLite cannot drop a UNIQUE constraint: the table is rebuilt as v9 rebuilt demand
    # (the old one renamed out of the way, copied, dropped).
    """
        ALTER TABLE release_signoff RENAME TO release_signoff_v12
    """,
    """
        CREATE TABLE release_signoff (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            lot_id      INTEGER NOT NULL REFERENCES lot (id),
            criterion   TEXT NOT NULL,
            note        TEXT,
            user        TEXT NOT NULL,
            at          TEXT NOT NULL,
            qty         INTEGER NOT NULL CHECK (qty >= 0),
            through_seq INTEGER NOT NULL CHECK (through_seq >= 0)
        ) STRICT
    """,
    # An old sign-off held for the whole lot, later output included: it takes effect at
    # the upgrade (after the ledger's last move), covering what awaits release then, so
    # nothing releasable before the upgrade becomes unreleasable by it.
    """
        INSERT INTO release_signoff
               (id, item_id, lot_id, criterion, note, user, at, qty, through_seq)
        SELECT s.id, s.item_id, s.lot_id, s.criterion, s.note, s.user, s.at,
               (SELECT coalesce(sum(b.qty), 0) FROM balance AS b
                 WHERE b.item_id = s.item_id AND b.lot_id = s.lot_id
                   AND b.status = 'awaiting_release' AND b.qty > 0),
               (SELECT coalesce(max(m.seq), 0) FROM move AS m)
          FROM release_signoff_v12 AS s
    """,
    """
        DROP TABLE release_signoff_v12
    """,
    """
        CREATE INDEX release_signoff_lot ON release_signoff (item_id, lot_id, through_seq)
    """,
)


def _v13_signoff_batches(db: sqlite3.Connection) -> None:
    """v13: a lot may be signed off again for a criterion; each sign-off records what
    it covers (``qty``, ``through_seq``).

    Why: a sign-off could be given once per lot and criterion and held for the whole
    lot, so output completed into the lot after it was either released on a signature
    given before it existed or, when that was not acceptable, never released at all. A
    sign-off now covers the units awaiting release when it is recorded, like a pass,
    and later output gets a sign-off of its own.
    """
    for statement in _V13_SIGNOFF_BATCHES:
        db.execute(statement)


# version reached -> step that reaches it from the version before.
def _v14_expected_output(db: sqlite3.Connection) -> None:
    """v14: ``v_stock``'s ``on_order`` counts what an open production order can still
    give, as ``stock`` now does: units rejected at its routing stages are not coming;
    ``v_wip``'s age counts from the order's start, not from a later ``order update``.

    Why: an order of 10 with 3 rejected at its test stage can give at most 7; the view
    and the report expected 10, so nobody planned the 3 missing. And ``order update``
    records an in_progress -> in_progress history row, which the view took for a start.
    """
    from mfgctl.domain import views

    for name in ("v_stock", "v_wip"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
        db.execute(views.statement(name))


_V15_LOT_EXPIRY_CHANGE = (
    """
        CREATE TABLE lot_expiry_change (
            id          INTEGER PRIMARY KEY,
            lot_id      INTEGER NOT NULL REFERENCES lot (id),
            old_expires TEXT,
            new_expires TEXT,
            reason      TEXT NOT NULL,
            user        TEXT NOT NULL,
            changed_at  TEXT NOT NULL,
            CHECK (old_expires IS NOT new_expires)
        ) STRICT
    """,
    """
        CREATE INDEX lot_expiry_change_lot ON lot_expiry_change (lot_id, changed_at)
    """,
    """
        CREATE TRIGGER lot_expiry_change_is_append_only_update BEFORE UPDATE ON lot_expiry_change
        BEGIN
            SELECT RAISE(ABORT, 'expiry date changes are history: record a new change instead');
        END
    """,
    """
        CREATE TRIGGER lot_expiry_change_is_append_only_delete BEFORE DELETE ON lot_expiry_change
        BEGIN
            SELECT RAISE(ABORT, 'expiry date changes are history: record a new change instead');
        END
    """,
)


def _v15_expiry(db: sqlite3.Connection) -> None:
    """v15: ``lot_expiry_change``, the history of ``stock expiry`` (a lot's expiry date
    changed: old and new date, reason, who, when); ``v_stock`` gains ``expired`` and
    leaves expired stock out of ``free`` (and reservations holding it out of ``reserved``).

    Why: a lot's expiry date could not be corrected once set, so a shelf life extended
    after a re-test, or a date mistyped at receipt, left good stock unusable for good;
    a change needs a reason and a trace. And since expired lots are never picked, the
    view (like the report) promised as free stock that no command would use.
    """
    from mfgctl.domain import views

    for statement in _V15_LOT_EXPIRY_CHANGE:
        db.execute(statement)
    db.execute("DROP VIEW IF EXISTS v_stock")
    db.execute(views.statement("v_stock"))


_V16_HISTORY = (
    """
        CREATE TABLE purchase_event (
            id                INTEGER PRIMARY KEY,
            purchase_order_id INTEGER NOT NULL REFERENCES purchase_order (id),
            at                TEXT NOT NULL,
            user              TEXT NOT NULL,
            event             TEXT NOT NULL
                CHECK (event IN ('created', 'updated', 'received', 'cancelled')),
            from_state        TEXT,
            to_state          TEXT NOT NULL,
            note              TEXT
        ) STRICT
    """,
    """
        CREATE INDEX purchase_event_order ON purchase_event (purchase_order_id, id)
    """,
    """
        CREATE TRIGGER purchase_event_is_append_only_update BEFORE UPDATE ON purchase_event
        BEGIN
            SELECT RAISE(ABORT, 'purchase order history is append-only: add a new event instead');
        END
    """,
    """
        CREATE TRIGGER purchase_event_is_append_only_delete BEFORE DELETE ON purchase_event
        BEGIN
            SELECT RAISE(ABORT, 'purchase order history is append-only: add a new event instead');
        END
    """,
    """
        CREATE TABLE demand_event (
            id          INTEGER PRIMARY KEY,
            demand_id   INTEGER NOT NULL REFERENCES demand (id),
            at          TEXT NOT NULL,
            user        TEXT NOT NULL,
            event       TEXT NOT NULL
                CHECK (event IN ('created', 'updated', 'shipped', 'cancelled')),
            from_state  TEXT,
            to_state    TEXT NOT NULL,
            note        TEXT
        ) STRICT
    """,
    """
        CREATE INDEX demand_event_demand ON demand_event (demand_id, id)
    """,
    """
        CREATE TRIGGER demand_event_is_append_only_update BEFORE UPDATE ON demand_event
        BEGIN
            SELECT RAISE(ABORT, 'demand history is append-only: add a new event instead');
        END
    """,
    """
        CREATE TRIGGER demand_event_is_append_only_delete BEFORE DELETE ON demand_event
        BEGIN
            SELECT RAISE(ABORT, 'demand history is append-only: add a new event instead');
        END
    """,
)

# What came before is not known: each record gets the one event it surely had, its
# creation, from its own created_at and user; the note says the history starts there.
_V16_BACKFILL = (
    """
        INSERT INTO purchase_event (purchase_order_id, at, user, event, from_state, to_state,
                                    note)
        SELECT id, created_at, user, 'created', NULL, 'open', :note
          FROM purchase_order ORDER BY id
    """,
    """
        INSERT INTO demand_event (demand_id, at, user, event, from_state, to_state, note)
        SELECT id, created_at, user, 'created', NULL, 'open', :note
          FROM demand ORDER BY id
    """,
)

# The note of a backfilled ``created`` event.
BACKFILLED = "created before history was kept (schema 16): changes until then are not listed"


def _v16_po_demand_history(db: sqlite3.Connection) -> None:
    """v16: ``purchase_event`` and ``demand_event``, the append-only history of purchase
    orders and demand (created, updated with before -> after, received, shipped,
    cancelled; who and when); a ``created`` event backfilled for every existing record.

    Why: ``purchase update``, ``demand update``, cancel, receive and ship overwrote the
    row, so nobody could tell who moved a purchase order's due date, when, or what the
    customer changed on a sales order; production orders kept that history
    (``order_event``) from the start.
    """
    for statement in _V16_HISTORY:
        db.execute(statement)
    for statement in _V16_BACKFILL:
        db.execute(statement, {"note": BACKFILLED})


def _v17_completion_carried(db: sqlite3.Connection) -> None:
    """v17: ``completion.carried``, the material a scrap-only completion of an order that
    has made good units passes at once to the item's stock on hand (an inflow of value
    without quantity); set for such completions already stored that no later good one
    carried; ``v_valuation`` re-created to read it. Not set (the scrap stays the loss it
    was booked as) where a later stored cost read the item's average at the old value: a
    completion that relieved the item or a customer return of a later shipment of it
    (``valuation_backfill.carry_late_scrap``): raising the average under them would take
    the item out at the new average while their costs kept the old one, and value would
    vanish (valuation = receipts - shipments at cost - losses would not hold).

    Why: scrap booked after the good units (the floor counts the bad ones at the end of
    the run) had no later completion with good units to carry its material, so it left
    stock as a loss: 8 good and 2 scrapped were worth 8 booked that way, 10 booked
    together, while the order's cost said 10.
    """
    from mfgctl.domain import valuation_backfill, views

    db.execute("ALTER TABLE completion ADD COLUMN carried INTEGER CHECK (carried >= 0)")
    # Completions are append-only: the trigger is lifted for the backfill alone.
    db.execute("DROP TRIGGER completion_is_append_only_update")
    valuation_backfill.carry_late_scrap(db)
    db.execute(next(s for s in _V12_COMPLETION if "append_only_update" in s))
    db.execute("DROP VIEW IF EXISTS v_valuation")
    db.execute(views.statement("v_valuation"))


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _v2_stock_count,
    3: _v3_production,
    4: _v4_routings,
    5: _v5_balance_by_place,
    6: _v6_backflush,
    7: _v7_demand_purchasing,
    8: _v8_mrp_run,
    9: _v9_shipping,
    10: _v10_scheduling,
    11: _v11_views,
    12: _v12_completion_cost,
    13: _v13_signoff_batches,
    14: _v14_expected_output,
    15: _v15_expiry,
    16: _v16_po_demand_history,
    17: _v17_completion_carried,
}


def upgrade(db: sqlite3.Connection, from_version: int) -> None:
    """Run every step after ``from_version``; the caller holds the write transaction."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        STEPS[version](db)
        db.execute(f"PRAGMA user_version = {int(version)}")
