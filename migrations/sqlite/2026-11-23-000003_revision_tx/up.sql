-- SQLite has one writer at a time, so revision ids commit in order and views follow the id;
-- the column exists so both backends share one schema.
ALTER TABLE revisions ADD COLUMN tx BIGINT;
