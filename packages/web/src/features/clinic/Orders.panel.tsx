import type { Bundle, Coding, ServiceRequest } from '@medplum/fhirtypes';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { bhytShare, formatVnd, type Orderable, orderablesOf } from './clinic.logic.ts';
import { useEncounterOperation, useOrderable } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

const STATUS_COLOR: Record<string, string> = {
  draft: 'gray',
  active: 'blue',
  'on-hold': 'yellow',
  completed: 'green',
  revoked: 'red',
  'entered-in-error': 'red',
};

/** Orders to other departments: search the orderable services (price, BHYT), order sets, $order; live status. */
export function OrdersPanel(props: {
  encounterId: string;
  orders: ServiceRequest[];
  ordersLoading: boolean;
  ordersError: unknown;
  readOnly: boolean;
  bhyt: boolean;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const { encounterId, orders, readOnly, bhyt } = props;
  const [q, setQ] = useState('');
  const [debounced] = useDebouncedValue(q, 250);
  const [category, setCategory] = useState('');
  const [chosen, setChosen] = useState<Orderable[]>([]);
  const [sets, setSets] = useState<string[]>([]);
  const [priority, setPriority] = useState('routine');
  const [done, setDone] = useState<number>();
  const found = useOrderable(debounced, category);
  const { services, orderSets } = orderablesOf(found.data);
  const order = useEncounterOperation<Bundle>(encounterId, 'order', ['ServiceRequest']);
  const isChosen = (c: Coding): boolean => chosen.some((x) => x.code.code === c.code);
  const toggle = (s: Orderable): void =>
    setChosen((list) => (isChosen(s.code) ? list.filter((x) => x.code.code !== s.code.code) : [...list, s]));
  const total = chosen.reduce((sum, s) => sum + (s.price ?? 0), 0);
  const patientPays = chosen.reduce(
    (sum, s) =>
      sum + (s.price === undefined ? 0 : bhyt ? bhytShare(s.price, s.bhytRate, s.bhytCovered).patient : s.price),
    0,
  );
  const submit = (): void => {
    setDone(undefined);
    order.mutate(
      {
        resourceType: 'Parameters',
        parameter: [
          ...chosen.map((s) => ({ name: 'service', valueCoding: s.code })),
          ...sets.map((code) => ({ name: 'orderSet', valueCode: code })),
          { name: 'priority', valueCode: priority },
        ],
      },
      {
        onSuccess: (bundle) => {
          setDone(bundle.entry?.length ?? 0);
          setChosen([]);
          setSets([]);
        },
      },
    );
  };
  return (
    <Stack>
      {!readOnly && (
        <Card withBorder padding="sm">
          <Stack gap="sm">
            <Group align="flex-end" wrap="wrap">
              <TextInput
                label={t('clinic.orders.search')}
                placeholder={t('clinic.orders.searchHint')}
                value={q}
                onChange={(e) => setQ(e.currentTarget.value)}
                style={{ flex: 1, minWidth: 220 }}
              />
              <SegmentedControl
                aria-label={t('clinic.orders.category')}
                value={category}
                onChange={setCategory}
                data={[
                  { value: '', label: t('clinic.orders.all') },
                  { value: 'lab', label: t('clinic.orders.lab') },
                  { value: 'imaging', label: t('clinic.orders.imaging') },
                  { value: 'procedure', label: t('clinic.orders.procedure') },
                ]}
              />
            </Group>
            {orderSets.length > 0 && (
              <Group gap="xs" role="group" aria-label={t('clinic.orders.sets')}>
                <Text size="sm" fw={500}>
                  {t('clinic.orders.sets')}:
                </Text>
                {orderSets.map((s) => (
                  <Checkbox
                    key={s.code}
                    label={`${s.name} (${s.services.length})`}
                    checked={sets.includes(s.code)}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      setSets((list) => (on ? [...list, s.code] : list.filter((x) => x !== s.code)));
                    }}
                  />
                ))}
              </Group>
            )}
            {found.isLoading && <LoadingState />}
            {found.error && <ErrorState error={found.error} onRetry={() => void found.refetch()} />}
            {found.data && services.length === 0 && <EmptyState text={t('clinic.orders.noMatch')} />}
            {services.length > 0 && (
              <Table.ScrollContainer minWidth={620} mah={320}>
                <Table striped highlightOnHover aria-label={t('clinic.orders.results')}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th />
                      <Table.Th>{t('clinic.orders.service')}</Table.Th>
                      <Table.Th>{t('clinic.orders.department')}</Table.Th>
                      <Table.Th ta="right">{t('clinic.orders.price')}</Table.Th>
                      <Table.Th>BHYT</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {services.slice(0, 50).map((s) => (
                      <Table.Tr key={s.code.code}>
                        <Table.Td>
                          <Checkbox
                            aria-label={t('clinic.orders.choose', { name: s.code.display ?? s.code.code })}
                            checked={isChosen(s.code)}
                            onChange={() => toggle(s)}
                          />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" fw={500}>
                            {s.code.display}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {s.code.code}
                          </Text>
                        </Table.Td>
                        <Table.Td>{s.department}</Table.Td>
                        <Table.Td ta="right">{formatVnd(s.price, i18n.language)}</Table.Td>
                        <Table.Td>
                          {s.bhytCovered ? (
                            <Badge color="green" variant="light">
                              {t('clinic.orders.covered', { rate: s.bhytRate ?? 100 })}
                            </Badge>
                          ) : (
                            <Badge color="gray" variant="light">
                              {t('clinic.orders.notCovered')}
                            </Badge>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
            <Group justify="space-between" wrap="wrap">
              <Text size="sm" aria-live="polite">
                {t('clinic.orders.chosen', { count: chosen.length, sets: sets.length })}
                {chosen.length > 0 &&
                  ` · ${t('clinic.orders.total')}: ${formatVnd(total, i18n.language)} · ${t('clinic.orders.patientPays')}: ${formatVnd(patientPays, i18n.language)}`}
              </Text>
              <Group gap="sm">
                <Select
                  aria-label={t('clinic.orders.priority')}
                  value={priority}
                  onChange={(v) => setPriority(v ?? 'routine')}
                  allowDeselect={false}
                  w={150}
                  data={['routine', 'urgent', 'stat'].map((p) => ({
                    value: p,
                    label: t(`clinic.orders.priority_${p}`),
                  }))}
                />
                <Button onClick={submit} loading={order.isPending} disabled={chosen.length === 0 && sets.length === 0}>
                  {t('clinic.orders.send')}
                </Button>
              </Group>
            </Group>
            {done !== undefined && (
              <Alert color="green" role="status">
                {t('clinic.orders.sent', { count: done })}
              </Alert>
            )}
            <OutcomeAlert error={order.error} />
          </Stack>
        </Card>
      )}
      <Title order={4}>{t('clinic.orders.list')}</Title>
      {props.ordersLoading && <LoadingState />}
      {props.ordersError ? <ErrorState error={props.ordersError} /> : null}
      {!props.ordersLoading && orders.length === 0 && <EmptyState text={t('clinic.orders.none')} />}
      {orders.length > 0 && (
        <Table aria-label={t('clinic.orders.list')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('clinic.orders.service')}</Table.Th>
              <Table.Th>{t('clinic.orders.department')}</Table.Th>
              <Table.Th>{t('clinic.orders.priority')}</Table.Th>
              <Table.Th>{t('clinic.orders.time')}</Table.Th>
              <Table.Th>{t('clinic.orders.status')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {orders.map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td fw={500}>
                  {o.code?.text ?? o.code?.coding?.[0]?.display ?? o.code?.coding?.[0]?.code}
                </Table.Td>
                <Table.Td>{o.performer?.[0]?.display}</Table.Td>
                <Table.Td>{o.priority ? t(`clinic.orders.priority_${o.priority}`) : ''}</Table.Td>
                <Table.Td>{formatDate(o.authoredOn, i18n.language)}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOR[o.status] ?? 'gray'} variant="light">
                    {t(`clinic.orders.status_${o.status}`)}
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
