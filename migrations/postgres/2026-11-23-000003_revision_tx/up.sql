-- The transaction that wrote each revision. Aggregator views catch up by reading revisions of
-- transactions at or above the oldest transaction still running at their previous read
-- (pg_snapshot_xmin), so a revision whose transaction commits late is never skipped.
ALTER TABLE revisions ADD COLUMN tx BIGINT DEFAULT ((pg_current_xact_id())::text)::bigint;
UPDATE revisions SET tx = 0 WHERE tx IS NULL;
CREATE INDEX revisions_tx ON revisions (tx);
