-- See the PostgreSQL migration: who signs a unit's report documents and to whom they go.
CREATE TABLE document_settings (
    unit          TEXT PRIMARY KEY,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    signer        TEXT,
    signer_title  TEXT,
    recipients    TEXT,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
