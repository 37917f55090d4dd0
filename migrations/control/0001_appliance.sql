-- The appliance's own facts, one row per key. `created_at` dates the data directory; later
-- migrations add the license, tenants, identities and the appliance audit log.
CREATE TABLE appliance_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

INSERT INTO appliance_meta (key, value)
VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
