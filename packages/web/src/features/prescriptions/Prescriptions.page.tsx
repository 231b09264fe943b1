import type { MedicationRequest, Patient } from '@medplum/fhirtypes';
import { Stack, Table, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';

/** Signed prescriptions not yet dispensed, oldest first. */
export function PrescriptionsPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['prescriptions'],
    queryFn: () =>
      fhir.search('MedicationRequest', [
        ['status', 'active'],
        ['intent', 'order'],
        ['_sort', 'authoredon'],
        ['_count', '50'],
        ['_include', 'MedicationRequest:subject'],
      ]),
  });
  const requests = entriesOf<MedicationRequest>(result.data, 'MedicationRequest');
  return (
    <Stack>
      <Title order={2}>{t('prescriptions.title')}</Title>
      {result.isLoading && <LoadingState />}
      {result.error && <ErrorState error={result.error} onRetry={() => void result.refetch()} />}
      {result.data && requests.length === 0 && <EmptyState text={t('prescriptions.none')} />}
      {requests.length > 0 && (
        <Table striped highlightOnHover aria-label={t('prescriptions.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('prescriptions.authored')}</Table.Th>
              <Table.Th>{t('prescriptions.patient')}</Table.Th>
              <Table.Th>{t('prescriptions.drug')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {requests.map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>{formatDate(m.authoredOn, i18n.language)}</Table.Td>
                <Table.Td fw={600}>{displayName(resolve<Patient>(result.data, m.subject?.reference))}</Table.Td>
                <Table.Td>
                  {m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.display}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
