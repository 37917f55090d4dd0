-- License keys as installed. Every accepted install is a row, kept forever as the history
-- (who installed which key, when). `license_slots` points at the key in force (`current`)
-- and at a renewal installed ahead of its not-before date (`next`), which takes over by
-- itself when that date comes.
CREATE TABLE license_installs (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL,
    license_id   TEXT    NOT NULL,
    issued_at    INTEGER NOT NULL,
    not_before   INTEGER,
    installed_at INTEGER NOT NULL,
    installed_by TEXT    NOT NULL
) STRICT;

CREATE TABLE license_slots (
    slot       TEXT    PRIMARY KEY CHECK (slot IN ('current', 'next')),
    install_id INTEGER NOT NULL REFERENCES license_installs (id)
) STRICT;

-- Bumped by every install, so a running server notices a key installed by the CLI.
INSERT INTO appliance_meta (key, value) VALUES ('license_generation', '0');
