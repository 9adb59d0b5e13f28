-- mfgctl database schema: the one source of the database's DDL.
--
-- A new database runs this file; an older one is brought here by the forward steps
-- in src/mfgctl/migrations.py. Keep SCHEMA_VERSION in migrations.py equal to the
-- version stamped at the end of this file.
--
-- Numbers: every quantity is an INTEGER count of millionths of the item's base unit
-- ("micro-units"); money is an INTEGER count of millionths of the currency unit.
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width, so text order
-- is time order). Dates are 'YYYY-MM-DD'.

CREATE TABLE item (
    id                      INTEGER PRIMARY KEY,
    code                    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name                    TEXT NOT NULL,
    type                    TEXT NOT NULL
        CHECK (type IN ('raw', 'component', 'subassembly', 'finished', 'packaging')),
    unit                    TEXT NOT NULL,
    make_or_buy             TEXT NOT NULL CHECK (make_or_buy IN ('make', 'buy')),
    method                  TEXT
        CHECK (method IN ('make_to_stock', 'make_to_order', 'assemble_to_order')),
    tracking                TEXT NOT NULL DEFAULT 'none'
        CHECK (tracking IN ('none', 'lot', 'serial')),
    purchase_lead_time_days INTEGER NOT NULL DEFAULT 0 CHECK (purchase_lead_time_days >= 0),
    mfg_lead_time_days      INTEGER NOT NULL DEFAULT 0 CHECK (mfg_lead_time_days >= 0),
    moq                     INTEGER CHECK (moq > 0),
    max_order_qty           INTEGER CHECK (max_order_qty > 0),
    order_multiple          INTEGER CHECK (order_multiple > 0),
    safety_stock            INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    lot_sizing              TEXT NOT NULL DEFAULT 'lot_for_lot'
        CHECK (lot_sizing IN ('lot_for_lot', 'fixed', 'period')),
    fixed_order_qty         INTEGER CHECK (fixed_order_qty > 0),
    period_days             INTEGER CHECK (period_days > 0),
    std_cost                INTEGER CHECK (std_cost >= 0),
    inspect_on_receipt      INTEGER NOT NULL DEFAULT 0 CHECK (inspect_on_receipt IN (0, 1)),
    release_criteria        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(release_criteria)),
    planning_reviewed_on    TEXT,
    active                  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    serial_pattern          TEXT,  -- v4: how completion numbers serials, e.g. HD200-{yyyy}-{seq:05}
    backflush               INTEGER NOT NULL DEFAULT 0 CHECK (backflush IN (0, 1)),  -- v6
    CHECK (lot_sizing <> 'fixed' OR fixed_order_qty IS NOT NULL),
    CHECK (lot_sizing <> 'period' OR period_days IS NOT NULL),
    CHECK (max_order_qty IS NULL OR moq IS NULL OR max_order_qty >= moq)
) STRICT;

-- Extra units of an item: one `unit` is `factor` micro-units of the base unit.
CREATE TABLE item_unit (
    item_id INTEGER NOT NULL REFERENCES item (id) ON DELETE CASCADE,
    unit    TEXT NOT NULL COLLATE NOCASE,
    factor  INTEGER NOT NULL CHECK (factor > 0),
    PRIMARY KEY (item_id, unit)
) STRICT, WITHOUT ROWID;

-- A BOM revision: the lines make `output_qty` base units of the item.
CREATE TABLE bom (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item (id),
    revision    TEXT NOT NULL COLLATE NOCASE,
    output_qty  INTEGER NOT NULL CHECK (output_qty > 0),
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL,
    note        TEXT,
    UNIQUE (item_id, revision)
) STRICT;
-- At most one active revision per item.
CREATE UNIQUE INDEX bom_one_active ON bom (item_id) WHERE active = 1;

CREATE TABLE bom_line (
    id          INTEGER PRIMARY KEY,
    bom_id      INTEGER NOT NULL REFERENCES bom (id),
    position    INTEGER NOT NULL,
    child_id    INTEGER NOT NULL REFERENCES item (id),
    qty         INTEGER NOT NULL CHECK (qty > 0),          -- in `unit`, per output_qty
    unit        TEXT NOT NULL,
    scrap_pct   INTEGER NOT NULL DEFAULT 0 CHECK (scrap_pct >= 0 AND scrap_pct < 100000000),
    fixed_qty   INTEGER NOT NULL DEFAULT 0 CHECK (fixed_qty >= 0),  -- per order, setup loss
    phantom     INTEGER NOT NULL DEFAULT 0 CHECK (phantom IN (0, 1)),
    refdes      TEXT,
    note        TEXT,
    UNIQUE (bom_id, position)
) STRICT;
CREATE INDEX bom_line_child ON bom_line (child_id);

-- Substitutes of a line, in order of preference.
CREATE TABLE bom_substitute (
    line_id   INTEGER NOT NULL REFERENCES bom_line (id),
    position  INTEGER NOT NULL,
    item_id   INTEGER NOT NULL REFERENCES item (id),
    PRIMARY KEY (line_id, position)
) STRICT, WITHOUT ROWID;

-- Places: `internal` locations hold stock, each unit with a status; the other kinds
-- are virtual counterparts of the double-entry ledger and carry no status.
CREATE TABLE location (
    id      INTEGER PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL DEFAULT 'internal'
        CHECK (kind IN ('internal', 'supplier', 'customer', 'production', 'scrap',
                        'adjustment', 'opening')),
    active  INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) STRICT;

INSERT INTO location (code, name, kind) VALUES
    ('STORES', 'Main stores', 'internal'),
    ('SUPPLIER', 'Suppliers (virtual)', 'supplier'),
    ('CUSTOMER', 'Customers (virtual)', 'customer'),
    ('SCRAP', 'Scrap (virtual)', 'scrap'),
    ('ADJUSTMENT', 'Count and manual adjustments (virtual)', 'adjustment'),
    ('OPENING', 'Opening balances (virtual)', 'opening');

-- A lot of an item; a serial number is a lot of exactly one unit (serial = 1).
CREATE TABLE lot (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item (id),
    code        TEXT NOT NULL COLLATE NOCASE,
    serial      INTEGER NOT NULL DEFAULT 0 CHECK (serial IN (0, 1)),
    expires_on  TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (item_id, code)
) STRICT;

