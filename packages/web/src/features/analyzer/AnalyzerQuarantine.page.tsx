import type { Parameters } from '@medplum/fhirtypes';
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  Modal,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactElement, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';
import { ErrorState, LoadingState } from '../../ui/states/States.tsx';
import {
  canFix,
  type Fixes,
  invalidBarcodes,
  type MessageDetail,
  type MessageRow,
  parseMessageDetail,
  parseMessageList,
  replayBody,
  segmentsOf,
  STATUSES,
  statusColor,
} from './analyzer.logic.ts';

const FILTERS = [...STATUSES, 'all'] as const;

function fixesFrom(d: MessageDetail): Fixes {
  const barcodes: Fixes['barcodes'] = {};
  const codes: Fixes['codes'] = {};
  for (const g of d.groups) {
    barcodes[g.barcode] = d.barcodeFixes[g.barcode] ?? '';
    for (const r of g.results) {
      const f = d.codeFixes[r.code];
      // no system: Sen matches the code against LOINC and its own catalog codes alike
      codes[r.code] = { to: f?.code ?? '', system: f?.system, remember: false };
    }
  }
  return { barcodes, codes, corrected: segmentsOf(d.corrected ?? d.raw) };
}

/** One message: its text, what Sen read from it, and (in quarantine) the fixes, replay and discard. */
function MessageModal(props: { id: string; onClose(): void }): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const client = useQueryClient();
  const detail = useQuery({
    queryKey: ['analyzer-message', props.id],
    queryFn: () => fhir.request<Parameters>(`$analyzer-message?id=${encodeURIComponent(props.id)}`),
  });
  const d = parseMessageDetail(detail.data);
  const [fixes, setFixes] = useState<Fixes | undefined>();
  const [discardReason, setDiscardReason] = useState('');
  useEffect(() => {
    if (d && !fixes) {
      setFixes(fixesFrom(d));
    }
  }, [d, fixes]);
  const done = (): void => {
    void client.invalidateQueries({ queryKey: ['analyzer-messages'] });
    void client.invalidateQueries({ queryKey: ['analyzer-message', props.id] });
    setFixes(undefined);
  };
  const replay = useMutation({
    mutationFn: (body: Parameters) => fhir.request<Parameters>('$analyzer-replay', { method: 'POST', body }),
    onSettled: done,
  });
  const discard = useMutation({
    mutationFn: () =>
      fhir.request<Parameters>('$analyzer-discard', {
        method: 'POST',
        body: {
          resourceType: 'Parameters',
          parameter: [
            { name: 'id', valueString: props.id },
            { name: 'reason', valueString: discardReason.trim() },
          ],
        },
      }),
    onSettled: done,
  });
  const outcome = replay.data?.parameter?.find((p) => p.name === 'ack')?.valueCode;
  const outcomeReason = replay.data?.parameter?.find((p) => p.name === 'reason')?.valueString;
  const bad = fixes ? invalidBarcodes(fixes) : [];
  return (
    <Modal opened onClose={props.onClose} title={t('analyzer.messageTitle', { id: props.id })} size="xl">
      {detail.isLoading && <LoadingState />}
      {detail.error && <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />}
      {d && (
        <Stack>
          <Group gap="xs">
            <Badge color={statusColor(d.message.status)}>{t(`analyzer.status.${d.message.status}`)}</Badge>
            {d.message.ack && <Badge variant="outline">{d.message.ack}</Badge>}
            <Text size="sm">
              {d.message.messageType} · {d.message.analyzer} · {d.message.controlId} ·{' '}
              {formatDate(d.message.receivedAt, i18n.language)}
            </Text>
          </Group>
          {d.message.reason && (
            <Alert color={d.message.status === 'quarantined' ? 'red' : 'gray'} title={t('analyzer.reason')}>
              {d.message.reason}
            </Alert>
          )}
          {d.readError && <Alert color="orange">{d.readError}</Alert>}
          {outcome && (
            <Alert color={outcome === 'AA' ? 'green' : 'red'} role="status">
              {outcome === 'AA'
                ? t('analyzer.replayed')
                : t('analyzer.stillQuarantined', { reason: outcomeReason ?? '' })}
            </Alert>
          )}
          {replay.error && <ErrorState error={replay.error} />}
          {discard.error && <ErrorState error={discard.error} />}
          {d.groups.length > 0 && fixes && (
            <Stack gap="xs">
              <Title order={4}>{t('analyzer.groups')}</Title>
              {d.groups.map((g) => (
                <Stack key={g.obr} gap={4}>
                  <Group gap="xs" align="end">
                    <Text size="sm">
                      OBR {g.obr} · {t('analyzer.barcodeFrom', { field: g.barcodeField })}: <Code>{g.barcode}</Code>
                    </Text>
                    {canFix(d.message) && (
                      <TextInput
                        size="xs"
                        label={t('analyzer.correctBarcode')}
                        value={fixes.barcodes[g.barcode] ?? ''}
                        error={bad.includes(g.barcode) ? t('analyzer.digitsOnly') : undefined}
                        onChange={(e) =>
                          setFixes({ ...fixes, barcodes: { ...fixes.barcodes, [g.barcode]: e.currentTarget.value } })
                        }
                      />
                    )}
                  </Group>
                  <Table aria-label={t('analyzer.resultsOf', { obr: g.obr })}>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>{t('analyzer.col.code')}</Table.Th>
                        <Table.Th>{t('analyzer.col.value')}</Table.Th>
                        {canFix(d.message) && <Table.Th>{t('analyzer.col.mapTo')}</Table.Th>}
                        {canFix(d.message) && <Table.Th>{t('analyzer.col.remember')}</Table.Th>}
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {g.results.map((r) => (
                        <Table.Tr key={`${g.obr}-${r.code}`}>
                          <Table.Td>
                            <Code>{r.code}</Code> {r.display}
                          </Table.Td>
                          <Table.Td>
                            {r.value} {r.unit} {r.flag ? `(${r.flag})` : ''}
                          </Table.Td>
                          {canFix(d.message) && (
                            <Table.Td>
                              <TextInput
                                size="xs"
                                aria-label={t('analyzer.mapCode', { code: r.code })}
                                placeholder={t('analyzer.mapPlaceholder')}
                                value={fixes.codes[r.code]?.to ?? ''}
                                onChange={(e) =>
                                  setFixes({
                                    ...fixes,
                                    codes: {
                                      ...fixes.codes,
                                      [r.code]: { ...fixes.codes[r.code], to: e.currentTarget.value },
                                    },
                                  })
                                }
                              />
                            </Table.Td>
                          )}
                          {canFix(d.message) && (
                            <Table.Td>
                              <Checkbox
                                aria-label={t('analyzer.rememberCode', { code: r.code })}
                                checked={fixes.codes[r.code]?.remember ?? false}
                                onChange={(e) =>
                                  setFixes({
                                    ...fixes,
                                    codes: {
                                      ...fixes.codes,
                                      [r.code]: { ...fixes.codes[r.code], remember: e.currentTarget.checked },
                                    },
                                  })
                                }
                              />
                            </Table.Td>
                          )}
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Stack>
              ))}
            </Stack>
          )}
          {canFix(d.message) && fixes ? (
            <Textarea
              label={t('analyzer.text')}
              description={t('analyzer.textHelp')}
              autosize
              minRows={4}
              maxRows={14}
              styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
              value={fixes.corrected ?? ''}
              onChange={(e) => setFixes({ ...fixes, corrected: e.currentTarget.value })}
            />
          ) : (
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                {t('analyzer.text')}
              </Text>
              <Code block>{segmentsOf(d.corrected ?? d.raw)}</Code>
            </Stack>
          )}
          {canFix(d.message) && fixes && (
            <Group justify="space-between" align="end">
              <Group align="end">
                <TextInput
                  size="xs"
                  label={t('analyzer.discardReason')}
                  value={discardReason}
                  onChange={(e) => setDiscardReason(e.currentTarget.value)}
                />
                <Button
                  size="xs"
                  color="gray"
                  variant="light"
                  disabled={discardReason.trim().length < 5}
                  loading={discard.isPending}
                  onClick={() => discard.mutate()}
                >
                  {t('analyzer.discard')}
                </Button>
              </Group>
              <Button
                disabled={bad.length > 0}
                loading={replay.isPending}
                onClick={() => replay.mutate(replayBody(props.id, fixes, d.corrected ?? d.raw))}
              >
                {t('analyzer.replay')}
              </Button>
            </Group>
          )}
        </Stack>
      )}
    </Modal>
  );
}

/**
 * The lab's (and IT's) list of messages from the analyzers: those Sen could not take wait in quarantine with the
 * reason; a person opens one, corrects the barcode, maps the analyzer's test codes or corrects the text, and
 * replays it — or discards it with a reason. Refreshes every few seconds (the listener writes no FHIR resource for
 * a quarantined message, so there is no live event to wait for).
 */
export function AnalyzerQuarantinePage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const [filter, setFilter] = useState<(typeof FILTERS)[number]>('quarantined');
  const [open, setOpen] = useState<string | undefined>();
  const list = useQuery({
    queryKey: ['analyzer-messages', filter],
    queryFn: () => fhir.request<Parameters>(`$analyzer-messages?_count=100&status=${filter}`),
    refetchInterval: 5_000,
  });
  const parsed = parseMessageList(list.data);
  return (
    <>
      <ResultTable<MessageRow>
        title={t('analyzer.title')}
        query={list}
        rows={parsed.rows}
        empty={filter === 'quarantined' ? t('analyzer.noneQuarantined') : t('analyzer.none')}
        columns={[
          { header: '#', cell: (m) => m.id, strong: true },
          { header: t('analyzer.col.received'), cell: (m) => formatDate(m.receivedAt, i18n.language) },
          { header: t('analyzer.col.analyzer'), cell: (m) => m.analyzer ?? '—' },
          { header: t('analyzer.col.type'), cell: (m) => m.messageType ?? '—' },
          { header: t('analyzer.col.barcode'), cell: (m) => m.barcodes.join(', ') },
          {
            header: t('analyzer.col.status'),
            cell: (m) => (
              <Badge color={statusColor(m.status)} variant="light">
                {t(`analyzer.status.${m.status}`)}
              </Badge>
            ),
          },
          { header: t('analyzer.col.reason'), cell: (m) => <Text size="xs">{m.reason ?? ''}</Text> },
          {
            header: '',
            cell: (m) => (
              <Button size="xs" variant={canFix(m) ? 'light' : 'subtle'} onClick={() => setOpen(m.id)}>
                {canFix(m) ? t('analyzer.fix') : t('analyzer.view')}
              </Button>
            ),
          },
        ]}
      >
        <Text size="sm" c="dimmed">
          {t('analyzer.intro')}
        </Text>
        <SegmentedControl
          aria-label={t('analyzer.filter')}
          value={filter}
          onChange={(v) => setFilter(v as (typeof FILTERS)[number])}
          data={FILTERS.map((f) => ({
            value: f,
            label: f === 'all' ? t('analyzer.all') : `${t(`analyzer.status.${f}`)} (${parsed.counts[f] ?? 0})`,
          }))}
        />
      </ResultTable>
      {open && <MessageModal id={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
