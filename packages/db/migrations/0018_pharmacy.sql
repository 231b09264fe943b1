-- Pharmacy (M7): the stock of each warehouse by drug and lot, every movement of it, and how much of each
-- prescription line has been dispensed. Dispensing (FHIR MedicationDispense) decrements the lot in the same
-- transaction with a conditional UPDATE (quantity >= wanted), so concurrent dispensing never drives stock below
-- zero; the CHECK constraints are the last line behind that. Quantities and prices are NUMERIC: exact decimals.
CREATE TABLE stock_lot (
  id           bigserial     PRIMARY KEY,
  facility_id  text          NOT NULL, -- FHIR Organization.id of the facility
  warehouse_id text          NOT NULL, -- FHIR Location.id (Kho dược, Nhà thuốc bệnh viện…)
  drug_code    text          NOT NULL, -- code in the drug catalog
  drug_display text          NOT NULL,
  unit         text,
  lot_number   text          NOT NULL,
  expiry       date          NOT NULL,
  quantity     numeric(14,3) NOT NULL CHECK (quantity >= 0),
  unit_price   numeric(16,2) NOT NULL CHECK (unit_price >= 0), -- purchase price of the first receipt, VND
  received_at  timestamptz   NOT NULL DEFAULT now(),
  UNIQUE (facility_id, warehouse_id, drug_code, lot_number)
);
CREATE INDEX stock_lot_drug ON stock_lot (facility_id, drug_code, expiry);

-- One row per change of a lot: a receipt (+) or a dispense (-). No patient data: the dispense is named by id.
CREATE TABLE stock_movement (
  id          bigserial     PRIMARY KEY,
  lot_id      bigint        NOT NULL REFERENCES stock_lot (id),
  kind        text          NOT NULL CHECK (kind IN ('receipt', 'dispense')),
  quantity    numeric(14,3) NOT NULL,
  unit_price  numeric(16,2),
  reference   text,                    -- receipt number, or MedicationDispense/{id}
  actor       text,                    -- Practitioner/{id} or the client id
  at          timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX stock_movement_lot ON stock_movement (lot_id, at);

-- Dispensed so far per prescription line (MedicationRequest): the conditional upsert keeps the sum of partial
-- dispenses at or below the prescribed quantity even when two pharmacists dispense the same line at once.
CREATE TABLE dispensed_quantity (
  medication_request_id text          PRIMARY KEY,
  prescribed            numeric(14,3) NOT NULL,
  dispensed             numeric(14,3) NOT NULL CHECK (dispensed >= 0 AND dispensed <= prescribed)
);
