-- Operators run the appliance from /admin. They hold no seat and belong to no tenant.
CREATE TABLE operators (
    id            TEXT    PRIMARY KEY NOT NULL,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Signed-in browsers. The cookie carries a random 256-bit id; only its SHA-256 is stored.
-- A session belongs to exactly one operator or one user, and goes when they go.
CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY NOT NULL,
    operator_id  TEXT    REFERENCES operators (id) ON DELETE CASCADE,
    user_id      TEXT    REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    address      TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    CHECK ((operator_id IS NULL) <> (user_id IS NULL))
) STRICT;

CREATE INDEX sessions_by_operator ON sessions (operator_id) WHERE operator_id IS NOT NULL;
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;
