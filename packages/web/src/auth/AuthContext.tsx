import type { Organization } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import type { User, UserManager } from 'oidc-client-ts';
import { createContext, type ReactElement, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { FhirClient } from '../api/fhir.ts';
import { type StaffContext, staffContext } from '../app/staff.ts';
import { completeSignIn, fhirUserOf, isSignInCallback, userManager } from './auth.ts';

export interface Session {
  user: User;
  fhir: FhirClient;
  staff?: StaffContext;
  staffLoading: boolean;
  staffError: unknown;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) {
    throw new Error('useSession outside the signed-in app');
  }
  return s;
}

export type AuthState =
  { kind: 'loading' } | { kind: 'signed-out'; error?: string } | { kind: 'signed-in'; user: User };

/** One OpenID Connect sign-in flow of the web app: the staff app's, or the patient portal's (own storage, own path). */
export interface OidcFlow {
  manager: () => UserManager;
  /** Whether this page load is the return from the sign-in pages, and how to finish it. */
  isCallback: () => boolean;
  completeSignIn: () => Promise<User>;
  /** The same for the return from signing out, when the flow has one. */
  isSignOutCallback?: () => boolean;
  completeSignOut?: () => Promise<void>;
  /** Where to go when a return fails (the query string with the code is dropped). */
  home: string;
}

/**
 * Resolves a sign-in: the return from the sign-in (or sign-out) pages, or the stored user; then follows the manager's
 * events (renewed, signed out elsewhere, renewal failed).
 */
export function useOidcState(flow: OidcFlow): AuthState {
  const [state, setState] = useState<AuthState>({ kind: 'loading' });
  useEffect(() => {
    const m = flow.manager();
    let cancelled = false;
    const done = (s: AuthState): void => {
      if (!cancelled) {
        setState(s);
      }
    };
    (async () => {
      try {
        if (flow.isSignOutCallback?.() && flow.completeSignOut) {
          await flow.completeSignOut();
          done({ kind: 'signed-out' });
          return;
        }
        if (flow.isCallback()) {
          done({ kind: 'signed-in', user: await flow.completeSignIn() });
          return;
        }
        const user = await m.getUser();
        done(user && !user.expired ? { kind: 'signed-in', user } : { kind: 'signed-out' });
      } catch (err) {
        window.history.replaceState({}, document.title, flow.home);
        done({ kind: 'signed-out', error: err instanceof Error ? err.message : String(err) });
      }
    })();
    const onLoaded = (user: User): void => done({ kind: 'signed-in', user });
    const onGone = (): void => done({ kind: 'signed-out' });
    m.events.addUserLoaded(onLoaded);
    m.events.addUserSignedOut(onGone);
    m.events.addSilentRenewError(onGone);
    return () => {
      cancelled = true;
      m.events.removeUserLoaded(onLoaded);
      m.events.removeUserSignedOut(onGone);
      m.events.removeSilentRenewError(onGone);
    };
  }, [flow]);
  return state;
}

const STAFF_FLOW: OidcFlow = {
  manager: userManager,
  isCallback: isSignInCallback,
  completeSignIn,
  home: '/',
};

/** Resolves the staff app's sign-in (callback or stored user). */
export function useAuthState(): AuthState {
  return useOidcState(STAFF_FLOW);
}

export function SessionProvider({ user, children }: { user: User; children: ReactNode }): ReactElement {
  const fhir = useMemo(
    () => new FhirClient(async () => (await userManager().getUser())?.access_token ?? user.access_token),
    [user],
  );
  const fhirUser = fhirUserOf(user);
  const staff = useQuery({
    queryKey: ['staff', fhirUser],
    enabled: !!fhirUser?.startsWith('Practitioner/'),
    queryFn: async (): Promise<StaffContext | undefined> => {
      const pid = fhirUser?.split('/')[1] ?? '';
      const bundle = await fhir.search('PractitionerRole', [
        ['practitioner', `Practitioner/${pid}`],
        ['_include', 'PractitionerRole:practitioner'],
        ['_include', 'PractitionerRole:organization'],
      ]);
      const depts = (bundle.entry ?? [])
        .map((e) => e.resource)
        .filter((r): r is Organization => r?.resourceType === 'Organization');
      const parent = depts.find((d) => d.partOf?.reference)?.partOf?.reference;
      const facility = parent ? await fhir.read<Organization>('Organization', parent.split('/')[1]) : undefined;
      return staffContext(bundle, facility);
    },
  });
  const session: Session = { user, fhir, staff: staff.data, staffLoading: staff.isLoading, staffError: staff.error };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
