import { Alert, AppShell, Button, Center, Group, NavLink, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, NavLink as RouterLink, Route, Routes } from 'react-router';
import { SessionProvider, useAuthState, useSession } from '../auth/AuthContext.tsx';
import { signOut, startSignIn } from '../auth/auth.ts';
import { AnalyzerQuarantinePage } from '../features/analyzer/AnalyzerQuarantine.page.tsx';
import { AuditLogPage } from '../features/audit/AuditLog.page.tsx';
import { CashierPage } from '../features/cashier/Cashier.page.tsx';
import { ReceiptPage } from '../features/cashier/Receipt.page.tsx';
import { ClinicQueuePage } from '../features/clinic/ClinicQueue.page.tsx';
import { EhbSubmissionsPage } from '../features/ehb/EhbSubmissions.page.tsx';
import { PrescriptionPrintPage } from '../features/clinic/PrescriptionPrint.page.tsx';
import { VisitChartPage } from '../features/clinic/VisitChart.page.tsx';
import { ImagingOrderPage } from '../features/imaging/ImagingOrder.page.tsx';
import { ImagingWorklistPage } from '../features/imaging/ImagingWorklist.page.tsx';
import { LabOrderPage } from '../features/lab/LabOrder.page.tsx';
import { LabWorklistPage } from '../features/lab/LabWorklist.page.tsx';
import { PatientSearchPage } from '../features/patients/PatientSearch.page.tsx';
import { PharmacyPage } from '../features/pharmacy/Pharmacy.page.tsx';
import { QueueDisplayPage } from '../features/reception/QueueDisplay.page.tsx';
import { ReceptionPage } from '../features/reception/Reception.page.tsx';
import { TicketPage } from '../features/reception/Ticket.page.tsx';
import { RecentVisitsPage } from '../features/visits/RecentVisits.page.tsx';
import { LANGUAGES, setLanguage } from '../i18n/index.ts';
import { ErrorState, LoadingState } from '../ui/states/States.tsx';
import { homeOf, type StaffRole } from './staff.ts';

/** The screens, and which roles see them in the menu. */
const SCREENS: { path: string; label: string; roles: readonly StaffRole[] }[] = [
  { path: '/reception', label: 'reception.nav', roles: ['receptionist'] },
  { path: '/display', label: 'reception.navDisplay', roles: ['receptionist', 'nurse'] },
  { path: '/clinic', label: 'clinic.nav', roles: ['doctor', 'department-head'] },
  {
    path: '/patients',
    label: 'nav.patients',
    roles: ['receptionist', 'cashier', 'doctor', 'nurse', 'department-head'],
  },
  { path: '/visits', label: 'nav.visits', roles: ['doctor', 'nurse', 'department-head'] },
  { path: '/worklist/laboratory', label: 'lab.nav', roles: ['lab-technician'] },
  { path: '/lab/analyzer', label: 'analyzer.nav', roles: ['lab-technician'] },
  { path: '/worklist/imaging', label: 'imaging.nav', roles: ['radiology-technician', 'radiologist'] },
  { path: '/pharmacy', label: 'pharmacy.nav', roles: ['pharmacist'] },
  { path: '/cashier', label: 'cashier.nav', roles: ['cashier'] },
  { path: '/audit', label: 'nav.audit', roles: ['facility-admin', 'department-head'] },
  { path: '/admin/ehb', label: 'ehb.nav', roles: ['facility-admin'] },
];

function LanguageSwitch(): ReactElement {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      aria-label={t('app.language')}
      size="xs"
      value={i18n.language}
      onChange={setLanguage}
      data={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
    />
  );
}

function SignInScreen({ error }: { error?: string }): ReactElement {
  const { t } = useTranslation();
  return (
    <Center mih="100vh" bg="#f6f8f7">
      <Stack maw={440} p="xl" gap="md" bg="white" style={{ borderRadius: 12, boxShadow: '0 1px 4px #0002' }}>
        <Title order={1} c="#0f6b4f">
          {t('app.name')}
        </Title>
        <Text fw={500}>{t('app.tagline')}</Text>
        <Text size="sm" c="dimmed">
          {t('app.signInIntro')}
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {t('app.signInFailed', { message: error })}
          </Alert>
        )}
        <Button size="md" onClick={() => void startSignIn()}>
          {t('app.signIn')}
        </Button>
        <LanguageSwitch />
      </Stack>
    </Center>
  );
}

