-- OAuth 2 / OpenID Connect authorization server (issue 3, "The authorization server"): signing keys, the store of
-- oidc-provider (sessions, interactions, grants, codes, refresh tokens, registered clients, …) and the revocation
-- list of JWT access tokens. See packages/server/src/platform/oauth/README.md. Timestamps come from the
-- application's clock (not now()), so expiry is testable.

-- Token signing keys. The private JWK is an AES-256-GCM ciphertext under the key-encryption key from configuration
-- (SEN_SECRET_KEY); only the public half is stored in clear. The newest key of each algorithm that is not retired
-- signs; retired keys stay published in the JWKS (for verification) until expires_at.
CREATE TABLE oauth_key (
  kid         text        PRIMARY KEY, -- RFC 7638 thumbprint of the public key
  alg         text        NOT NULL CHECK (alg IN ('RS256', 'ES256')),
  private_jwk text        NOT NULL,    -- sealed JSON of the private JWK (never in clear)
  public_jwk  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz,             -- no longer signs from then on
  expires_at  timestamptz              -- leaves the JWKS from then on (NULL while current)
);
CREATE INDEX oauth_key_alg ON oauth_key (alg, created_at);

-- One table for every oidc-provider model. Token-like ids (refresh tokens, codes, sessions, …) are bearer
-- secrets: id holds their SHA-256 digest, and the payload does not repeat them (the adapter strips jti).
CREATE TABLE oauth_store (
  model       text        NOT NULL, -- Session, Interaction, Grant, AuthorizationCode, RefreshToken, Client, …
  id          text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  account_id  text,                 -- the signed-in account (sessions, grants' tokens): "sign out everywhere"
  user_code   text,
  uid         text,
  expires_at  timestamptz,          -- NULL: does not expire (registered clients)
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oauth_store_grant ON oauth_store (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_store_account ON oauth_store (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oauth_store_uid ON oauth_store (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_store_user_code ON oauth_store (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oauth_store_expires ON oauth_store (expires_at) WHERE expires_at IS NOT NULL;

-- Revoked JWT access tokens ('jti:<jti>') and revoked grants ('grant:<grant id>', whose access tokens all stop),
-- kept until the longest access token they could concern has expired. Every server keeps the live rows in memory.
CREATE TABLE oauth_revocation (
  id         text        PRIMARY KEY,
  revoked_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_revocation_expires ON oauth_revocation (expires_at);