-- The ledger. Append-only: the triggers below refuse UPDATE and DELETE, so a
-- correction is always a new, reversing move. `seq` is the ledger order;
-- `effective_at` may lie in the past for a back-dated entry.
CREATE TABLE move (
    seq              INTEGER PRIMARY KEY,
    item_id          INTEGER NOT NULL REFERENCES item (id),
    lot_id           INTEGER REFERENCES lot (id),
    qty              INTEGER NOT NULL CHECK (qty > 0),
    from_location_id INTEGER NOT NULL REFERENCES location (id),
    from_status      TEXT,
    to_location_id   INTEGER NOT NULL REFERENCES location (id),
    to_status        TEXT,
    kind             TEXT NOT NULL,
    unit_cost        INTEGER CHECK (unit_cost >= 0),
    effective_at     TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    user             TEXT NOT NULL,
    reason           TEXT,
    ref              TEXT,
    CHECK (from_location_id <> to_location_id OR from_status IS NOT to_status)
) STRICT;
CREATE INDEX move_item_time ON move (item_id, effective_at, seq);
CREATE INDEX move_ref ON move (ref) WHERE ref IS NOT NULL;

CREATE TRIGGER move_is_append_only_update BEFORE UPDATE ON move
BEGIN
    SELECT RAISE(ABORT, 'ledger moves are immutable: post a reversing move instead');
END;
CREATE TRIGGER move_is_append_only_delete BEFORE DELETE ON move
BEGIN
    SELECT RAISE(ABORT, 'ledger moves are immutable: post a reversing move instead');
END;

-- Balances per item x place x lot, kept in the same transaction as each move so that
-- reports never scan the ledger. `status` is NULL exactly for virtual places.
-- `mfgctl check` proves balance = ledger.
CREATE TABLE balance (
    item_id     INTEGER NOT NULL REFERENCES item (id),
    location_id INTEGER NOT NULL REFERENCES location (id),
    status      TEXT CHECK (status IN ('pending_inspection', 'available', 'awaiting_release',
                                       'blocked', 'rejected', 'rework')),
    lot_id      INTEGER REFERENCES lot (id),
    qty         INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX balance_key
    ON balance (item_id, location_id, ifnull(status, ''), ifnull(lot_id, 0));
-- Covering index for the stock report (all items, grouped by status).
CREATE INDEX balance_report ON balance (item_id, status, location_id, lot_id, qty);

-- Real stock can never be negative, whatever code path writes (defence in depth:
-- the domain checks first and gives the readable message).
CREATE TRIGGER balance_not_negative_insert BEFORE INSERT ON balance
WHEN NEW.status IS NOT NULL AND NEW.qty < 0
BEGIN
    SELECT RAISE(ABORT, 'stock at a real location cannot go negative');
END;
CREATE TRIGGER balance_not_negative_update BEFORE UPDATE OF qty ON balance
WHEN NEW.status IS NOT NULL AND NEW.qty < 0
BEGIN
    SELECT RAISE(ABORT, 'stock at a real location cannot go negative');
END;

-- Physical counts (schema version 2): what was counted, what the ledger said, and the
-- adjusting move that posted the difference (NULL when there was none).
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
) STRICT;
CREATE INDEX stock_count_item ON stock_count (item_id, counted_at);

-- Production orders (schema version 3): make `qty` of an item by `due_on` with one BOM
-- revision. Each order is its own virtual place (a `production` location): stock
-- consumed into it is its WIP, output comes out of it.
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
    note        TEXT,
    -- v10: the last committed schedule (mfgctl schedule --commit): local date-times.
    planned_start TEXT,
    planned_end   TEXT
) STRICT;
CREATE INDEX production_order_state ON production_order (state, due_on);
CREATE INDEX production_order_item ON production_order (item_id, state);

-- The order's own frozen copy of its material requirements, taken at release: later
-- BOM changes never alter an order under way. `qty` is for the whole order, in the
-- component's base unit, scrap and fixed quantities included; `substitutes` is a JSON
-- list of item codes in order of preference.
CREATE TABLE order_material (
    order_id    INTEGER NOT NULL REFERENCES production_order (id),
    position    INTEGER NOT NULL,
    item_id     INTEGER NOT NULL REFERENCES item (id),
    qty         INTEGER NOT NULL CHECK (qty > 0),
    substitutes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(substitutes)),
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;

-- Every state change of an order: the order's history.
CREATE TABLE order_event (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES production_order (id),
    at          TEXT NOT NULL,
    user        TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT
) STRICT;
CREATE INDEX order_event_order ON order_event (order_id, id);

-- A claim on available stock at one location (and lot) for a reference: a production
-- order, a customer order, a transfer. `remaining` is what the claim still holds
-- (consumption and cancellation lower it); an open claim past `until_on` stops counting.
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
) STRICT;
CREATE INDEX reservation_open ON reservation (item_id, location_id, lot_id)
    WHERE state = 'open';
CREATE INDEX reservation_ref ON reservation (ref, state);
CREATE INDEX reservation_order ON reservation (order_id) WHERE order_id IS NOT NULL;

-- A quality decision on stock: who, when, result, note, measurements, and the move
-- that carried it out (from_status -> to_status at one location).
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
) STRICT;
CREATE INDEX inspection_lot ON inspection (item_id, lot_id, at);

-- Release criteria signed off for a lot or serial of a finished item. A sign-off covers
-- the lot's units awaiting release when it takes effect, after the ledger's move
-- through_seq (v13); units reaching awaiting_release later need a sign-off of their own,
-- so a lot has one row per sign-off, each kept as history. qty: what awaited release
-- then (micro-units; for a sign-off from before v13, what awaited release at the upgrade).
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
) STRICT;
CREATE INDEX release_signoff_lot ON release_signoff (item_id, lot_id, through_seq);

-- Routings (schema version 4): the ordered stages an item goes through when it is made
-- (assembly, calibration, acoustic test, QC, cleaning, labeling, packaging), each with
-- an optional work centre and its times in minutes (setup once per order, run per unit),
-- in millionths of a minute like every other quantity.
CREATE TABLE routing_stage (
    item_id     INTEGER NOT NULL REFERENCES item (id),
    position    INTEGER NOT NULL CHECK (position > 0),
    name        TEXT NOT NULL COLLATE NOCASE,
    workcenter  TEXT,
    setup_min   INTEGER NOT NULL DEFAULT 0 CHECK (setup_min >= 0),
    run_min     INTEGER NOT NULL DEFAULT 0 CHECK (run_min >= 0),
    family      TEXT,  -- v10: setup family; consecutive orders of one family skip the setup
    PRIMARY KEY (item_id, position),
    UNIQUE (item_id, name)
) STRICT;

