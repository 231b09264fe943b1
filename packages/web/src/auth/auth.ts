import { type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';

/** Sen's own web app is the public OAuth client `sen-web`: authorization code + PKCE against Sen's OIDC server. */
export const WEB_CLIENT_ID = 'sen-web';

/** Staff scopes: the account's roles still decide what the gate allows; these only cap it. */
export const STAFF_SCOPES = 'openid fhirUser offline_access user/*.cruds';

let manager: UserManager | undefined;

export function userManager(): UserManager {
  if (!manager) {
    const origin = window.location.origin;
    manager = new UserManager({
      authority: `${origin}/oidc`,
      client_id: WEB_CLIENT_ID,
      redirect_uri: `${origin}/`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: 'code',
      scope: STAFF_SCOPES,
      // the access token lives 15 minutes; refresh it with the refresh token before it ends
      automaticSilentRenew: true,
      // session storage: a closed tab forgets the tokens; nothing sensitive in localStorage
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      loadUserInfo: false,
    });
  }
  return manager;
}

/** True when the URL is the return from the sign-in page (code and state in the query). */
export function isSignInCallback(): boolean {
  const q = new URLSearchParams(window.location.search);
  return q.has('state') && (q.has('code') || q.has('error'));
}

let callback: Promise<User> | undefined;

/**
 * Completes the sign-in after the redirect back, then removes code and state from the address bar. Once per page
 * load: a code is good for one exchange, and a second one would make the server end the whole grant.
 */
export function completeSignIn(): Promise<User> {
  callback ??= userManager()
    .signinRedirectCallback()
    .then((user) => {
      const target = (user.state as { returnTo?: string } | undefined)?.returnTo ?? '/';
      window.history.replaceState({}, document.title, target);
      return user;
    });
  return callback;
}

export function startSignIn(): Promise<void> {
  return userManager().signinRedirect({
    state: { returnTo: window.location.pathname + window.location.search },
    ui_locales: document.documentElement.lang || 'vi',
  });
}

export async function signOut(): Promise<void> {
  const m = userManager();
  const user = await m.getUser();
  await m.removeUser();
  if (user?.refresh_token) {
    // end the refresh token at the server, not only in this tab
    await m.revokeTokens(['refresh_token']).catch(() => undefined);
  }
  await m.signoutRedirect({ id_token_hint: user?.id_token }).catch(() => window.location.assign('/'));
}

/** The FHIR reference of the signed-in user (`Practitioner/…`), from the ID token's fhirUser claim. */
export function fhirUserOf(user: User): string | undefined {
  const claim = (user.profile as { fhirUser?: string }).fhirUser;
  return claim?.replace(/^.*\/(Practitioner|Patient|RelatedPerson)\//, '$1/');
}
