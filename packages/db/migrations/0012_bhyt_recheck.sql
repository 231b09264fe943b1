-- BHYT card checks (M1, reception): when the BHYT gateway is down or too slow, the visit goes ahead with the Coverage
-- marked "unverified" and a row here asks the recheck worker to look the card up again later. The row holds no
-- patient data: the worker reads the card number from the Coverage and the name and birth date from its beneficiary.
-- Portable SQL: PostgreSQL 15+ and PGlite.
CREATE TABLE bhyt_recheck (
  id              bigserial   PRIMARY KEY,
  coverage_id     text        NOT NULL,  -- FHIR Coverage.id to update
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  last_error      text,                  -- kind of the last failure (timeout, unreachable, bad-response), never data
  done_at         timestamptz,
  result          text                   -- final status: verified, expired, not-found, invalid, gone
);
CREATE UNIQUE INDEX bhyt_recheck_open ON bhyt_recheck (coverage_id) WHERE done_at IS NULL;
CREATE INDEX bhyt_recheck_due ON bhyt_recheck (next_attempt_at) WHERE done_at IS NULL;
