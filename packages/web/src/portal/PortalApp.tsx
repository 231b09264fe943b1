/**
 * The patient portal: its own shell at /portal (mobile first, Vietnamese first), its own sign-in (patient scopes,
 * national-ID provider), bottom navigation between My health, Booking, Family, Sharing and My rights, and a switch
 * to the record of a child or of someone who granted access. Installable: web manifest and service worker served
 * by the server under /portal/.
 */
import { Alert, AppShell, Button, Center, Group, Select, Stack, Text, Title, UnstyledButton } from '@mantine/core';
import type { Patient } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import type { User } from 'oidc-client-ts';
import { type ReactElement, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, NavLink, Route, Routes } from 'react-router';
import { FhirClient } from '../api/fhir.ts';
import { type AuthState, type OidcFlow, useOidcState } from '../auth/AuthContext.tsx';
import { LANGUAGES, setLanguage } from '../i18n/index.ts';
import { ErrorState, LoadingState } from '../ui/states/States.tsx';
import { BookingPage } from './Booking.page.tsx';
import { FamilyPage } from './Family.page.tsx';
import { HealthPage } from './Health.page.tsx';
import { PortalContext, type PortalPerson, type PortalSession, usePortal } from './portal.api.ts';
import {
  completePortalSignIn,
  completePortalSignOut,
  isPortalCallback,
  isPortalSignOutCallback,
  patientIdOf,
  portalSignOut,
  portalUserManager,
  startPortalSignIn,
} from './portal-auth.ts';
import { nameOf, part } from './portal.logic.ts';
import { RightsPage } from './Rights.page.tsx';
import { SharingPage } from './Sharing.page.tsx';

/** 24×24 outline icons (SVG paths), drawn inline: no icon font, nothing fetched. */
const ICONS = {
  health: 'M12 20s-7-4.4-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.6-7 10-7 10z',
  booking: 'M5 6h14v14H5zM5 10h14M9 3v5M15 3v5',
  family:
    'M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM16 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM3 20c0-3 2.2-5 5-5s5 2 5 5M13 20c0-2.4 1.3-4 3-4s3.5 1.6 3.5 4',
  sharing: 'M18 8a3 3 0 1 0 0-.1zM6 15a3 3 0 1 0 0-.1zM18 22a3 3 0 1 0 0-.1zM8.6 13.5l6.8-4M8.6 16.5l6.8 4',
  rights: 'M12 3l7 3v5c0 4.5-3 8-7 10-4-2-7-5.5-7-10V6zM9 12l2 2 4-4',
} as const;

const TABS = [
  { path: '/portal', label: 'portal.nav.health', icon: ICONS.health, end: true },
  { path: '/portal/booking', label: 'portal.nav.booking', icon: ICONS.booking, end: false },
  { path: '/portal/family', label: 'portal.nav.family', icon: ICONS.family, end: false },
  { path: '/portal/sharing', label: 'portal.nav.sharing', icon: ICONS.sharing, end: false },
  { path: '/portal/rights', label: 'portal.nav.rights', icon: ICONS.rights, end: false },
] as const;

/** The manifest link and the service worker: the portal can be installed on the phone's home screen. */
function useInstallable(): void {
  useEffect(() => {
    if (!document.querySelector('link[rel="manifest"]')) {
      const link = document.createElement('link');
      link.rel = 'manifest';
      link.href = '/portal/manifest.webmanifest';
      document.head.appendChild(link);
    }
    if ('serviceWorker' in navigator && window.isSecureContext) {
      navigator.serviceWorker.register('/portal/sw.js', { scope: '/portal' }).catch(() => undefined);
    }
  }, []);
}

const PORTAL_FLOW: OidcFlow = {
  manager: portalUserManager,
  isCallback: isPortalCallback,
  completeSignIn: completePortalSignIn,
  isSignOutCallback: isPortalSignOutCallback,
  completeSignOut: completePortalSignOut,
  home: '/portal',
};

function usePortalAuth(): AuthState {
  return useOidcState(PORTAL_FLOW);
}

function LanguageSwitch(): ReactElement {
  const { i18n, t } = useTranslation();
  return (
    <Group gap={4} aria-label={t('app.language')}>
      {LANGUAGES.map((l) => (
        <UnstyledButton
          key={l.code}
          onClick={() => setLanguage(l.code)}
          fz="xs"
          fw={i18n.language === l.code ? 700 : 400}
          c="white"
          aria-pressed={i18n.language === l.code}
        >
          {l.code === 'vi' ? 'VI' : 'EN'}
        </UnstyledButton>
      ))}
    </Group>
  );
}

function PortalSignIn({ error }: { error?: string }): ReactElement {
  const { t } = useTranslation();
  return (
    <Center mih="100dvh" bg="#f3faf7" p="md">
      <Stack maw={420} w="100%" p="lg" gap="md" bg="white" style={{ borderRadius: 16, boxShadow: '0 1px 6px #0002' }}>
        <Title order={1} size="h2" c="#0f6b4f">
          {t('portal.name')}
        </Title>
        <Text>{t('portal.tagline')}</Text>
        <Text size="sm" c="dimmed">
          {t('portal.signInIntro')}
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {t('app.signInFailed', { message: error })}
          </Alert>
        )}
        <Button size="lg" onClick={() => void startPortalSignIn()}>
          {t('portal.signIn')}
        </Button>
        <Group justify="center" gap="md">
          {LANGUAGES.map((l) => (
            <UnstyledButton key={l.code} onClick={() => setLanguage(l.code)} fz="sm">
              {l.label}
            </UnstyledButton>
          ))}
        </Group>
      </Stack>
    </Center>
  );
}

