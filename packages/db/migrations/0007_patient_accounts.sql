-- Patient accounts (issue 3, "Patients"): a person who signed in through the external national-ID identity
-- provider (VNeID-like OpenID Connect) and was matched to the Patient whose CCCD identifier equals the verified
-- 12-digit personal ID number. The number itself is not stored: national_id_hash is an HMAC-SHA-256 under a key
-- derived from SEN_SECRET_KEY, enough to find the account again and to tie the Patient's identifier to the
-- verified number, useless to anyone reading a copy of the table. Timestamps come from the application's clock.

CREATE TABLE patient_account (
  id               text        PRIMARY KEY, -- 'patient:' + random UUID: the `sub` of Sen's tokens
  patient_id       text        NOT NULL,    -- FHIR Patient.id the account signs in as
  national_id_hash text        NOT NULL,    -- HMAC-SHA-256 (base64url) of the verified personal ID number
  idp_issuer       text        NOT NULL,    -- the identity provider that verified it
  created_at       timestamptz NOT NULL,
  last_sign_in_at  timestamptz,
  disabled         boolean     NOT NULL DEFAULT false
);
-- One account per person (per verified number); the Patient it points at may be re-linked (records merged).
CREATE UNIQUE INDEX patient_account_national_id ON patient_account (national_id_hash);
CREATE INDEX patient_account_patient ON patient_account (patient_id);
