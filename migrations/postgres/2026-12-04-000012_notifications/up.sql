-- Notifications: a login's email address, language and whether it wants reminders; webhooks
-- that commune and province systems register; and the outbox every message goes through.
--
-- A message is written to `outbox` in the transaction of the change that causes it (a review
-- action), or by the scheduler (reminders, digests, overdue tasks) under a `dedup` key naming
-- what it is about and its recipient, so no message is ever created twice. Deliverers claim due
-- rows for a lease (FOR UPDATE SKIP LOCKED), so two replicas never send the same row at once; a
-- deliverer killed mid-send leaves its lease to expire and the row is sent again with the same
-- `idempotency_key`.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'vi';
ALTER TABLE users ADD COLUMN reminders BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE webhooks (
    id            BIGSERIAL PRIMARY KEY,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    commune_code  TEXT REFERENCES communes (code),
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    language      TEXT NOT NULL,
    reminders     BOOLEAN NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    removed_at    TIMESTAMP,
    removed_by    TEXT
);
CREATE INDEX webhooks_unit ON webhooks (province_code, commune_code);

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    dedup           TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    -- `login:<username>` (its email address is read when sending) or `webhook:<id>`.
    recipient       TEXT NOT NULL,
    webhook_id      BIGINT REFERENCES webhooks (id),
    province_code   TEXT NOT NULL,
    commune_code    TEXT,
    -- JSON: language, subject, body, link (a page's path) and data (the facts).
    message         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When it may be tried next; a deliverer's claim moves it to the end of its lease.
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_province ON outbox (province_code, id);
