-- Logins have a life: a folded username (unique regardless of case), a version that every token
-- carries (disabling, changing the role or scope, or a new password bump it, which ends the
-- tokens at once), and the time of their last change. Nothing is deleted.
ALTER TABLE users ADD COLUMN username_key TEXT;
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
UPDATE users SET username_key = lower(username), updated_at = created_at;
-- Logins that differ only by case existed before this rule: they are reported in the change log,
-- not merged. The oldest keeps the folded name; the others keep theirs, and sign in by it exactly.
INSERT INTO change_log (at, actor, action, province_code, commune_code, subject, detail)
SELECT (now() AT TIME ZONE 'utc'), 'migration 000008', 'user.duplicate', u.province_code, u.commune_code,
       u.username,
       json_build_object('username', u.username,
                         'same_as', (SELECT o.username FROM users o
                                     WHERE o.username_key = u.username_key ORDER BY o.id LIMIT 1))::text
FROM users u
WHERE EXISTS (SELECT 1 FROM users o WHERE o.username_key = u.username_key AND o.id < u.id);
UPDATE users u SET username_key = u.username_key || '#' || u.id
WHERE EXISTS (SELECT 1 FROM users o WHERE o.username_key = u.username_key AND o.id < u.id);
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
ALTER TABLE users ALTER COLUMN updated_at SET NOT NULL;
CREATE UNIQUE INDEX users_key_unique ON users (username_key);
CREATE INDEX users_province_key ON users (province_code, username_key);
