-- Imports of CSV files: each one a job with its plan, its progress and its outcome, and all
-- it takes to undo it. Records an import created carry its `import_seq`; the records it
-- changed keep their values from before in `import_changes`.

CREATE TABLE imports (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    record_kind  TEXT    NOT NULL CHECK (record_kind IN ('contact', 'company', 'deal')),
    file_name    TEXT    NOT NULL,
    file_bytes   INTEGER NOT NULL,
    -- JSON array: the file's header, as it was.
    header       TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(header) = 'array'),
    delimiter    TEXT    NOT NULL,
    -- JSON: the mapping of columns, the duplicates policy and the field duplicates match on.
    plan         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(plan)),
    dry_run      INTEGER NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL
                 CHECK (state IN ('uploaded', 'running', 'checked', 'done', 'failed', 'cancelled',
                                   'reverted')),
    cancel_asked INTEGER NOT NULL DEFAULT 0,
    bytes_done   INTEGER NOT NULL DEFAULT 0,
    rows_done    INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    -- Companies made for contacts' or deals' company names.
    companies_created INTEGER NOT NULL DEFAULT 0,
    -- Why the job failed, for people.
    failure      TEXT,
    -- JSON: what undoing it found (records changed since, kept as they are).
    outcome      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(outcome)),
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    reverted_at  INTEGER,
    reverted_by  TEXT
) STRICT;

CREATE INDEX imports_by_state ON imports (state) WHERE state IN ('uploaded', 'running');

-- Rows of a file that were not imported: where, why, and the row as it was.
CREATE TABLE import_rejects (
    import_seq INTEGER NOT NULL REFERENCES imports (seq) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    column     TEXT,
    reason     TEXT    NOT NULL,
    -- JSON array: the row's fields.
    fields     TEXT    NOT NULL CHECK (json_type(fields) = 'array'),
    PRIMARY KEY (import_seq, line)
) STRICT, WITHOUT ROWID;

-- Records an import changed: their values before it, and the version it left them at (an
-- edit made since is never overwritten by a revert).
CREATE TABLE import_changes (
    import_seq  INTEGER NOT NULL REFERENCES imports (seq) ON DELETE CASCADE,
    record_kind TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    -- JSON: {"field": value before, "custom.key": value before, "tags": [...]}.
    before      TEXT    NOT NULL CHECK (json_valid(before)),
    PRIMARY KEY (import_seq, record_kind, record_id)
) STRICT, WITHOUT ROWID;

ALTER TABLE contacts ADD COLUMN import_seq INTEGER;
ALTER TABLE companies ADD COLUMN import_seq INTEGER;
ALTER TABLE deals ADD COLUMN import_seq INTEGER;

CREATE INDEX contacts_by_import ON contacts (import_seq) WHERE import_seq IS NOT NULL;
CREATE INDEX companies_by_import ON companies (import_seq) WHERE import_seq IS NOT NULL;
CREATE INDEX deals_by_import ON deals (import_seq) WHERE import_seq IS NOT NULL;
