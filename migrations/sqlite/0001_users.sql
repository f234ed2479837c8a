-- Users and the refresh-token blacklist. Times are Unix microseconds (UTC).
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT    NOT NULL,
  username_key  TEXT    NOT NULL UNIQUE,  -- lower-cased: usernames are unique regardless of case
  email         TEXT    NOT NULL,
  email_key     TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,         -- argon2id, libsodium's encoded form
  is_active     INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL
) STRICT;

-- Logged-out refresh tokens, by jti. Rows may be pruned once expires_at (Unix seconds) has passed.
CREATE TABLE revoked_tokens (
  jti        TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
