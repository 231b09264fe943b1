/**
 * Sen's OpenID Connect / OAuth 2 authorization server: oidc-provider (certified) configured for SMART on FHIR.
 *
 * - Authorization code + PKCE (S256, required for every client), rotating refresh tokens (offline_access or
 *   online_access), revocation, introspection, client_credentials; client authentication by client_secret_basic,
 *   private_key_jwt (SMART Backend Services) or none (public clients, PKCE).
 * - Access tokens are RFC 9068 JWTs for one resource, the FHIR API (audience = fhirBase), signed RS256 with keys kept
 *   in the database (keys.ts); SMART scopes are granted through the resource server's scope (smart-scopes.ts).
 * - The SMART launch context (patient, encounter, fhirUser) is fixed when the user consents, kept with the grant,
 *   put into the access token's claims and into the token response.
 *
 * The provider is a Koa app; plugin.ts mounts it in Fastify under the issuer's path (e.g. /oidc).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '@sen/db';
import type { JWK } from 'jose';
import Provider, {
  type Adapter,
  type ClientMetadata,
  type Configuration,
  errors,
  type Interaction,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { parseEncryptionKey, SecretBox } from '../auth/secret-box.ts';
import { createAdapter, deleteAccountGrants, purgeExpired } from './adapter.ts';
import { SEN_CLIENT_PROPERTIES, senClientMetadata, validateSenClientProperty } from './client-facility.ts';
import type { SecondFactor } from './enrolment.ts';
import type { PatientPicker } from './patient-picker.ts';
import { ROUTES } from './discovery.ts';
import { escapeHtml, htmlPage, loggedOutPage, logoutPage, PAGE_HEADERS } from './html.ts';
import {
  DEFAULT_KEY_RETENTION_SECONDS,
  deriveKey,
  type KeySet,
  loadOrCreateKeys,
  readKeys,
  resolveSecretKey,
  rotateKeys as rotateStoredKeys,
} from './keys.ts';
import { assertResourceScopes, grantableScopes, OIDC_SCOPES } from './smart-scopes.ts';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  RevocationList,
  VerificationKeys,
  type VerifiedToken,
} from './verify.ts';

export type { VerifiedToken } from './verify.ts';

/** The demo system client (demo mode only). */
export const DEMO_CLIENT_ID = 'sen-demo';
export const DEFAULT_DEMO_CLIENT_SECRET = 'sen-demo-secret';
/** Sen's own web app: a public client (PKCE). */
export const WEB_CLIENT_ID = 'sen-web';
const RESERVED_CLIENT_IDS = new Set([DEMO_CLIENT_ID, WEB_CLIENT_ID]);

