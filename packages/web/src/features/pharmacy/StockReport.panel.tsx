import { Badge, Card, Checkbox, Group, NumberInput, Stack, Table, Text } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBirthDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { formatDecimal, stockRowsOf } from './pharmacy.logic.ts';
import { useStockReport } from './pharmacy.queries.ts';

const STATE_COLOR = { ok: 'green', 'near-expiry': 'orange', expired: 'red' } as const;

/** Stock per drug and lot in the warehouse: quantity, value (exact), expiry; near-expiry and expired lots marked. */
export function StockReportPanel({
  warehouseId,
  warehouses,
}: {
  warehouseId: string;
  /** id → name of the department's warehouses */
  warehouses: Record<string, string>;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [nearDays, setNearDays] = useState(90);
  const [all, setAll] = useState(false);
  const report = useStockReport(all ? undefined : warehouseId, nearDays);
  const { rows, totalValue } = stockRowsOf(report.data);
  const near = rows.filter((r) => r.state !== 'ok').length;
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-end">
          <Stack gap={0}>
            <Text fw={600}>{t('pharmacy.stock.title')}</Text>
            <Text size="sm" c="dimmed">
              {t('pharmacy.stock.summary', { lots: rows.length, near, value: formatDecimal(totalValue, lang) })}
            </Text>
          </Stack>
          <Checkbox
            label={t('pharmacy.stock.allWarehouses')}
            checked={all}
            onChange={(e) => setAll(e.currentTarget.checked)}
          />
          <NumberInput
            label={t('pharmacy.stock.nearDays')}
            value={nearDays}
            min={0}
            max={3650}
            onChange={(v) => setNearDays(typeof v === 'number' ? v : Number(v) || 0)}
            w={160}
            size="xs"
          />
        </Group>
        {report.isLoading && <LoadingState />}
        {report.error && <ErrorState error={report.error} onRetry={() => void report.refetch()} />}
        {report.data && rows.length === 0 && <EmptyState text={t('pharmacy.stock.empty')} />}
        {rows.length > 0 && (
          <Table.ScrollContainer minWidth={760}>
            <Table striped aria-label={t('pharmacy.stock.title')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('pharmacy.drug')}</Table.Th>
                  {all && <Table.Th>{t('pharmacy.warehouse')}</Table.Th>}
                  <Table.Th>{t('pharmacy.lot')}</Table.Th>
                  <Table.Th>{t('pharmacy.expiry')}</Table.Th>
                  <Table.Th ta="right">{t('pharmacy.quantity')}</Table.Th>
                  <Table.Th ta="right">{t('pharmacy.unitPrice')}</Table.Th>
                  <Table.Th ta="right">{t('pharmacy.stock.value')}</Table.Th>
                  <Table.Th>{t('pharmacy.stock.state')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((r) => (
                  <Table.Tr key={r.lotId}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {r.drugName}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {r.drugCode}
                      </Text>
                    </Table.Td>
                    {all && <Table.Td>{warehouses[r.warehouseId] ?? r.warehouseId}</Table.Td>}
                    <Table.Td ff="monospace">{r.lotNumber}</Table.Td>
                    <Table.Td>{formatBirthDate(r.expiry)}</Table.Td>
                    <Table.Td ta="right">
                      {formatDecimal(r.quantity, lang)} {r.unit}
                    </Table.Td>
                    <Table.Td ta="right">{formatDecimal(r.unitPrice, lang)}</Table.Td>
                    <Table.Td ta="right">{formatDecimal(r.value, lang)}</Table.Td>
                    <Table.Td>
                      <Badge color={STATE_COLOR[r.state]}>{t(`pharmacy.stock.${r.state}`, { days: r.daysLeft })}</Badge>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Card>
  );
}
