-- Every review action of a province on a report, kept forever (audit).
CREATE TABLE report_reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  INTEGER NOT NULL REFERENCES reports (id),
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    comment    TEXT,
    revision   INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_reviews_report_id ON report_reviews (report_id);
CREATE INDEX revisions_report_id ON revisions (report_id, number);
CREATE INDEX reports_status ON reports (status);

-- Values the server generates once and shares between replicas (e.g. the development
-- signing key when none is configured).
CREATE TABLE server_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
