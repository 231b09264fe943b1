/**
 * `/account`: a staff member's own account page (server-rendered, Vietnamese first, no scripts).
 *
 * - Where am I signed in: the account's current sessions (browser / user agent, IP address, signed in, last seen —
 *   no patient data), this device marked.
 * - "Đăng xuất khỏi mọi thiết bị / Sign out everywhere": ends every session of the account and, at the authorization
 *   server, every grant (refresh tokens, codes) with the access tokens issued under them.
 * - Change password (current password, then the policy); other sessions and all grants end.
 *
 * Which session: the staff session (staff_session) of the sign-in, in an HttpOnly cookie `sen_account` (Path=/account,
 * SameSite=Lax). The sign-in pages of the authorization server set it (the same sign-in that apps use), and the page
 * has its own sign-in form too. A Sen session rather than oidc-provider's cookie: it is the row the session list and
 * "sign out everywhere" work on, its idle timeout and revocation are checked on every request, and it needs no access
 * to the provider's internals. Every POST carries a CSRF token (form-token.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '@sen/store';
import { enrolmentPage } from '../oauth/enrolment.ts';
import { escapeHtml, htmlPage, PAGE_HEADERS } from '../oauth/html.ts';
import type { AuthFailureReason, StaffAccounts, StaffSession } from './index.ts';
import { appendSetCookie, FORM_FIELD, formToken, formTokenValid, readCookie } from './form-token.ts';

export const ACCOUNT_COOKIE = 'sen_account';
export const ACCOUNT_PATH = '/account';

export interface AccountPageDeps {
  accounts: StaffAccounts;
  audit: AuditLog;
  /** "Sign out everywhere" at the authorization server: grants, refresh tokens, their access tokens. */
  revokeGrants(accountId: string): Promise<number>;
  /** The server is reached over https (Secure cookies). */
  secure: boolean;
}

/** The Set-Cookie value keeping a staff session for the account page. */
export function accountCookie(sessionId: string, secure: boolean): string {
  return `${ACCOUNT_COOKIE}=${sessionId}; Path=${ACCOUNT_PATH}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function clearAccountCookie(secure: boolean): string {
  return `${ACCOUNT_COOKIE}=; Path=${ACCOUNT_PATH}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}; Max-Age=0`;
}

const REASONS: Record<AuthFailureReason | 'policy', string> = {
  invalid: 'Sai tên đăng nhập, mật khẩu hoặc mã. / Wrong username, password or code.',
  locked: 'Tài khoản tạm khoá do đăng nhập sai nhiều lần; thử lại sau 15 phút. / Account locked for 15 minutes.',
  disabled: 'Tài khoản đã bị vô hiệu hoá. / This account is disabled.',
  'rate-limited': 'Quá nhiều lần thử; vui lòng đợi. / Too many attempts; please wait.',
  'mfa-required': 'Nhập mã xác thực 6 số từ ứng dụng. / Enter the 6-digit code from your authenticator app.',
  'mfa-invalid': 'Mã xác thực không đúng. / The code is not valid.',
  'mfa-enrolment-required': 'Thiết lập xác thực hai lớp. / Set up two-step verification.',
  policy: 'Mật khẩu mới chưa đạt yêu cầu. / The new password does not meet the policy.',
};

function form(body: unknown): Record<string, string> {
  return typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : {};
}

function dateTime(iso: string): string {
  // Vietnam time, day first (dd/mm/yyyy hh:mm)
  const d = new Date(Date.parse(iso) + 7 * 3600_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

const hidden = (token: string): string => `<input type="hidden" name="${FORM_FIELD}" value="${escapeHtml(token)}">`;
const alert = (text?: string, kind: 'error' | 'status' = 'error'): string =>
  text
    ? `<p class="${kind === 'error' ? 'error' : 'ok'}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>`
    : '';

