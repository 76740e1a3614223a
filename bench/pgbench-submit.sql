-- The database's own ceiling for one durable submission (a pgbench custom script), adapted from
-- ../shared/bench/pgbench-submit.sql to the schema of migration 000006 (a report row carries its
-- current values and the change number the live views read), keeping its work: lock the
-- report, read its current values, write a new revision with its data set's values, bump the
-- report with those values as its current values and its change number; one transaction,
-- committed. The report stays consistent (its current values are its current revision's), so
-- the comparisons that run after it read one truth from the tables and from the live view.
-- innoreport-bench fills in the number of reports and runs it with -M prepared.
\set rid random(1, :reports)
BEGIN;
SELECT pg_advisory_xact_lock(:rid);
SELECT current_revision, current_values FROM reports WHERE id = :rid;
WITH codes AS (SELECT i.code FROM indicators i JOIN reports r ON i.dataset_code = r.dataset_code WHERE r.id = :rid),
nr AS (UPDATE reports SET current_revision = current_revision + 1, updated_at = now(), current_values = (SELECT json_object_agg(code, 1.0 ORDER BY code)::text FROM codes), tx = (pg_current_xact_id()::text)::bigint WHERE id = :rid RETURNING id, current_revision),
rev AS (INSERT INTO revisions (report_id, number, author, received_at) SELECT id, current_revision, 'bench', now() FROM nr RETURNING id)
INSERT INTO revision_values (revision_id, indicator_code, value) SELECT rev.id, codes.code, 1 FROM rev, codes;
COMMIT;
