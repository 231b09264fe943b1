/**
 * Patient sign-in through an external OpenID Connect identity provider keyed on the 12-digit personal ID number
 * (the way national VNeID works). Sen is the relying party, through `openid-client` (OpenID certified RP):
 * authorization code + PKCE (S256), `state` and `nonce`, the ID token checked for issuer, audience, expiry, nonce
 * and its signature against the provider's JWKS (non-repudiation checks on).
 *
 * The flow hangs off the authorization server's sign-in interaction:
 *
 *   <mount>/interaction/:uid/national-id        the button on Sen's sign-in page: stores state, nonce and the PKCE
 *                                               verifier (oauth_store, 10 min, once) and redirects to the provider
 *   <mount>/national-id/callback                the redirect URI registered at the provider: finds the interaction
 *                                               by `state` and hands the answer to the next route, where the
 *                                               interaction cookie is sent
 *   <mount>/interaction/:uid/national-id/done   the browser's interaction cookie must match the state's: then the
 *                                               code is exchanged, the ID token checked, the number validated and the
 *                                               patient account signed in (hooks.signIn); the interaction finishes
 *
 * Nothing here logs or audits the number itself; refusals and failures name a reason only.
 */
import type { Db } from '@sen/db';
import { validateCccd } from '@sen/vn';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction } from 'oidc-provider';
import * as oidc from 'openid-client';
import { createAdapter } from './adapter.ts';
import { escapeHtml, htmlPage, PAGE_HEADERS } from './html.ts';
import type { ExternalSignIn } from './plugin.ts';
import type { AuthServer } from './provider.ts';

export interface NationalIdConfig {
  /** The identity provider's issuer URL (OpenID Connect discovery is read from it). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The ID token claim carrying the 12-digit personal ID number (default `sub`). */
  claim?: string;
  /** Scopes asked for (default `openid`). */
  scope?: string;
}

/** Why a sign-in through the identity provider did not reach an account. */
export type NationalIdFailure =
  | 'cancelled' // the person cancelled, or the provider answered with an error
  | 'token-refused' // the provider's token endpoint refused the code exchange (client credentials, used code, …)
  | 'id-token-invalid' // the token response or the ID token failed a check (signature, audience, nonce, expiry, …)
  | 'idp-unreachable' // discovery or the token endpoint could not be reached
  | 'invalid-id-number' // the claim is absent or not a valid 12-digit personal ID number
  | 'no-patient' // no Patient at this facility carries the number
  | 'ambiguous-patient' // more than one Patient carries it (records to merge)
  | 'disabled'; // the patient account is disabled

export interface NationalIdContext {
  ip: string;
  clientId: string;
}

export interface NationalIdHooks {
  /** A verified, valid personal ID number: find the Patient and sign the account in, or say why not. */
  signIn(
    nationalId: string,
    context: NationalIdContext,
  ): Promise<{ accountId: string } | { refused: 'no-patient' | 'ambiguous-patient' | 'disabled' }>;
  /** Any other failure after the provider answered (for the audit trail). */
  failed(reason: NationalIdFailure, context: NationalIdContext): Promise<void>;
}

export interface NationalIdOptions {
  config: NationalIdConfig;
  /** For the pending sign-ins (oauth_store). */
  db: Db;
  /** Sen's issuer (e.g. http://localhost:8080/oidc): the redirect URI is `<issuer>/national-id/callback`. */
  senIssuer: string;
  mode: 'demo' | 'production';
  hooks: NationalIdHooks;
}

/** Messages of the refusal and failure pages: Vietnamese first, English second. */
const PAGES: Record<NationalIdFailure, { status: number; vi: string; en: string }> = {
  'no-patient': {
    status: 403,
    vi: 'Chưa có hồ sơ tại cơ sở này cho số định danh cá nhân của bạn. Vui lòng liên hệ quầy tiếp đón để được đăng ký khám.',
    en: 'There is no record at this facility for your personal ID number yet. Please contact the registration desk.',
  },
  'ambiguous-patient': {
    status: 403,
    vi: 'Số định danh của bạn khớp với nhiều hồ sơ tại cơ sở này. Vui lòng liên hệ quầy tiếp đón để được hợp nhất hồ sơ.',
    en: 'Your personal ID number matches more than one record here. Please contact the registration desk.',
  },
  disabled: {
    status: 403,
    vi: 'Tài khoản bệnh nhân này đã bị vô hiệu hoá. Vui lòng liên hệ cơ sở.',
    en: 'This patient account is disabled. Please contact the facility.',
  },
  cancelled: {
    status: 401,
    vi: 'Đăng nhập bằng định danh điện tử không thành công hoặc đã bị huỷ.',
    en: 'Sign-in with national ID did not succeed or was cancelled.',
  },
  'id-token-invalid': {
    status: 401,
    vi: 'Không xác minh được phản hồi của nhà cung cấp định danh điện tử.',
    en: "The national identity provider's answer could not be verified.",
  },
  'token-refused': {
    status: 502,
    vi: 'Nhà cung cấp định danh điện tử từ chối yêu cầu đăng nhập của cơ sở.',
    en: "The national identity provider refused the facility's sign-in request.",
  },
  'idp-unreachable': {
    status: 503,
    vi: 'Không kết nối được nhà cung cấp định danh điện tử. Vui lòng thử lại sau.',
    en: 'The national identity provider cannot be reached. Please try again later.',
  },
  'invalid-id-number': {
    status: 401,
    vi: 'Nhà cung cấp định danh không trả về số định danh cá nhân hợp lệ (12 chữ số).',
    en: 'The identity provider did not return a valid 12-digit personal ID number.',
  },
};

