/**
 * The minimal sign-in and consent pages of the authorization server (Vietnamese first, English second). Plain HTML
 * forms without scripts; the web app may replace them (AuthServerOptions.interactionUrl).
 */

export function escapeHtml(v: unknown): string {
  return String(v).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;padding:2rem 1rem;color:#1b2733}
main{max-width:24rem;margin:0 auto;background:#fff;border-radius:8px;padding:1.5rem 1.75rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:4px}
button{margin-top:1rem;padding:.55rem 1rem;font-size:1rem;border:0;border-radius:4px;background:#0b6e4f;color:#fff}
button.secondary{background:#e4e7eb;color:#1b2733}.error{color:#b00020;margin:.5rem 0}.en{color:#52606d;font-size:.85em}button .en,a.button .en{color:inherit;opacity:.9}
ul{padding-left:1.2rem}code{font-size:.85em}
a.button{display:block;margin-top:1.25rem;padding:.55rem 1rem;border-radius:4px;background:#1f4e8c;color:#fff;text-align:center;text-decoration:none}`;

/** Security headers for the interaction pages. No form-action: the flow redirects to the client's redirect URI. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>${body}</main></body>
</html>
`;
}

export interface LoginPageOptions {
  action: string;
  clientName: string;
  username?: string;
  error?: string;
  /** Sign-in not configured on this server. */
  unavailable?: boolean;
  /** Another way to sign in (e.g. the national-ID identity provider): a button below the form. */
  external?: { href: string; vi: string; en: string };
}

export function loginPage(o: LoginPageOptions): string {
  const error = o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : '';
  const external = o.external
    ? `\n<a class="button" href="${escapeHtml(o.external.href)}">${escapeHtml(o.external.vi)} <span class="en">/ ${escapeHtml(o.external.en)}</span></a>`
    : '';
  if (o.unavailable) {
    return htmlPage(
      'Đăng nhập / Sign in',
      `<h1>Đăng nhập <span class="en">/ Sign in</span></h1>
<p>Máy chủ này chưa cấu hình đăng nhập người dùng.</p><p class="en">User sign-in is not configured on this server.</p>`,
    );
  }
  return htmlPage(
    'Đăng nhập / Sign in',
    `<h1>Đăng nhập <span class="en">/ Sign in</span></h1>
<p>Ứng dụng <strong>${escapeHtml(o.clientName)}</strong> cần bạn đăng nhập.
<span class="en">The application needs you to sign in.</span></p>
${error}
<form method="post" action="${escapeHtml(o.action)}" autocomplete="off">
<label for="username">Tên đăng nhập <span class="en">/ Username</span></label>
<input id="username" name="username" required autofocus value="${escapeHtml(o.username ?? '')}" autocomplete="username">
<label for="password">Mật khẩu <span class="en">/ Password</span></label>
<input id="password" name="password" type="password" required autocomplete="current-password">
<label for="totp">Mã xác thực 6 số (nếu có) <span class="en">/ Authenticator code (if enabled)</span></label>
<input id="totp" name="totp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code">
<button type="submit">Đăng nhập <span class="en">/ Sign in</span></button>
</form>${external}`,
  );
}

export interface ConsentPageOptions {
  confirmAction: string;
  abortAction: string;
  clientName: string;
  scopes: string[];
}

export function consentPage(o: ConsentPageOptions): string {
  const items = o.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  return htmlPage(
    'Cấp quyền / Authorize',
    `<h1>Cấp quyền truy cập <span class="en">/ Authorize access</span></h1>
<p>Ứng dụng <strong>${escapeHtml(o.clientName)}</strong> xin các quyền sau:
<span class="en">The application asks for:</span></p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(o.confirmAction)}"><button type="submit">Cho phép <span class="en">/ Allow</span></button></form>
<form method="post" action="${escapeHtml(o.abortAction)}"><button type="submit" class="secondary">Từ chối <span class="en">/ Deny</span></button></form>`,
  );
}

/**
 * The end-of-session page (RP-initiated logout): `form` is the provider's hidden form (with its own anti-forgery
 * field); the buttons submit it.
 */
export function logoutPage(form: string, clientName?: string): string {
  return htmlPage(
    'Đăng xuất / Sign out',
    `<h1>Đăng xuất <span class="en">/ Sign out</span></h1>
<p>Kết thúc phiên làm việc của bạn${clientName ? ` tại <strong>${escapeHtml(clientName)}</strong>` : ''} trên máy này?</p>
<p class="en">End your session on this computer?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Đăng xuất <span class="en">/ Sign out</span></button>
<button type="submit" form="op.logoutForm" class="secondary">Ở lại <span class="en">/ Stay signed in</span></button>`,
  );
}

export function loggedOutPage(): string {
  return htmlPage(
    'Đã đăng xuất / Signed out',
    `<h1>Đã đăng xuất <span class="en">/ Signed out</span></h1>
<p>Bạn đã đăng xuất khỏi Sen. Hãy đóng trình duyệt nếu dùng máy chung.</p>
<p class="en">You are signed out of Sen. Close the browser on a shared computer.</p>`,
  );
}
