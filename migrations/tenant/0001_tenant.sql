-- A tenant's own database. It holds only this tenant's data, so nothing in it names the
-- tenant except `tenant_meta`, which lets an operator tell which tenant a stray file
-- belongs to.
CREATE TABLE tenant_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

INSERT INTO tenant_meta (key, value)
VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
