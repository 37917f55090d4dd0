-- API tokens of a tenant: shown once, stored as SHA-256, scoped to the tenant and a role.
-- Revoked tokens are kept (revoked_at set) so the audit trail can name them.
CREATE TABLE api_tokens (
    id           TEXT    PRIMARY KEY NOT NULL,
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash   TEXT    NOT NULL UNIQUE,
    created_by   TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id);
