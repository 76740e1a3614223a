DROP INDEX users_province_key;
DROP INDEX users_key_unique;
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN token_version;
ALTER TABLE users DROP COLUMN username_key;
