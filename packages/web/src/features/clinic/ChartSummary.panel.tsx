import type { Condition, Encounter, MedicationRequest, Observation } from '@medplum/fhirtypes';
import { Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactElement, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { trendDirection, trendsOf } from './clinic.logic.ts';
import { Sparkline } from './Sparkline.tsx';

function Section<T>(props: {
  title: string;
  query: UseQueryResult<unknown>;
  rows: T[];
  empty: string;
  children: (rows: T[]) => ReactNode;
}): ReactElement {
  const { title, query, rows, empty, children } = props;
  return (
    <Card withBorder padding="sm" role="region" aria-label={title}>
      <Title order={4} mb="xs">
        {title}
      </Title>
      {query.isLoading && <LoadingState />}
      {query.error && <ErrorState error={query.error} onRetry={() => void query.refetch()} />}
      {query.data !== undefined && rows.length === 0 && <EmptyState text={empty} />}
      {rows.length > 0 && children(rows)}
    </Card>
  );
}

const codeText = (c: { text?: string; coding?: { code?: string; display?: string }[] } | undefined): string =>
  c?.text ?? [c?.coding?.[0]?.code, c?.coding?.[0]?.display].filter(Boolean).join(' — ');

const ARROW = { up: '↑', down: '↓', flat: '→' } as const;

/** The patient's record around this visit: problems, current medicines, previous visits, results with trends. */
export function ChartSummary(props: {
  encounterId: string;
  conditions: UseQueryResult<Condition[]>;
  medications: UseQueryResult<MedicationRequest[]>;
  visits: UseQueryResult<Encounter[]>;
  observations: UseQueryResult<Observation[]>;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const { encounterId, conditions, medications, visits, observations } = props;
  const problems = (conditions.data ?? []).filter(
    (c) => !['resolved', 'inactive', 'remission'].includes(c.clinicalStatus?.coding?.[0]?.code ?? ''),
  );
  const meds = (medications.data ?? []).filter((m) => m.status === 'active');
  const previous = (visits.data ?? []).filter((e) => e.id !== encounterId);
  const trends = trendsOf(observations.data ?? []);
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm">
      <Section
        title={t('clinic.summary.problems')}
        query={conditions}
        rows={problems}
        empty={t('clinic.summary.noProblems')}
      >
        {(rows) => (
          <Stack gap={4}>
            {rows.map((c) => (
              <Text key={c.id} size="sm">
                {[c.code?.coding?.[0]?.code, c.code?.text ?? c.code?.coding?.[0]?.display].filter(Boolean).join(' — ')}
                {c.encounter?.reference === `Encounter/${encounterId}` && (
                  <Badge ml={6} size="xs" variant="light">
                    {t('clinic.summary.thisVisit')}
                  </Badge>
                )}
              </Text>
            ))}
          </Stack>
        )}
      </Section>
      <Section
        title={t('clinic.summary.medications')}
        query={medications}
        rows={meds}
        empty={t('clinic.summary.noMedications')}
      >
        {(rows) => (
          <Stack gap={4}>
            {rows.map((m) => (
              <Text key={m.id} size="sm">
                <Text span fw={600}>
                  {codeText(m.medicationCodeableConcept)}
                </Text>
                {m.dosageInstruction?.[0]?.text && <Text span c="dimmed">{` — ${m.dosageInstruction[0].text}`}</Text>}
              </Text>
            ))}
          </Stack>
        )}
      </Section>
      <Section
        title={t('clinic.summary.previousVisits')}
        query={visits}
        rows={previous}
        empty={t('clinic.summary.noVisits')}
      >
        {(rows) => (
          <Stack gap={4}>
            {rows.map((e) => (
              <Text key={e.id} size="sm">
                {formatDate(e.period?.start, i18n.language)} · {e.reasonCode?.[0]?.text ?? codeText(e.type?.[0])}
              </Text>
            ))}
          </Stack>
        )}
      </Section>
      <Section
        title={t('clinic.summary.results')}
        query={observations}
        rows={trends}
        empty={t('clinic.summary.noResults')}
      >
        {(rows) => (
          <Table fz="sm" aria-label={t('clinic.summary.results')}>
            <Table.Tbody>
              {rows.map((tr) => {
                const last = tr.points[tr.points.length - 1];
                const dir = trendDirection(tr.points);
                return (
                  <Table.Tr key={tr.code}>
                    <Table.Td>{tr.label}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Text span fw={600} c={last.flag ? 'red' : undefined}>
                          {last.value} {tr.unit}
                        </Text>
                        {last.flag && (
                          <Badge size="xs" color="red">
                            {last.flag}
                          </Badge>
                        )}
                        {dir && (
                          <Text span aria-label={t(`clinic.summary.trend_${dir}`)}>
                            {ARROW[dir]}
                          </Text>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      {tr.points.length > 1 && (
                        <Sparkline
                          points={tr.points}
                          label={t('clinic.summary.trendOf', { name: tr.label, count: tr.points.length })}
                        />
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Section>
    </SimpleGrid>
  );
}
