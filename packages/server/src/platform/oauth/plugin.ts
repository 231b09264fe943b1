/**
 * Mounts the authorization server in Fastify:
 *
 * - `<mount path>/*` (e.g. /oidc/token): handed, unparsed, to the provider (a Koa app). The routes live in an
 *   encapsulated context whose only content-type parser leaves the body stream alone, and the reply is hijacked.
 *   The provider sees the issuer's host and scheme (X-Forwarded-Host/Proto are set from the issuer, whatever the
 *   client sent), so the URLs it builds match the configured public URL.
 * - `<mount path>/interaction/:uid` (+ /login, /confirm, /abort): the sign-in and consent pages.
 * - `/.well-known/openid-configuration` (also at `<mount path>/.well-known/openid-configuration`, the standard
 *   place for an issuer with a path) and `/.well-known/smart-configuration` (also at `<FHIR base>/.well-known/…`,
 *   where SMART clients look).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction } from 'oidc-provider';
// the provider's own request-context storage (a plain module without an exports map): see releaseProviderContext
import providerAls from 'oidc-provider/lib/helpers/als.js';
import { appendSetCookie } from '../auth/form-token.ts';
import { registerCsrf } from './csrf.ts';
import { capabilitySecurity, smartConfiguration } from './discovery.ts';
import { registerSecondStepRoutes, renderSecondStep, type SecondStepHost } from './enrolment.ts';
import { consentPage, htmlPage, loginPage, type LoginPageOptions, PAGE_HEADERS } from './html.ts';
import { chosenPatient, needsPatientChoice, type PickerHost, sendPatientPicker } from './patient-picker.ts';
import type { AuthServer } from './provider.ts';

export { capabilitySecurity, smartConfiguration } from './discovery.ts';

/**
 * oidc-provider keeps each request's context in an AsyncLocalStorage. On Node 20 an enabled AsyncLocalStorage
 * installs promise hooks for the whole process, which taxes every promise of every FHIR request long after the
 * last sign-in. When no provider request is running, its storage is disabled (no context is lost: there is
 * none); the provider's next request enables it again. Node 22+ keeps contexts without promise hooks.
 */
function releaseProviderContext(): void {
  providerAls.disable();
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const;

/** The CapabilityStatement rest.security block of this server (SMART oauth-uris). */
export function authSecurityBlock(server: AuthServer): ReturnType<typeof capabilitySecurity> {
  return capabilitySecurity(server.issuer);
}

/**
 * Another way to sign in at the authorization server (e.g. the national-ID identity provider, national-id.ts): a
 * button on the sign-in page and the routes behind it, which finish the interaction with a login result.
 */
export interface ExternalSignIn {
  label: { vi: string; en: string };
  /** The path the sign-in page's button opens for one interaction. */
  startPath(uid: string): string;
  register(scope: FastifyInstance, server: AuthServer): void;
}

export interface AuthServerMountOptions {
  externalSignIn?: ExternalSignIn;
}

export async function registerAuthServer(
  app: FastifyInstance,
  server: AuthServer,
  options: AuthServerMountOptions = {},
): Promise<void> {
  const { mountPath } = server;
  const issuerUrl = new URL(server.issuer);

  let oidcInFlight = 0;
  const forward = async (req: FastifyRequest, reply: FastifyReply, url?: string): Promise<void> => {
    reply.hijack();
    oidcInFlight += 1;
    const raw = req.raw as IncomingMessage & { originalUrl?: string };
    const full = url ?? raw.url ?? '/';
    const rest = full.slice(mountPath.length);
    raw.originalUrl = full;
    raw.url = rest.startsWith('/') ? rest : `/${rest}`;
    raw.headers['x-forwarded-host'] = issuerUrl.host;
    raw.headers['x-forwarded-proto'] = issuerUrl.protocol.replace(/:$/, '');
    try {
      await server.handle(raw, reply.raw);
    } catch (err) {
      req.log.error({ errName: (err as Error).name }, 'oauth request failed');
      if (!reply.raw.headersSent) {
        reply.raw.statusCode = 500;
        reply.raw.setHeader('content-type', 'application/json');
        reply.raw.end(JSON.stringify({ error: 'server_error' }));
      }
    } finally {
      oidcInFlight -= 1;
      if (oidcInFlight === 0) {
        releaseProviderContext();
      }
    }
  };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Leave the body stream to the provider.
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.route({ method: [...METHODS], url: mountPath, handler: (req, reply) => forward(req, reply) });
    scope.route({ method: [...METHODS], url: `${mountPath}/*`, handler: (req, reply) => forward(req, reply) });
    scope.get('/.well-known/openid-configuration', (req, reply) =>
      forward(req, reply, `${mountPath}/.well-known/openid-configuration`),
    );
  });

  const smart = smartConfiguration(server.issuer);
  const sendSmart = async (_req: FastifyRequest, reply: FastifyReply): Promise<unknown> =>
    reply.header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=3600').send(smart);
  app.get('/.well-known/smart-configuration', sendSmart);
  const fhirPath = new URL(server.fhirBase).pathname.replace(/\/$/, '');
  if (fhirPath) {
    app.get(`${fhirPath}/.well-known/smart-configuration`, sendSmart);
  }

  await app.register(async (scope) => registerInteractions(scope, server, options.externalSignIn));
}