function Shell(): ReactElement {
  const { t } = useTranslation();
  const { staff, staffLoading, staffError } = useSession();
  if (staffLoading) {
    return <LoadingState />;
  }
  if (staffError) {
    return <ErrorState error={staffError} onRetry={() => window.location.reload()} />;
  }
  const roles = staff?.roles ?? [];
  const home = staff ? homeOf(staff) : undefined;
  const screens = SCREENS.filter((s) => s.roles.some((r) => roles.includes(r)));
  return (
    <AppShell header={{ height: 64 }} navbar={{ width: 220, breakpoint: 'sm' }} padding="md">
      <AppShell.Header bg="#0f6b4f" c="white" px="md">
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Title order={3}>{t('app.name')}</Title>
            <Stack gap={0}>
              <Text size="sm" fw={600} aria-label={t('app.facility')}>
                {staff?.facility?.name}
              </Text>
              <Text size="xs" aria-label={t('app.department')}>
                {staff?.departments.map((d) => d.name).join(', ')}
              </Text>
            </Stack>
          </Group>
          <Group gap="md" wrap="nowrap">
            <Stack gap={0} align="flex-end">
              <Text size="sm" fw={600}>
                {staff?.name}
              </Text>
              <Text size="xs" aria-label={t('app.role')}>
                {roles.map((r) => t(`roles.${r}`)).join(', ')}
              </Text>
            </Stack>
            <LanguageSwitch />
            <Button variant="white" size="xs" onClick={() => void signOut()}>
              {t('app.signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="menu">
        {screens.map((s) => (
          <NavLink key={s.path} component={RouterLink} to={s.path} label={t(s.label)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        {!home ? (
          <Alert color="yellow" role="alert">
            {t('app.noStaffRole')}
          </Alert>
        ) : (
          <Routes>
            <Route path="/" element={<Navigate to={home} replace />} />
            <Route path="/reception" element={<ReceptionPage />} />
            <Route path="/reception/ticket/:encounterId" element={<TicketPage />} />
            <Route path="/clinic" element={<ClinicQueuePage />} />
            <Route path="/clinic/visit/:encounterId" element={<VisitChartPage />} />
            <Route path="/clinic/prescription/:code" element={<PrescriptionPrintPage />} />
            <Route path="/patients" element={<PatientSearchPage />} />
            <Route path="/visits" element={<RecentVisitsPage />} />
            <Route path="/worklist/laboratory" element={<LabWorklistPage />} />
            <Route path="/worklist/laboratory/:orderId" element={<LabOrderPage />} />
            <Route path="/lab/analyzer" element={<AnalyzerQuarantinePage />} />
            <Route path="/worklist/imaging" element={<ImagingWorklistPage />} />
            <Route path="/worklist/imaging/:orderId" element={<ImagingOrderPage />} />
            <Route path="/pharmacy" element={<PharmacyPage />} />
            <Route path="/cashier" element={<CashierPage />} />
            <Route path="/cashier/receipt/:invoiceId" element={<ReceiptPage />} />
            <Route path="/prescriptions" element={<Navigate to="/pharmacy" replace />} />
            <Route path="/audit" element={<AuditLogPage />} />
            <Route path="/admin/ehb" element={<EhbSubmissionsPage />} />
            <Route path="*" element={<Navigate to={home} replace />} />
          </Routes>
        )}
      </AppShell.Main>
    </AppShell>
  );
}

export function App(): ReactElement {
  const auth = useAuthState();
  if (auth.kind === 'loading') {
    return <LoadingState />;
  }
  if (auth.kind === 'signed-out') {
    return <SignInScreen error={auth.error} />;
  }
  return (
    <SessionProvider user={auth.user}>
      <BrowserRouter>
        <Routes>
          {/* the waiting-room screen: full screen, no menu */}
          <Route path="/display" element={<QueueDisplayPage />} />
          <Route path="*" element={<Shell />} />
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
