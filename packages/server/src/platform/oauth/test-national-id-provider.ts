/**
 * A real test identity provider for the national-ID sign-in: a second `oidc-provider` instance on 127.0.0.1, with
 * its own simple sign-in form (personal ID number + password), keyed on the 12-digit number as `sub` (like VNeID).
 * Tests drive it with a browser (test-support.ts Browser). Used by *.test.ts only; not for production.
 *
 * `idTokenHook` lets a test change the ID token of the next token responses (re-signed with the provider's own key,
 * or not re-signed at all) to prove that Sen refuses a wrong audience, nonce, issuer, expiry or signature.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider, {
  type Adapter,
  type AdapterConstructor,
  type AdapterPayload,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { escapeHtml, htmlPage, PAGE_HEADERS } from './html.ts';
import { freePort } from './test-support.ts';

export const TEST_IDP_PASSWORD = 'mat-khau-vneid';

export interface TestIdpAccount {
  /** The 12-digit personal ID number: the `sub` of the ID token. */
  sub: string;
  name?: string;
  /** Default TEST_IDP_PASSWORD. */
  password?: string;
  /** More ID token claims (always released, under the openid scope). */
  claims?: Record<string, string>;
}

export interface TestIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface TestNationalIdProviderOptions {
  accounts: TestIdpAccount[];
  clients: TestIdpClient[];
  /** A port picked beforehand (e.g. to configure Sen first); default a free one. */
  port?: number;
}

export type IdTokenHook = (
  idToken: string,
  resign: (changes: Record<string, unknown>) => Promise<string>,
) => string | Promise<string>;

export interface TestNationalIdProvider {
  issuer: string;
  /** Changes the ID token of token responses while set. */
  idTokenHook?: IdTokenHook;
  /** Successful sign-ins at the provider's form so far. */
  readonly signIns: number;
  close(): Promise<void>;
}

/** oidc-provider's storage in memory (the library's own one is for development and warns). */
function memoryAdapter(): AdapterConstructor {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  const live = (key: string): AdapterPayload | undefined => {
    const e = entries.get(key);
    if (!e || (e.expiresAt !== undefined && e.expiresAt < Date.now())) {
      return undefined;
    }
    return e.payload;
  };
  return class MemoryAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    key(id: string): string {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      entries.set(this.key(id), {
        payload: { ...payload },
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return live(this.key(id));
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [key, e] of entries) {
        if (key.startsWith(`${this.name}:`) && e.payload.uid === uid) {
          return live(key);
        }
      }
      return undefined;
    }
    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined;
    }
    async consume(id: string): Promise<void> {
      const p = live(this.key(id));
      if (p) {
        p.consumed = Math.floor(Date.now() / 1000);
      }
    }
    async destroy(id: string): Promise<void> {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, e] of entries) {
        if (e.payload.grantId === grantId) {
          entries.delete(key);
        }
      }
    }
  };
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) {
      throw new Error('form too large');
    }
    chunks.push(chunk as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function loginForm(uid: string, error?: string): string {
  return htmlPage(
    'VNeID (thử nghiệm) / VNeID (test)',
    `<h1>Định danh điện tử (thử nghiệm) <span class="en">/ National ID (test)</span></h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="id_number">Số định danh cá nhân <span class="en">/ Personal ID number</span></label>
<input id="id_number" name="id_number" inputmode="numeric" required>
<label for="password">Mật khẩu <span class="en">/ Password</span></label>
<input id="password" name="password" type="password" required>
<button type="submit">Đăng nhập <span class="en">/ Sign in</span></button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit" class="secondary">Huỷ <span class="en">/ Cancel</span></button></form>`,
  );
}

export async function startTestNationalIdProvider(
  options: TestNationalIdProviderOptions,
): Promise<TestNationalIdProvider> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map(options.accounts.map((a) => [a.sub, a]));
  const extraClaims = [...new Set(options.accounts.flatMap((a) => Object.keys(a.claims ?? {})))];
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-idp-rs256', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [jwk] },
    claims: { openid: ['sub', ...extraClaims], profile: ['name'] },
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => {
      const a = accounts.get(sub);
      return a ? { accountId: sub, claims: () => ({ sub, name: a.name, ...a.claims }) } : undefined;
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: {
      keys: ['test-national-id-provider'],
      names: { session: '_idp_session', interaction: '_idp_interaction', resume: '_idp_resume' },
    },
    // No consent step: the test provider releases the openid claims to every registered client.
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client?.clientId;
      const accountId = ctx.oidc.session?.accountId;
      if (!clientId || !accountId) {
        return undefined;
      }
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
      const found = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (found) {
        return found;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope('openid profile');
      await grant.save();
      return grant;
    },
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Grant: 600, Interaction: 600, Session: 600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = htmlPage('Lỗi / Error', `<h1>Lỗi / Error</h1><p>${escapeHtml(out.error)}</p>`);
    },
  });

  let signIns = 0;
  const idp: TestNationalIdProvider = {
    issuer,
    idTokenHook: undefined,
    get signIns() {
      return signIns;
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const resign = async (token: string, changes: Record<string, unknown>): Promise<string> => {
    const header = decodeProtectedHeader(token);
    return new SignJWT({ ...decodeJwt(token), ...changes })
      .setProtectedHeader({ alg: 'RS256', kid: header.kid, typ: header.typ })
      .sign(privateKey);
  };
  provider.use(async (ctx, next) => {
    await next();
    const route = (ctx as unknown as Partial<KoaContextWithOIDC>).oidc?.route;
    const body = ctx.body as Record<string, unknown> | undefined;
    const hook = idp.idTokenHook;
    if (route === 'token' && ctx.status === 200 && hook && typeof body?.id_token === 'string') {
      const original = body.id_token;
      body.id_token = await hook(original, (changes) => resign(original, changes));
    }
  });

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, step?: string): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid || details.prompt.name !== 'login') {
      res.writeHead(400, PAGE_HEADERS).end(htmlPage('Lỗi / Error', '<p>Phiên không hợp lệ / Invalid session</p>'));
      return;
    }
    if (req.method === 'GET' && !step) {
      res.writeHead(200, PAGE_HEADERS).end(loginForm(uid));
      return;
    }
    if (req.method === 'POST' && step === 'abort') {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (req.method === 'POST' && step === 'login') {
      const form = await readForm(req);
      const account = accounts.get((form.id_number ?? '').trim());
      if (!account || (account.password ?? TEST_IDP_PASSWORD) !== form.password) {
        res.writeHead(401, PAGE_HEADERS).end(loginForm(uid, 'Sai số định danh hoặc mật khẩu. / Wrong ID or password.'));
        return;
      }
      signIns++;
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    res.writeHead(405).end();
  };

  const callback = provider.callback();
  const server: Server = createServer((req, res) => {
    const m = /^\/interaction\/([^/?]+)(?:\/(login|abort))?(?:\?.*)?$/.exec(req.url ?? '');
    if (!m) {
      callback(req, res);
      return;
    }
    interaction(req, res, decodeURIComponent(m[1]), m[2]).catch(() => {
      if (!res.headersSent) {
        res.writeHead(400, PAGE_HEADERS).end(htmlPage('Lỗi / Error', '<p>Phiên không hợp lệ / Invalid session</p>'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return idp;
}
