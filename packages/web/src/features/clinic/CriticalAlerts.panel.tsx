import type { Communication } from '@medplum/fhirtypes';
import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf } from '../../api/fhir.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { operation } from './clinic.queries.ts';
import { alertText, CRITICAL_ALERT_REASON } from './results.logic.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

/**
 * The lab's critical-value alerts for this visit (Communication, category alert), at the top of the chart: open ones
 * in red with "acknowledge" (recorded with who and when by Communication/$acknowledge), acknowledged ones quietly.
 * The query key starts with Communication, so a new alert appears through the live channel without reload.
 */
export function CriticalAlerts({ encounterId }: { encounterId: string }): ReactElement | null {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const client = useQueryClient();
  const alerts = useQuery({
    queryKey: ['Communication', 'alerts', encounterId],
    queryFn: async () =>
      entriesOf<Communication>(
        await fhir.search('Communication', [
          ['encounter', `Encounter/${encounterId}`],
          ['category', 'alert'],
          ['_sort', '-sent'],
          ['_count', '50'],
        ]),
        'Communication',
      ).filter((c) => c.reasonCode?.some((r) => r.coding?.some((x) => x.code === CRITICAL_ALERT_REASON))),
  });
  const ack = useMutation({
    mutationFn: (id: string) =>
      operation(fhir, `Communication/${encodeURIComponent(id)}/$acknowledge`, { resourceType: 'Parameters' }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['Communication'] }),
  });
  const list = alerts.data ?? [];
  if (list.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs" role="region" aria-label={t('clinic.alerts.title')}>
      {list.map((c) => {
        const open = c.status !== 'completed';
        return (
          <Alert
            key={c.id}
            color={open ? 'red' : 'gray'}
            variant={open ? 'filled' : 'light'}
            role={open ? 'alert' : 'status'}
            title={t('clinic.alerts.title')}
          >
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm">{alertText(c, i18n.language)}</Text>
              {open ? (
                <Button
                  size="xs"
                  color="red"
                  variant="white"
                  loading={ack.isPending && ack.variables === c.id}
                  onClick={() => c.id && ack.mutate(c.id)}
                >
                  {t('clinic.alerts.acknowledge')}
                </Button>
              ) : (
                <Text size="xs">
                  {t('clinic.alerts.acknowledged', { time: formatDate(c.received, i18n.language) })}
                </Text>
              )}
            </Group>
          </Alert>
        );
      })}
      <OutcomeAlert error={ack.error} />
    </Stack>
  );
}
