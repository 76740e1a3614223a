-- Integration keys: named, read-only credentials of machines (BI tools, dashboards), scoped to a
-- province or national. The key is shown once; only the SHA-256 of its secret part is kept (the
-- secret is 256 random bits, so a fast hash is enough). Revoked, never deleted.
CREATE TABLE integration_keys (
    id            BIGSERIAL PRIMARY KEY,
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
