-- Who changed what outside the reports (whose history is their revisions and reviews): targets,
-- the index framework, logins. Written in the same transaction as the change, never updated.
CREATE TABLE change_log (
    id            BIGSERIAL PRIMARY KEY,
    at            TIMESTAMP NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    province_code TEXT,
    commune_code  TEXT,
    subject       TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX change_log_province ON change_log (province_code, id);
