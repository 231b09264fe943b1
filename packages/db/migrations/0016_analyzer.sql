-- Laboratory analyzers over HL7 v2 / MLLP (M5, issue 6). Every message an analyzer sends is written here, as
-- received, before Sen acts on it and before the ACK goes back: a message whose processing was cut short (the
-- server stopped) is still 'received' and is processed on the next start-up. A message Sen cannot take stays here
-- 'quarantined' with the reason, for a person to fix (barcode, test code mapping, corrected text) and replay.
CREATE TABLE analyzer_message (
  id           bigserial   PRIMARY KEY,
  facility     text        NOT NULL,        -- Organization.id of the facility the listener serves
  received_at  timestamptz NOT NULL DEFAULT now(),
  remote       text,                        -- the analyzer's network address
  raw          bytea       NOT NULL,        -- the bytes inside the MLLP frame, exactly as they arrived (never changed)
  analyzer     text,                        -- MSH-3/MSH-4, when the header could be read
  control_id   text,                        -- MSH-10
  message_type text,                        -- MSH-9, e.g. ORU^R01
  status       text        NOT NULL DEFAULT 'received'
               CHECK (status IN ('received', 'processed', 'quarantined', 'duplicate', 'answered', 'discarded')),
  ack_code     text        CHECK (ack_code IN ('AA', 'AE', 'AR')),
  reason_code  text,                        -- why it was not taken (hl7.ts PROBLEMS, contract 2 error codes)
  reason       text,                        -- the same for a person, Vietnamese / English
  barcodes     text,                        -- the specimen barcodes it names, comma-separated
  corrected    text,                        -- the message text as corrected by a person (raw stays as received)
  fixes        text,                        -- JSON: {"barcodes": {"received": "corrected"}, "codes": {...}}
  result       text,                        -- JSON: the DiagnosticReports and Observations written
  duplicate_of bigint      REFERENCES analyzer_message (id),
  attempts     integer     NOT NULL DEFAULT 0,
  processed_at timestamptz,
  handled_by   text,                        -- who replayed or discarded it (Practitioner/…)
  handled_at   timestamptz,
  note         text                         -- the reason given when discarding
);

-- start-up recovery: what was received and not yet acted on, oldest first
CREATE INDEX analyzer_message_pending ON analyzer_message (id) WHERE status = 'received';
-- the quarantine list of a facility, newest first
CREATE INDEX analyzer_message_status ON analyzer_message (facility, status, id);
-- the duplicate check: one analyzer's message control id
CREATE INDEX analyzer_message_control ON analyzer_message (facility, analyzer, control_id);
-- a message control id of an analyzer is imported at most once, whatever runs concurrently
CREATE UNIQUE INDEX analyzer_message_once ON analyzer_message (facility, analyzer, control_id)
  WHERE status = 'processed';

-- An analyzer's own test codes mapped to the lab catalog (set by a person while fixing a quarantined message).
CREATE TABLE analyzer_code_map (
  facility      text        NOT NULL,
  analyzer      text        NOT NULL,
  code          text        NOT NULL,       -- OBX-3.1 as the analyzer sends it
  target_code   text        NOT NULL,       -- the LOINC or lab catalog code Sen knows
  target_system text,                       -- http://loinc.org, the catalog URL, or NULL (match by code)
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    text,
  PRIMARY KEY (facility, analyzer, code)
);