-- An order's own copy of its item's routing, taken at release, with the progress made:
-- `good` units have passed the stage, `rejected` units failed at it.
CREATE TABLE order_stage (
    order_id    INTEGER NOT NULL REFERENCES production_order (id),
    position    INTEGER NOT NULL CHECK (position > 0),
    name        TEXT NOT NULL COLLATE NOCASE,
    workcenter  TEXT,
    setup_min   INTEGER NOT NULL DEFAULT 0 CHECK (setup_min >= 0),
    run_min     INTEGER NOT NULL DEFAULT 0 CHECK (run_min >= 0),
    good        INTEGER NOT NULL DEFAULT 0 CHECK (good >= 0),
    rejected    INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    family      TEXT,  -- v10
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;

-- Every recorded progress at a stage: the history behind order_stage's totals.
CREATE TABLE stage_event (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES production_order (id),
    position    INTEGER NOT NULL,
    good        INTEGER NOT NULL CHECK (good >= 0),
    rejected    INTEGER NOT NULL CHECK (rejected >= 0),
    reason      TEXT,
    user        TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX stage_event_order ON stage_event (order_id, position);

-- Balances by place (schema version 5): what sits at one order's place (its WIP) is
-- read per order by the wip report and order show.
CREATE INDEX balance_place ON balance (location_id, item_id);

-- Schema version 6: item.backflush (an order of the item consumes its materials when it
-- starts).

-- Demand and purchasing (schema version 7): what customers ordered (sales) or are
-- expected to take (forecast), and what has been ordered from suppliers with what has
-- been received against it so far. Quantities in millionths of the item's base unit,
-- unit_cost in millionths per base unit.
CREATE TABLE demand (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item (id),
    qty         INTEGER NOT NULL CHECK (qty > 0),
    due_on      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('sales', 'forecast')),
    ref         TEXT,
    state       TEXT NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'cancelled', 'shipped')),  -- v9: shipped
    created_at  TEXT NOT NULL,
    user        TEXT NOT NULL
) STRICT;
CREATE INDEX demand_item_due ON demand (item_id, due_on);

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
) STRICT;
CREATE INDEX purchase_order_item_due ON purchase_order (item_id, due_on);

-- Saved MRP runs (schema version 8): the settings, a digest of every input
-- ("fingerprint": equal digests, equal plans) and the result as JSON (planned orders
-- with their pegging, shortages, exceptions; not the bucket records).
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
) STRICT;

-- Shipments (schema version 9): stock leaving for a customer. Which customer, the
-- reference (a sales order), the sales demand it fulfils, what and how much, who and when.
-- Its ledger moves go to the virtual place CUSTOMER (kind 'ship') with the reference
-- 'SHIP-<id>'. A sales demand whose shipments reach its quantity becomes 'shipped'.
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
) STRICT;
CREATE INDEX shipment_customer ON shipment (customer, shipped_at);
CREATE INDEX shipment_demand ON shipment (demand_id) WHERE demand_id IS NOT NULL;
-- A lot's moves (traceability reads them per lot and serial).
CREATE INDEX move_lot ON move (lot_id, item_id) WHERE lot_id IS NOT NULL;

-- Work centres (schema version 10): where routing stages run. `minutes` is the working
-- time of one machine per weekday, a JSON list of 7 whole minutes, Monday first, from
-- `day_start` (minutes after midnight); `machines` identical machines (or people) work
-- in parallel; `rate` is the cost of one hour of one machine, in millionths of the
-- currency. A stage's `workcenter` names one by code.
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
) STRICT;

-- Downtime windows of a work centre (maintenance, holidays): local date-times,
-- [from_at, to_at).
CREATE TABLE workcenter_down (
    id              INTEGER PRIMARY KEY,
    workcenter_id   INTEGER NOT NULL REFERENCES workcenter (id),
    from_at         TEXT NOT NULL,
    to_at           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    user            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK (to_at > from_at)
) STRICT;
CREATE INDEX workcenter_down_wc ON workcenter_down (workcenter_id, from_at);

-- Completions (schema version 12): one row per `order complete`, written in the same
-- transaction as its moves, seqs `first_seq` (its first `make`) to `last_seq` (its last
-- `relieve`). `good` is the good output (micro-units; 0 when it only scrapped);
-- `unit_cost` the material it relieved, at the components' moving averages of that
-- moment, over the good units, in millionths rounded half-even; NULL when it relieved
-- no material (or made no good unit). Fixed when posted: a receipt back-dated before
-- it does not change it. Valuation reads a completion as one inflow of its good units
-- at `unit_cost`, instead of its own `make` and `scrap` moves of the product.
-- `carried` (v17): a scrap-only completion of an order that made good units before
-- passes the material it relieved (millionths, at the averages then) at once to the
-- item's stock on hand, an inflow of value without quantity; NULL for any other (a
-- scrap-only one before the order's first good units is carried by the next good one).
-- Append-only, like the ledger.
CREATE TABLE completion (
    first_seq    INTEGER PRIMARY KEY REFERENCES move (seq),
    last_seq     INTEGER NOT NULL,
    order_id     INTEGER NOT NULL REFERENCES production_order (id),
    item_id      INTEGER NOT NULL REFERENCES item (id),
    good         INTEGER NOT NULL CHECK (good >= 0),
    unit_cost    INTEGER CHECK (unit_cost >= 0),
    effective_at TEXT NOT NULL,
    carried      INTEGER CHECK (carried >= 0),
    CHECK (last_seq >= first_seq)
) STRICT;
CREATE INDEX completion_item ON completion (item_id, effective_at, first_seq);
-- The 'make' moves (check's completion finding reads them all: a few among millions).
CREATE INDEX move_make ON move (seq) WHERE kind = 'make';

CREATE TRIGGER completion_is_append_only_update BEFORE UPDATE ON completion
BEGIN
    SELECT RAISE(ABORT, 'completions are immutable, like the ledger moves they sum up');
END;
CREATE TRIGGER completion_is_append_only_delete BEFORE DELETE ON completion
BEGIN
    SELECT RAISE(ABORT, 'completions are immutable, like the ledger moves they sum up');
END;

-- Expiry date changes (schema version 15): a lot's (or serial's) `expires_on` changed
-- after it was set (`stock expiry`: a shelf-life extension after a re-test, a typo at
-- receipt), with the date before and after (NULL: no expiry date), the reason, who and
-- when. The stock report's --as-of judges expiry by the date in force then. Append-only.
CREATE TABLE lot_expiry_change (
    id          INTEGER PRIMARY KEY,
    lot_id      INTEGER NOT NULL REFERENCES lot (id),
    old_expires TEXT,
    new_expires TEXT,
    reason      TEXT NOT NULL,
    user        TEXT NOT NULL,
    changed_at  TEXT NOT NULL,
    CHECK (old_expires IS NOT new_expires)
) STRICT;
CREATE INDEX lot_expiry_change_lot ON lot_expiry_change (lot_id, changed_at);
CREATE TRIGGER lot_expiry_change_is_append_only_update BEFORE UPDATE ON lot_expiry_change
BEGIN
    SELECT RAISE(ABORT, 'expiry date changes are history: record a new change instead');
END;
CREATE TRIGGER lot_expiry_change_is_append_only_delete BEFORE DELETE ON lot_expiry_change
BEGIN
    SELECT RAISE(ABORT, 'expiry date changes are history: record a new change instead');
