import type { ClinicalImpression, Observation } from '@medplum/fhirtypes';
import { Alert, Button, Group, Stack, Tabs } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { entriesOf } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { ChartSummary } from './ChartSummary.panel.tsx';
import { ageOn, isChildUnder72Months } from './clinic.logic.ts';
import {
  useAllergies,
  useClinicLive,
  useConditions,
  useCoverages,
  useEncounter,
  useEncounterPrescriptions,
  useEncounterReports,
  useMedications,
  useObservations,
  useOrders,
  usePatient,
  usePreviousVisits,
} from './clinic.queries.ts';
import { ConclusionPanel } from './Conclusion.panel.tsx';
import { diagnosesOf, DiagnosesPanel } from './Diagnoses.panel.tsx';
import { HISTORY_FIELDS, type HistoryField, HistoryPanel } from './History.panel.tsx';
import { OrdersPanel } from './Orders.panel.tsx';
import { PatientBanner } from './PatientBanner.panel.tsx';
import { PrescriptionPanel } from './Prescription.panel.tsx';
import { CriticalAlerts } from './CriticalAlerts.panel.tsx';
import { ResultsPanel } from './Results.panel.tsx';
import { VitalsPanel } from './Vitals.panel.tsx';

const HISTORY_URL = 'https://sen.health.vn/fhir/StructureDefinition/clinical-history';

function historyOf(ci: ClinicalImpression | undefined): Partial<Record<HistoryField, string>> {
  const parts = ci?.extension?.find((x) => x.url === HISTORY_URL)?.extension ?? [];
  const out: Partial<Record<HistoryField, string>> = {};
  for (const f of HISTORY_FIELDS) {
    const v = parts.find((p) => p.url === f)?.valueString;
    if (v) {
      out[f] = v;
    }
  }
  out.chiefComplaint ??= ci?.description;
  out.examination ??= ci?.summary;
  return out;
}

/** The visit's chart: banner, the record around it, and the doctor's work in tabs; read-only once concluded. */
export function VisitChartPage(): ReactElement {
  const { t } = useTranslation();
  const { fhir } = useSession();
  const { encounterId = '' } = useParams();
  useClinicLive([
    'Encounter',
    'ServiceRequest',
    'Observation',
    'MedicationRequest',
    'Condition',
    'DiagnosticReport',
    'Communication',
  ]);
  const encounter = useEncounter(encounterId);
  const patient = usePatient(encounter.data);
  const pid = patient.data?.id;
  const coverages = useCoverages(pid);
  const allergies = useAllergies(pid);
  const conditions = useConditions(pid);
  const medications = useMedications(pid);
  const visits = usePreviousVisits(pid);
  const observations = useObservations(pid);
  const orders = useOrders(encounterId);
  const reports = useEncounterReports(encounterId);
  const prescriptions = useEncounterPrescriptions(encounterId);
  const impression = useQuery({
    queryKey: ['ClinicalImpression', 'encounter', encounterId],
    queryFn: async () =>
      entriesOf<ClinicalImpression>(
        await fhir.search('ClinicalImpression', [['encounter', `Encounter/${encounterId}`]]),
        'ClinicalImpression',
      )[0] ?? null,
  });

  if (encounter.isLoading) {
    return <LoadingState />;
  }
  if (encounter.error || !encounter.data) {
    return (
      <ErrorState error={encounter.error ?? t('clinic.chart.notFound')} onRetry={() => void encounter.refetch()} />
    );
  }
  const e = encounter.data;
  const readOnly = e.status === 'finished' || e.status === 'cancelled' || e.status === 'entered-in-error';
  const vitalsHere = (observations.data ?? []).filter(
    (o: Observation) =>
      o.encounter?.reference === `Encounter/${encounterId}` &&
      o.category?.some((c) => c.coding?.some((x) => x.code === 'vital-signs')),
  );
  const child = isChildUnder72Months(patient.data?.birthDate, new Date());
  const adult = (ageOn(patient.data?.birthDate ?? '', new Date())?.years ?? 0) >= 16;
  const bhyt = (coverages.data ?? []).some((c) => c.status === 'active');
  const diagnoses = diagnosesOf(conditions.data ?? [], encounterId, e.diagnosis);
  return (
    <Stack>
      <Group justify="space-between">
        <Button component={Link} to="/clinic" variant="subtle" size="xs">
          ← {t('clinic.chart.backToQueue')}
        </Button>
      </Group>
      <PatientBanner patient={patient.data} encounter={e} coverages={coverages.data} allergies={allergies.data} />
      {readOnly && (
        <Alert color="gray" role="status">
          {t('clinic.chart.readOnly')}
        </Alert>
      )}
      {child && !readOnly && (
        <Alert color="yellow" role="status">
          {t('clinic.chart.childRule')}
        </Alert>
      )}
      <CriticalAlerts encounterId={encounterId} />
      <ChartSummary
        encounterId={encounterId}
        conditions={conditions}
        medications={medications}
        visits={visits}
        observations={observations}
      />
      <Tabs defaultValue="vitals" keepMounted={false} aria-label={t('clinic.chart.tabs')}>
        <Tabs.List style={{ overflowX: 'auto', flexWrap: 'nowrap' }}>
          <Tabs.Tab value="vitals">{t('clinic.tabs.vitals')}</Tabs.Tab>
          <Tabs.Tab value="history">{t('clinic.tabs.history')}</Tabs.Tab>
          <Tabs.Tab value="diagnoses">{t('clinic.tabs.diagnoses')}</Tabs.Tab>
          <Tabs.Tab value="orders">{t('clinic.tabs.orders')}</Tabs.Tab>
          <Tabs.Tab value="results">
            {t('clinic.tabs.results')}
            {(reports.data?.length ?? 0) > 0 ? ` (${reports.data?.length})` : ''}
          </Tabs.Tab>
          <Tabs.Tab value="prescription">{t('clinic.tabs.prescription')}</Tabs.Tab>
          <Tabs.Tab value="conclusion">{t('clinic.tabs.conclusion')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="vitals" pt="md">
          <VitalsPanel encounterId={encounterId} recorded={vitalsHere} readOnly={readOnly} adult={adult} />
        </Tabs.Panel>
        <Tabs.Panel value="history" pt="md">
          {impression.isLoading ? (
            <LoadingState />
          ) : (
            <HistoryPanel
              encounterId={encounterId}
              initial={historyOf(impression.data ?? undefined)}
              readOnly={readOnly}
            />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="diagnoses" pt="md">
          {conditions.isLoading ? (
            <LoadingState />
          ) : (
            <DiagnosesPanel encounterId={encounterId} current={diagnoses} readOnly={readOnly} />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="orders" pt="md">
          <OrdersPanel
            encounterId={encounterId}
            orders={orders.data ?? []}
            ordersLoading={orders.isLoading}
            ordersError={orders.error}
            readOnly={readOnly}
            bhyt={bhyt}
          />
        </Tabs.Panel>
        <Tabs.Panel value="results" pt="md">
          <ResultsPanel reports={reports} />
        </Tabs.Panel>
        <Tabs.Panel value="prescription" pt="md">
          <PrescriptionPanel encounterId={encounterId} existing={prescriptions.data ?? []} readOnly={readOnly} />
        </Tabs.Panel>
        <Tabs.Panel value="conclusion" pt="md">
          <ConclusionPanel encounter={e} readOnly={readOnly} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
