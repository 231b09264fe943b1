/**
 * The second sign-in step in the authorization server's interaction (server-rendered, Vietnamese first):
 *
 * - `POST <mount>/interaction/:uid/mfa`: the 6-digit code after the password, for an account with TOTP enrolled.
 * - `POST <mount>/interaction/:uid/enrol`: enrolment for an account whose role requires MFA and that has none yet: a
 *   QR code of the otpauth:// URI (an inline SVG drawn on the server by the `qrcode` package) and the secret in text,
 *   then a code from the new authenticator to confirm. Only then does the sign-in finish (amr pwd + otp).
 *
 * The password step hands over a one-time token (accounts.ts); the forms carry it and a CSRF token (form-token.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction } from 'oidc-provider';
import QRCode from 'qrcode';
import { FORM_FIELD, formToken, formTokenValid } from '../auth/form-token.ts';
import { escapeHtml, htmlPage, PAGE_HEADERS } from './html.ts';
import type { AuthenticateResult } from './provider.ts';

export interface SignInContext {
  ip: string;
  clientId: string;
  userAgent?: string;
}

/** What the second-step pages ask of the account store (security.ts binds it to StaffAccounts and the audit). */
export interface SecondFactor {
  /** The TOTP code after the password ('mfa' step). */
  completeMfa(token: string, code: string, ctx: SignInContext): Promise<AuthenticateResult>;
  /** The secret to show for enrolment; `again`: the page is shown again, keep the secret already shown. */
  startEnrolment(token: string, again: boolean): Promise<{ secret: string; uri: string } | undefined>;
  /** The first code from the new authenticator: turns MFA on and finishes the sign-in. */
  confirmEnrolment(token: string, code: string, ctx: SignInContext): Promise<AuthenticateResult>;
}

/** What plugin.ts lends the routes: the interaction behind a request, and how a successful sign-in finishes. */
export interface SecondStepHost {
  mountPath: string;
  secure: boolean;
  secondFactor?: SecondFactor;
  load(req: FastifyRequest, reply: FastifyReply): Promise<Interaction | undefined>;
  finish(
    req: FastifyRequest,
    reply: FastifyReply,
    result: { accountId: string; amr: string[]; sessionId?: string },
  ): Promise<FastifyReply>;
}

const EXPIRED = 'Bước đăng nhập đã hết hạn; hãy đăng nhập lại. / This sign-in step has expired: sign in again.';

/** Groups a base32 secret in fours, for reading aloud and typing. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function errorLine(error?: string): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

const CODE_INPUT = `<label for="code">Mã xác thực 6 số <span class="en">/ 6-digit code</span></label>
<input id="code" name="code" required autofocus inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7"
 autocomplete="one-time-code" aria-describedby="code-help">
<p id="code-help" class="en">Mã trong ứng dụng xác thực đổi mỗi 30 giây. / The code in your authenticator app changes every 30 seconds.</p>`;

export interface MfaPageOptions {
  action: string;
  token: string;
  formToken: string;
  error?: string;
}

export function mfaPage(o: MfaPageOptions): string {
  return htmlPage(
    'Xác thực hai lớp / Two-step verification',
    `<h1>Xác thực hai lớp <span class="en">/ Two-step verification</span></h1>
<p>Nhập mã 6 số từ ứng dụng xác thực của bạn. <span class="en">Enter the 6-digit code from your authenticator app.</span></p>
${errorLine(o.error)}
<form method="post" action="${escapeHtml(o.action)}" autocomplete="off">
<input type="hidden" name="token" value="${escapeHtml(o.token)}">
<input type="hidden" name="${FORM_FIELD}" value="${escapeHtml(o.formToken)}">
${CODE_INPUT}
<button type="submit">Xác nhận <span class="en">/ Verify</span></button>
</form>`,
  );
}

export interface EnrolmentPageOptions {
  action: string;
  token: string;
  formToken: string;
  secret: string;
  uri: string;
  error?: string;
}

/** The enrolment page: QR code (inline SVG, no request for an image), the secret in text, and the code field. */
export async function enrolmentPage(o: EnrolmentPageOptions): Promise<string> {
  const svg = await QRCode.toString(o.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 220 });
  const qr = svg
    .replace(/<\?xml[^>]*>/, '')
    .replace(
      '<svg ',
      '<svg role="img" aria-labelledby="qr-title" focusable="false" style="display:block;margin:.5rem auto" ',
    )
    .replace(
      /(<svg[^>]*>)/,
      '$1<title id="qr-title">Mã QR thiết lập ứng dụng xác thực / QR code for the authenticator app</title>',
    );
  return htmlPage(
    'Thiết lập xác thực hai lớp / Set up two-step verification',
    `<h1>Thiết lập xác thực hai lớp <span class="en">/ Set up two-step verification</span></h1>
<p>Vai trò của bạn bắt buộc xác thực hai lớp. <span class="en">Your role requires two-step verification.</span></p>
<ol>
<li>Mở ứng dụng xác thực (Google Authenticator, Microsoft Authenticator, FreeOTP…) và quét mã QR.
<span class="en">Open an authenticator app and scan the QR code.</span></li>
<li>Không quét được? Nhập khoá bí mật: <span class="en">Cannot scan? Enter the secret key:</span>
<code id="secret" aria-label="Khoá bí mật / Secret key">${escapeHtml(grouped(o.secret))}</code></li>
<li>Nhập mã 6 số ứng dụng hiển thị. <span class="en">Enter the 6-digit code the app shows.</span></li>
</ol>
${qr}
${errorLine(o.error)}
<form method="post" action="${escapeHtml(o.action)}" autocomplete="off">
<input type="hidden" name="token" value="${escapeHtml(o.token)}">
<input type="hidden" name="${FORM_FIELD}" value="${escapeHtml(o.formToken)}">
${CODE_INPUT}
<button type="submit">Kích hoạt và đăng nhập <span class="en">/ Turn on and sign in</span></button>
</form>`,
  );
}

