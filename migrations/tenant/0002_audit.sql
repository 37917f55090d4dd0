-- The tenant's audit log: who did what to what, when, from where, and how it ended.
-- Entries are hash-chained: each `hash` covers the entry and the previous entry's hash, so
-- an edited, removed or reordered entry breaks the chain (`holdfast audit verify`).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    address   TEXT,
    outcome   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
) STRICT;
