-- The bars table. An older loader may already have created it: then this
-- statement does nothing, and seedctl checks the existing table's shape
-- before it reads or writes (see `seedctl preflight`).
--
-- The key puts `symbol` first so that one index serves both the upsert's
-- `ON CONFLICT (ts, symbol)` (any unique index over the two columns does) and
-- per-symbol range queries.
CREATE TABLE IF NOT EXISTS public.market_data_1m (
    ts          timestamptz      NOT NULL,
    symbol      text             NOT NULL,
    open        double precision NOT NULL,
    high        double precision NOT NULL,
    low         double precision NOT NULL,
    close       double precision NOT NULL,
    volume      bigint           NOT NULL,
    trade_count bigint,
    vwap        double precision,
    CONSTRAINT market_data_1m_symbol_ts_key PRIMARY KEY (symbol, ts)
);

