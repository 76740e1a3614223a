-- Reference data: provinces and communes (GSO codes, since 1 July 2025).
CREATE TABLE provinces (
    code          TEXT PRIMARY KEY,
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    division_type TEXT NOT NULL,
    codename      TEXT NOT NULL
);

CREATE TABLE communes (
    code          TEXT PRIMARY KEY,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    division_type TEXT NOT NULL,
    codename      TEXT NOT NULL
);
CREATE INDEX communes_province_code ON communes (province_code, code);

-- The catalog: data sets, indicators and the innovation index framework (data, editable).
CREATE TABLE datasets (
    code           TEXT PRIMARY KEY,
    name_vi        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    period_type    TEXT NOT NULL,
    deadline_rule  TEXT NOT NULL, -- JSON, core::DeadlineRule
    lock_rule      TEXT NOT NULL, -- JSON, core::LockRule
    description_vi TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT '',
    position       INTEGER NOT NULL
);

CREATE TABLE indicators (
    code          TEXT PRIMARY KEY,
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    unit_vi       TEXT NOT NULL,
    unit_en       TEXT NOT NULL,
    value_type    TEXT NOT NULL,
    dataset_code  TEXT REFERENCES datasets (code),
    temporal_rule TEXT,
    spatial_rule  TEXT,
    formula       TEXT, -- JSON, core::Formula (derived indicators only)
    at_most       TEXT,
    position      INTEGER NOT NULL
);

CREATE TABLE index_pillars (
    code      TEXT PRIMARY KEY,
    sub_index TEXT NOT NULL,
    name_vi   TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    position  INTEGER NOT NULL
);

CREATE TABLE index_pillar_indicators (
    pillar_code    TEXT NOT NULL REFERENCES index_pillars (code),
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    weight         DOUBLE NOT NULL,
    direction      TEXT NOT NULL,
    position       INTEGER NOT NULL,
    PRIMARY KEY (pillar_code, indicator_code)
);

-- People and service accounts.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    commune_code  TEXT REFERENCES communes (code),
    display_name  TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL
);

-- Reports and their revisions. Instants are UTC.
CREATE TABLE reports (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_code      TEXT NOT NULL REFERENCES datasets (code),
    period            TEXT NOT NULL,
    commune_code      TEXT NOT NULL REFERENCES communes (code),
    current_revision  INTEGER NOT NULL,
    status            TEXT NOT NULL,
    first_received_at TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    reopened          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (dataset_code, period, commune_code)
);
CREATE INDEX reports_commune_code ON reports (commune_code);

-- Every accepted change, kept forever. `id` is the global sequence the aggregator follows.
CREATE TABLE revisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    number      INTEGER NOT NULL,
    author      TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    comment     TEXT,
    UNIQUE (report_id, number)
);

CREATE TABLE revision_values (
    revision_id    INTEGER NOT NULL REFERENCES revisions (id),
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    value          DOUBLE,
    PRIMARY KEY (revision_id, indicator_code)
);

-- Kế hoạch chỉ tiêu: what a commune plans for an indicator in a year.
CREATE TABLE targets (
    year           INTEGER NOT NULL,
    commune_code   TEXT NOT NULL REFERENCES communes (code),
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    value          DOUBLE NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    updated_by     TEXT NOT NULL,
    PRIMARY KEY (year, commune_code, indicator_code)
);
