-- Each report carries its current values (JSON object), written in the same transaction as the
-- revision that makes them current (see the PostgreSQL migration). On SQLite `tx` is a sequence:
-- one writer at a time, so each change takes the next number and views follow it.
ALTER TABLE reports ADD COLUMN current_values TEXT NOT NULL DEFAULT '{}';
ALTER TABLE reports ADD COLUMN tx BIGINT;
UPDATE reports SET
    current_values = COALESCE((
        SELECT json_group_object(v.indicator_code, v.value)
        FROM revisions rv JOIN revision_values v ON v.revision_id = rv.id
        WHERE rv.report_id = reports.id AND rv.number = reports.current_revision AND v.value IS NOT NULL
    ), '{}'),
    tx = (SELECT rv.id FROM revisions rv WHERE rv.report_id = reports.id AND rv.number = reports.current_revision);
CREATE INDEX reports_tx ON reports (tx);

CREATE TABLE report_openings (
    dataset_code TEXT NOT NULL REFERENCES datasets (code),
    period       TEXT NOT NULL,
    commune_code TEXT NOT NULL REFERENCES communes (code),
    actor        TEXT NOT NULL,
    comment      TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (dataset_code, period, commune_code)
);
