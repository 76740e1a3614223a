DROP TABLE report_openings;
DROP INDEX reports_tx;
ALTER TABLE reports DROP COLUMN tx;
ALTER TABLE reports DROP COLUMN current_values;