END;

-- History of purchase orders and demand (schema version 16): every change, who and when,
-- written in the same transaction as the change. `event` says what happened: `created`
-- (purchase add, import, mrp firm; the note says which, with the quantity and due date
-- as given), `updated` (the note lists each change, `due 2027-03-05 -> 2027-03-19; qty
-- 100 -> 80`), `received` (a receipt against the order: how much, lot or serials, where),
-- `shipped` (a shipment against the demand: which, how much, lots, customer),
-- `cancelled`. from_state -> to_state is the record's state before and after (from_state
-- NULL for `created`). A record older than schema 16 got one `created` event from its
-- created_at and user. Append-only, like the ledger.
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
) STRICT;
CREATE INDEX purchase_event_order ON purchase_event (purchase_order_id, id);
CREATE TRIGGER purchase_event_is_append_only_update BEFORE UPDATE ON purchase_event
BEGIN
    SELECT RAISE(ABORT, 'purchase order history is append-only: add a new event instead');
END;
CREATE TRIGGER purchase_event_is_append_only_delete BEFORE DELETE ON purchase_event
BEGIN
    SELECT RAISE(ABORT, 'purchase order history is append-only: add a new event instead');
END;
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
) STRICT;
CREATE INDEX demand_event_demand ON demand_event (demand_id, id);
CREATE TRIGGER demand_event_is_append_only_update BEFORE UPDATE ON demand_event
BEGIN
    SELECT RAISE(ABORT, 'demand history is append-only: add a new event instead');
END;
CREATE TRIGGER demand_event_is_append_only_delete BEFORE DELETE ON demand_event
BEGIN
    SELECT RAISE(ABORT, 'demand history is append-only: add a new event instead');
END;

-- Views (schema versions 11, 12, 14 and 15): the main reports, read-only, for any SQLite
-- tool (the sqlite3 shell, Datasette, a spreadsheet). GENERATED by
-- src/mfgctl/domain/views.py: edit it there and paste the output of
-- `python -m mfgctl.domain.views` here (tests/test_views.py checks they are equal).
-- Quantities and money are exact decimal TEXT with the stored integer millionths beside
-- them (`_micro`); "today" is date('now', 'localtime'). Writes go through mfgctl, never
-- through a view.
-- BEGIN VIEWS
CREATE VIEW v_stock AS
WITH bal AS (
        SELECT b.item_id,
               sum(CASE WHEN l.kind = 'internal' THEN b.qty ELSE 0 END) AS physical,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'pending_inspection' THEN b.qty ELSE 0 END) AS pending_inspection,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'available' THEN b.qty ELSE 0 END) AS available,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'awaiting_release' THEN b.qty ELSE 0 END) AS awaiting_release,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'blocked' THEN b.qty ELSE 0 END) AS blocked,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'rejected' THEN b.qty ELSE 0 END) AS rejected,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'rework' THEN b.qty ELSE 0 END) AS rework,
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'available'
                         AND lt.expires_on < date('now', 'localtime') THEN b.qty ELSE 0 END) AS expired,
               sum(CASE WHEN l.kind = 'production' THEN b.qty ELSE 0 END) AS wip
          FROM balance AS b
          JOIN location AS l ON l.id = b.location_id
          LEFT JOIN lot AS lt ON lt.id = b.lot_id
         WHERE l.kind IN ('internal', 'production') AND b.qty <> 0
         GROUP BY b.item_id
     ),
     held AS (
        SELECT r.item_id, sum(r.remaining) AS reserved
          FROM reservation AS r
          LEFT JOIN lot AS lt ON lt.id = r.lot_id
         WHERE r.state = 'open' AND r.remaining > 0
           AND (r.until_on IS NULL OR r.until_on >= date('now', 'localtime'))
           AND (lt.expires_on IS NULL OR lt.expires_on >= date('now', 'localtime'))
         GROUP BY r.item_id
     ),
     expected AS (
        SELECT item_id, sum(expected) AS on_order FROM (
            SELECT o.item_id, max(o.qty
                          - ifnull((SELECT sum(m.qty) FROM move AS m
                                     WHERE m.item_id = o.item_id AND m.from_location_id = o.location_id
                                       AND m.kind = 'output'), 0)
                          - max(ifnull((SELECT sum(m.qty) FROM move AS m
                                         WHERE m.item_id = o.item_id AND m.from_location_id = o.location_id
                                           AND m.kind = 'scrap'), 0),
                                ifnull((SELECT sum(s.rejected) FROM order_stage AS s
                                         WHERE s.order_id = o.id), 0)),
                          0) AS expected
              FROM production_order AS o
             WHERE o.state IN ('planned', 'released', 'in_progress')
            UNION ALL
            SELECT p.item_id, p.qty - p.received
              FROM purchase_order AS p
             WHERE p.state = 'open'
        )
         GROUP BY item_id
     ),
     s AS (
        SELECT i.id AS item_id, i.code, i.name, i.type, i.unit,
               ifnull(bal.physical, 0) AS physical,
               ifnull(bal.available, 0) AS available,
               ifnull(held.reserved, 0) AS reserved,
               ifnull(bal.available, 0) - ifnull(bal.expired, 0) - ifnull(held.reserved, 0)
                   AS free,
               ifnull(bal.expired, 0) AS expired,
               ifnull(bal.pending_inspection, 0) AS pending_inspection, ifnull(bal.awaiting_release, 0) AS awaiting_release, ifnull(bal.blocked, 0) AS blocked, ifnull(bal.rejected, 0) AS rejected, ifnull(bal.rework, 0) AS rework,
               ifnull(bal.wip, 0) AS wip,
               ifnull(expected.on_order, 0) AS on_order
          FROM item AS i
          LEFT JOIN bal ON bal.item_id = i.id
          LEFT JOIN held ON held.item_id = i.id
          LEFT JOIN expected ON expected.item_id = i.id
         WHERE bal.item_id IS NOT NULL OR expected.item_id IS NOT NULL
     )
