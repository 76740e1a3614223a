-- See the PostgreSQL migration: folded usernames, a token version, the time of the last change.
ALTER TABLE users ADD COLUMN username_key TEXT;
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
UPDATE users SET username_key = lower(username), updated_at = created_at;
INSERT INTO change_log (at, actor, action, province_code, commune_code, subject, detail)
SELECT strftime('%Y-%m-%d %H:%M:%f', 'now'), 'migration 000008', 'user.duplicate', u.province_code, u.commune_code,
       u.username,
       json_object('username', u.username,
                   'same_as', (SELECT o.username FROM users o
                               WHERE o.username_key = u.username_key ORDER BY o.id LIMIT 1))
FROM users u
WHERE EXISTS (SELECT 1 FROM users o WHERE o.username_key = u.username_key AND o.id < u.id);
UPDATE users SET username_key = username_key || '#' || id
WHERE EXISTS (SELECT 1 FROM users o WHERE o.username_key = users.username_key AND o.id < users.id);
CREATE UNIQUE INDEX users_key_unique ON users (username_key);
CREATE INDEX users_province_key ON users (province_code, username_key);
