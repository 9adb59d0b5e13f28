-- FROZEN: the mfgctl schema at version 1, before `stock_count` (version 2).
-- Never edit this file: tests/test_migrations.py builds a version-1 database from it and
-- proves that opening it with mfgctl upgrades it to exactly the schema of a new one.

PRAGMA application_id = 1296451395;  -- 0x4D464743, "MFGC"

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

PRAGMA user_version = 1;
