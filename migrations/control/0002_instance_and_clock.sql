-- The appliance's identity and its memory of time.
--
-- `instance_id` is made once, here, from SQLite's CSPRNG: a license may be bound to it.
-- `clock` keeps the latest time the appliance has seen (the high-water mark). Licensing judges
-- expiry by the later of the system clock and this mark, so setting the clock back does not
-- stretch a license.
INSERT INTO appliance_meta (key, value)
VALUES ('instance_id', lower(hex(randomblob(10))));

CREATE TABLE clock (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    high_water_unix    INTEGER NOT NULL,
    -- When the system clock was last seen more than a day behind the mark, and by how much.
    set_back_seen_unix INTEGER,
    set_back_by_secs   INTEGER
) STRICT;

INSERT INTO clock (id, high_water_unix) VALUES (1, unixepoch('now'));
