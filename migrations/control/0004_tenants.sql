-- The tenants this appliance serves. Each tenant's business data lives in its own database
-- file, tenants/<id>.db; this row is the appliance's record of it.
CREATE TABLE tenants (
    id            TEXT    PRIMARY KEY NOT NULL,
    slug          TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    custom_domain TEXT    UNIQUE,
    seat_limit    INTEGER CHECK (seat_limit IS NULL OR seat_limit >= 0),
    timezone      TEXT    NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
