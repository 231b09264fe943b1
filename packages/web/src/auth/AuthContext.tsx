import type { Organization } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import type { User } from 'oidc-client-ts';
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

type AuthState = { kind: 'loading' } | { kind: 'signed-out'; error?: string } | { kind: 'signed-in'; user: User };

/** Resolves the sign-in (callback or stored user) and, when signed in, who the staff member is. */
export function useAuthState(): AuthState {
  const [state, setState] = useState<AuthState>({ kind: 'loading' });
  useEffect(() => {
    const m = userManager();
    let cancelled = false;
    const done = (s: AuthState): void => {
      if (!cancelled) {
        setState(s);
      }
    };
    (async () => {
      try {
        if (isSignInCallback()) {
          done({ kind: 'signed-in', user: await completeSignIn() });
          return;
        }
        const user = await m.getUser();
        done(user && !user.expired ? { kind: 'signed-in', user } : { kind: 'signed-out' });
      } catch (err) {
        window.history.replaceState({}, document.title, '/');
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
  }, []);
  return state;
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
