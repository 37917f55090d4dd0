-- Names sort ignoring (ASCII) case, and a name's beginning is found through its index:
-- the lists' name indexes are kept in that order.
DROP INDEX contacts_by_last_name;
CREATE INDEX contacts_by_last_name ON contacts (last_name COLLATE NOCASE, seq) WHERE deleted_at IS NULL;
DROP INDEX companies_by_name;
CREATE INDEX companies_by_name ON companies (name COLLATE NOCASE, seq) WHERE deleted_at IS NULL;