SELECT s.code AS item, s.name, s.type, s.unit,
       CASE WHEN s.physical IS NULL THEN NULL ELSE (CASE WHEN s.physical < 0 THEN '-' ELSE '' END) || (abs(s.physical) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.physical) % 1000000), -6), '0'), '.') END AS physical,
       s.physical AS physical_micro,
       CASE WHEN s.available IS NULL THEN NULL ELSE (CASE WHEN s.available < 0 THEN '-' ELSE '' END) || (abs(s.available) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.available) % 1000000), -6), '0'), '.') END AS available,
       s.available AS available_micro,
       CASE WHEN s.reserved IS NULL THEN NULL ELSE (CASE WHEN s.reserved < 0 THEN '-' ELSE '' END) || (abs(s.reserved) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.reserved) % 1000000), -6), '0'), '.') END AS reserved,
       s.reserved AS reserved_micro,
       CASE WHEN s.free IS NULL THEN NULL ELSE (CASE WHEN s.free < 0 THEN '-' ELSE '' END) || (abs(s.free) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.free) % 1000000), -6), '0'), '.') END AS free,
       s.free AS free_micro,
       CASE WHEN s.expired IS NULL THEN NULL ELSE (CASE WHEN s.expired < 0 THEN '-' ELSE '' END) || (abs(s.expired) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.expired) % 1000000), -6), '0'), '.') END AS expired,
       s.expired AS expired_micro,
       CASE WHEN s.pending_inspection IS NULL THEN NULL ELSE (CASE WHEN s.pending_inspection < 0 THEN '-' ELSE '' END) || (abs(s.pending_inspection) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.pending_inspection) % 1000000), -6), '0'), '.') END AS pending_inspection,
       s.pending_inspection AS pending_inspection_micro,
       CASE WHEN s.awaiting_release IS NULL THEN NULL ELSE (CASE WHEN s.awaiting_release < 0 THEN '-' ELSE '' END) || (abs(s.awaiting_release) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.awaiting_release) % 1000000), -6), '0'), '.') END AS awaiting_release,
       s.awaiting_release AS awaiting_release_micro,
       CASE WHEN s.blocked IS NULL THEN NULL ELSE (CASE WHEN s.blocked < 0 THEN '-' ELSE '' END) || (abs(s.blocked) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.blocked) % 1000000), -6), '0'), '.') END AS blocked,
       s.blocked AS blocked_micro,
       CASE WHEN s.rejected IS NULL THEN NULL ELSE (CASE WHEN s.rejected < 0 THEN '-' ELSE '' END) || (abs(s.rejected) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.rejected) % 1000000), -6), '0'), '.') END AS rejected,
       s.rejected AS rejected_micro,
       CASE WHEN s.rework IS NULL THEN NULL ELSE (CASE WHEN s.rework < 0 THEN '-' ELSE '' END) || (abs(s.rework) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.rework) % 1000000), -6), '0'), '.') END AS rework,
       s.rework AS rework_micro,
       CASE WHEN s.wip IS NULL THEN NULL ELSE (CASE WHEN s.wip < 0 THEN '-' ELSE '' END) || (abs(s.wip) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.wip) % 1000000), -6), '0'), '.') END AS wip,
       s.wip AS wip_micro,
       CASE WHEN s.on_order IS NULL THEN NULL ELSE (CASE WHEN s.on_order < 0 THEN '-' ELSE '' END) || (abs(s.on_order) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(s.on_order) % 1000000), -6), '0'), '.') END AS on_order,
       s.on_order AS on_order_micro
  FROM s
 ORDER BY upper(s.code);

CREATE VIEW v_wip_stage AS
SELECT st.order_id, st.place, st.item, st.position, st.stage, st.workcenter,
       CASE WHEN st.waiting IS NULL THEN NULL ELSE (CASE WHEN st.waiting < 0 THEN '-' ELSE '' END) || (abs(st.waiting) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(st.waiting) % 1000000), -6), '0'), '.') END AS waiting,
       st.waiting AS waiting_micro,
       CASE WHEN st.passed IS NULL THEN NULL ELSE (CASE WHEN st.passed < 0 THEN '-' ELSE '' END) || (abs(st.passed) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(st.passed) % 1000000), -6), '0'), '.') END AS passed,
       st.passed AS passed_micro,
       CASE WHEN st.rejected IS NULL THEN NULL ELSE (CASE WHEN st.rejected < 0 THEN '-' ELSE '' END) || (abs(st.rejected) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(st.rejected) % 1000000), -6), '0'), '.') END AS rejected,
       st.rejected AS rejected_micro
  FROM (
        SELECT os.order_id, l.code AS place, i.code AS item, os.position, os.name AS stage,
               os.workcenter,
               ifnull(lag(os.good) OVER w, o.qty) - os.good - os.rejected AS waiting,
               os.good AS passed, os.rejected
          FROM order_stage AS os
          JOIN production_order AS o ON o.id = os.order_id
          JOIN location AS l ON l.id = o.location_id
          JOIN item AS i ON i.id = o.item_id
         WHERE o.state IN ('released', 'in_progress')
        WINDOW w AS (PARTITION BY os.order_id ORDER BY os.position)
       ) AS st
 ORDER BY st.order_id, st.position;

CREATE VIEW v_wip AS
SELECT w.order_id, w.place, w.item, CASE WHEN w.qty IS NULL THEN NULL ELSE (CASE WHEN w.qty < 0 THEN '-' ELSE '' END) || (abs(w.qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(w.qty) % 1000000), -6), '0'), '.') END AS qty, w.qty AS qty_micro,
       w.unit, w.state, w.stage,
       CASE WHEN w.waiting IS NULL THEN NULL ELSE (CASE WHEN w.waiting < 0 THEN '-' ELSE '' END) || (abs(w.waiting) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(w.waiting) % 1000000), -6), '0'), '.') END AS waiting,
       w.waiting AS waiting_micro,
       CASE WHEN w.finished IS NULL THEN NULL ELSE (CASE WHEN w.finished < 0 THEN '-' ELSE '' END) || (abs(w.finished) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(w.finished) % 1000000), -6), '0'), '.') END AS finished,
       w.finished AS finished_micro,
       CASE WHEN w.consumed_value IS NULL THEN NULL ELSE (CASE WHEN w.consumed_value < 0 THEN '-' ELSE '' END) || (abs(w.consumed_value) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(w.consumed_value) % 1000000000000), -12), '0'), '.') END AS consumed_value,
       w.uncosted, w.age_days, w.age_from, w.due, w.late
  FROM (
        SELECT o.id AS order_id, l.code AS place, i.code AS item, o.qty, i.unit, o.state,
               CASE WHEN cur.stage IS NOT NULL THEN cur.stage
                    WHEN last.stage IS NOT NULL THEN 'done' END AS stage,
               ifnull(cur.waiting_micro, 0) AS waiting,
               last.passed_micro AS finished,
               (SELECT ifnull(sum(b.qty * it.std_cost), 0)
                  FROM balance AS b JOIN item AS it ON it.id = b.item_id
                 WHERE b.location_id = o.location_id AND b.qty <> 0
                   AND it.std_cost IS NOT NULL) AS consumed_value,
               (SELECT json_group_array(code) FROM (
                    SELECT DISTINCT it.code COLLATE BINARY AS code
                      FROM balance AS b JOIN item AS it ON it.id = b.item_id
                     WHERE b.location_id = o.location_id AND b.qty <> 0
                       AND it.std_cost IS NULL
                     ORDER BY 1)) AS uncosted,
               ((CAST(strftime('%s', date('now', 'localtime')) AS INTEGER) - CAST(strftime('%s', date(substr(CASE WHEN o.state = 'in_progress' AND w.started IS NOT NULL THEN w.started ELSE o.created_at END, 1, 19), 'localtime')) AS INTEGER)) / 86400) AS age_days,
               CASE WHEN o.state = 'in_progress' AND w.started IS NOT NULL
                    THEN 'started' ELSE 'created' END AS age_from,
               o.due_on AS due, o.due_on < date('now', 'localtime') AS late,
               o.priority
          FROM production_order AS o
          JOIN location AS l ON l.id = o.location_id
          JOIN item AS i ON i.id = o.item_id
          LEFT JOIN (SELECT order_id, max(at) AS started FROM order_event
                      WHERE to_state = 'in_progress' AND from_state IS NOT 'in_progress'
                      GROUP BY order_id) AS w
                 ON w.order_id = o.id
          LEFT JOIN v_wip_stage AS cur
                 ON cur.order_id = o.id AND cur.position = (
                    SELECT min(position) FROM v_wip_stage AS s
                     WHERE s.order_id = o.id AND s.waiting_micro > 0)
          LEFT JOIN v_wip_stage AS last
                 ON last.order_id = o.id AND last.position = (
                    SELECT max(position) FROM v_wip_stage AS s WHERE s.order_id = o.id)
         WHERE o.state IN ('released', 'in_progress')
       ) AS w
 ORDER BY w.due, -w.priority, w.order_id;

