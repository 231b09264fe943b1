import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Select,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type FormEvent, type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { vietnamDay } from '@sen/vn/day.ts';
import { displayName } from '../../app/staff.ts';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import {
  barcodeOf,
  countByStatus,
  LAB_STATUSES,
  type LabItem,
  type LabStatus,
  labWorklistOf,
  orderName,
  roomOf,
  roomsOf,
} from './lab.logic.ts';
import { useLabLive, useLabWorklist, useReceive } from './lab.queries.ts';

export const STATUS_COLOR: Record<LabStatus, string> = {
  ordered: 'blue',
  collected: 'cyan',
  received: 'teal',
  'in-progress': 'orange',
  resulted: 'violet',
  verified: 'indigo',
  signed: 'green',
};
/** Badges in table cells show their whole word (Mantine cuts them to the cell otherwise). */
const BADGE_STYLES = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible' } } as const;

export const PRIORITY_COLOR: Record<string, string> = { stat: 'red', asap: 'red', urgent: 'orange', routine: 'gray' };

export function StatusBadge({ item }: { item: Pick<LabItem, 'status' | 'held'> }): ReactElement {
  const { t } = useTranslation();
  return item.held ? (
    <Badge color="yellow" variant="filled" styles={BADGE_STYLES}>
      {t('lab.awaitingPayment')}
    </Badge>
  ) : (
    <Badge color={STATUS_COLOR[item.status]} variant="light" styles={BADGE_STYLES}>
      {t(`lab.status.${item.status}`)}
    </Badge>
  );
}

/** Receiving specimens by scanning the tube (a scanner types the digits and Enter). */
function ReceiveByScan(): ReactElement {
  const { t } = useTranslation();
  const [code, setCode] = useState('');
  const [done, setDone] = useState<string>();
  const receive = useReceive();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const value = code.trim();
    if (!value) {
      return;
    }
    setDone(undefined);
    receive.mutate(value, {
      onSuccess: () => {
        setDone(value);
        setCode('');
      },
    });
  };
  return (
    <form onSubmit={submit} aria-label={t('lab.receive.title')}>
      <Group align="flex-end">
        <TextInput
          label={t('lab.receive.scan')}
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          inputMode="numeric"
          autoComplete="off"
        />
        <Button type="submit" loading={receive.isPending}>
          {t('lab.receive.button')}
        </Button>
      </Group>
      {done && (
        <Alert color="green" role="status" mt="xs">
          {t('lab.receive.done', { code: done })}
        </Alert>
      )}
      <OutcomeAlert error={receive.error} />
    </form>
  );
}

/** The lab's orders by status (urgent first), filterable by status, priority and day; updated live. */
export function LabWorklistPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const [status, setStatus] = useState('open');
  const [priority, setPriority] = useState<string | null>('');
  const [date, setDate] = useState(vietnamDay(new Date()));
  const [room, setRoom] = useState<string | null>('');
  const worklist = useLabWorklist({ status: '', priority: priority ?? '', date });
  useLabLive();
  const items = labWorklistOf(worklist.data);
  const counts = countByStatus(items);
  const rooms = roomsOf(items);
  const shown = items.filter(
    (i) =>
      (status === 'open' ? i.status !== 'signed' : status === 'all' || i.status === status) &&
      (!room || roomOf(i)?.id === room),
  );
  return (
    <Stack>
      <Title order={2}>{t('lab.title')}</Title>
      <ReceiveByScan />
      <Group align="flex-end">
        <SegmentedControl
          aria-label={t('lab.filter')}
          value={status}
          onChange={setStatus}
          data={[
            { value: 'open', label: t('lab.open', { n: items.length - counts.signed }) },
            ...LAB_STATUSES.map((s) => ({ value: s, label: `${t(`lab.status.${s}`)} (${counts[s]})` })),
            { value: 'all', label: t('lab.all') },
          ]}
        />
        <Select
          label={t('lab.priority')}
          value={priority}
          onChange={setPriority}
          data={[
            { value: '', label: t('lab.all') },
            ...['stat', 'urgent', 'routine'].map((p) => ({ value: p, label: t(`lab.priorities.${p}`) })),
          ]}
          allowDeselect={false}
          w={160}
        />
        <Select
          label={t('lab.room')}
          value={room}
          onChange={setRoom}
          data={[{ value: '', label: t('lab.all') }, ...rooms.map((r) => ({ value: r.id, label: r.name }))]}
          allowDeselect={false}
          w={200}
        />
        <TextInput label={t('lab.date')} type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
      </Group>
      {worklist.isLoading && <LoadingState />}
      {worklist.error && <ErrorState error={worklist.error} onRetry={() => void worklist.refetch()} />}
      {worklist.data && shown.length === 0 && <EmptyState text={t('lab.none')} />}
      {shown.length > 0 && (
        <Table.ScrollContainer minWidth={820}>
          <Table striped highlightOnHover aria-label={t('lab.title')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('lab.priority')}</Table.Th>
                <Table.Th>{t('lab.ordered')}</Table.Th>
                <Table.Th>{t('lab.patient')}</Table.Th>
                <Table.Th>{t('lab.service')}</Table.Th>
                <Table.Th>{t('lab.room')}</Table.Th>
                <Table.Th>{t('lab.barcode')}</Table.Th>
                <Table.Th>{t('lab.statusLabel')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((i) => (
                <Table.Tr key={i.order.id} data-order={i.order.id}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <Badge color={PRIORITY_COLOR[i.order.priority ?? 'routine']} styles={BADGE_STYLES}>
                      {t(`lab.priorities.${i.order.priority ?? 'routine'}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatDate(i.order.authoredOn, i18n.language)}</Table.Td>
                  <Table.Td>
                    <Text fw={600}>{displayName(i.patient)}</Text>
                  </Table.Td>
                  <Table.Td>{orderName(i.order)}</Table.Td>
                  <Table.Td>{roomOf(i)?.name ?? ''}</Table.Td>
                  <Table.Td>{barcodeOf(i.specimen) ?? ''}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <StatusBadge item={i} />
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/worklist/laboratory/${i.order.id ?? ''}`}>
                      {t('lab.openItem', { name: displayName(i.patient) })}
                    </Anchor>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
