-- What a unit's report documents say unless a request says otherwise: who signs, with what
-- title, and to whom the report goes. One row per province (the department's report) or commune
-- (its People's Committee's report); every change is in the change log (`documents.settings`).
CREATE TABLE document_settings (
    unit          TEXT PRIMARY KEY,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    signer        TEXT,
    signer_title  TEXT,
    -- A JSON array of strings ("Nơi nhận"); NULL: the default recipients.
    recipients    TEXT,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
