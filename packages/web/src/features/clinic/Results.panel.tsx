import { Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import type { ReportView } from './results.logic.ts';

const FLAG_COLOR = { HH: 'red', LL: 'red', H: 'orange', L: 'orange' } as const;

/** The visit's results and reports as the departments send them (live): values flagged, signed or not yet. */
export function ResultsPanel(props: { reports: UseQueryResult<ReportView[]> }): ReactElement {
  const { t, i18n } = useTranslation();
  const { reports } = props;
  if (reports.isLoading) {
    return <LoadingState />;
  }
  if (reports.error) {
    return <ErrorState error={reports.error} onRetry={() => void reports.refetch()} />;
  }
  const list = reports.data ?? [];
  if (list.length === 0) {
    return <EmptyState text={t('clinic.results.none')} />;
  }
  return (
    <Stack>
      {list.map((r) => (
        <Card key={r.id} withBorder padding="sm" role="region" aria-label={r.title}>
          <Group justify="space-between" mb="xs">
            <Title order={4}>{r.title}</Title>
            <Group gap="xs">
              {r.critical && (
                <Badge color="red" variant="filled">
                  {t('clinic.results.critical')}
                </Badge>
              )}
              <Badge color={r.signed ? 'green' : 'yellow'} variant="light">
                {r.signed ? t('clinic.results.signed') : t('clinic.results.preliminary')}
              </Badge>
              {r.issued && (
                <Text size="xs" c="dimmed">
                  {formatDate(r.issued, i18n.language)}
                </Text>
              )}
            </Group>
          </Group>
          {r.values.length > 0 && (
            <Table striped withTableBorder aria-label={t('clinic.results.values', { title: r.title })}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('clinic.results.test')}</Table.Th>
                  <Table.Th>{t('clinic.results.value')}</Table.Th>
                  <Table.Th>{t('clinic.results.unit')}</Table.Th>
                  <Table.Th>{t('clinic.results.range')}</Table.Th>
                  <Table.Th>{t('clinic.results.flag')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {r.values.map((v, i) => (
                  <Table.Tr key={v.id ?? i}>
                    <Table.Td>{v.name}</Table.Td>
                    <Table.Td fw={v.flag ? 700 : undefined} c={v.flag ? FLAG_COLOR[v.flag] : undefined}>
                      {v.value}
                    </Table.Td>
                    <Table.Td>{v.unit}</Table.Td>
                    <Table.Td>{v.range}</Table.Td>
                    <Table.Td>
                      {v.flag && (
                        <Badge color={FLAG_COLOR[v.flag]} variant={v.flag.length === 2 ? 'filled' : 'light'}>
                          {t(`clinic.results.flag_${v.flag}`)}
                        </Badge>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          {r.findings && (
            <Stack gap={2} mt="xs">
              <Text fw={600} size="sm">
                {t('clinic.results.findings')}
              </Text>
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                {r.findings}
              </Text>
            </Stack>
          )}
          {r.conclusion && (
            <Stack gap={2} mt="xs">
              <Text fw={600} size="sm">
                {t('clinic.results.conclusion')}
              </Text>
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                {r.conclusion}
              </Text>
            </Stack>
          )}
          {r.performer && (
            <Text size="xs" c="dimmed" mt="xs">
              {t('clinic.results.by', { name: r.performer })}
            </Text>
          )}
        </Card>
      ))}
    </Stack>
  );
}
