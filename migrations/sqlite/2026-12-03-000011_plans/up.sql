-- Plans (kế hoạch) of communes, and the templates of provinces, with their tasks: the body is
-- the whole plan as JSON (sections and tasks), replaced whole by each revision; `plan_revisions`
-- keeps every body with its author, so an edit shows old -> new. A unit's plans never overlap
-- in years, so a year names at most one plan of a unit.
CREATE TABLE plans (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    owner         TEXT NOT NULL,
    unit          TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    first_year    INTEGER NOT NULL,
    last_year     INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    body          TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (owner, unit, first_year)
);
CREATE INDEX plans_province ON plans (province_code);

CREATE TABLE plan_revisions (
    plan_id  INTEGER NOT NULL REFERENCES plans (id),
    number   INTEGER NOT NULL,
    action   TEXT NOT NULL,
    author   TEXT NOT NULL,
    at       TIMESTAMP NOT NULL,
    comment  TEXT,
    status   TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (plan_id, number)
);

-- The plan part of a report (tasks' progress, highlights, difficulties, proposals) as JSON,
-- written with the revision that changed it; a revision without a row keeps the part of the
-- latest earlier revision that has one.
CREATE TABLE report_progress (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    revision  INTEGER NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (report_id, revision)
);
