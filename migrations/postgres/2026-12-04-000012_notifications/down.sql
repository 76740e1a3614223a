DROP TABLE outbox;
DROP TABLE webhooks;
ALTER TABLE users DROP COLUMN reminders;
ALTER TABLE users DROP COLUMN language;
ALTER TABLE users DROP COLUMN email;
