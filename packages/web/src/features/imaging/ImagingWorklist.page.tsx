import { Anchor, Badge, Group, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { displayName } from '../../app/staff.ts';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { countByState, orderName, WORKLIST_STATES, type WorklistState, worklistOf } from './imaging.logic.ts';
import { useImagingLive, useImagingWorklist } from './imaging.queries.ts';

export const STATE_COLOR: Record<WorklistState, string> = {
  'awaiting-payment': 'yellow',
  scheduled: 'blue',
  done: 'violet',
  preliminary: 'orange',
  final: 'green',
  cancelled: 'gray',
};
export const PRIORITY_COLOR: Record<string, string> = { stat: 'red', asap: 'red', urgent: 'orange', routine: 'gray' };

/** The imaging orders of my department by state and priority; new orders and reports appear without reload. */
export function ImagingWorklistPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const [filter, setFilter] = useState<string>('open');
  const worklist = useImagingWorklist();
  useImagingLive();
  const items = worklistOf(worklist.data);
  const counts = countByState(items);
  const shown = items.filter((i) =>
    filter === 'open' ? i.state !== 'final' && i.state !== 'cancelled' : filter === 'all' || i.state === filter,
  );
  const states = WORKLIST_STATES.filter((s) => s !== 'cancelled');
  return (
    <Stack>
      <Title order={2}>{t('imaging.title')}</Title>
      <SegmentedControl
        aria-label={t('imaging.filter')}
        value={filter}
        onChange={setFilter}
        data={[
          { value: 'open', label: t('imaging.open', { n: items.length - counts.final - counts.cancelled }) },
          ...states.map((s) => ({ value: s, label: `${t(`imaging.state.${s}`)} (${counts[s]})` })),
          { value: 'all', label: t('imaging.all') },
        ]}
      />
      {worklist.isLoading && <LoadingState />}
      {worklist.error && <ErrorState error={worklist.error} onRetry={() => void worklist.refetch()} />}
      {worklist.data && shown.length === 0 && <EmptyState text={t('imaging.none')} />}
      {shown.length > 0 && (
        <Table.ScrollContainer minWidth={760}>
          <Table striped highlightOnHover aria-label={t('imaging.title')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('imaging.priority')}</Table.Th>
                <Table.Th>{t('imaging.ordered')}</Table.Th>
                <Table.Th>{t('imaging.patient')}</Table.Th>
                <Table.Th>{t('imaging.service')}</Table.Th>
                <Table.Th>{t('imaging.stateLabel')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((i) => (
                <Table.Tr key={i.order.id}>
                  <Table.Td>
                    <Badge color={PRIORITY_COLOR[i.order.priority ?? 'routine']}>
                      {t(`imaging.priorities.${i.order.priority ?? 'routine'}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{formatDate(i.order.authoredOn, i18n.language)}</Table.Td>
                  <Table.Td>
                    <Text fw={600}>{displayName(i.patient)}</Text>
                  </Table.Td>
                  <Table.Td>{orderName(i.order)}</Table.Td>
                  <Table.Td>
                    <Badge color={STATE_COLOR[i.state]} variant="light">
                      {t(`imaging.state.${i.state}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Group justify="flex-end">
                      <Anchor component={Link} to={`/worklist/imaging/${i.order.id}`}>
                        {t('imaging.openItem', { name: displayName(i.patient) })}
                      </Anchor>
                    </Group>
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
