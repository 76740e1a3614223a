-- See the PostgreSQL migration: named, read-only integration keys, stored hashed.
CREATE TABLE integration_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    secret_hash   TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP,
    revoked_by    TEXT
);
CREATE INDEX integration_keys_province ON integration_keys (province_code, id);