type Form = Record<string, string>;

function parseForm(body: unknown): Form {
  if (typeof body === 'string') {
    return Object.fromEntries(new URLSearchParams(body));
  }
  if (body && typeof body === 'object') {
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
  }
  return {};
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

function errorPage(reply: FastifyReply, status: number, vi: string, en: string): FastifyReply {
  return sendPage(
    reply,
    status,
    htmlPage(
      'Lỗi / Error',
      `<h1>Không thể tiếp tục <span class="en">/ Cannot continue</span></h1><p>${vi}</p><p class="en">${en}</p>`,
    ),
  );
}

function registerInteractions(scope: FastifyInstance, server: AuthServer, external?: ExternalSignIn): void {
  const { mountPath, interactions } = server;
  registerCsrf(scope, { key: server.csrfKey, origin: new URL(server.issuer).origin });
  external?.register(scope, server);
  const externalLink = (uid: string): LoginPageOptions['external'] =>
    external ? { href: external.startPath(uid), ...external.label } : undefined;
  if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, body),
    );
  }
  const base = (uid: string): string => `${mountPath}/interaction/${encodeURIComponent(uid)}`;

  /** The interaction behind the request's cookie, checked against the uid in the path. */
  const load = async (req: FastifyRequest, reply: FastifyReply): Promise<Interaction | undefined> => {
    const { uid } = req.params as { uid: string };
    let interaction: Interaction;
    try {
      interaction = await server.provider.interactionDetails(req.raw, reply.raw);
    } catch {
      errorPage(
        reply,
        400,
        'Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy mở lại ứng dụng.',
        'The sign-in session has expired or is invalid. Open the application again.',
      );
      return undefined;
    }
    if (interaction.uid !== uid) {
      errorPage(reply, 400, 'Phiên đăng nhập không khớp.', 'The sign-in session does not match.');
      return undefined;
    }
    return interaction;
  };

  const clientName = async (interaction: Interaction): Promise<string> => {
    const clientId = String(interaction.params.client_id);
    return (await interactions.clientName(clientId)) ?? clientId;
  };

  const requestedScopes = (interaction: Interaction): string[] =>
    String(interaction.params.scope ?? '')
      .split(' ')
      .filter(Boolean);

  const secure = new URL(server.issuer).protocol === 'https:';
  const secondStep: SecondStepHost = {
    mountPath,
    secure,
    secondFactor: interactions.secondFactor,
    load,
    async finish(req, reply, result) {
      const to = await server.provider.interactionResult(
        req.raw,
        reply.raw,
        { login: { accountId: result.accountId, amr: result.amr } },
        { mergeWithLastSubmission: false },
      );
      if (result.sessionId && interactions.sessionCookie) {
        appendSetCookie(reply.raw, interactions.sessionCookie(result.sessionId));
      }
      return reply.redirect(to, 303);
    },
  };
  registerSecondStepRoutes(scope, secondStep);
  const pickerHost = async (interaction: Interaction): Promise<PickerHost | undefined> =>
    interactions.patientPicker && (await needsPatientChoice(interactions.patientPicker, interaction))
      ? {
          picker: interactions.patientPicker,
          secure,
          base: base(interaction.uid),
          clientName: await clientName(interaction),
          scopes: requestedScopes(interaction),
        }
      : undefined;

  scope.get(`${mountPath}/interaction/:uid`, async (req, reply) => {
    const interaction = await load(req, reply);
    if (!interaction) {
      return reply;
    }
    const { uid } = interaction;
    if (interaction.prompt.name === 'login') {
      return sendPage(
        reply,
        interactions.authenticate || external ? 200 : 503,
        loginPage({
          action: `${base(uid)}/login`,
          clientName: await clientName(interaction),
          unavailable: !interactions.authenticate && !external,
          external: externalLink(uid),
        }),
      );
    }
    if (interaction.prompt.name === 'consent') {
      const picker = await pickerHost(interaction);
      if (picker) {
        return sendPatientPicker(picker, req, reply, interaction);
      }
      if (interactions.isFirstParty(String(interaction.params.client_id))) {
        return reply.redirect(await interactions.finishConsent(req.raw, reply.raw, interaction), 303);
      }
      return sendPage(
        reply,
        200,
        consentPage({
          confirmAction: `${base(uid)}/confirm`,
          abortAction: `${base(uid)}/abort`,
          clientName: await clientName(interaction),
          scopes: requestedScopes(interaction),
        }),
      );
    }
    return errorPage(reply, 400, 'Bước đăng nhập không được hỗ trợ.', 'Unsupported sign-in step.');
  });

  scope.post(`${mountPath}/interaction/:uid/login`, async (req, reply) => {
    const interaction = await load(req, reply);
    if (!interaction) {
      return reply;
    }
    if (interaction.prompt.name !== 'login') {
      return reply.redirect(base(interaction.uid), 303);
    }
    const authenticate = interactions.authenticate;
    const name = await clientName(interaction);
    const action = `${base(interaction.uid)}/login`;
    if (!authenticate) {
      return sendPage(reply, 503, loginPage({ action, clientName: name, unavailable: true }));
    }
    const form = parseForm(req.body);
    const username = (form.username ?? '').trim();
    const password = form.password ?? '';
    const totp = (form.totp ?? '').trim() || undefined;
    if (!username || !password) {
      return sendPage(
        reply,
        400,
        loginPage({
          action,
          clientName: name,
          username,
          error: 'Nhập tên đăng nhập và mật khẩu. / Enter a username and password.',
        }),
      );
    }
    const result = await authenticate(username, password, totp, {
      ip: req.ip,
      clientId: String(interaction.params.client_id),
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
    });
    if ('error' in result) {
      return sendPage(
        reply,
        401,
        loginPage({ action, clientName: name, username, error: result.error, external: externalLink(interaction.uid) }),
      );
    }
    if ('next' in result) {
      return renderSecondStep(secondStep, req, reply, interaction, result);
    }
    return secondStep.finish(req, reply, {
      accountId: result.accountId,
      amr: result.amr ?? (totp ? ['pwd', 'otp'] : ['pwd']),
      sessionId: result.sessionId,
    });
  });

  scope.post(`${mountPath}/interaction/:uid/confirm`, async (req, reply) => {
    const interaction = await load(req, reply);
    if (!interaction) {
      return reply;
    }
    if (interaction.prompt.name !== 'consent') {
      return reply.redirect(base(interaction.uid), 303);
    }
    const picker = await pickerHost(interaction);
    if (picker) {
      const patient = await chosenPatient(picker, req, reply, interaction, parseForm(req.body));
      if (!patient) {
        return reply;
      }
      return reply.redirect(await interactions.finishConsent(req.raw, reply.raw, interaction, { patient }), 303);
    }
    return reply.redirect(await interactions.finishConsent(req.raw, reply.raw, interaction), 303);
  });

  scope.post(`${mountPath}/interaction/:uid/abort`, async (req, reply) => {
    const interaction = await load(req, reply);
    if (!interaction) {
      return reply;
    }
    const to = await server.provider.interactionResult(
      req.raw,
      reply.raw,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(to, 303);
  });
}
