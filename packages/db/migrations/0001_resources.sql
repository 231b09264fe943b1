-- Sen FHIR store: current resources, every version, and the search index.
-- Portable SQL: runs on PostgreSQL 15+ and PGlite (PostgreSQL 18 in WASM).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The current version of every resource (including deleted tombstones).
CREATE TABLE resource (
  rid          bigserial PRIMARY KEY,
  type         text        NOT NULL,
  id           text        NOT NULL,
  version      integer     NOT NULL,
  last_updated timestamptz NOT NULL,
  deleted      boolean     NOT NULL DEFAULT false,
  content      text,
  CONSTRAINT resource_type_id UNIQUE (type, id)
);
CREATE INDEX resource_type_updated ON resource (type, last_updated);

-- Every version ever written, in commit order (seq), for vread and history.
CREATE TABLE resource_version (
  seq          bigserial PRIMARY KEY,
  rid          bigint      NOT NULL,
  type         text        NOT NULL,
  id           text        NOT NULL,
  version      integer     NOT NULL,
  last_updated timestamptz NOT NULL,
  method       text        NOT NULL,
  deleted      boolean     NOT NULL DEFAULT false,
  content      text,
  CONSTRAINT resource_version_unique UNIQUE (rid, version)
);
CREATE INDEX resource_version_type_seq ON resource_version (type, seq);
CREATE INDEX resource_version_updated ON resource_version (last_updated);

-- Search index, one table per search parameter type; rows belong to the current version only.
CREATE TABLE idx_string (
  rid   bigint NOT NULL,
  code  text   NOT NULL,
  value text   NOT NULL, -- folded: lower case, Vietnamese diacritics removed
  raw   text   NOT NULL  -- as written, for :exact
);
CREATE INDEX idx_string_lookup ON idx_string (code, value text_pattern_ops, rid);
CREATE INDEX idx_string_rid ON idx_string (rid);
CREATE INDEX idx_string_trgm ON idx_string USING gin (value gin_trgm_ops);

CREATE TABLE idx_token (
  rid    bigint NOT NULL,
  code   text   NOT NULL,
  system text,
  value  text,
  text   text   -- folded display / text, for :text
);
CREATE INDEX idx_token_lookup ON idx_token (code, value, system, rid);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_reference (
  rid         bigint NOT NULL,
  code        text   NOT NULL,
  target_type text,
  target_id   text,
  raw         text   NOT NULL, -- the reference as written (absolute URLs, canonicals)
  ident_system text,
  ident_value  text
);
CREATE INDEX idx_reference_lookup ON idx_reference (code, target_id, target_type, rid);
CREATE INDEX idx_reference_target ON idx_reference (target_type, target_id);
CREATE INDEX idx_reference_raw ON idx_reference (code, raw);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

CREATE TABLE idx_date (
  rid  bigint      NOT NULL,
  code text        NOT NULL,
  lo   timestamptz NOT NULL,
  hi   timestamptz NOT NULL
);
CREATE INDEX idx_date_lookup ON idx_date (code, lo, hi);
CREATE INDEX idx_date_rid ON idx_date (rid, code);

CREATE TABLE idx_number (
  rid   bigint  NOT NULL,
  code  text    NOT NULL,
  value numeric NOT NULL
);
CREATE INDEX idx_number_lookup ON idx_number (code, value);
CREATE INDEX idx_number_rid ON idx_number (rid);

CREATE TABLE idx_quantity (
  rid    bigint  NOT NULL,
  code   text    NOT NULL,
  system text,
  unit   text,
  value  numeric NOT NULL
);
CREATE INDEX idx_quantity_lookup ON idx_quantity (code, value);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_uri (
  rid   bigint NOT NULL,
  code  text   NOT NULL,
  value text   NOT NULL
);
CREATE INDEX idx_uri_lookup ON idx_uri (code, value);
CREATE INDEX idx_uri_rid ON idx_uri (rid);

-- Composite parameters (e.g. Observation code-value-quantity): one row per matched base element.
CREATE TABLE idx_composite (
  rid     bigint NOT NULL,
  code    text   NOT NULL,
  system1 text,
  value1  text,
  system2 text,
  value2  text,
  num2    numeric,
  lo2     timestamptz,
  hi2     timestamptz
);
CREATE INDEX idx_composite_lookup ON idx_composite (code, value1, rid);
CREATE INDEX idx_composite_rid ON idx_composite (rid);

-- Compartment membership, materialised on write (Patient/{id} and the other R4 compartments).
-- Each row also carries the member's type and the range of its `date` search parameter, so the most
-- common clinical query — a patient's resources of one type, newest first — is one ordered index scan.
CREATE TABLE compartment (
  rid     bigint NOT NULL,
  ctype   text   NOT NULL,
  cid     text   NOT NULL,
  rtype   text   NOT NULL,
  date_lo timestamptz NOT NULL, -- 'infinity' when the resource has no date
  date_hi timestamptz NOT NULL  -- '-infinity' when the resource has no date
);
CREATE INDEX compartment_lookup ON compartment (ctype, cid, rid);
CREATE INDEX compartment_type_rid ON compartment (ctype, cid, rtype, rid);
CREATE INDEX compartment_type_date_hi ON compartment (ctype, cid, rtype, date_hi DESC, rid);
CREATE INDEX compartment_type_date_lo ON compartment (ctype, cid, rtype, date_lo, rid);
CREATE INDEX compartment_rid ON compartment (rid);

-- Serialises conditional writes (If-None-Exist, conditional update) with the same criteria:
-- the row lock is held until commit, so two concurrent conditional creates cannot both create.
CREATE TABLE conditional_lock (
  key text PRIMARY KEY
);
