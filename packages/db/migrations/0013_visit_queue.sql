-- Clinic-room queues (M2): one number per visit per room per day, handed out atomically.

-- The last number and the last place in line of each room on each (Vietnam civil) day. Registering takes the row
-- with INSERT … ON CONFLICT DO UPDATE … RETURNING, which locks it until the transaction ends: concurrent
-- registrations for one room queue behind each other and never get the same number; a rolled-back registration
-- gives its number back (no gaps).
CREATE TABLE visit_queue_counter (
  facility      text    NOT NULL,
  location_id   text    NOT NULL,
  day           date    NOT NULL,
  last_number   integer NOT NULL DEFAULT 0,
  last_position integer NOT NULL DEFAULT 0,
  PRIMARY KEY (facility, location_id, day)
);

-- One row per registered visit; the Encounter carries the same number and status (written in the same transaction).
CREATE TABLE visit_queue (
  facility        text        NOT NULL,
  location_id     text        NOT NULL,
  day             date        NOT NULL,
  number          integer     NOT NULL CHECK (number > 0),
  -- place in line: the number at registration, moved to the back when skipped
  position        integer     NOT NULL,
  encounter_id    text        NOT NULL UNIQUE,
  patient_id      text        NOT NULL,
  status          text        NOT NULL DEFAULT 'waiting'
                              CHECK (status IN ('waiting', 'called', 'in-progress', 'skipped', 'done')),
  room_code       text        NOT NULL,
  room_name       text        NOT NULL,
  department_id   text,
  department_name text,
  registered_at   timestamptz NOT NULL DEFAULT now(),
  called_at       timestamptz,
  called_by       text,
  call_count      integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (facility, location_id, day, number)
);

-- A patient is in a room's line at most once a day until that visit is done.
CREATE UNIQUE INDEX visit_queue_active_patient ON visit_queue (facility, location_id, day, patient_id)
  WHERE status <> 'done';
-- $call-next: the first in line of a room.
CREATE INDEX visit_queue_line ON visit_queue (facility, location_id, day, position)
  WHERE status IN ('waiting', 'skipped');
-- $queue-summary: the rooms of a facility today.
CREATE INDEX visit_queue_facility_day ON visit_queue (facility, day);
