import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import { Badge, Stack, Table, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';

/** SNOMED CT categories of ServiceRequest (the R4 example value set): laboratory and imaging. */
export const CATEGORY = { laboratory: '108252007', imaging: '363679005' } as const;
export type WorklistKind = keyof typeof CATEGORY;

const PRIORITY_COLOR: Record<string, string> = { stat: 'red', asap: 'orange', urgent: 'orange', routine: 'gray' };

/** Active orders of one kind, oldest first so nobody waits at the bottom; urgent ones are marked. */
export function WorklistPage({ kind }: { kind: WorklistKind }): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['worklist', kind],
    queryFn: () =>
      fhir.search('ServiceRequest', [
        ['status', 'active'],
        ['category', `http://snomed.info/sct|${CATEGORY[kind]}`],
        ['_sort', 'authored'],
        ['_count', '50'],
        ['_include', 'ServiceRequest:subject'],
      ]),
  });
  const orders = entriesOf<ServiceRequest>(result.data, 'ServiceRequest');
  return (
    <Stack>
      <Title order={2}>{t('worklist.title')}</Title>
      {result.isLoading && <LoadingState />}
      {result.error && <ErrorState error={result.error} onRetry={() => void result.refetch()} />}
      {result.data && orders.length === 0 && <EmptyState text={t('worklist.none')} />}
      {orders.length > 0 && (
        <Table striped highlightOnHover aria-label={t('worklist.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('worklist.authored')}</Table.Th>
              <Table.Th>{t('worklist.patient')}</Table.Th>
              <Table.Th>{t('worklist.service')}</Table.Th>
              <Table.Th>{t('worklist.priority')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {orders.map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td>{formatDate(o.authoredOn, i18n.language)}</Table.Td>
                <Table.Td fw={600}>{displayName(resolve<Patient>(result.data, o.subject?.reference))}</Table.Td>
                <Table.Td>{o.code?.text ?? o.code?.coding?.[0]?.display}</Table.Td>
                <Table.Td>
                  <Badge color={PRIORITY_COLOR[o.priority ?? 'routine']} variant="light">
                    {t(`worklist.priority_${o.priority ?? 'routine'}`)}
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