const PENDING_TTL_SECONDS = 600;

interface Pending {
  uid: string;
  verifier: string;
  nonce: string;
  [key: string]: unknown;
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** The relying party: discovery (lazy, retried after a failure), authorization URL, code exchange. */
export class NationalIdClient {
  readonly config: NationalIdConfig;
  readonly redirectUri: string;
  readonly claim: string;
  readonly #allowHttp: boolean;
  #configuration?: Promise<oidc.Configuration>;

  constructor(config: NationalIdConfig, redirectUri: string, mode: 'demo' | 'production') {
    const issuer = new URL(config.issuer);
    this.#allowHttp = issuer.protocol === 'http:' && mode === 'demo' && isLoopback(issuer);
    if (issuer.protocol !== 'https:' && !this.#allowHttp) {
      throw new Error('the national ID issuer must be an https URL (http only to 127.0.0.1 in demo mode)');
    }
    if (!config.clientId || !config.clientSecret) {
      throw new Error('the national ID sign-in needs a client id and a client secret');
    }
    this.config = config;
    this.redirectUri = redirectUri;
    this.claim = config.claim || 'sub';
  }

  configuration(): Promise<oidc.Configuration> {
    this.#configuration ??= oidc
      .discovery(
        new URL(this.config.issuer),
        this.config.clientId,
        { client_secret: this.config.clientSecret, redirect_uris: [this.redirectUri] },
        oidc.ClientSecretBasic(this.config.clientSecret),
        {
          timeout: 10,
          execute: [oidc.enableNonRepudiationChecks, ...(this.#allowHttp ? [oidc.allowInsecureRequests] : [])],
        },
      )
      .catch((err: unknown) => {
        this.#configuration = undefined; // try again next time
        throw err;
      });
    return this.#configuration;
  }

  /** Where to send the browser, and what to keep until it comes back. */
  async start(uid: string): Promise<{ url: string; state: string; pending: Pending }> {
    const configuration = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.scope ?? 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.toString(), state, pending: { uid, verifier, nonce } };
  }

  /** Exchanges the code and checks the ID token; returns the validated personal ID number. */
  async finish(
    query: URLSearchParams,
    state: string,
    pending: Pending,
  ): Promise<{ ok: true; nationalId: string } | { ok: false; reason: NationalIdFailure }> {
    let configuration: oidc.Configuration;
    try {
      configuration = await this.configuration();
    } catch {
      return { ok: false, reason: 'idp-unreachable' };
    }
    const current = new URL(this.redirectUri);
    current.search = query.toString();
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) {
        return { ok: false, reason: 'cancelled' };
      }
      if (err instanceof oidc.ResponseBodyError || err instanceof oidc.WWWAuthenticateChallengeError) {
        return { ok: false, reason: 'token-refused' };
      }
      const cause = (err as { cause?: unknown }).cause;
      if (err instanceof TypeError || cause instanceof TypeError || (err as Error).name === 'TimeoutError') {
        return { ok: false, reason: 'idp-unreachable' }; // fetch failed
      }
      return { ok: false, reason: 'id-token-invalid' };
    }
    const value = claims?.[this.claim];
    const checked = typeof value === 'string' ? validateCccd(value) : undefined;
    if (!checked?.ok) {
      return { ok: false, reason: 'invalid-id-number' };
    }
    return { ok: true, nationalId: checked.value };
  }
}

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .headers(PAGE_HEADERS)
    .send(htmlPage('Đăng nhập bằng định danh điện tử / Sign in with national ID', body));
}