export function accountLoginPage(o: {
  token: string;
  username?: string;
  error?: string;
  notice?: string;
  askCode?: boolean;
}): string {
  return htmlPage(
    'Tài khoản / Account',
    `<h1>Tài khoản của tôi <span class="en">/ My account</span></h1>
<p>Đăng nhập để xem phiên đăng nhập và đổi mật khẩu. <span class="en">Sign in to see your sessions and change your password.</span></p>
${alert(o.notice, 'status')}${alert(o.error)}
<form method="post" action="${ACCOUNT_PATH}/login" autocomplete="off">
${hidden(o.token)}
<label for="username">Tên đăng nhập <span class="en">/ Username</span></label>
<input id="username" name="username" required value="${escapeHtml(o.username ?? '')}" autocomplete="username"${o.askCode ? '' : ' autofocus'}>
<label for="password">Mật khẩu <span class="en">/ Password</span></label>
<input id="password" name="password" type="password" required autocomplete="current-password">
<label for="totp">Mã xác thực 6 số (nếu có) <span class="en">/ Authenticator code (if enabled)</span></label>
<input id="totp" name="totp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"${o.askCode ? ' autofocus' : ''}>
<button type="submit">Đăng nhập <span class="en">/ Sign in</span></button>
</form>`,
  );
}

export interface AccountViewOptions {
  token: string;
  username: string;
  current: string;
  sessions: StaffSession[];
  notice?: string;
  error?: string;
}

export function accountPage(o: AccountViewOptions): string {
  const rows = o.sessions
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.userAgent ?? '—')}${
          s.id === o.current ? ' <strong>(thiết bị này / this device)</strong>' : ''
        }</td><td>${escapeHtml(s.ip ?? '—')}</td><td>${dateTime(s.createdAt)}</td><td>${dateTime(s.lastSeenAt)}</td></tr>`,
    )
    .join('');
  return htmlPage(
    'Tài khoản / Account',
    `<h1>Tài khoản của tôi <span class="en">/ My account</span></h1>
