-- Users of the tenants. They live in the control database because seats are counted across
-- all tenants, under one write lock. A user belongs to exactly one tenant.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    -- Argon2id PHC string; NULL until an invited user sets a password.
    password_hash TEXT,
    -- Invited users hold a seat, like active ones; deactivated users do not.
    status        TEXT    NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
) STRICT;

CREATE INDEX users_by_status ON users (status);

-- One-time links (invitations, password resets), stored as SHA-256 of the token.
CREATE TABLE user_tokens (
    token_hash TEXT    PRIMARY KEY NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('invite', 'reset')),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