CREATE VIEW v_reservations AS
SELECT r.id, i.code AS item, l.code AS location, lt.code AS lot,
       CASE WHEN r.qty IS NULL THEN NULL ELSE (CASE WHEN r.qty < 0 THEN '-' ELSE '' END) || (abs(r.qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(r.qty) % 1000000), -6), '0'), '.') END AS qty, r.qty AS qty_micro,
       CASE WHEN r.remaining IS NULL THEN NULL ELSE (CASE WHEN r.remaining < 0 THEN '-' ELSE '' END) || (abs(r.remaining) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(r.remaining) % 1000000), -6), '0'), '.') END AS remaining, r.remaining AS remaining_micro,
       i.unit, r.ref, r.order_id, r.priority, r.until_on AS until,
       CASE WHEN r.state = 'open' AND r.until_on IS NOT NULL AND r.until_on < date('now', 'localtime')
            THEN 'expired' ELSE r.state END AS status,
       datetime(substr(r.created_at, 1, 19), 'localtime') AS created_at, r.user
  FROM reservation AS r
  JOIN item AS i ON i.id = r.item_id
  JOIN location AS l ON l.id = r.location_id
  LEFT JOIN lot AS lt ON lt.id = r.lot_id
 ORDER BY r.id;

CREATE VIEW v_late_orders AS
SELECT x.kind, x.id, x.item, x.name, x.supplier,
       CASE WHEN x.qty IS NULL THEN NULL ELSE (CASE WHEN x.qty < 0 THEN '-' ELSE '' END) || (abs(x.qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(x.qty) % 1000000), -6), '0'), '.') END AS qty,
       x.qty AS qty_micro,
       CASE WHEN x.done IS NULL THEN NULL ELSE (CASE WHEN x.done < 0 THEN '-' ELSE '' END) || (abs(x.done) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(x.done) % 1000000), -6), '0'), '.') END AS done,
       x.done AS done_micro,
       CASE WHEN x.remaining IS NULL THEN NULL ELSE (CASE WHEN x.remaining < 0 THEN '-' ELSE '' END) || (abs(x.remaining) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(x.remaining) % 1000000), -6), '0'), '.') END AS remaining,
       x.remaining AS remaining_micro,
       x.unit, x.state, x.due, ((CAST(strftime('%s', date('now', 'localtime')) AS INTEGER) - CAST(strftime('%s', x.due) AS INTEGER)) / 86400) AS days_late, x.ref, x.needed_by
  FROM (
        SELECT 'production' AS kind, o.id, i.code AS item, i.name, NULL AS supplier,
               o.qty, g.good AS done, max(o.qty - g.good, 0) AS remaining, i.unit, o.state,
               o.due_on AS due, o.ref, NULL AS needed_by
          FROM production_order AS o
          JOIN item AS i ON i.id = o.item_id
          JOIN location AS l ON l.id = o.location_id
          JOIN (SELECT o2.id, ifnull((SELECT sum(m.qty) FROM move AS m
                                       WHERE m.ref = l2.code AND m.item_id = o2.item_id
                                         AND m.kind = 'output'), 0) AS good
                  FROM production_order AS o2 JOIN location AS l2 ON l2.id = o2.location_id
               ) AS g ON g.id = o.id
         WHERE o.state IN ('planned', 'released', 'in_progress') AND o.due_on < date('now', 'localtime')
        UNION ALL
        SELECT 'purchase', p.id, i.code, i.name, p.supplier, p.qty, p.received,
               p.qty - p.received, i.unit, p.state, p.due_on, p.ref,
               (SELECT json_group_array(what) FROM (
                    SELECT o.due_on AS due, l.code AS what
                      FROM order_material AS om
                      JOIN production_order AS o ON o.id = om.order_id
                      JOIN location AS l ON l.id = o.location_id
                     WHERE om.item_id = p.item_id AND o.state IN ('released', 'in_progress')
                       AND om.qty > ifnull((SELECT sum(m.qty) FROM move AS m
                                             WHERE m.ref = l.code AND m.item_id = om.item_id
                                               AND m.kind = 'consume'), 0)
                    UNION ALL
                    SELECT d.due_on, ifnull(d.ref, 'demand ' || d.id)
                      FROM demand AS d
                     WHERE d.item_id = p.item_id AND d.state = 'open' AND d.kind = 'sales'
                     ORDER BY 1, 2))
          FROM purchase_order AS p
          JOIN item AS i ON i.id = p.item_id
         WHERE p.state = 'open' AND p.due_on < date('now', 'localtime')
       ) AS x
 ORDER BY x.kind, x.due, x.id;