export interface AuthAccount {
  accountId: string;
  /**
   * Claims of the account. Sen reads `fhirUser` (a FHIR reference such as 'Practitioner/123', made absolute against
   * the FHIR base) and `patient` (the Patient id a patient user acts for: the launch/patient context).
   */
  claims(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export type AuthenticateResult =
  | { accountId: string; amr?: string[]; sessionId?: string }
  | { error: string }
  /** Password accepted; a second step follows (enrolment.ts): the TOTP code, or enrolment first. */
  | { next: 'mfa' | 'enrol'; token: string };

/** Checks a sign-in (the login form posts username, password and the TOTP code when given). */
export type Authenticate = (
  username: string,
  password: string,
  totp: string | undefined,
  context: { ip: string; clientId: string; userAgent?: string },
) => Promise<AuthenticateResult>;

export interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AuthServerTtl {
  /** Access tokens (authorization code, refresh and client_credentials), seconds. Default 900 (15 min). */
  accessToken?: number;
  /** Refresh tokens: absolute lifetime from the first issuance; rotation does not extend it. Default 8 h. */
  refreshToken?: number;
  /** Authorization codes. Default 60 s. */
  authorizationCode?: number;
  /** ID tokens. Default 900. */
  idToken?: number;
  /** Browser sign-in sessions at the authorization server. Default 8 h. */
  session?: number;
  /** Sign-in / consent interactions. Default 600. */
  interaction?: number;
}

export interface AuthServerOptions {
  db: Db;
  /** The issuer, e.g. http://localhost:8080/oidc: its path (required, not '/') is where the provider is mounted. */
  issuer: string;
  /** The FHIR base URL: the audience of every access token. */
  fhirBase: string;
  mode: 'demo' | 'production';
  /** The key-encryption key (SEN_SECRET_KEY: 32 bytes, base64 or hex). Required in production mode. */
  secretKey?: Uint8Array | string;
  /** Demo mode without secretKey: `<dataDir>/secret.key` keeps a generated key (absent: an ephemeral key). */
  dataDir?: string;
  /** Secret of the demo client `sen-demo` (demo mode only; given in production mode it is refused). */
  demoClientSecret?: string;
  /** Redirect URIs of `sen-web` (default: `<origin of fhirBase>/`). */
  webRedirectUris?: string[];
  webPostLogoutRedirectUris?: string[];
  /** Clients whose authorizations skip the consent page (default: sen-web). */
  firstPartyClients?: string[];
  findAccount?: (id: string) => Promise<AuthAccount | undefined>;
  /** Checks the login form; without it the sign-in page says that sign-in is not configured. */
  authenticate?: Authenticate;
  /** The second sign-in step (TOTP code, MFA enrolment): enrolment.ts. */
  secondFactor?: SecondFactor;
  /** Lets a clinician choose the patient of a standalone `launch/patient` launch (patient-picker.ts). */
  patientPicker?: PatientPicker;
  /** The Set-Cookie value that keeps a staff session for Sen's own pages (the account page) after a sign-in. */
  sessionCookie?: (sessionId: string) => string;
  /** Leeway on access token expiry, seconds (default 5). */
  clockToleranceSeconds?: number;
  /** Where the provider sends the browser for sign-in / consent (default `<mount path>/interaction/<uid>`). */
  interactionUrl?: (uid: string) => string;
  ttl?: AuthServerTtl;
  /** How long a rotated-out signing key stays in the JWKS, seconds (default one day). */
  keyRetentionSeconds?: number;
  /** Reload of the revocation list and the signing keys from the database, ms (default 5000; 0: never). */
  refreshIntervalMs?: number;
  /** A token signed by an unknown key reloads the keys, at most once per this many ms (default 1000). */
  keyReloadIntervalMs?: number;
  logger?: Logger;
}

export interface BackendClientRegistration {
  clientId: string;
  /** The client's public keys (private_key_jwt), or jwksUri. */
  jwks?: { keys: JWK[] };
  jwksUri?: string;
  /** The SMART scopes the client may be granted, e.g. 'system/*.rs' or 'system/Patient.rs system/Observation.rs'. */
  scope: string;
  clientName?: string;
  /** The facility the client belongs to (FHIR Organization.id); with `external`, another facility's system. */
  facilityId?: string;
  /** A system of another facility: it reads a patient's data only with their treatment-sharing consent. */
  external?: boolean;
  /** 'research': the client sees only patients with an active research consent. */
  purpose?: 'research';
}

export interface AppClientRegistration {
  clientId: string;
  redirectUris: string[];
  /** The SMART resource scopes the app may be granted (default 'patient/*.rs user/*.rs'). */
  scope?: string;
  /**
   * A confidential asymmetric app (private_key_jwt) gives its public keys; without them the app is public (PKCE).
   * Registered apps get no client secret: it would sit in the database in clear.
   */
  jwks?: { keys: JWK[] };
  clientName?: string;
}

export interface LaunchContext {
  patient?: string;
  encounter?: string;
}

export interface AuthServer {
  /** The current provider instance (replaced when the signing keys change). */
  readonly provider: Provider;
  readonly issuer: string;
  readonly fhirBase: string;
  /** Where plugin.ts mounts the provider: the issuer's path, e.g. '/oidc'. */
  readonly mountPath: string;
  readonly mode: 'demo' | 'production';
  /** Verifies a bearer access token for the FHIR API; throws OutcomeError 401. */
  verifyAccessToken: AccessTokenVerifier;
  /** Adds new current signing keys (previous ones keep verifying until they expire); returns the new kids. */
  rotateKeys(): Promise<string[]>;
  /** Registers (or replaces) a SMART Backend Services client: client_credentials with private_key_jwt. */
  registerBackendClient(client: BackendClientRegistration): Promise<void>;
  /** Registers (or replaces) a SMART app (authorization code + PKCE). */
  registerAppClient(client: AppClientRegistration): Promise<void>;
  /** Stores an EHR launch context; its id is the `launch` parameter handed to the app (valid one hour). */
  createLaunch(context: LaunchContext): Promise<string>;
  /** The public JWKS (as published at <issuer>/jwks). */
  publicJwks(): { keys: JWK[] };
  /**
   * "Sign out everywhere" at the authorization server: ends the account's sessions and grants (codes, refresh
   * tokens) and revokes the access tokens issued under them. Returns how many grants ended.
   */
  revokeAccount(accountId: string): Promise<number>;
  /** Reloads the revocation list and, when another server rotated them, the signing keys. */
  refresh(): Promise<void>;
  /** Handles one HTTP request for the provider (url already relative to mountPath; originalUrl set). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** For the interaction pages (plugin.ts). */
  readonly interactions: InteractionSupport;
  /** Key of the interaction forms' CSRF tokens (csrf.ts), derived from the secret key. */
  readonly csrfKey: Uint8Array;
  close(): Promise<void>;
}

export interface InteractionSupport {
  authenticate?: Authenticate;
  secondFactor?: SecondFactor;
  patientPicker?: PatientPicker;
  sessionCookie?: (sessionId: string) => string;
  isFirstParty(clientId: string): boolean;
  clientName(clientId: string): Promise<string | undefined>;
  /** Records the consent (a new grant with the missing scopes and the launch context); returns where to go next. */
  finishConsent(
    req: IncomingMessage,
    res: ServerResponse,
    interaction: Interaction,
    choice?: { patient?: string },
  ): Promise<string>;
}

interface StoredLaunch extends LaunchContext {
  fhirUser?: string;
  grantId?: string;
  accountId?: string;
}

/** Builds the authorization server: keys loaded or created, provider configured, revocation list loaded. */
export async function createAuthServer(options: AuthServerOptions): Promise<AuthServer> {
  const { db, mode } = options;
  const issuer = options.issuer.replace(/\/$/, '');
  const fhirBase = options.fhirBase.replace(/\/$/, '');
  const mountPath = new URL(issuer).pathname.replace(/\/$/, '');
  if (!mountPath) {
    throw new Error(`the issuer needs a path where the provider is mounted, e.g. ${issuer}/oidc`);
  }
  if (mode === 'production' && options.demoClientSecret !== undefined) {
    throw new Error(`the demo client '${DEMO_CLIENT_ID}' exists in demo mode only; unset SEN_DEMO_CLIENT_SECRET`);
  }
  const secretKey =
    typeof options.secretKey === 'string'
      ? parseEncryptionKey(options.secretKey)
      : options.secretKey
        ? Buffer.from(options.secretKey)
        : await resolveSecretKey({ mode, dataDir: options.dataDir });

  const ttl = {
    accessToken: options.ttl?.accessToken ?? 15 * 60,
    refreshToken: options.ttl?.refreshToken ?? 8 * 60 * 60,
    authorizationCode: options.ttl?.authorizationCode ?? 60,
    idToken: options.ttl?.idToken ?? 15 * 60,
    session: options.ttl?.session ?? 8 * 60 * 60,
    interaction: options.ttl?.interaction ?? 10 * 60,
  };
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const keyRetention = options.keyRetentionSeconds ?? DEFAULT_KEY_RETENTION_SECONDS;
  if (keyRetention < Math.max(ttl.accessToken, ttl.idToken) + clockTolerance) {
    throw new Error('keyRetentionSeconds must outlive the access and ID tokens');
  }
  const box = new SecretBox(secretKey);
  let keys: KeySet = await loadOrCreateKeys(db, secretKey);

  const revocations = new RevocationList(db);
  await revocations.refresh();
  const verificationKeys = new VerificationKeys(async () => (await readKeys(db, box)).publicJwks().keys, {
    reloadMs: options.keyReloadIntervalMs ?? 1000,
  });
  await verificationKeys.set(keys.publicJwks().keys);
  const verifyAccessToken = createAccessTokenVerifier({
    issuer,
    audience: fhirBase,
    keys: verificationKeys,
    revocations,
    clockToleranceSeconds: clockTolerance,
  });

  const Adapter = createAdapter(db, {
    onGrantRevoked: (grantId) =>
      revocations.add(`grant:${grantId}`, Date.now() + (ttl.accessToken + clockTolerance) * 1000),
  });
  const store = (model: string): Adapter => new Adapter(model);
  const launchRequests = store('LaunchRequest');
  const launchContexts = store('LaunchContext');

  const origin = new URL(fhirBase).origin;
  const firstParty = new Set(options.firstPartyClients ?? [WEB_CLIENT_ID]);
  const staticClients: ClientMetadata[] = [
    {
      client_id: WEB_CLIENT_ID,
      client_name: 'Sen',
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: options.webRedirectUris ?? [`${origin}/`],
      post_logout_redirect_uris: options.webPostLogoutRedirectUris ?? [`${origin}/`],
      scope: OIDC_SCOPES.join(' '),
      smart_scope: 'patient/*.cruds user/*.cruds',
    },
  ];
  if (mode === 'demo') {
    staticClients.push({
      client_id: DEMO_CLIENT_ID,
      client_name: 'Sen demo system client',
      client_secret: options.demoClientSecret ?? DEFAULT_DEMO_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      smart_scope: 'system/*.cruds',
    });
  }

  const absoluteFhirUser = (v: unknown): string | undefined => {
    if (typeof v !== 'string' || v.length === 0) {
      return undefined;
    }
    return /^[a-z][a-z0-9+.-]*:/i.test(v) ? v : `${fhirBase}/${v.replace(/^\//, '')}`;
  };

  const configuration: Configuration = {
    adapter: Adapter,
    clients: staticClients,
    jwks: undefined, // set per build
    scopes: OIDC_SCOPES,
    routes: {
      authorization: ROUTES.authorization,
      token: ROUTES.token,
      introspection: ROUTES.introspection,
      revocation: ROUTES.revocation,
      jwks: ROUTES.jwks,
      end_session: ROUTES.endSession,
    },
    // amr (pwd, otp) in the ID token: apps can see that the user signed in with a second factor
    claims: { openid: ['sub', 'amr'], fhirUser: ['fhirUser'] },
    extraClientMetadata: {
      properties: ['smart_scope', ...SEN_CLIENT_PROPERTIES],
      validator(_ctx, key, value) {
        validateSenClientProperty(key, value);
        if (key === 'smart_scope' && value !== undefined) {
          if (typeof value !== 'string') {
            throw new errors.InvalidClientMetadata('smart_scope must be a space-separated string');
          }
          try {
            assertResourceScopes(value);
          } catch (err) {
            throw new errors.InvalidClientMetadata((err as Error).message);
          }
        }
      },
    },
    extraParams: {
      // SMART: the FHIR base the app wants to reach; another server's URL is refused.
      async aud(_ctx, value) {
        if (value !== undefined && value.replace(/\/$/, '') !== fhirBase) {
          throw new errors.InvalidRequest('aud must be the FHIR base URL of this server');
        }
      },
      launch: null,
    },
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'RS384', 'PS256', 'PS384', 'ES256', 'ES384'],
      idTokenSigningAlgValues: ['RS256', 'ES256'],
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A client learns only about its own tokens.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: false },
      dPoP: { enabled: false }, // verifyAccessToken checks bearer tokens only
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.set(PAGE_HEADERS);
          ctx.body = logoutPage(form, ctx.oidc.client?.clientName);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.set(PAGE_HEADERS);
          ctx.body = loggedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? fhirBase,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          if (indicator.replace(/\/$/, '') !== fhirBase) {
            throw new errors.InvalidTarget('the only resource is the FHIR API');
          }
          const allowance = client.metadata().smart_scope;
          return {
            scope: grantableScopes(typeof allowance === 'string' ? allowance : undefined),
            audience: fhirBase,
            accessTokenTTL: ttl.accessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: ttl.accessToken,
      ClientCredentials: ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      IdToken: ttl.idToken,
      RefreshToken: (ctx) => ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? ttl.refreshToken,
      Grant: ttl.refreshToken + ttl.interaction,
      Session: ttl.session,
      Interaction: ttl.interaction,
    },
    rotateRefreshToken: () => true,
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || code.scopes.has('online_access')),
    // Every authorization gets its own grant (and launch context): never reuse the session's earlier grant.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    findAccount: async (_ctx, sub) => {
      if (!options.findAccount) {
        return { accountId: sub, claims: () => ({ sub }) };
      }
      const account = await options.findAccount(sub);
      if (!account) {
        return undefined;
      }
      return {
        accountId: account.accountId,
        claims: async () => {
          const claims = await account.claims();
          const fhirUser = absoluteFhirUser(claims.fhirUser);
          return { ...claims, sub: account.accountId, ...(fhirUser ? { fhirUser } : {}) };
        },
      };
    },
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken' || !token.grantId) {
        return undefined;
      }
      const launch = (await launchContexts.find(token.grantId)) as StoredLaunch | undefined;
      if (ctx) {
        ctx.state.senLaunch = launch;
      }
      return {
        gid: token.grantId,
        ...(launch?.patient ? { patient: launch.patient } : {}),
        ...(launch?.encounter ? { encounter: launch.encounter } : {}),
        ...(launch?.fhirUser ? { fhirUser: launch.fhirUser } : {}),
      };
    },
    interactions: {
      url: async (_ctx, interaction) =>
        options.interactionUrl?.(interaction.uid) ?? `${mountPath}/interaction/${interaction.uid}`,
    },
    clientBasedCORS: (_ctx, corsOrigin, client) =>
      corsOrigin !== 'null' &&
      client.clientAuthMethod === 'none' &&
      (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === corsOrigin),
    cookies: {
      keys: [deriveKey(secretKey, 'cookies v1').toString('base64url')],
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = htmlPage(
        'Lỗi đăng nhập / Sign-in error',
        `<h1>Không thể tiếp tục / Cannot continue</h1><p>${escapeHtml(out.error)}${
          out.error_description ? `: ${escapeHtml(out.error_description)}` : ''
        }</p>`,
      );
    },
  };

  const verifyForProvider = verifyAccessToken;
  const build = (keySet: KeySet): Provider => {
    const provider = new Provider(issuer, { ...configuration, jwks: keySet.providerJwks() });
    provider.proxy = true; // plugin.ts pins X-Forwarded-Host/Proto to the issuer's
    provider.on('server_error', (_ctx: unknown, err: Error) => {
      options.logger?.error({ errName: err.name, stack: err.stack?.split('\n').slice(1, 6).join('\n') }, 'oauth');
    });
    // Koa's own 'error' event (a failure outside oidc-provider's handlers): log the kind, never the message.
    (provider as unknown as NodeJS.EventEmitter).on('error', (err: Error) => {
      options.logger?.error({ errName: err.name }, 'oauth request failed');
    });
    provider.use(async (ctx, next) => {
      // SMART apps ask for offline_access without prompt=consent, which oidc-provider (following OpenID Connect)
      // would then drop. Sen asks for consent on every authorization anyway (a new grant each time), so say so.
      if (ctx.method === 'GET' && ctx.path === ROUTES.authorization) {
        const q = new URLSearchParams(ctx.querystring);
        const prompt = (q.get('prompt') ?? '').split(' ').filter(Boolean);
        if (
          (q.get('scope') ?? '').split(' ').includes('offline_access') &&
          !prompt.includes('consent') &&
          !prompt.includes('none') &&
          !q.has('request') &&
          !q.has('request_uri')
        ) {
          q.set('prompt', [...prompt, 'consent'].join(' '));
          ctx.querystring = q.toString();
          // oidc-provider finds its mount path by locating the request url inside originalUrl: keep them in step.
          (ctx.req as { originalUrl?: string }).originalUrl = mountPath + ctx.url;
        }
      }
      await next();
      const oidc = (ctx as unknown as Partial<KoaContextWithOIDC>).oidc;
      const route = oidc?.route;
      if (!oidc || !route) {
        return;
      }
      const body = ctx.body as Record<string, unknown> | undefined;
      if (route === 'token' && ctx.status === 200 && body && typeof body.access_token === 'string') {
        const launch = ctx.state.senLaunch as StoredLaunch | undefined;
        if (launch?.patient) {
          body.patient = launch.patient;
        }
        if (launch?.encounter) {
          body.encounter = launch.encounter;
        }
        if (launch?.fhirUser) {
          body.fhirUser = launch.fhirUser;
        }
        return;
      }
      // oidc-provider refuses to revoke or introspect structured (JWT) tokens; Sen's access tokens are JWTs.
      if (
        (route === 'revocation' || route === 'introspection') &&
        ctx.status === 400 &&
        body?.error === 'unsupported_token_type' &&
        oidc.client
      ) {
        const clientId = oidc.client.clientId;
        let token: VerifiedToken | undefined;
        try {
          token = await verifyForProvider(String(oidc.params?.token ?? ''));
        } catch {
          token = undefined;
        }
        ctx.status = 200;
        if (route === 'revocation') {
          if (token && token.clientId === clientId) {
            await revocations.add(`jti:${token.jti}`, (token.exp + clockTolerance) * 1000);
          }
          ctx.body = '';
          return;
        }
        ctx.type = 'application/json';
        ctx.set('Cache-Control', 'no-store');
        ctx.body =
          token && token.clientId === clientId
            ? {
                active: true,
                iss: issuer,
                aud: fhirBase,
                client_id: token.clientId,
                sub: token.sub,
                scope: token.scopes.join(' ') || undefined,
                exp: token.exp,
                jti: token.jti,
                token_type: 'Bearer',
                patient: token.patient,
                encounter: token.encounter,
                fhirUser: token.fhirUser,
              }
            : { active: false };
      }
    });
    return provider;
  };

  let provider = build(keys);
  let callback = provider.callback();
  const swap = (keySet: KeySet): void => {
    keys = keySet;
    provider = build(keySet);
    callback = provider.callback();
  };
  const signingKids = (k: KeySet): string =>
    k.keys
      .filter((x) => !x.retiredAt)
      .map((x) => x.kid)
      .join(',');

  let refreshes = 0;
  const refresh = async (): Promise<void> => {
    await revocations.refresh();
    const current = await readKeys(db, box);
    const kids = current.keys.map((k) => k.kid).join(',');
    if (signingKids(current) !== signingKids(keys) || kids !== keys.keys.map((k) => k.kid).join(',')) {
      swap(current);
      await verificationKeys.set(current.publicJwks().keys);
    }
    if (++refreshes % 120 === 0) {
      await purgeExpired(db);
    }
  };
  const intervalMs = options.refreshIntervalMs ?? 5000;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          refresh().catch((err: Error) => options.logger?.warn({ errName: err.name }, 'oauth refresh failed'));
        }, intervalMs)
      : undefined;
  timer?.unref();

  const saveLaunch = async (
    interaction: Interaction,
    grantId: string,
    accountId: string,
    chosenPatient?: string,
  ): Promise<string | null> => {
    const scopes = new Set(String(interaction.params.scope ?? '').split(' '));
    const launch: StoredLaunch = { grantId, accountId };
    if (scopes.has('fhirUser') || scopes.has('launch/patient')) {
      const account = options.findAccount ? await options.findAccount(accountId) : undefined;
      const claims = account ? await account.claims() : {};
      if (scopes.has('fhirUser')) {
        launch.fhirUser = absoluteFhirUser(claims.fhirUser);
      }
      if (scopes.has('launch/patient') && typeof claims.patient === 'string') {
        launch.patient = claims.patient;
      } else if (scopes.has('launch/patient') && chosenPatient) {
        launch.patient = chosenPatient; // picked by a clinician (patient-picker.ts checked they may see them)
      }
    }
    const launchParam = interaction.params.launch;
    if (scopes.has('launch') && typeof launchParam === 'string') {
      const ehr = (await launchRequests.find(launchParam)) as LaunchContext | undefined;
      if (!ehr) {
        return 'the launch is unknown or has expired';
      }
      if (ehr.patient) {
        launch.patient = ehr.patient;
      }
      if (ehr.encounter) {
        launch.encounter = ehr.encounter;
      }
    }
    await launchContexts.upsert(grantId, { ...launch }, ttl.refreshToken + ttl.interaction);
    return null;
  };

  const interactions: InteractionSupport = {
    authenticate: options.authenticate,
    secondFactor: options.secondFactor,
    patientPicker: options.patientPicker,
    sessionCookie: options.sessionCookie,
    isFirstParty: (clientId) => firstParty.has(clientId),
    async clientName(clientId) {
      const client = await provider.Client.find(clientId);
      return client?.clientName ?? undefined;
    },
    async finishConsent(req, res, interaction, choice) {
      const accountId = interaction.session?.accountId;
      if (!accountId) {
        throw new Error('consent without a signed-in account');
      }
      const details = interaction.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const grant = new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
      if (details.missingOIDCScope) {
        grant.addOIDCScope(details.missingOIDCScope.join(' '));
      }
      if (details.missingOIDCClaims) {
        grant.addOIDCClaims(details.missingOIDCClaims);
      }
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      const problem = await saveLaunch(interaction, grantId, accountId, choice?.patient);
      if (problem) {
        await grant.destroy();
        return provider.interactionResult(
          req,
          res,
          { error: 'invalid_request', error_description: problem },
          { mergeWithLastSubmission: false },
        );
      }
      return provider.interactionResult(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    },
  };

  const register = async (metadata: ClientMetadata): Promise<void> => {
    if (RESERVED_CLIENT_IDS.has(metadata.client_id)) {
      throw new Error(`the client id '${metadata.client_id}' is reserved`);
    }
    const Client = provider.Client as unknown as { validate(m: ClientMetadata): Promise<void> };
    await Client.validate(metadata);
    await store('Client').upsert(metadata.client_id, metadata);
  };

  return {
    get provider() {
      return provider;
    },
    issuer,
    fhirBase,
    mountPath,
    mode,
    verifyAccessToken,
    async rotateKeys() {
      const kids = await rotateStoredKeys(db, secretKey, { retentionSeconds: keyRetention });
      const current = await readKeys(db, box);
      swap(current);
      await verificationKeys.set(current.publicJwks().keys);
      return kids;
    },
    async registerBackendClient(client) {
      if (!client.jwks && !client.jwksUri) {
        throw new Error('a backend client needs its public keys (jwks or jwksUri)');
      }
      assertResourceScopes(client.scope);
      await register({
        client_id: client.clientId,
        client_name: client.clientName,
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        ...(client.jwks ? { jwks: client.jwks } : { jwks_uri: client.jwksUri }),
        smart_scope: client.scope,
        ...senClientMetadata(client),
      });
    },
    async registerAppClient(client) {
      const scope = client.scope ?? 'patient/*.rs user/*.rs';
      assertResourceScopes(scope);
      await register({
        client_id: client.clientId,
        client_name: client.clientName,
        application_type: 'web',
        token_endpoint_auth_method: client.jwks ? 'private_key_jwt' : 'none',
        ...(client.jwks ? { jwks: client.jwks } : {}),
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: client.redirectUris,
        scope: OIDC_SCOPES.join(' '),
        smart_scope: scope,
      });
    },
    async createLaunch(context) {
      const id = randomBytes(24).toString('base64url');
      await launchRequests.upsert(id, { ...context }, 60 * 60);
      return id;
    },
    publicJwks: () => keys.publicJwks(),
    async revokeAccount(accountId) {
      const grantIds = await deleteAccountGrants(db, accountId);
      for (const grantId of grantIds) {
        await revocations.add(`grant:${grantId}`, Date.now() + (ttl.accessToken + clockTolerance) * 1000);
      }
      return grantIds.length;
    },
    refresh,
    async handle(req, res) {
      await callback(req, res);
    },
    interactions,
    csrfKey: deriveKey(secretKey, 'csrf v1'),
    async close() {
      if (timer) {
        clearInterval(timer);
      }
    },
  };
}
