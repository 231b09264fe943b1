import type { Encounter, Patient } from '@medplum/fhirtypes';
import { Badge, Stack, Table, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';

const STATUS_COLOR: Record<string, string> = {
  'in-progress': 'green',
  arrived: 'blue',
  triaged: 'blue',
  finished: 'gray',
};

/** The department's visits, newest first, with their patients (one query: _include). */
export function RecentVisitsPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir, staff } = useSession();
  // the visits in the rooms of my departments (rooms are part of the department's place)
  const depts = (staff?.departmentLocations ?? []).join(',');
  const result = useQuery({
    queryKey: ['visits', depts],
    queryFn: () =>
      fhir.search('Encounter', [
        ...(depts ? ([['location:Location.partof', depts]] as [string, string][]) : []),
        ['_sort', '-date'],
        ['_count', '25'],
        ['_include', 'Encounter:subject'],
      ]),
  });
  const encounters = entriesOf<Encounter>(result.data, 'Encounter');
  return (
    <Stack>
      <Title order={2}>{t('visits.title')}</Title>
      {result.isLoading && <LoadingState />}
      {result.error && <ErrorState error={result.error} onRetry={() => void result.refetch()} />}
      {result.data && encounters.length === 0 && <EmptyState text={t('visits.none')} />}
      {encounters.length > 0 && (
        <Table striped highlightOnHover aria-label={t('visits.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('visits.date')}</Table.Th>
              <Table.Th>{t('visits.patient')}</Table.Th>
              <Table.Th>{t('visits.type')}</Table.Th>
              <Table.Th>{t('visits.reason')}</Table.Th>
              <Table.Th>{t('visits.status')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {encounters.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{formatDate(e.period?.start, i18n.language)}</Table.Td>
                <Table.Td fw={600}>{displayName(resolve<Patient>(result.data, e.subject?.reference))}</Table.Td>
                <Table.Td>
                  {e.type?.[0]?.text ?? e.type?.[0]?.coding?.[0]?.display ?? e.class?.display ?? e.class?.code}
                </Table.Td>
                <Table.Td>{e.reasonCode?.[0]?.text ?? e.reasonCode?.[0]?.coding?.[0]?.display}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOR[e.status] ?? 'gray'} variant="light">
                    {t(`visits.status_${e.status}`)}
                  </Badge>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
