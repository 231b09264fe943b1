-- Transactional outbox: one change event per committed write, in the same database transaction.
CREATE TABLE change_event (
  seq          bigserial PRIMARY KEY,
  rid          bigint      NOT NULL,
  type         text        NOT NULL,
  id           text        NOT NULL,
  version      integer     NOT NULL,
  action       text        NOT NULL, -- create | update | delete
  occurred_at  timestamptz NOT NULL,
  -- the writing transaction: consumers read only events of transactions older than every
  -- transaction still running, in (txid, seq) order, so no event is skipped or seen uncommitted.
  txid         xid8        NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX change_event_order ON change_event (txid, seq);

-- Each consumer remembers the last event it has processed, so it resumes after a restart.
CREATE TABLE change_consumer (
  name     text PRIMARY KEY,
  last_txid xid8  NOT NULL DEFAULT '0',
  last_seq  bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
