-- The database's own ceiling for one durable submission (a pgbench custom script), adapted from
-- ../shared/bench/pgbench-submit.sql to the schema of migration 000006 (a report row carries its
-- current values and the change number the live views read), keeping its work: lock the
-- report, read its current values, write a new revision with the quarterly data set's values,
-- bump the report with its current values and change number; one transaction, committed.
-- innoreport-bench fills in the number of reports and runs it with -M prepared.
\set rid random(1, :reports)
BEGIN;
SELECT pg_advisory_xact_lock(:rid);
SELECT current_revision, current_values FROM reports WHERE id = :rid;
WITH nr AS (UPDATE reports SET current_revision = current_revision + 1, updated_at = now(), current_values = current_values, tx = (pg_current_xact_id()::text)::bigint WHERE id = :rid RETURNING id, current_revision),
rev AS (INSERT INTO revisions (report_id, number, author, received_at) SELECT id, current_revision, 'bench', now() FROM nr RETURNING id)
INSERT INTO revision_values (revision_id, indicator_code, value) SELECT rev.id, i.code, 1 FROM rev, (SELECT code FROM indicators WHERE dataset_code = 'dmst-quarterly') i;
COMMIT;
