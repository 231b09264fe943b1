import type { Encounter, Patient } from '@medplum/fhirtypes';
import { Button, Grid, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { useLive, useLiveInvalidate } from '../../api/live.ts';
import { displayName } from '../../app/staff.ts';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { BillPanel } from './Bill.panel.tsx';
import { parseVisitQuery, QUEUE_NUMBER_SID, type VisitQuery } from './cashier.logic.ts';
import { useVisitSearch } from './cashier.queries.ts';
import { useQueryClient } from '@tanstack/react-query';

const VISIT_TYPE_SYSTEM = 'https://sen.health.vn/fhir/CodeSystem/visit-type';

function visitType(e: Encounter): string {
  if (e.class?.code === 'EMER') {
    return 'emergency';
  }
  return e.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === VISIT_TYPE_SYSTEM)?.code ?? 'unknown';
}

/** The cashier's screen: find the visit, see its bill line by line, take cash or VietQR, print, refund. */
export function CashierPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const [search, setSearch] = useSearchParams();
  const [text, setText] = useState('');
  const [query, setQuery] = useState<VisitQuery>({ kind: 'none' });
  const visits = useVisitSearch(query);
  const selected = search.get('visit') ?? undefined;
  const client = useQueryClient();
  // new charges, invoices paid through the gateway, refunds: refreshed as they happen
  useLiveInvalidate(['ChargeItem', 'Invoice', 'PaymentReconciliation', 'Encounter']);
  // a new order or a dispense changes the bill: $charges is asked again
  useLive(['ServiceRequest', 'MedicationDispense'], () => void client.invalidateQueries({ queryKey: ['ChargeItem'] }));
  const encounters = entriesOf<Encounter>(visits.data, 'Encounter');
  return (
    <Stack gap="md">
      <Title order={2}>{t('cashier.title')}</Title>
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Paper withBorder p="sm">
            <form
              onSubmit={(ev) => {
                ev.preventDefault();
                setQuery(parseVisitQuery(text));
              }}
            >
              <Group align="flex-end" wrap="nowrap">
                <TextInput
                  style={{ flex: 1 }}
                  label={t('cashier.search')}
                  description={t('cashier.searchHint')}
                  value={text}
                  onChange={(e) => setText(e.currentTarget.value)}
                />
                <Button type="submit">{t('cashier.find')}</Button>
              </Group>
            </form>
            <Text fw={600} mt="md" mb="xs">
              {query.kind === 'none' ? t('cashier.today') : t('cashier.results')}
            </Text>
            {visits.isLoading ? (
              <LoadingState />
            ) : visits.error ? (
              <ErrorState error={visits.error} onRetry={() => void visits.refetch()} />
            ) : encounters.length === 0 ? (
              <EmptyState text={t('cashier.noVisits')} />
            ) : (
              <Table highlightOnHover aria-label={t('cashier.results')}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('cashier.patient')}</Table.Th>
                    <Table.Th>{t('cashier.visitType')}</Table.Th>
                    <Table.Th>{t('cashier.started')}</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {encounters.map((e) => {
                    const patient = resolve<Patient>(visits.data, e.subject?.reference);
                    const queue = e.identifier?.find((i) => i.system === QUEUE_NUMBER_SID)?.value;
                    return (
                      <Table.Tr key={e.id} bg={e.id === selected ? 'var(--mantine-color-green-0)' : undefined}>
                        <Table.Td>
                          <Text fw={600} size="sm">
                            {displayName(patient)}
                          </Text>
                          {queue && (
                            <Text size="xs" c="dimmed">
                              {t('cashier.queueNumber')} {queue}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Text size="xs" fw={600} c={visitType(e) === 'fee' ? 'orange.8' : 'teal.8'}>
                            {t(`cashier.visitTypes.${visitType(e)}`)}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="xs">{formatDate(e.period?.start, i18n.language)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Button
                            size="xs"
                            variant="light"
                            aria-label={`${t('cashier.open')} ${displayName(patient)}`}
                            onClick={() => setSearch({ visit: e.id as string })}
                          >
                            {t('cashier.open')}
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          {selected ? <BillPanel encounterId={selected} /> : <EmptyState text={t('cashier.chooseVisit')} />}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
