-- Cashier (M11, first part): receipt numbers, VietQR payment intents and the gateway's confirmations.

-- The last receipt number of each facility and (Vietnam civil) year. Taking a number is one
-- INSERT … ON CONFLICT DO UPDATE … RETURNING inside the payment's transaction: concurrent payments queue on the row
-- and never share a number; a rolled-back payment gives its number back.
CREATE TABLE billing_receipt_counter (
  facility    text    NOT NULL,
  year        integer NOT NULL,
  last_number integer NOT NULL DEFAULT 0,
  PRIMARY KEY (facility, year)
);

-- One row per VietQR payment asked of the gateway; the QR's bill number is the intent's.
CREATE TABLE billing_payment_intent (
  id          text        PRIMARY KEY,
  invoice_id  text        NOT NULL,
  amount      numeric(15, 0) NOT NULL CHECK (amount > 0),
  bill_number text        NOT NULL UNIQUE,
  status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'cancelled')),
  gateway_ref text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  paid_at     timestamptz,
  payment_id  text
);
CREATE INDEX billing_payment_intent_invoice ON billing_payment_intent (invoice_id);

-- Every confirmation the gateway sent, once (the event id is the idempotency key): a replay gets the first answer.
CREATE TABLE billing_webhook_event (
  event_id    text        PRIMARY KEY,
  intent_id   text        NOT NULL,
  outcome     text        NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