<p>Đăng nhập với tên <strong>${escapeHtml(o.username)}</strong>. <span class="en">Signed in as ${escapeHtml(o.username)}.</span></p>
${alert(o.notice, 'status')}${alert(o.error)}
<h2>Phiên đăng nhập <span class="en">/ Where you are signed in</span></h2>
<table><caption class="en">Giờ Việt Nam / Vietnam time</caption>
<thead><tr><th scope="col">Thiết bị <span class="en">/ Device</span></th><th scope="col">Địa chỉ IP <span class="en">/ IP</span></th>
<th scope="col">Đăng nhập <span class="en">/ Signed in</span></th><th scope="col">Hoạt động gần nhất <span class="en">/ Last seen</span></th></tr></thead>
<tbody>${rows}</tbody></table>
<form method="post" action="${ACCOUNT_PATH}/sign-out-everywhere">${hidden(o.token)}
<button type="submit">Đăng xuất khỏi mọi thiết bị <span class="en">/ Sign out everywhere</span></button></form>
<form method="post" action="${ACCOUNT_PATH}/logout">${hidden(o.token)}
<button type="submit" class="secondary">Đăng xuất thiết bị này <span class="en">/ Sign out on this device</span></button></form>
<h2>Đổi mật khẩu <span class="en">/ Change password</span></h2>
<form method="post" action="${ACCOUNT_PATH}/password" autocomplete="off">${hidden(o.token)}
<label for="current">Mật khẩu hiện tại <span class="en">/ Current password</span></label>
<input id="current" name="current" type="password" required autocomplete="current-password">
<label for="new">Mật khẩu mới <span class="en">/ New password</span></label>
<input id="new" name="new" type="password" required minlength="10" autocomplete="new-password" aria-describedby="new-help">
<p id="new-help" class="en">Ít nhất 10 ký tự, không dùng mật khẩu phổ biến. / At least 10 characters, not a common password.</p>
<label for="confirm">Nhập lại mật khẩu mới <span class="en">/ Repeat the new password</span></label>
<input id="confirm" name="confirm" type="password" required autocomplete="new-password">
<button type="submit">Đổi mật khẩu <span class="en">/ Change password</span></button>
</form>`,
  );
}

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

export function registerAccountPage(app: FastifyInstance, deps: AccountPageDeps): void {
  const { accounts, audit, secure } = deps;
  const userAgent = (req: FastifyRequest): string | undefined =>
    typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined;
  const current = async (req: FastifyRequest): Promise<StaffSession | undefined> => {
    const sid = readCookie(req.headers.cookie, ACCOUNT_COOKIE);
    return sid ? accounts.touchSession(sid) : undefined;
  };
  const token = (req: FastifyRequest, reply: FastifyReply): string => formToken(req.headers.cookie, reply.raw, secure);

  const view = async (
    req: FastifyRequest,
    reply: FastifyReply,
    session: StaffSession,
    status = 200,
    messages: { notice?: string; error?: string } = {},
  ): Promise<FastifyReply> => {
    const account = await accounts.findAccount(session.accountId);
    return send(
      reply,
      status,
      accountPage({
        token: token(req, reply),
        username: account?.username ?? '',
        current: session.id,
        sessions: await accounts.listSessions(session.accountId),
        ...messages,
      }),
    );
  };

  const signedIn = async (
    req: FastifyRequest,
    reply: FastifyReply,
    accountId: string,
    sessionId: string,
  ): Promise<FastifyReply> => {
    const account = await accounts.findAccount(accountId);
    await audit.record({
      action: 'login',
      outcome: 'success',
      who: account ? `Practitioner/${account.practitionerId}` : accountId,
      client: 'sen-account-page',
      sourceIp: req.ip,
    });
    appendSetCookie(reply.raw, accountCookie(sessionId, secure));
    return reply.redirect(ACCOUNT_PATH, 303);
  };

  /** The sign-in form again, 403: the post did not carry this page's CSRF token. */
  const refuseForm = (req: FastifyRequest, reply: FastifyReply): FastifyReply =>
    send(
      reply,
      403,
      accountLoginPage({
        token: token(req, reply),
        error: 'Biểu mẫu không hợp lệ; hãy thử lại. / Invalid form: try again.',
      }),
    );

  /** Refuses a POST without the page's CSRF token (403), or without a session (back to the sign-in form). */
  const guard = async (
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ session: StaffSession; fields: Record<string, string> } | undefined> => {
    const fields = form(req.body);
    if (!formTokenValid(req.headers.cookie, fields[FORM_FIELD])) {
      refuseForm(req, reply);
      return undefined;
    }
    const session = await current(req);
    if (!session) {
      send(reply, 401, accountLoginPage({ token: token(req, reply) }));
      return undefined;
    }
    return { session, fields };
  };

  app.get(ACCOUNT_PATH, async (req, reply) => {
    const session = await current(req);
    return session ? view(req, reply, session) : send(reply, 200, accountLoginPage({ token: token(req, reply) }));
  });

  app.post(`${ACCOUNT_PATH}/login`, async (req, reply) => {
    const fields = form(req.body);
    if (!formTokenValid(req.headers.cookie, fields[FORM_FIELD])) {
      return refuseForm(req, reply);
    }
    const username = (fields.username ?? '').trim();
    const r = await accounts.authenticate({
      username,
      password: fields.password ?? '',
      totp: (fields.totp ?? '').trim() || undefined,
      ip: req.ip,
      userAgent: userAgent(req),
    });
    if (r.ok) {
      return signedIn(req, reply, r.account.id, r.session.id);
    }
    if (r.reason === 'mfa-enrolment-required') {
      const enrolment = await accounts.enrolMfa({ enrolmentToken: r.enrolmentToken });
      if (enrolment) {
        return send(
          reply,
          200,
          await enrolmentPage({
            action: `${ACCOUNT_PATH}/enrol`,
            token: r.enrolmentToken,
            formToken: token(req, reply),
            ...enrolment,
          }),
        );
      }
    }
    if (r.reason !== 'mfa-required') {
      await audit.record({
        action: 'login-failed',
        outcome: 'failure',
        client: 'sen-account-page',
        sourceIp: req.ip,
        detail: { reason: r.reason },
      });
    }
    return send(
      reply,
      r.reason === 'mfa-required' ? 200 : 401,
      accountLoginPage({
        token: token(req, reply),
        username,
        error: REASONS[r.reason],
        askCode: r.reason === 'mfa-required',
      }),
    );
  });

  app.post(`${ACCOUNT_PATH}/enrol`, async (req, reply) => {
    const fields = form(req.body);
    if (!formTokenValid(req.headers.cookie, fields[FORM_FIELD])) {
      return refuseForm(req, reply);
    }
    const enrolmentToken = fields.token ?? '';
    const r = await accounts.confirmMfa({
      enrolmentToken,
      code: fields.code ?? '',
      ip: req.ip,
      userAgent: userAgent(req),
    });
    if (r.ok && r.session) {
      return signedIn(req, reply, r.account.id, r.session.id);
    }
    const again = await accounts.enrolMfa({ enrolmentToken }, { reusePending: true });
    if (!again) {
      return send(reply, 401, accountLoginPage({ token: token(req, reply), error: REASONS.invalid }));
    }
    return send(
      reply,
      401,
      await enrolmentPage({
        action: `${ACCOUNT_PATH}/enrol`,
        token: enrolmentToken,
        formToken: token(req, reply),
        ...again,
        error: REASONS[r.ok ? 'invalid' : r.reason],
      }),
    );
  });

  app.post(`${ACCOUNT_PATH}/sign-out-everywhere`, async (req, reply) => {
    const g = await guard(req, reply);
    if (!g) {
      return reply;
    }
    const accountId = g.session.accountId;
    const sessions = await accounts.revokeAllSessions(accountId);
    const grants = await deps.revokeGrants(accountId);
    const account = await accounts.findAccount(accountId);
    await audit.record({
      action: 'logout',
      outcome: 'success',
      who: account ? `Practitioner/${account.practitionerId}` : accountId,
      client: 'sen-account-page',
      sourceIp: req.ip,
      detail: { everywhere: true, sessions, grants },
    });
    appendSetCookie(reply.raw, clearAccountCookie(secure));
    return send(
      reply,
      200,
      accountLoginPage({
        token: token(req, reply),
        notice: `Đã đăng xuất khỏi mọi thiết bị (${sessions} phiên, ${grants} ứng dụng). / Signed out everywhere (${sessions} sessions, ${grants} app grants).`,
      }),
    );
  });

  app.post(`${ACCOUNT_PATH}/logout`, async (req, reply) => {
    const g = await guard(req, reply);
    if (!g) {
      return reply;
    }
    await accounts.revokeSession(g.session.id, { accountId: g.session.accountId });
    appendSetCookie(reply.raw, clearAccountCookie(secure));
    return reply.redirect(ACCOUNT_PATH, 303);
  });

  app.post(`${ACCOUNT_PATH}/password`, async (req, reply) => {
    const g = await guard(req, reply);
    if (!g) {
      return reply;
    }
    const { fields, session } = g;
    if ((fields.new ?? '') !== (fields.confirm ?? '')) {
      return view(req, reply, session, 400, {
        error: 'Hai mật khẩu mới không khớp. / The new passwords do not match.',
      });
    }
    const r = await accounts.changePassword({
      accountId: session.accountId,
      currentPassword: fields.current ?? '',
      newPassword: fields.new ?? '',
      ip: req.ip,
      keepSessionId: session.id,
    });
    if (!r.ok) {
      const text =
        'problems' in r
          ? `${REASONS.policy} ${r.problems.map((p) => `${p.vi} / ${p.en}`).join(' ')}`
          : r.reason === 'invalid'
            ? 'Mật khẩu hiện tại không đúng. / The current password is wrong.'
            : REASONS[r.reason];
      const still = await accounts.getSession(session.id);
      return still
        ? view(req, reply, still, 400, { error: text })
        : send(reply, 401, accountLoginPage({ token: token(req, reply), error: text }));
    }
    // a changed password ends the other sessions (setPassword) and every app's refresh token
    await deps.revokeGrants(session.accountId);
    return view(req, reply, session, 200, {
      notice: 'Đã đổi mật khẩu; các thiết bị khác đã bị đăng xuất. / Password changed; other devices were signed out.',
    });
  });
}