function failurePage(reply: FastifyReply, reason: NationalIdFailure, retry?: string): FastifyReply {
  const p = PAGES[reason];
  const again = retry
    ? `<p><a href="${escapeHtml(retry)}">Quay lại trang đăng nhập <span class="en">/ Back to sign-in</span></a></p>`
    : '';
  return page(
    reply,
    p.status,
    `<h1>Không thể đăng nhập <span class="en">/ Cannot sign in</span></h1>
<p role="alert">${escapeHtml(p.vi)}</p><p class="en">${escapeHtml(p.en)}</p>${again}`,
  );
}

function expiredPage(reply: FastifyReply): FastifyReply {
  return page(
    reply,
    400,
    `<h1>Không thể tiếp tục <span class="en">/ Cannot continue</span></h1>
<p>Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy mở lại ứng dụng.</p>
<p class="en">The sign-in session has expired or is invalid. Open the application again.</p>`,
  );
}

/** The national-ID sign-in as an external sign-in of Sen's authorization server (see plugin.ts). */
export function createNationalIdSignIn(options: NationalIdOptions): ExternalSignIn & { client: NationalIdClient } {
  const senIssuer = options.senIssuer.replace(/\/$/, '');
  const mountPath = new URL(senIssuer).pathname.replace(/\/$/, '');
  const client = new NationalIdClient(options.config, `${senIssuer}/national-id/callback`, options.mode);
  const Adapter = createAdapter(options.db);
  const pendingStore = new Adapter('NationalIdLogin');
  const { hooks } = options;
  const base = (uid: string): string => `${mountPath}/interaction/${encodeURIComponent(uid)}`;

  const load = async (req: FastifyRequest, reply: FastifyReply, server: AuthServer): Promise<Interaction | null> => {
    try {
      const interaction = await server.provider.interactionDetails(req.raw, reply.raw);
      return interaction.uid === (req.params as { uid: string }).uid ? interaction : null;
    } catch {
      return null;
    }
  };

  return {
    client,
    label: {
      vi: 'Đăng nhập bằng định danh điện tử (VNeID)',
      en: 'Sign in with national ID',
    },
    startPath: (uid) => `${base(uid)}/national-id`,
    register(scope: FastifyInstance, server: AuthServer): void {
      scope.get(`${mountPath}/interaction/:uid/national-id`, async (req, reply) => {
        const interaction = await load(req, reply, server);
        if (!interaction) {
          return expiredPage(reply);
        }
        if (interaction.prompt.name !== 'login') {
          return reply.redirect(base(interaction.uid), 303);
        }
        let started: Awaited<ReturnType<NationalIdClient['start']>>;
        try {
          started = await client.start(interaction.uid);
        } catch (err) {
          req.log.warn({ errName: (err as Error).name }, 'national ID provider discovery failed');
          return failurePage(reply, 'idp-unreachable', base(interaction.uid));
        }
        await pendingStore.upsert(started.state, started.pending, PENDING_TTL_SECONDS);
        return reply.redirect(started.url, 303);
      });

      scope.get(`${mountPath}/national-id/callback`, async (req, reply) => {
        const query = new URLSearchParams((req.raw.url ?? '').split('?')[1] ?? '');
        const state = query.get('state');
        const pending = state ? ((await pendingStore.find(state)) as Pending | undefined) : undefined;
        if (!pending) {
          return expiredPage(reply);
        }
        return reply.redirect(`${base(pending.uid)}/national-id/done?${query.toString()}`, 303);
      });

      scope.get(`${mountPath}/interaction/:uid/national-id/done`, async (req, reply) => {
        const query = new URLSearchParams((req.raw.url ?? '').split('?')[1] ?? '');
        const state = query.get('state') ?? '';
        const interaction = await load(req, reply, server);
        const pending = state ? ((await pendingStore.find(state)) as Pending | undefined) : undefined;
        // The browser that started must be the one back here: its interaction cookie names the state's interaction.
        if (!interaction || !pending || pending.uid !== interaction.uid || interaction.prompt.name !== 'login') {
          return expiredPage(reply);
        }
        await pendingStore.destroy(state); // once
        const context = { ip: req.ip, clientId: String(interaction.params.client_id) };
        const result = query.has('error')
          ? ({ ok: false, reason: 'cancelled' } as const)
          : await client.finish(query, state, pending);
        if (!result.ok) {
          await hooks.failed(result.reason, context);
          return failurePage(reply, result.reason, base(interaction.uid));
        }
        const signedIn = await hooks.signIn(result.nationalId, context);
        if ('refused' in signedIn) {
          return failurePage(reply, signedIn.refused, base(interaction.uid));
        }
        const to = await server.provider.interactionResult(
          req.raw,
          reply.raw,
          { login: { accountId: signedIn.accountId } },
          { mergeWithLastSubmission: false },
        );
        return reply.redirect(to, 303);
      });
    },
  };
}