function form(body: unknown): Record<string, string> {
  if (typeof body === 'string') {
    return Object.fromEntries(new URLSearchParams(body));
  }
  return body && typeof body === 'object'
    ? Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))
    : {};
}

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

const stepUrl = (mountPath: string, uid: string, step: 'mfa' | 'enrol'): string =>
  `${mountPath}/interaction/${encodeURIComponent(uid)}/${step}`;

/**
 * Renders the page the password step leads to (called by the login route when the account needs a second step).
 * `error` re-renders after a wrong code.
 */
export async function renderSecondStep(
  host: SecondStepHost,
  req: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  next: { next: 'mfa' | 'enrol'; token: string },
  options: { status?: number; error?: string; again?: boolean } = {},
): Promise<FastifyReply> {
  const ft = formToken(req.headers.cookie, reply.raw, host.secure);
  const action = stepUrl(host.mountPath, interaction.uid, next.next);
  if (next.next === 'mfa') {
    return send(
      reply,
      options.status ?? 200,
      mfaPage({ action, token: next.token, formToken: ft, error: options.error }),
    );
  }
  const enrolment = await host.secondFactor?.startEnrolment(next.token, options.again ?? false);
  if (!enrolment) {
    return send(reply, 400, mfaExpiredPage(host.mountPath, interaction.uid));
  }
  return send(
    reply,
    options.status ?? 200,
    await enrolmentPage({ action, token: next.token, formToken: ft, ...enrolment, error: options.error }),
  );
}

function mfaExpiredPage(mountPath: string, uid: string): string {
  return htmlPage(
    'Đăng nhập / Sign in',
    `<h1>Không thể tiếp tục <span class="en">/ Cannot continue</span></h1><p class="error" role="alert">${escapeHtml(EXPIRED)}</p>
<p><a href="${escapeHtml(`${mountPath}/interaction/${encodeURIComponent(uid)}`)}">Đăng nhập lại <span class="en">/ Sign in again</span></a></p>`,
  );
}

/** The two POST routes of the second step. */
export function registerSecondStepRoutes(scope: FastifyInstance, host: SecondStepHost): void {
  for (const step of ['mfa', 'enrol'] as const) {
    scope.post(`${host.mountPath}/interaction/:uid/${step}`, async (req, reply) => {
      const interaction = await host.load(req, reply);
      if (!interaction) {
        return reply;
      }
      const fields = form(req.body);
      if (!formTokenValid(req.headers.cookie, fields[FORM_FIELD])) {
        return send(
          reply,
          403,
          htmlPage(
            'Lỗi / Error',
            `<h1>Biểu mẫu không hợp lệ <span class="en">/ Invalid form</span></h1>
<p>Hãy tải lại trang và thử lại. <span class="en">Reload the page and try again.</span></p>`,
          ),
        );
      }
      const secondFactor = host.secondFactor;
      if (interaction.prompt.name !== 'login' || !secondFactor) {
        return reply.redirect(`${host.mountPath}/interaction/${encodeURIComponent(interaction.uid)}`, 303);
      }
      const token = fields.token ?? '';
      const code = (fields.code ?? '').replace(/\s+/g, '');
      const ctx: SignInContext = {
        ip: req.ip,
        clientId: String(interaction.params.client_id),
        userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
      };
      const result =
        step === 'mfa'
          ? await secondFactor.completeMfa(token, code, ctx)
          : await secondFactor.confirmEnrolment(token, code, ctx);
      if ('accountId' in result) {
        return host.finish(req, reply, {
          accountId: result.accountId,
          amr: result.amr ?? ['pwd', 'otp'],
          sessionId: result.sessionId,
        });
      }
      if ('next' in result) {
        return renderSecondStep(host, req, reply, interaction, result);
      }
      return renderSecondStep(
        host,
        req,
        reply,
        interaction,
        { next: step, token },
        {
          status: 401,
          error: result.error,
          again: true,
        },
      );
    });
  }
}
