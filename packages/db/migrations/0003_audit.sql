-- Tamper-evident audit trail: one append-only row per access (audit_event), hash-chained by a sealer
-- (audit_seal). Writers never wait on the chain: they insert unsealed rows; the sealer appends seals for
-- rows of finished transactions in (txid, seq) order, like the outbox consumer. See packages/store/src/audit.md.

CREATE TABLE audit_event (
  seq                bigserial   PRIMARY KEY,
  -- set by the audit_event_stamp trigger, whatever the writer sends: the writer cannot backdate a row
  txid               xid8        NOT NULL DEFAULT pg_current_xact_id(),
  recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  action             text        NOT NULL CHECK (action ~ '^[a-z][a-z-]*$'), -- read | search | create | …
  outcome            text        NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  who                text,       -- the user: a FHIR reference (Practitioner/…, Patient/…) or an account id
  role               text,       -- the role the user acted in (doctor, nurse, …)
  client             text,       -- the client application (OAuth client id)
  source_ip          text,
  patient            text,       -- the Patient id whose data was touched, for "who looked at my record"
  resource_type      text,
  resource_id        text,
  resource_version   text,
  query              text,       -- a search's query string; stays in the database, never in logs
  purpose            text,       -- purpose of use (v3 PurposeOfUse code: TREAT, ETREAT, …)
  break_glass_reason text,
  detail             jsonb
);
CREATE INDEX audit_event_order ON audit_event (txid, seq);
CREATE INDEX audit_event_patient ON audit_event (patient, seq) WHERE patient IS NOT NULL;
CREATE INDEX audit_event_who ON audit_event (who, seq) WHERE who IS NOT NULL;
CREATE INDEX audit_event_recorded ON audit_event USING brin (recorded_at);

-- The hash chain: one seal per audit row, pos = 1, 2, 3 … in (txid, seq) order of the sealed rows.
-- hash = SHA-256(previous hash || canonical row); content_hash = SHA-256(canonical row without seq and txid),
-- which lets verification tell a moved record (reordered) from a changed one (altered).
CREATE TABLE audit_seal (
  pos          bigint      PRIMARY KEY,
  seq          bigint      NOT NULL UNIQUE,
  txid         xid8        NOT NULL,
  content_hash bytea       NOT NULL,
  hash         bytea       NOT NULL,
  sealed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row; the sealer holds it (SELECT … FOR UPDATE) while it extends the chain, so two sealers take turns.
CREATE TABLE audit_seal_lock (
  id boolean PRIMARY KEY DEFAULT true CHECK (id)
);
INSERT INTO audit_seal_lock (id) VALUES (true);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = '42501';
END
$$;

CREATE FUNCTION audit_event_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.txid := pg_current_xact_id();
  NEW.recorded_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_event_stamp BEFORE INSERT ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_stamp();
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
