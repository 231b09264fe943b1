-- Clinical (M3, M7): the national e-prescription codes handed out by this node. A code is the facility's 5-character
-- code, 7 random characters and a type letter (TT 26/2025, App. I); the 7 random characters must be unique within
-- the facility whatever the type, so the key is (facility, serial) and a collision makes the writer draw again.
-- The row also says which encounter and patient the prescription belongs to (the prescriptions themselves are
-- FHIR MedicationRequest resources sharing the code as groupIdentifier), and which code it replaced, if any.
CREATE TABLE erx_code (
  facility_code text        NOT NULL CHECK (length(facility_code) = 5),
  serial        text        NOT NULL CHECK (serial ~ '^[0-9a-z]{7}$'),
  code          text        NOT NULL UNIQUE CHECK (length(code) = 14),
  encounter_id  text        NOT NULL, -- FHIR Encounter.id
  patient_id    text        NOT NULL, -- FHIR Patient.id
  replaces      text,                 -- the code of the prescription this one replaced
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (facility_code, serial)
);
CREATE INDEX erx_code_encounter ON erx_code (encounter_id);
