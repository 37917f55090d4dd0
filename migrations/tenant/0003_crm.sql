-- The CRM: companies, contacts, pipelines and their stages, deals, activities, tags, custom
-- field definitions, the timeline of every record, and full-text search.
--
-- Every record has a public `id` (32 hex digits, never reused) and an internal `seq` (the
-- rowid: creation order, the tiebreak of every sort, and the key of the search index).
-- `version` starts at 1 and grows by one on each change (the ETag). A record in the trash
-- has `deleted_at`; it keeps its links until it is purged. Users live in the control
-- database, so `owner_id`, `created_by` and the like are ids there, not foreign keys.
-- Times are Unix seconds (UTC); dates without a time are 'YYYY-MM-DD' text.

CREATE TABLE crm_settings (
    key   TEXT PRIMARY KEY NOT NULL,
    -- JSON
    value TEXT NOT NULL CHECK (json_valid(value))
) STRICT;

INSERT INTO crm_settings (key, value) VALUES
    ('default_currency', '"USD"'),
    ('trash_retention_days', '30');

-- The key that signs list cursors, so that a cursor altered by a client is refused.
INSERT INTO tenant_meta (key, value) VALUES ('cursor_key', lower(hex(randomblob(32))));

CREATE TABLE companies (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    domain          TEXT,
    industry        TEXT,
    size            TEXT CHECK (size IN ('1-10', '11-50', '51-200', '201-1000', '1001-5000', '5001+')),
    phone           TEXT,
    address         TEXT,
    website         TEXT,
    owner_id        TEXT,
    lifecycle_stage TEXT    NOT NULL DEFAULT 'lead'
                    CHECK (lifecycle_stage IN ('lead', 'qualified', 'customer', 'other')),
    custom          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(custom)),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT    NOT NULL,
    deleted_at      INTEGER,
    deleted_by      TEXT
) STRICT;

CREATE INDEX companies_by_name ON companies (name, seq) WHERE deleted_at IS NULL;
CREATE INDEX companies_by_updated ON companies (updated_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX companies_by_owner ON companies (owner_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX companies_by_domain ON companies (domain) WHERE deleted_at IS NULL;
CREATE INDEX companies_in_trash ON companies (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE contacts (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    first_name      TEXT    NOT NULL DEFAULT '',
    last_name       TEXT    NOT NULL DEFAULT '',
    -- JSON arrays of strings, the first one the primary.
    emails          TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(emails) = 'array'),
    phones          TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(phones) = 'array'),
    email           TEXT GENERATED ALWAYS AS (emails ->> '$[0]') VIRTUAL,
    title           TEXT,
    company_id      TEXT REFERENCES companies (id) ON DELETE SET NULL,
    owner_id        TEXT,
    lifecycle_stage TEXT    NOT NULL DEFAULT 'lead'
                    CHECK (lifecycle_stage IN ('lead', 'qualified', 'customer', 'other')),
    source          TEXT,
    custom          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(custom)),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT    NOT NULL,
    deleted_at      INTEGER,
    deleted_by      TEXT
) STRICT;

