-- Staff accounts (issue 3, "Staff"): sign-in with argon2id passwords, lockout, rate limiting, TOTP MFA and
-- sessions. No patient data here. No secret is stored in clear: password_hash is an argon2id PHC string,
-- mfa_secret and mfa_pending_secret are AES-256-GCM ciphertexts under a key from configuration, one-time
-- tokens are stored as SHA-256 digests and login attempts keep only a keyed digest of the username typed.
-- Timestamps come from the application's clock (not now()), so lockout and expiry are testable.

CREATE TABLE staff_account (
  id                  text        PRIMARY KEY,
  username            text        NOT NULL, -- as chosen; unique case-insensitively (index below)
  practitioner_id     text        NOT NULL, -- FHIR Practitioner.id of the person: one account per person
  facility_id         text        NOT NULL, -- FHIR Organization.id of the facility
  department_ids      text[]      NOT NULL DEFAULT '{}', -- FHIR Organization.id of the departments
  roles               text[]      NOT NULL,
  password_hash       text,                 -- argon2id PHC string; NULL until a password is set
  password_changed_at timestamptz,
  mfa_secret          text,                 -- AES-256-GCM ciphertext of the base32 TOTP secret
  mfa_enabled         boolean     NOT NULL DEFAULT false,
  mfa_pending_secret  text,                 -- enrolment started, not yet confirmed (also encrypted)
  mfa_last_step       bigint,               -- last accepted TOTP time step: a code is accepted once
  failed_attempts     integer     NOT NULL DEFAULT 0, -- consecutive failures (in-flight attempts included)
  locked_until        timestamptz,
  disabled            boolean     NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  CONSTRAINT staff_account_roles_known CHECK (
    cardinality(roles) > 0
    AND roles <@ ARRAY['receptionist', 'doctor', 'nurse', 'lab-technician', 'radiology-technician', 'radiologist',
                       'pharmacist', 'cashier', 'department-head', 'facility-admin']::text[]
  ),
  CONSTRAINT staff_account_mfa_secret CHECK (NOT mfa_enabled OR mfa_secret IS NOT NULL)
);
CREATE UNIQUE INDEX staff_account_username ON staff_account (lower(username));
CREATE UNIQUE INDEX staff_account_practitioner ON staff_account (facility_id, practitioner_id);

-- Signed-in sessions: listed to their owner, revocable one by one or all at once ("sign out everywhere").
CREATE TABLE staff_session (
  id           text        PRIMARY KEY, -- 256 random bits
  account_id   text        NOT NULL REFERENCES staff_account (id),
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,    -- absolute end; an idle timeout applies on top of it
  revoked_at   timestamptz,
  client_ip    text,
  user_agent   text
);
CREATE INDEX staff_session_account ON staff_session (account_id, expires_at);

-- One-time tokens between sign-in steps: 'mfa' (password accepted, TOTP code next) and 'mfa-enrolment'
-- (password accepted, the account must enrol an authenticator first).
CREATE TABLE staff_login_challenge (
  token_hash text        PRIMARY KEY, -- SHA-256 of the token handed to the client
  account_id text        NOT NULL REFERENCES staff_account (id),
  purpose    text        NOT NULL CHECK (purpose IN ('mfa', 'mfa-enrolment')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX staff_login_challenge_account ON staff_login_challenge (account_id);

-- Every sign-in attempt, for rate limiting per username and per client IP over time windows.
CREATE TABLE login_attempt (
  id            bigserial   PRIMARY KEY,
  at            timestamptz NOT NULL,
  username_hmac text        NOT NULL, -- keyed digest of the lower-cased username typed (never the text itself)
  client_ip     text        NOT NULL,
  account_id    text,                 -- NULL when the username is unknown
  outcome       text        NOT NULL, -- ok | invalid | locked | rate-limited | mfa-required | mfa-invalid | ...
  failed        boolean     NOT NULL
);
CREATE INDEX login_attempt_ip ON login_attempt (client_ip, at) WHERE failed;
CREATE INDEX login_attempt_username ON login_attempt (username_hmac, at) WHERE failed;
CREATE INDEX login_attempt_at ON login_attempt (at);