CREATE VIEW v_valuation AS
WITH RECURSIVE
     mv AS (
        SELECT item_id, qty, unit_cost, carried, inflow,
               row_number() OVER (PARTITION BY item_id ORDER BY effective_at, seq) AS n
          FROM (
                SELECT m.item_id, m.qty, m.unit_cost, NULL AS carried,
                       tl.kind IN ('internal', 'production') AS inflow, m.effective_at, m.seq
                  FROM move AS m
                  JOIN location AS fl ON fl.id = m.from_location_id
                  JOIN location AS tl ON tl.id = m.to_location_id
                 WHERE (fl.kind IN ('internal', 'production')) <> (tl.kind IN ('internal', 'production'))
                   AND NOT (m.kind IN ('make', 'scrap') AND EXISTS (
                           SELECT 1 FROM (SELECT item_id, last_seq FROM completion WHERE first_seq <= m.seq
                                           ORDER BY first_seq DESC LIMIT 1) AS own
                            WHERE own.last_seq >= m.seq AND own.item_id = m.item_id))
                UNION ALL
                SELECT c.item_id, c.good, c.unit_cost, NULL, 1, c.effective_at, c.first_seq
                  FROM completion AS c
                 WHERE c.good > 0
                UNION ALL
                SELECT c.item_id, 0, NULL, c.carried, 1, c.effective_at, c.first_seq
                  FROM completion AS c
                 WHERE c.good = 0 AND c.carried > 0
               )
     ),
     rp (item_id, n, held, avg, basis) AS (
        SELECT DISTINCT mv.item_id, 0, 0, NULL, 'none' FROM mv
        UNION ALL
        SELECT rp.item_id, mv.n,
               rp.held + CASE WHEN mv.inflow THEN mv.qty ELSE -mv.qty END,
               CASE WHEN rp.basis = 'overflow' THEN NULL
                    WHEN NOT mv.inflow THEN rp.avg
                    WHEN mv.carried IS NOT NULL THEN CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN rp.avg WHEN (rp.avg = 0 OR rp.held <= 4611686018427387903 / rp.avg) AND (1000000 = 0 OR mv.carried <= 4611686018427387903 / 1000000) THEN ((rp.held * rp.avg + mv.carried * 1000000) / rp.held + CASE WHEN 2 * ((rp.held * rp.avg + mv.carried * 1000000) % rp.held) > rp.held OR (2 * ((rp.held * rp.avg + mv.carried * 1000000) % rp.held) = rp.held AND ((rp.held * rp.avg + mv.carried * 1000000) / rp.held) % 2 = 1) THEN 1 ELSE 0 END) END
                    WHEN mv.unit_cost IS NOT NULL THEN CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN mv.unit_cost WHEN (rp.avg = 0 OR rp.held <= 4611686018427387903 / rp.avg) AND (mv.unit_cost = 0 OR mv.qty <= 4611686018427387903 / mv.unit_cost) THEN ((rp.held * rp.avg + mv.qty * mv.unit_cost) / (rp.held + mv.qty) + CASE WHEN 2 * ((rp.held * rp.avg + mv.qty * mv.unit_cost) % (rp.held + mv.qty)) > (rp.held + mv.qty) OR (2 * ((rp.held * rp.avg + mv.qty * mv.unit_cost) % (rp.held + mv.qty)) = (rp.held + mv.qty) AND ((rp.held * rp.avg + mv.qty * mv.unit_cost) / (rp.held + mv.qty)) % 2 = 1) THEN 1 ELSE 0 END) END
                    WHEN rp.avg IS NOT NULL THEN rp.avg
                    ELSE ifnull(it.std_cost, 0) END,
               CASE WHEN rp.basis = 'overflow' THEN 'overflow'
                    WHEN NOT mv.inflow THEN rp.basis
                    WHEN mv.carried IS NOT NULL
                    THEN CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN rp.basis
                              WHEN (CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN rp.avg WHEN (rp.avg = 0 OR rp.held <= 4611686018427387903 / rp.avg) AND (1000000 = 0 OR mv.carried <= 4611686018427387903 / 1000000) THEN ((rp.held * rp.avg + mv.carried * 1000000) / rp.held + CASE WHEN 2 * ((rp.held * rp.avg + mv.carried * 1000000) % rp.held) > rp.held OR (2 * ((rp.held * rp.avg + mv.carried * 1000000) % rp.held) = rp.held AND ((rp.held * rp.avg + mv.carried * 1000000) / rp.held) % 2 = 1) THEN 1 ELSE 0 END) END) IS NULL THEN 'overflow' ELSE 'average' END
                    WHEN mv.unit_cost IS NOT NULL
                    THEN CASE WHEN (CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN mv.unit_cost WHEN (rp.avg = 0 OR rp.held <= 4611686018427387903 / rp.avg) AND (mv.unit_cost = 0 OR mv.qty <= 4611686018427387903 / mv.unit_cost) THEN ((rp.held * rp.avg + mv.qty * mv.unit_cost) / (rp.held + mv.qty) + CASE WHEN 2 * ((rp.held * rp.avg + mv.qty * mv.unit_cost) % (rp.held + mv.qty)) > (rp.held + mv.qty) OR (2 * ((rp.held * rp.avg + mv.qty * mv.unit_cost) % (rp.held + mv.qty)) = (rp.held + mv.qty) AND ((rp.held * rp.avg + mv.qty * mv.unit_cost) / (rp.held + mv.qty)) % 2 = 1) THEN 1 ELSE 0 END) END) IS NULL THEN 'overflow' ELSE 'average' END
                    WHEN rp.avg IS NOT NULL THEN rp.basis
                    WHEN it.std_cost IS NOT NULL THEN 'standard'
                    ELSE 'none' END
          FROM rp
          JOIN mv ON mv.item_id = rp.item_id AND mv.n = rp.n + 1
          JOIN item AS it ON it.id = rp.item_id
     ),
     a AS (
        SELECT rp.item_id, rp.avg, rp.basis FROM rp
          JOIN (SELECT item_id, max(n) AS n FROM rp GROUP BY item_id) AS last
            ON last.item_id = rp.item_id AND last.n = rp.n
     ),
     h AS (
        SELECT b.item_id, sum(b.qty) AS qty,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'available' THEN b.qty ELSE 0 END) AS available,
                       sum(CASE WHEN l.kind = 'production' THEN b.qty ELSE 0 END) AS wip,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'pending_inspection' THEN b.qty ELSE 0 END) AS pending_inspection,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'blocked' THEN b.qty ELSE 0 END) AS blocked,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'rejected' THEN b.qty ELSE 0 END) AS rejected,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'rework' THEN b.qty ELSE 0 END) AS rework,
                       sum(CASE WHEN l.kind = 'internal' AND b.status = 'awaiting_release' THEN b.qty ELSE 0 END) AS awaiting_release
          FROM balance AS b
          JOIN location AS l ON l.id = b.location_id
         WHERE l.kind IN ('internal', 'production')
         GROUP BY b.item_id
        HAVING sum(b.qty) <> 0
     ),
     v AS (
        SELECT h.item_id, h.qty,
               CASE WHEN a.basis = 'overflow' THEN NULL ELSE ifnull(a.avg, 0) END AS average_cost,
               ifnull(a.basis, 'none') AS basis,
               CASE WHEN (a.avg = 0 OR abs(h.qty) <= 4611686018427387903 / a.avg) THEN h.qty * a.avg END AS value,
               CASE WHEN (a.avg = 0 OR abs(h.available) <= 4611686018427387903 / a.avg) THEN h.available * a.avg END AS available,
               CASE WHEN (a.avg = 0 OR abs(h.wip) <= 4611686018427387903 / a.avg) THEN h.wip * a.avg END AS wip,
               CASE WHEN (a.avg = 0 OR abs(h.pending_inspection) <= 4611686018427387903 / a.avg) THEN h.pending_inspection * a.avg END AS pending_inspection,
               CASE WHEN (a.avg = 0 OR abs(h.blocked) <= 4611686018427387903 / a.avg) THEN h.blocked * a.avg END AS blocked,
               CASE WHEN (a.avg = 0 OR abs(h.rejected) <= 4611686018427387903 / a.avg) THEN h.rejected * a.avg END AS rejected,
               CASE WHEN (a.avg = 0 OR abs(h.rework) <= 4611686018427387903 / a.avg) THEN h.rework * a.avg END AS rework,
               CASE WHEN (a.avg = 0 OR abs(h.awaiting_release) <= 4611686018427387903 / a.avg) THEN h.awaiting_release * a.avg END AS awaiting_release
          FROM h
          LEFT JOIN a ON a.item_id = h.item_id
     )
