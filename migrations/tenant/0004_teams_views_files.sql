-- Teams and record visibility, saved views, attachments and exchange rates.

-- The board's won and lost columns show deals closed recently: by stage and close time.
CREATE INDEX deals_closed_by_stage ON deals (stage_id, closed_at) WHERE deleted_at IS NULL;

-- Admins group users into teams. Where a kind of record is set to "own_and_team"
-- (crm_settings `visibility.<kind>`), members and viewers see only records owned by
-- themselves or by someone who shares a team with them.
CREATE TABLE teams (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL COLLATE NOCASE,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    -- A removed team keeps its row (so removing it again is done already), not its members.
    deleted_at INTEGER
) STRICT;

CREATE UNIQUE INDEX teams_by_name ON teams (name) WHERE deleted_at IS NULL;

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- A user of the control database.
    user_id TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX team_members_by_user ON team_members (user_id, team_id);

INSERT INTO crm_settings (key, value) VALUES
    ('visibility.contact', '"all"'),
    ('visibility.company', '"all"'),
    ('visibility.deal', '"all"'),
    ('visibility.activity', '"all"'),
    -- Largest attachment, in bytes.
    ('attachment_max_bytes', '26214400');

-- A list as someone left it: filters, sort and columns. Private to its owner, or shared
-- with the tenant (admins share).
CREATE TABLE saved_views (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    record_kind TEXT    NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal', 'activity')),
    name        TEXT    NOT NULL,
    owner_id    TEXT    NOT NULL,
    shared      INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    filters     TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(filters) = 'array'),
    sort        TEXT,
    columns     TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(columns) = 'array'),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- A removed view keeps its row, so removing it again is done already.
    deleted_at  INTEGER
) STRICT;

CREATE INDEX saved_views_by_kind ON saved_views (record_kind, owner_id);

-- Files attached to records, kept in this database (so backups and exports carry them),
-- their bytes apart from their description so lists never read them.
CREATE TABLE attachments (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    record_kind  TEXT    NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal', 'activity')),
    record_id    TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    deleted_at   INTEGER
) STRICT;

CREATE INDEX attachments_of_record ON attachments (record_kind, record_id);

CREATE TABLE attachment_data (
    attachment_id TEXT NOT NULL PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
    data          BLOB NOT NULL
) STRICT;

-- What one unit of a currency is worth in the tenant's default currency, as a decimal
-- string (reports convert only with rates the tenant set; never silently).
CREATE TABLE exchange_rates (
    currency   TEXT    PRIMARY KEY NOT NULL,
    rate       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
