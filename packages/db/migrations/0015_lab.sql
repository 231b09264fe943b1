-- Laboratory (M5): specimen barcodes.

-- The last specimen number handed out on each (Vietnam civil) day, for every facility of the database: the barcode is
-- YYMMDD + a 4-digit number + a check digit, so it is unique across the database (the analyzer maps results to the
-- order by it). Taken with INSERT … ON CONFLICT DO UPDATE … RETURNING, which locks the row until commit: concurrent
-- collections never get the same number.
CREATE TABLE lab_barcode_counter (
  day         date    PRIMARY KEY,
  last_number integer NOT NULL DEFAULT 0
);
