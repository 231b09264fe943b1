-- The patient portal (issue 7; ../shared/MISSION.md M2, M12; ../shared/VIETNAM.md §6, R26, R27).
-- Portable SQL: PostgreSQL 15+ and PGlite.

-- Capacity of a bookable Slot. `booked` never exceeds `capacity` (CHECK), and a booking takes a seat with one
-- UPDATE … WHERE booked < capacity: the row lock makes concurrent bookings of the last seat queue up, and exactly
-- one of them finds a seat left.
CREATE TABLE portal_slot (
  slot_id   text    PRIMARY KEY,             -- FHIR Slot.id
  capacity  integer NOT NULL CHECK (capacity > 0),
  booked    integer NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= capacity)
);

-- One booking per Appointment: its short code (reception types it or scans the check-in QR).
CREATE TABLE portal_booking (
  code           text        PRIMARY KEY,    -- e.g. 'K7M2QX9D' (Crockford base32, CSPRNG)
  appointment_id text        NOT NULL UNIQUE,
  slot_id        text        NOT NULL,
  patient_id     text        NOT NULL,
  status         text        NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled', 'arrived')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_booking_patient ON portal_booking (patient_id, created_at);

-- Share links: the token itself is never stored, only its SHA-256 (a database copy opens nothing).
CREATE TABLE portal_share_link (
  id          text        PRIMARY KEY,        -- random id shown to the patient (not the token)
  token_hash  text        NOT NULL UNIQUE,    -- hex sha256 of the token in the URL
  patient_id  text        NOT NULL,
  created_by  text        NOT NULL,           -- the account that made it (Patient/… of the signed-in patient)
  label       text,                           -- e.g. "BS. tim mạch BV Chợ Rẫy" (typed by the patient)
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  uses        integer     NOT NULL DEFAULT 0,
  last_used_at timestamptz
);
CREATE INDEX portal_share_link_patient ON portal_share_link (patient_id, created_at);

-- Data-subject requests (Law 91/2025, Decree 356/2025 Art 5): acknowledged within 2 working days, answered by the
-- legal deadline of the kind (correction/access 10 days, restriction/withdrawal 15, deletion 20).
CREATE TABLE portal_rights_request (
  id           text        PRIMARY KEY,
  patient_id   text        NOT NULL,
  kind         text        NOT NULL CHECK (kind IN ('access', 'correction', 'restriction', 'withdrawal', 'deletion')),
  detail       text        NOT NULL,          -- the patient's words (patient data: never logged)
  target       text,                          -- the FHIR reference the request is about, when one
  requested_by text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  ack_due      timestamptz NOT NULL,
  due          timestamptz NOT NULL,
  status       text        NOT NULL DEFAULT 'received'
               CHECK (status IN ('received', 'acknowledged', 'completed', 'refused')),
  acknowledged_at timestamptz,
  closed_at    timestamptz,
  answer       text
);
CREATE INDEX portal_rights_request_patient ON portal_rights_request (patient_id, received_at);
CREATE INDEX portal_rights_request_open ON portal_rights_request (due) WHERE status IN ('received', 'acknowledged');
