-- A session's public id names it on the pages and in the API where a user lists and ends
-- their own sessions; the cookie's hash never leaves the database. The browser's user agent
-- is kept so a person can tell their sessions apart.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;
CREATE UNIQUE INDEX sessions_by_public_id ON sessions (public_id);
