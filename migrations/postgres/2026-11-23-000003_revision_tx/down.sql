DROP INDEX revisions_tx;
ALTER TABLE revisions DROP COLUMN tx;
