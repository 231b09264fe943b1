import type { Encounter, MedicationRequest, Patient, Practitioner } from '@medplum/fhirtypes';
import { Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatBirthDate, formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { ageLabel, BHYT_SID, CCCD_SID, identifierValue } from './clinic.logic.ts';
import { usePrescription } from './clinic.queries.ts';
import { QrCode } from './QrCode.tsx';

/** The printable prescription: patient, diagnosis, medicines with quantity and use, the national code as a QR. */
export function PrescriptionPrintPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { staff } = useSession();
  const { code = '' } = useParams();
  const [search] = useSearchParams();
  const encounterId = search.get('encounter') ?? undefined;
  const rx = usePrescription(code, encounterId);
  if (rx.isLoading) {
    return <LoadingState />;
  }
  if (rx.error) {
    return <ErrorState error={rx.error} onRetry={() => void rx.refetch()} />;
  }
  const requests: MedicationRequest[] = rx.data?.requests ?? [];
  if (requests.length === 0) {
    return <EmptyState text={t('clinic.print.notFound', { code })} />;
  }
  const first = requests[0];
  const patient = resolve<Patient>(rx.data?.bundle, first.subject?.reference);
  const doctor = resolve<Practitioner>(rx.data?.bundle, first.requester?.reference);
  const encounter = resolve<Encounter>(rx.data?.bundle, first.encounter?.reference);
  const diagnosis = encounter?.diagnosis
    ?.map((d) => d.condition?.display)
    .filter(Boolean)
    .join('; ');
  return (
    <Stack maw={800} mx="auto" gap="md" className="sen-print" aria-label={t('clinic.print.title')} role="document">
      <style>
        {'@media print { header, nav, .sen-no-print { display: none !important; } main { padding: 0 !important; } }'}
      </style>
      <Group justify="space-between" className="sen-no-print">
        {encounterId && (
          <Button component={Link} to={`/clinic/visit/${encounterId}`} variant="subtle" size="xs">
            ← {t('clinic.print.back')}
          </Button>
        )}
        <Button onClick={() => window.print()}>{t('clinic.print.print')}</Button>
      </Group>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Text fw={700}>{staff?.facility?.name}</Text>
          <Text size="sm">{staff?.departments.map((d) => d.name).join(', ')}</Text>
        </Stack>
        <Stack gap={2} align="center">
          <QrCode value={code} size={132} label={t('clinic.print.qr', { code })} />
          <Text ff="monospace" fw={700} aria-label={t('clinic.rx.code')}>
            {code}
          </Text>
        </Stack>
      </Group>
      <Title order={2} ta="center">
        {t('clinic.print.title')}
      </Title>
      <Stack gap={4}>
        <Text>
          {t('clinic.print.patient')}: <b>{displayName(patient)}</b> ·{' '}
          {ageLabel(patient?.birthDate, new Date(), i18n.language)} ({formatBirthDate(patient?.birthDate)}) ·{' '}
          {patient?.gender ? t(`clinic.sex.${patient.gender}`) : ''}
        </Text>
        <Text>
          CCCD: {identifierValue(patient, CCCD_SID) ?? '—'} · BHYT: {identifierValue(patient, BHYT_SID) ?? '—'}
        </Text>
        {diagnosis && (
          <Text>
            {t('clinic.print.diagnosis')}: {diagnosis}
          </Text>
        )}
      </Stack>
      <Table withTableBorder aria-label={t('clinic.print.items')}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>#</Table.Th>
            <Table.Th>{t('clinic.print.drug')}</Table.Th>
            <Table.Th>{t('clinic.rx.quantity')}</Table.Th>
            <Table.Th>{t('clinic.print.use')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {requests.map((m, i) => (
            <Table.Tr key={m.id}>
              <Table.Td>{i + 1}</Table.Td>
              <Table.Td fw={600}>
                {m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.display}
              </Table.Td>
              <Table.Td>
                {m.dispenseRequest?.quantity?.value} {m.dispenseRequest?.quantity?.unit}
              </Table.Td>
              <Table.Td>{m.dosageInstruction?.[0]?.text}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group justify="space-between" align="flex-start">
        <Text size="sm">
          {t('clinic.print.date')}: {formatDate(first.authoredOn, i18n.language)}
        </Text>
        <Stack gap={2} align="center">
          <Text size="sm" fw={600}>
            {t('clinic.print.doctor')}
          </Text>
          <Text>{displayName(doctor) || first.requester?.display}</Text>
        </Stack>
      </Group>
      <Text size="xs" c="dimmed">
        {t('clinic.print.footer', { code })}
      </Text>
    </Stack>
  );
}
