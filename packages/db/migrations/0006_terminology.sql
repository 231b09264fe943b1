-- Terminology (M19): one row per imported catalog version, its concepts with folded search text for typeahead,
-- and the mappings of ConceptMaps. The catalogs themselves are CodeSystem / ConceptMap resources in the store;
-- these tables are their look-up index, written in the same transaction by the importer.
-- Portable SQL: PostgreSQL 15+ and PGlite. A catalog version never changes after its import, so the server keeps
-- a typeahead index of the versions in use in memory (loaded from terminology_concept) instead of a trigram index.

CREATE TABLE terminology_version (
  vid          bigserial   PRIMARY KEY,
  kind         text        NOT NULL,  -- importer kind (icd10, drugs, admin-units, …) or 'map' for a ConceptMap
  url          text        NOT NULL,  -- CodeSystem.url or ConceptMap.url
  version      text        NOT NULL,
  valid_from   date,                  -- null: since ever
  valid_to     date,                  -- null: open-ended
  source       text,                  -- the legal document the catalog comes from
  content_hash text        NOT NULL,  -- sha-256 of the normalised rows: same content, same version
  concepts     integer     NOT NULL,
  resource_type text       NOT NULL,  -- CodeSystem or ConceptMap
  resource_id  text        NOT NULL,
  source_url   text,                  -- ConceptMap: source code system
  target_url   text,                  -- ConceptMap: target code system
  imported_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT terminology_version_unique UNIQUE (url, version)
);
CREATE INDEX terminology_version_hash ON terminology_version (url, content_hash);

CREATE TABLE terminology_concept (
  vid       bigint  NOT NULL REFERENCES terminology_version (vid),
  code      text    NOT NULL,
  code_fold text    NOT NULL,  -- lower case, no dots or spaces (J06.9 -> j069)
  display   text    NOT NULL,
  words     text    NOT NULL,  -- ' ' || folded words of the code and every name (the typeahead index reads them)
  priority  integer NOT NULL DEFAULT 0,  -- higher first among equal matches (e.g. a facility's most used codes)
  concept   text    NOT NULL,  -- the FHIR CodeSystem.concept element as JSON
  CONSTRAINT terminology_concept_pk PRIMARY KEY (vid, code)
);
CREATE INDEX terminology_concept_code ON terminology_concept (vid, code_fold text_pattern_ops);

CREATE TABLE terminology_map (
  vid         bigint NOT NULL REFERENCES terminology_version (vid),
  source_code text   NOT NULL,
  target_code text   NOT NULL,
  target_display text,
  equivalence text   NOT NULL,
  comment     text
);
CREATE INDEX terminology_map_source ON terminology_map (vid, source_code);
CREATE INDEX terminology_map_target ON terminology_map (vid, target_code);
