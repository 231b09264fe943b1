import type { Parameters } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Code, Group, Modal, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';
import {
  canRetry,
  describeError,
  parseSubmission,
  parseSubmissionList,
  statusColor,
  type Submission,
} from './ehb.logic.ts';

const FILTERS = ['all', 'failed', 'queued', 'accepted'] as const;

/** One submission's attempts, with the gateway's answer to each. */
function AttemptsModal(props: { id: string; onClose(): void }): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const detail = useQuery({
    queryKey: ['ehb-submission', props.id],
    queryFn: () => fhir.request<Parameters>(`$ehb-submissions?id=${encodeURIComponent(props.id)}`),
  });
  const p = detail.data?.parameter?.[0];
  const s = p ? parseSubmission(p) : undefined;
  return (
    <Modal opened onClose={props.onClose} title={t('ehb.attemptsOf', { id: props.id })} size="xl">
      {s && (
        <Stack>
          <Text size="sm">
            {t('ehb.col.encounter')}: <Code>{s.encounter}</Code> · MA_LK: <Code>{s.maLk}</Code>
          </Text>
          {s.transactionCode && (
            <Text size="sm">
              {t('ehb.transactionCode')}: <Code>{s.transactionCode}</Code>
            </Text>
          )}
          <Table aria-label={t('ehb.attemptsOf', { id: props.id })}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>{t('ehb.col.time')}</Table.Th>
                <Table.Th>{t('ehb.col.outcome')}</Table.Th>
                <Table.Th>HTTP</Table.Th>
                <Table.Th>{t('ehb.col.response')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {s.attemptList.map((a) => (
                <Table.Tr key={a.number}>
                  <Table.Td>{a.number}</Table.Td>
                  <Table.Td>{formatDate(a.startedAt, i18n.language)}</Table.Td>
                  <Table.Td>
                    <Badge color={a.outcome === 'accepted' ? 'green' : a.outcome === 'rejected' ? 'red' : 'yellow'}>
                      {t(`ehb.outcome.${a.outcome}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{a.httpStatus ?? '—'}</Table.Td>
                  <Table.Td>
                    <Text size="xs" style={{ wordBreak: 'break-all' }}>
                      {a.response ?? (a.error ? t(`ehb.error.${a.error}`) : '')}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Modal>
  );
}

/**
 * The hospital IT screen of the national e-health-book feed: how many submissions are waiting, accepted or failed,
 * the latest ones with their status, attempts and last error, each one's attempts with the gateway's answers, and
 * "send now" for a waiting or failed one. No patient data: the payload is never shown here.
 */
export function EhbSubmissionsPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const client = useQueryClient();
  const [filter, setFilter] = useState<(typeof FILTERS)[number]>('all');
  const [open, setOpen] = useState<string | undefined>();
  const list = useQuery({
    queryKey: ['ehb-submissions', filter],
    queryFn: () =>
      fhir.request<Parameters>(`$ehb-submissions?_count=100${filter === 'all' ? '' : `&status=${filter}`}`),
    refetchInterval: 10_000,
  });
  const retry = useMutation({
    mutationFn: (id: string) =>
      fhir.request<Parameters>('$ehb-retry', {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: id }] },
      }),
    onSettled: () => void client.invalidateQueries({ queryKey: ['ehb-submissions'] }),
  });
  const parsed = parseSubmissionList(list.data);
  return (
    <>
      <ResultTable<Submission>
        title={t('ehb.title')}
        query={list}
        rows={parsed.rows}
        empty={t('ehb.none')}
        columns={[
          { header: t('ehb.col.id'), cell: (s) => s.id, strong: true },
          { header: t('ehb.col.created'), cell: (s) => formatDate(s.createdAt, i18n.language) },
          { header: 'MA_LK', cell: (s) => <Code>{s.maLk}</Code> },
          { header: t('ehb.col.kind'), cell: (s) => t(`ehb.kind.${s.kind}`) },
          {
            header: t('ehb.col.status'),
            cell: (s) => (
              <Badge color={statusColor(s.status)} variant="light" tt="none" style={{ minWidth: 'max-content' }}>
                {t(`ehb.status.${s.status}`)}
              </Badge>
            ),
          },
          { header: t('ehb.col.attempts'), cell: (s) => s.attempts },
          {
            header: t('ehb.col.when'),
            cell: (s) =>
              s.status === 'accepted'
                ? t('ehb.sentAt', { time: formatDate(s.sentAt, i18n.language) })
                : s.status === 'queued' && s.nextAttemptAt
                  ? t('ehb.nextAt', { time: formatDate(s.nextAttemptAt, i18n.language) })
                  : '',
          },
          {
            header: t('ehb.col.lastError'),
            cell: (s) => {
              const e = describeError(s.lastError);
              return (
                <Text size="xs">{[e.kind ? t(`ehb.error.${e.kind}`) : '', e.rest].filter(Boolean).join(' ')}</Text>
              );
            },
          },
          {
            header: '',
            cell: (s) => (
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="subtle" onClick={() => setOpen(s.id)}>
                  {t('ehb.attempts')}
                </Button>
                {canRetry(s) && (
                  <Button
                    size="xs"
                    variant="light"
                    loading={retry.isPending && retry.variables === s.id}
                    onClick={() => retry.mutate(s.id)}
                  >
                    {t('ehb.retry')}
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      >
        <Text size="sm" c="dimmed">
          {t('ehb.intro')}
        </Text>
        <Group>
          <Badge color="yellow" size="lg" variant="light">
            {t('ehb.count.queued', { n: parsed.counts.queued })}
          </Badge>
          <Badge color="green" size="lg" variant="light">
            {t('ehb.count.accepted', { n: parsed.counts.accepted })}
          </Badge>
          <Badge color="red" size="lg" variant="light">
            {t('ehb.count.failed', { n: parsed.counts.failed })}
          </Badge>
        </Group>
        <SegmentedControl
          aria-label={t('ehb.filter')}
          value={filter}
          onChange={(v) => setFilter(v as (typeof FILTERS)[number])}
          data={FILTERS.map((f) => ({ value: f, label: t(`ehb.filters.${f}`) }))}
        />
        {retry.error && (
          <Alert color="red" role="alert">
            {retry.error.message}
          </Alert>
        )}
      </ResultTable>
      {open && <AttemptsModal id={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
