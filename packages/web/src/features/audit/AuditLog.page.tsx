import type { AuditEvent } from '@medplum/fhirtypes';
import { Badge, Stack, Table, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';

const OUTCOME: Record<string, { color: string; text: string }> = {
  '0': { color: 'green', text: '✓' },
  '4': { color: 'orange', text: '⛔' },
  '8': { color: 'red', text: '✗' },
};

/** The newest records of the tamper-evident audit trail (administrators and department heads). */
export function AuditLogPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['audit'],
    queryFn: () => fhir.search('AuditEvent', [['_count', '30']]),
  });
  const events = entriesOf<AuditEvent>(result.data, 'AuditEvent');
  return (
    <Stack>
      <Title order={2}>{t('audit.title')}</Title>
      {result.isLoading && <LoadingState />}
      {result.error && <ErrorState error={result.error} onRetry={() => void result.refetch()} />}
      {result.data && events.length === 0 && <EmptyState text={t('audit.none')} />}
      {events.length > 0 && (
        <Table striped aria-label={t('audit.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('audit.time')}</Table.Th>
              <Table.Th>{t('audit.who')}</Table.Th>
              <Table.Th>{t('audit.action')}</Table.Th>
              <Table.Th>{t('audit.patient')}</Table.Th>
              <Table.Th>{t('audit.outcome')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.map((e) => {
              const who = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
              const patient = e.entity?.find((x) => x.what?.reference?.startsWith('Patient/'))?.what?.reference;
              const outcome = OUTCOME[e.outcome ?? '0'] ?? OUTCOME['8'];
              return (
                <Table.Tr key={e.id}>
                  <Table.Td>{formatDate(e.recorded, i18n.language)}</Table.Td>
                  <Table.Td>{who?.who?.display ?? who?.who?.reference ?? who?.who?.identifier?.value}</Table.Td>
                  <Table.Td>{e.subtype?.map((s) => s.code).join(' ')}</Table.Td>
                  <Table.Td>{patient}</Table.Td>
                  <Table.Td>
                    <Badge color={outcome.color} variant="light">
                      {outcome.text}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