function PortalShell({ user }: { user: User }): ReactElement {
  const { t } = useTranslation();
  const selfId = patientIdOf(user) ?? '';
  const fhir = useMemo(
    () => new FhirClient(async () => (await portalUserManager().getUser())?.access_token ?? user.access_token),
    [user],
  );
  const [activeId, setActive] = useState(selfId);
  const people = useQuery({
    queryKey: ['Patient', selfId, 'people'],
    enabled: !!selfId,
    queryFn: async (): Promise<PortalPerson[]> => {
      const self = await fhir.read<Patient>('Patient', selfId);
      const family = await fhir.request<{ parameter?: { name: string; part?: never[] }[] }>(
        `Patient/${selfId}/$family`,
      );
      const others = (family.parameter ?? [])
        .filter((p) => p.name === 'person')
        .map((p) => {
          const patient = part(p as never, 'patient')?.resource as Patient;
          const kind = (part(p as never, 'kind')?.valueCode ?? 'granted') as PortalPerson['kind'];
          return { id: patient.id as string, name: nameOf(patient), kind };
        });
      return [{ id: selfId, name: nameOf(self), kind: 'self' }, ...others];
    },
  });
  if (!selfId) {
    return (
      <Center p="md">
        <Alert color="yellow" role="alert">
          {t('portal.notPatient')}
        </Alert>
      </Center>
    );
  }
  if (people.error) {
    return <ErrorState error={people.error} onRetry={() => void people.refetch()} />;
  }
  const session: PortalSession = { fhir, selfId, activeId, setActive, people: people.data ?? [] };
  const others = (people.data ?? []).length > 1;
  const viewingOther = activeId !== selfId;
  return (
    <PortalContext.Provider value={session}>
      <AppShell header={{ height: others ? 96 : 56 }} footer={{ height: 64 }} padding="sm">
        <AppShell.Header bg="#0f6b4f" c="white" px="sm">
          <Stack gap={4} justify="center" h="100%">
            <Group justify="space-between" wrap="nowrap">
              <Title order={1} size="h4">
                {t('portal.name')}
              </Title>
              <Group gap="sm" wrap="nowrap">
                <LanguageSwitch />
                <Button size="compact-xs" variant="white" onClick={() => void portalSignOut()}>
                  {t('app.signOut')}
                </Button>
              </Group>
            </Group>
            {others && (
              <Select
                size="xs"
                aria-label={t('portal.viewing')}
                value={activeId}
                onChange={(v) => v && setActive(v)}
                data={(people.data ?? []).map((p) => ({
                  value: p.id,
                  label: p.kind === 'self' ? `${p.name} (${t('portal.me')})` : p.name,
                }))}
                allowDeselect={false}
                comboboxProps={{ withinPortal: true }}
              />
            )}
          </Stack>
        </AppShell.Header>
        <AppShell.Main bg="#f6f8f7" maw={720} mx="auto">
          {people.isLoading ? (
            <LoadingState />
          ) : (
            <Routes>
              <Route path="/portal" element={<HealthPage />} />
              <Route path="/portal/booking" element={<BookingPage />} />
              <Route path="/portal/family" element={viewingOther ? <OnlyOwn /> : <FamilyPage />} />
              <Route path="/portal/sharing" element={viewingOther ? <OnlyOwn /> : <SharingPage />} />
              <Route path="/portal/rights" element={viewingOther ? <OnlyOwn /> : <RightsPage />} />
              <Route path="*" element={<Navigate to="/portal" replace />} />
            </Routes>
          )}
        </AppShell.Main>
        <AppShell.Footer>
          <Group component="nav" aria-label={t('portal.menu')} grow gap={0} h="100%" wrap="nowrap">
            {TABS.map((tab) => (
              <NavLink
                key={tab.path}
                to={tab.path}
                end={tab.end}
                style={({ isActive }) => ({
                  textDecoration: 'none',
                  color: isActive ? '#0f6b4f' : '#555',
                  fontWeight: isActive ? 700 : 400,
                  textAlign: 'center',
                  fontSize: 12,
                  padding: '6px 0',
                })}
              >
                <svg
                  aria-hidden
                  width={22}
                  height={22}
                  viewBox="0 0 24 24"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth={1.8}
                  strokeLinecap="round"
                  strokeLinejoin="round"
                  style={{ display: 'block', margin: '0 auto 2px' }}
                >
                  <path d={tab.icon} />
                </svg>
                {t(tab.label)}
              </NavLink>
            ))}
          </Group>
        </AppShell.Footer>
      </AppShell>
    </PortalContext.Provider>
  );
}

function OnlyOwn(): ReactElement {
  const { t } = useTranslation();
  const { selfId, setActive } = usePortal();
  return (
    <Stack p="md" gap="sm">
      <Alert color="blue">{t('portal.onlyOwn')}</Alert>
      <Button variant="light" onClick={() => setActive(selfId)}>
        {t('portal.backToMine')}
      </Button>
    </Stack>
  );
}

export function PortalApp(): ReactElement {
  useInstallable();
  const auth = usePortalAuth();
  if (auth.kind === 'loading') {
    return <LoadingState />;
  }
  if (auth.kind === 'signed-out') {
    return <PortalSignIn error={auth.error} />;
  }
  return (
    <BrowserRouter>
      <PortalShell user={auth.user} />
    </BrowserRouter>
  );
}
