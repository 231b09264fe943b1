-- The national e-health-book feed (issue 7; ../shared/VIETNAM.md §5, R24): one submission per closed episode, built
-- by the change-feed consumer "ehb-feed" in the same transaction that moves its position, and sent by the outbox
-- worker through the gateway adapter. A later version of a finished Encounter whose content changed (an amendment)
-- becomes a new submission with the same MA_LK (a resend). Every request/response is kept in ehb_attempt.
-- The rows hold the signed payload (patient data, as the record itself does) but their status columns and errors
-- never do: IT staff see statuses, codes and gateway messages, never the payload.
-- Portable SQL: PostgreSQL 15+ and PGlite.
CREATE TABLE ehb_submission (
  id                bigserial   PRIMARY KEY,
  encounter_id      text        NOT NULL,  -- FHIR Encounter.id of the episode
  encounter_version integer     NOT NULL,  -- the finished version the payload was built from
  patient_id        text        NOT NULL,  -- FHIR Patient.id (for the audit record of each send)
  facility_id       text,                  -- the facility tag of the Encounter (the IT screen of that facility)
  facility_code     text        NOT NULL,  -- MA_CSKCB of that facility (the envelope's MACSKCB)
  ma_lk             text        NOT NULL,  -- MA_LK: unique and immutable per episode, joins the tables
  kind              text        NOT NULL CHECK (kind IN ('new', 'resend')),
  content_hash      text        NOT NULL,  -- sha256 of the unsigned tables: same content is never queued twice
  tables            text        NOT NULL,  -- which tables the payload carries, e.g. 'XML1;XML2;XML3;XML4;XML8'
  payload           text        NOT NULL,  -- the signed envelope (GIAMDINHHS … CHUKYDONVI), UTF-8 XML
  status            text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'accepted', 'failed')),
  attempts          integer     NOT NULL DEFAULT 0,
  manual_retries    integer     NOT NULL DEFAULT 0, -- "send again" from the IT screen: each gives a new set of attempts
  next_attempt_at   timestamptz NOT NULL,
  lease_until       timestamptz,           -- a worker is sending it until then (a crashed worker's lease runs out)
  last_error        text,                  -- kind and gateway message of the last failure, never patient data
  transaction_code  text,                  -- maGiaoDich of the accepting answer
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  sent_at           timestamptz,
  UNIQUE (encounter_id, encounter_version)
);
CREATE INDEX ehb_submission_due ON ehb_submission (next_attempt_at) WHERE status = 'queued';
CREATE INDEX ehb_submission_encounter ON ehb_submission (encounter_id, id);
CREATE INDEX ehb_submission_list ON ehb_submission (facility_id, id);

-- Every request to the gateway and what came back (or why nothing came back).
CREATE TABLE ehb_attempt (
  id            bigserial   PRIMARY KEY,
  submission_id bigint      NOT NULL REFERENCES ehb_submission (id),
  attempt       integer     NOT NULL,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz NOT NULL,
  outcome       text        NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'transient')),
  http_status   integer,
  response_code text,                     -- the gateway's result code (maKetQua)
  response      text,                     -- the gateway's answer body (at most 4000 characters)
  error         text,                     -- timeout / unreachable / bad-response when there was no usable answer
  UNIQUE (submission_id, attempt)
);

-- The signing key for the payload's XML signature (CHUKYDONVI) when none is configured (SEN_EHB_SIGNING_KEY_FILE):
-- generated on first start and kept here, so the same key signs across restarts and on every node of one database.
CREATE TABLE ehb_signing_key (
  name            text        PRIMARY KEY,
  private_key_pem text        NOT NULL,
  public_key_pem  text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- When the feed first ran: episodes that ended before it are history (migrated or seeded records), not sent.
-- SEN_EHB_SINCE overrides it (e.g. 2026-01-01, the start of the obligation, to send a backlog).
CREATE TABLE ehb_feed_state (
  name  text        PRIMARY KEY,
  since timestamptz NOT NULL
);
