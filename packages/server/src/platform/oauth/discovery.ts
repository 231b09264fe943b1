/**
 * What the authorization server tells clients about itself, SMART-style: /.well-known/smart-configuration (SMART App
 * Launch 2) and the CapabilityStatement's rest.security block (the oauth-uris extension).
 */
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';

/** oidc-provider's routes (its defaults; the provider is configured with them). */
export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  jwks: '/jwks',
  endSession: '/session/end',
} as const;

export interface AuthEndpoints {
  issuer: string;
  authorization: string;
  token: string;
  introspection: string;
  revocation: string;
  jwks: string;
  endSession: string;
}

/** The endpoint URLs of an issuer (the provider is mounted at the issuer's path). */
export function authEndpoints(issuer: string): AuthEndpoints {
  const base = issuer.replace(/\/$/, '');
  return {
    issuer: base,
    authorization: base + ROUTES.authorization,
    token: base + ROUTES.token,
    introspection: base + ROUTES.introspection,
    revocation: base + ROUTES.revocation,
    jwks: base + ROUTES.jwks,
    endSession: base + ROUTES.endSession,
  };
}

export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'context-ehr-patient',
  'context-standalone-patient',
  'permission-v1',
  'permission-v2',
  'permission-patient',
  'permission-user',
  'permission-offline',
  'permission-online',
  'sso-openid-connect',
];

/** The SMART App Launch 2 discovery document (`<FHIR base>/.well-known/smart-configuration`). */
export function smartConfiguration(issuer: string): Record<string, unknown> {
  const e = authEndpoints(issuer);
  return {
    issuer: e.issuer,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorization,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    token_endpoint: e.token,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256', 'PS256', 'PS384'],
    // Representative: every per-type scope (patient/Observation.rs, system/Patient.cruds…) is supported too.
    scopes_supported: [
      'openid',
      'fhirUser',
      'launch',
      'launch/patient',
      'offline_access',
      'online_access',
      'patient/*.cruds',
      'patient/*.rs',
      'patient/*.read',
      'user/*.cruds',
      'user/*.rs',
      'user/*.read',
      'system/*.cruds',
      'system/*.rs',
      'system/*.read',
    ],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    introspection_endpoint: e.introspection,
    revocation_endpoint: e.revocation,
    end_session_endpoint: e.endSession,
    capabilities: SMART_CAPABILITIES,
  };
}

/** The CapabilityStatement.rest[0].security block for the FHIR API (merge it into the generated statement). */
export function capabilitySecurity(issuer: string): CapabilityStatementRestSecurity {
  const e = authEndpoints(issuer);
  return {
    cors: true,
    service: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
            code: 'SMART-on-FHIR',
            display: 'SMART-on-FHIR',
          },
        ],
        text: 'OAuth2 using SMART-on-FHIR profile (see https://hl7.org/fhir/smart-app-launch/)',
      },
    ],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: e.authorization },
          { url: 'token', valueUri: e.token },
          { url: 'introspect', valueUri: e.introspection },
          { url: 'revoke', valueUri: e.revocation },
        ],
      },
    ],
  };
}