CREATE INDEX contacts_by_last_name ON contacts (last_name, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_by_updated ON contacts (updated_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_by_owner ON contacts (owner_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_by_company ON contacts (company_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_by_stage ON contacts (lifecycle_stage, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_by_email ON contacts (email) WHERE deleted_at IS NULL;
CREATE INDEX contacts_in_trash ON contacts (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE pipelines (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE stages (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    pipeline_id TEXT    NOT NULL REFERENCES pipelines (id),
    name        TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    -- Percent, 0 to 100.
    probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind        TEXT    NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    -- Deals name their stage with their pipeline, so a stage of another pipeline cannot be
    -- given to a deal, and a stage that holds deals cannot be removed.
    UNIQUE (pipeline_id, id)
) STRICT;

CREATE INDEX stages_in_order ON stages (pipeline_id, position);

CREATE TABLE deals (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL,
    -- Minor units of `currency` (cents for USD, yen for JPY).
    amount           INTEGER,
    currency         TEXT    NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    pipeline_id      TEXT    NOT NULL,
    stage_id         TEXT    NOT NULL,
    -- The kind of its stage, kept here so that lists and reports filter on it directly.
    status           TEXT    NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    lost_reason      TEXT,
    expected_close   TEXT,
    -- Percent; NULL means the stage's.
    probability      INTEGER CHECK (probability BETWEEN 0 AND 100),
    owner_id         TEXT,
    company_id       TEXT REFERENCES companies (id) ON DELETE SET NULL,
    stage_entered_at INTEGER NOT NULL,
    closed_at        INTEGER,
    custom           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(custom)),
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       TEXT    NOT NULL,
    deleted_at       INTEGER,
    deleted_by       TEXT,
    FOREIGN KEY (pipeline_id, stage_id) REFERENCES stages (pipeline_id, id)
) STRICT;

CREATE INDEX deals_by_stage ON deals (stage_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX deals_by_pipeline ON deals (pipeline_id, status, seq) WHERE deleted_at IS NULL;
CREATE INDEX deals_by_updated ON deals (updated_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX deals_by_owner ON deals (owner_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX deals_by_company ON deals (company_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX deals_by_closed ON deals (status, closed_at) WHERE deleted_at IS NULL;
CREATE INDEX deals_in_trash ON deals (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE deal_contacts (
    deal_id    TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (deal_id, contact_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX deal_contacts_by_contact ON deal_contacts (contact_id);

CREATE TABLE activities (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('task', 'call', 'meeting', 'email', 'note')),
    subject     TEXT    NOT NULL,
    body        TEXT,
    due_at      INTEGER,
    starts_at   INTEGER,
    ends_at     INTEGER,
    done_at     INTEGER,
    assignee_id TEXT,
    custom      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(custom)),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    deleted_at  INTEGER,
    deleted_by  TEXT
) STRICT;

CREATE INDEX activities_by_updated ON activities (updated_at, seq) WHERE deleted_at IS NULL;
CREATE INDEX activities_by_assignee ON activities (assignee_id, done_at, due_at) WHERE deleted_at IS NULL;
CREATE INDEX activities_by_due ON activities (due_at, seq) WHERE deleted_at IS NULL AND done_at IS NULL;
CREATE INDEX activities_in_trash ON activities (deleted_at) WHERE deleted_at IS NOT NULL;

-- What an activity is about: any number of contacts, companies and deals.
CREATE TABLE activity_links (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal')),
    record_id   TEXT NOT NULL,
    PRIMARY KEY (activity_id, record_kind, record_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX activity_links_by_record ON activity_links (record_kind, record_id);

CREATE TABLE tags (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    color      TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE record_tags (
    record_kind TEXT NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal')),
    record_id   TEXT NOT NULL,
    tag_id      TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (record_kind, record_id, tag_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX record_tags_by_tag ON record_tags (tag_id, record_kind, record_id);

-- Custom fields. `key` never changes, so renaming (`label`) touches no record; a removed
-- definition is kept (`deleted_at`) and its values stay in the records, unread.
CREATE TABLE field_defs (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    record_kind TEXT    NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal', 'activity')),
    key         TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('text', 'long_text', 'number', 'money', 'date',
                    'checkbox', 'select', 'multi_select', 'url', 'email', 'phone')),
    -- JSON: the choices of a select, the currency of money.
    options     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    position    INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER,
    UNIQUE (record_kind, key)
) STRICT;

-- What happened to each record, written in the same transaction as the change.
CREATE TABLE timeline (
    seq         INTEGER PRIMARY KEY,
    record_kind TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    -- created, updated, stage_moved, converted, deleted, restored, activity_linked, ...
    event       TEXT    NOT NULL,
    -- JSON: for updates, {"field": [old, new], ...}.
    detail      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
) STRICT;

CREATE INDEX timeline_of_record ON timeline (record_kind, record_id, seq);

-- Full-text search: one index per record type over the record's own table, kept by
-- triggers, so it changes in the same transaction as the record.
CREATE VIRTUAL TABLE contacts_fts USING fts5 (
    first_name, last_name, emails, phones, title,
    content = 'contacts', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, first_name, last_name, emails, phones, title)
    VALUES (new.seq, new.first_name, new.last_name, new.emails, new.phones, new.title);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, first_name, last_name, emails, phones, title)
    VALUES ('delete', old.seq, old.first_name, old.last_name, old.emails, old.phones, old.title);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF first_name, last_name, emails, phones, title ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, first_name, last_name, emails, phones, title)
    VALUES ('delete', old.seq, old.first_name, old.last_name, old.emails, old.phones, old.title);
    INSERT INTO contacts_fts (rowid, first_name, last_name, emails, phones, title)
    VALUES (new.seq, new.first_name, new.last_name, new.emails, new.phones, new.title);
END;

CREATE VIRTUAL TABLE companies_fts USING fts5 (
    name, domain, website,
    content = 'companies', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER companies_fts_insert AFTER INSERT ON companies BEGIN
    INSERT INTO companies_fts (rowid, name, domain, website)
    VALUES (new.seq, new.name, new.domain, new.website);
END;
CREATE TRIGGER companies_fts_delete AFTER DELETE ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, name, domain, website)
    VALUES ('delete', old.seq, old.name, old.domain, old.website);
END;
CREATE TRIGGER companies_fts_update AFTER UPDATE OF name, domain, website ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, name, domain, website)
    VALUES ('delete', old.seq, old.name, old.domain, old.website);
    INSERT INTO companies_fts (rowid, name, domain, website)
    VALUES (new.seq, new.name, new.domain, new.website);
END;

CREATE VIRTUAL TABLE deals_fts USING fts5 (
    title,
    content = 'deals', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER deals_fts_insert AFTER INSERT ON deals BEGIN
    INSERT INTO deals_fts (rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER deals_fts_delete AFTER DELETE ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER deals_fts_update AFTER UPDATE OF title ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, title) VALUES ('delete', old.seq, old.title);
    INSERT INTO deals_fts (rowid, title) VALUES (new.seq, new.title);
END;

CREATE VIRTUAL TABLE activities_fts USING fts5 (
    subject, body,
    content = 'activities', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER activities_fts_insert AFTER INSERT ON activities BEGIN
    INSERT INTO activities_fts (rowid, subject, body) VALUES (new.seq, new.subject, new.body);
END;
CREATE TRIGGER activities_fts_delete AFTER DELETE ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, subject, body)
    VALUES ('delete', old.seq, old.subject, old.body);
END;
CREATE TRIGGER activities_fts_update AFTER UPDATE OF subject, body ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, subject, body)
    VALUES ('delete', old.seq, old.subject, old.body);
    INSERT INTO activities_fts (rowid, subject, body) VALUES (new.seq, new.subject, new.body);
END;

-- Every tenant starts with a Sales pipeline.
INSERT INTO pipelines (id, name, position, created_at, updated_at)
VALUES (lower(hex(randomblob(16))), 'Sales', 1, unixepoch(), unixepoch());

INSERT INTO stages (id, pipeline_id, name, position, probability, kind)
SELECT lower(hex(randomblob(16))), p.id, s.name, s.position, s.probability, s.kind
FROM pipelines p,
     (SELECT 'Lead in' AS name, 1 AS position, 10 AS probability, 'open' AS kind
      UNION ALL SELECT 'Qualified', 2, 25, 'open'
      UNION ALL SELECT 'Proposal', 3, 50, 'open'
      UNION ALL SELECT 'Negotiation', 4, 75, 'open'
      UNION ALL SELECT 'Won', 5, 100, 'won'
      UNION ALL SELECT 'Lost', 6, 0, 'lost') s;
