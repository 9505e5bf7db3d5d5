-- Dashboard users and their sessions. Passwords and session tokens are stored only as
-- hashes: argon2 for passwords, SHA-256 for the random session tokens.
CREATE TABLE users (
    email         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    -- 'config' (from the env file, replaced at every start) or 'generated' (the first-start admin)
    source        TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
