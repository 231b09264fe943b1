-- Break-the-glass (issue 3, "One access gate"): emergency access grants of a clinician to a restricted record.
-- Each grant is time-limited, carries the reason the clinician gave, and waits for the department head's review.
-- The grant itself and every access under it are in the audit trail (audit_event, action break-glass and
-- detail.breakGlass); this table is what the gate loads and what the review list shows. Timestamps come from the
-- application's clock (not now()), so expiry is testable. Consents need no table: they are FHIR Consent resources.
CREATE TABLE break_glass_grant (
  id              text        PRIMARY KEY,
  account_id      text        NOT NULL, -- staff_account.id of the clinician
  practitioner_id text,                 -- FHIR Practitioner.id of the clinician
  patient_id      text        NOT NULL, -- FHIR Patient.id of the record opened
  reason          text        NOT NULL CHECK (length(btrim(reason)) >= 10),
  granted_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL CHECK (expires_at > granted_at),
  facility_id     text        NOT NULL, -- the facility of the clinician (FHIR Organization.id)
  department_ids  text[]      NOT NULL DEFAULT '{}', -- the clinician's departments, for the department head's list
  reviewed_by     text,                 -- staff_account.id of the department head who reviewed it
  reviewed_at     timestamptz,
  review_note     text,
  CONSTRAINT break_glass_grant_review CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL))
);
CREATE INDEX break_glass_grant_account ON break_glass_grant (account_id, expires_at);
CREATE INDEX break_glass_grant_review_list ON break_glass_grant (facility_id, granted_at DESC) WHERE reviewed_at IS NULL;
