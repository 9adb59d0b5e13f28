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

-- Release criteria signed off for a lot or serial of a finished item.
CREATE TABLE release_signoff (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES item (id),
    lot_id      INTEGER NOT NULL REFERENCES lot (id),
    criterion   TEXT NOT NULL,
    note        TEXT,
    user        TEXT NOT NULL,
    at          TEXT NOT NULL,
    UNIQUE (item_id, lot_id, criterion)
) STRICT;

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

PRAGMA user_version = 10;
