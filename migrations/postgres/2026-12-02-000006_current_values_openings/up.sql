-- Each report carries its current values (JSON object, indicator code → number), written in the
-- same transaction as the revision that makes them current. Revisions and their values stay the
-- audit trail; this copy lets a submission read what it changes, and a live view load or catch
-- up, with one row per report and no join, however long the history grows.
-- `tx` is the transaction that last changed the values: live views catch up by reading the
-- reports of transactions at or above the oldest one still running at their previous read.
ALTER TABLE reports ADD COLUMN current_values TEXT NOT NULL DEFAULT '{}';
ALTER TABLE reports ADD COLUMN tx BIGINT DEFAULT ((pg_current_xact_id())::text)::bigint;
UPDATE reports r SET
    current_values = COALESCE((
        SELECT json_object_agg(v.indicator_code, v.value)::text
        FROM revisions rv JOIN revision_values v ON v.revision_id = rv.id
        WHERE rv.report_id = r.id AND rv.number = r.current_revision AND v.value IS NOT NULL
    ), '{}'),
    tx = COALESCE((SELECT rv.tx FROM revisions rv WHERE rv.report_id = r.id AND rv.number = r.current_revision), 0);
CREATE INDEX reports_tx ON reports (tx);

-- A report never filed before its lock can still be received once the province opens it
-- (recorded like a reopening; the report is then late).
CREATE TABLE report_openings (
    dataset_code TEXT NOT NULL REFERENCES datasets (code),
    period       TEXT NOT NULL,
    commune_code VARCHAR(5) NOT NULL REFERENCES communes (code),
    actor        TEXT NOT NULL,
    comment      TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (dataset_code, period, commune_code)
);