SELECT i.code AS item, i.name, i.unit,
       CASE WHEN v.qty IS NULL THEN NULL ELSE (CASE WHEN v.qty < 0 THEN '-' ELSE '' END) || (abs(v.qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(v.qty) % 1000000), -6), '0'), '.') END AS qty, v.qty AS qty_micro,
       CASE WHEN v.average_cost IS NULL THEN NULL ELSE (CASE WHEN v.average_cost < 0 THEN '-' ELSE '' END) || (abs(v.average_cost) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(v.average_cost) % 1000000), -6), '0'), '.') END AS average_cost, v.average_cost AS average_cost_micro,
       CASE WHEN v.value IS NULL THEN NULL ELSE (CASE WHEN v.value < 0 THEN '-' ELSE '' END) || (abs(v.value) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.value) % 1000000000000), -12), '0'), '.') END AS value,
       CASE WHEN v.available IS NULL THEN NULL ELSE (CASE WHEN v.available < 0 THEN '-' ELSE '' END) || (abs(v.available) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.available) % 1000000000000), -12), '0'), '.') END AS available,
       CASE WHEN v.wip IS NULL THEN NULL ELSE (CASE WHEN v.wip < 0 THEN '-' ELSE '' END) || (abs(v.wip) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.wip) % 1000000000000), -12), '0'), '.') END AS wip,
       CASE WHEN v.pending_inspection IS NULL THEN NULL ELSE (CASE WHEN v.pending_inspection < 0 THEN '-' ELSE '' END) || (abs(v.pending_inspection) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.pending_inspection) % 1000000000000), -12), '0'), '.') END AS pending_inspection,
       CASE WHEN v.blocked IS NULL THEN NULL ELSE (CASE WHEN v.blocked < 0 THEN '-' ELSE '' END) || (abs(v.blocked) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.blocked) % 1000000000000), -12), '0'), '.') END AS blocked,
       CASE WHEN v.rejected IS NULL THEN NULL ELSE (CASE WHEN v.rejected < 0 THEN '-' ELSE '' END) || (abs(v.rejected) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.rejected) % 1000000000000), -12), '0'), '.') END AS rejected,
       CASE WHEN v.rework IS NULL THEN NULL ELSE (CASE WHEN v.rework < 0 THEN '-' ELSE '' END) || (abs(v.rework) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.rework) % 1000000000000), -12), '0'), '.') END AS rework,
       CASE WHEN v.awaiting_release IS NULL THEN NULL ELSE (CASE WHEN v.awaiting_release < 0 THEN '-' ELSE '' END) || (abs(v.awaiting_release) / 1000000000000) || rtrim(rtrim('.' || substr('000000000000' || (abs(v.awaiting_release) % 1000000000000), -12), '0'), '.') END AS awaiting_release,
       v.basis
  FROM v
  JOIN item AS i ON i.id = v.item_id
 ORDER BY upper(i.code);

CREATE VIEW v_genealogy AS
SELECT o.id AS order_id, pl.code AS place,
       ii.code AS input_item, il.code AS input_lot,
       CASE WHEN g.input_qty IS NULL THEN NULL ELSE (CASE WHEN g.input_qty < 0 THEN '-' ELSE '' END) || (abs(g.input_qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(g.input_qty) % 1000000), -6), '0'), '.') END AS input_qty, g.input_qty AS input_qty_micro,
       oi.code AS output_item, ol.code AS output_lot,
       CASE WHEN g.output_qty IS NULL THEN NULL ELSE (CASE WHEN g.output_qty < 0 THEN '-' ELSE '' END) || (abs(g.output_qty) / 1000000) || rtrim(rtrim('.' || substr('000000' || (abs(g.output_qty) % 1000000), -6), '0'), '.') END AS output_qty, g.output_qty AS output_qty_micro
  FROM (
    SELECT i.order_location_id, i.item_id AS input_item_id, i.lot_id AS input_lot_id,
           i.qty AS input_qty, o.item_id AS output_item_id, o.lot_id AS output_lot_id,
           o.qty AS output_qty
      FROM (
    SELECT CASE m.kind WHEN 'consume' THEN m.to_location_id ELSE m.from_location_id END
               AS order_location_id,
           m.item_id, m.lot_id,
           sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) AS qty
      FROM move AS m
     WHERE m.kind IN ('consume', 'return')
       AND CASE m.kind WHEN 'consume' THEN m.to_location_id ELSE m.from_location_id END
           IN (SELECT id FROM location WHERE kind = 'production')
     GROUP BY order_location_id, m.item_id, m.lot_id
    HAVING sum(CASE m.kind WHEN 'consume' THEN m.qty ELSE -m.qty END) > 0
) AS i
      LEFT JOIN (
    SELECT m.to_location_id AS order_location_id, m.item_id, m.lot_id, sum(m.qty) AS qty
      FROM move AS m
     WHERE m.kind = 'make'
       AND m.to_location_id IN (SELECT id FROM location WHERE kind = 'production')
     GROUP BY m.to_location_id, m.item_id, m.lot_id
) AS o ON o.order_location_id = i.order_location_id
) AS g
  JOIN location AS pl ON pl.id = g.order_location_id
  LEFT JOIN production_order AS o ON o.location_id = g.order_location_id
  JOIN item AS ii ON ii.id = g.input_item_id
  LEFT JOIN lot AS il ON il.id = g.input_lot_id
  LEFT JOIN item AS oi ON oi.id = g.output_item_id
  LEFT JOIN lot AS ol ON ol.id = g.output_lot_id
 ORDER BY o.id, upper(ii.code), upper(il.code), upper(oi.code), upper(ol.code);
-- END VIEWS

PRAGMA user_version = 17;
