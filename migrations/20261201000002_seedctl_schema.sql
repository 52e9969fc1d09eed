-- seedctl's own bookkeeping, kept apart from the bars.
CREATE SCHEMA IF NOT EXISTS seedctl;

-- One row per `seedctl apply` (and other commands that fetch).
CREATE TABLE seedctl.runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command          text        NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    outcome          text        NOT NULL DEFAULT 'running'
        CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted')),
    seedctl_version  text        NOT NULL,
    calendar_version text        NOT NULL,
    planned_windows  bigint      NOT NULL DEFAULT 0,
    windows          bigint      NOT NULL DEFAULT 0,
    requests         bigint      NOT NULL DEFAULT 0,
    bars             bigint      NOT NULL DEFAULT 0,
    retries          bigint      NOT NULL DEFAULT 0,
    error            text
);

-- The ledger: what has been fetched completely. A row says that every bar
-- the feed has for `symbol` in [start_ts, end_ts) was written to the bars
-- table, and how many there were. A minute with no trade has no bar, so this,
-- not the bars table, is what says a minute is covered.
--
-- A row lies within one session (trading day), so that drift and gaps can be
-- named by session. Rows of one symbol never overlap: a later fetch of the
-- same minutes replaces the part of the older row that it covers.
CREATE TABLE seedctl.ledger (
    symbol       text        NOT NULL,
    start_ts     timestamptz NOT NULL,
    end_ts       timestamptz NOT NULL,
    session_date date        NOT NULL,
    feed         text        NOT NULL,
    adjustment   text        NOT NULL,
    bars         integer     NOT NULL CHECK (bars >= 0),
    fetched_at   timestamptz NOT NULL DEFAULT now(),
    run_id       bigint      REFERENCES seedctl.runs (id) ON DELETE SET NULL,
    PRIMARY KEY (symbol, start_ts),
    CHECK (start_ts < end_ts)
);
