import { type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';

/**
 * The portal signs patients in with the same OpenID Connect flow as the staff app (public client `sen-web`, code +
 * PKCE against Sen's server, whose sign-in page offers the national-ID provider), but with patient scopes and its
 * own storage: a patient's tokens never mix with a staff session in the same browser. Sen's server accepts the web
 * app's root as redirect URI, so the portal marks its sign-in state with its own prefix; main.tsx sends a return to
 * `/` that carries such a state back into the portal.
 */
export const PORTAL_CLIENT_ID = 'sen-web';
export const PATIENT_SCOPES = 'openid fhirUser launch/patient offline_access patient/*.cruds';
export const PORTAL_STATE_PREFIX = 'sen.portal.';

let manager: UserManager | undefined;

export function portalUserManager(): UserManager {
  if (!manager) {
    const origin = window.location.origin;
    manager = new UserManager({
      authority: `${origin}/oidc`,
      client_id: PORTAL_CLIENT_ID,
      redirect_uri: `${origin}/`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: 'code',
      scope: PATIENT_SCOPES,
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: window.sessionStorage, prefix: PORTAL_STATE_PREFIX }),
      stateStore: new WebStorageStateStore({ store: window.localStorage, prefix: PORTAL_STATE_PREFIX }),
      loadUserInfo: false,
    });
  }
  return manager;
}

/** True when this page is the return from a sign-in or sign-out the portal started (its state is in its store). */
export function isPortalCallback(): boolean {
  const state = new URLSearchParams(window.location.search).get('state');
  return !!state && localStorage.getItem(PORTAL_STATE_PREFIX + state) !== null;
}

/** The return from the sign-out page (state, no code). */
export function isPortalSignOutCallback(): boolean {
  const q = new URLSearchParams(window.location.search);
  return isPortalCallback() && !q.has('code') && !q.has('error');
}

let callback: Promise<User> | undefined;

/** Completes the sign-in once per page load, then puts the portal's address back in the bar. */
export function completePortalSignIn(): Promise<User> {
  callback ??= portalUserManager()
    .signinRedirectCallback()
    .then((user) => {
      const target = (user.state as { returnTo?: string } | undefined)?.returnTo ?? '/portal';
      window.history.replaceState({}, document.title, target.startsWith('/portal') ? target : '/portal');
      return user;
    });
  return callback;
}

export function startPortalSignIn(): Promise<void> {
  return portalUserManager().signinRedirect({
    state: { returnTo: window.location.pathname.startsWith('/portal') ? window.location.pathname : '/portal' },
    ui_locales: document.documentElement.lang || 'vi',
  });
}

/** Signs out here and at the server (a shared phone must not sign the next person in silently). */
export async function portalSignOut(): Promise<void> {
  const m = portalUserManager();
  const user = await m.getUser();
  await m.removeUser();
  if (user?.refresh_token) {
    await m.revokeTokens(['refresh_token']).catch(() => undefined);
  }
  await m
    .signoutRedirect({ id_token_hint: user?.id_token, state: { returnTo: '/portal' } })
    .catch(() => window.location.assign('/portal'));
}

/** Finishes the return from the sign-out page and goes back to the portal. */
export async function completePortalSignOut(): Promise<void> {
  await portalUserManager()
    .signoutRedirectCallback()
    .catch(() => undefined);
  window.history.replaceState({}, document.title, '/portal');
}

/** The Patient id the token acts for (the SMART `patient` launch context). */
export function patientIdOf(user: User): string | undefined {
  const p = (user.profile as { patient?: string }).patient ?? (user as unknown as { patient?: string }).patient;
  if (p) {
    return p;
  }
  const fhirUser = (user.profile as { fhirUser?: string }).fhirUser;
  const m = /Patient\/([^/]+)$/.exec(fhirUser ?? '');
  return m?.[1];
}
