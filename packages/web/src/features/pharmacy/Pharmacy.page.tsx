import { Group, Select, Stack, Tabs, Title } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { DispensePanel } from './Dispense.panel.tsx';
import { usePharmacyLive, useWarehouses } from './pharmacy.queries.ts';
import { StockReceiptPanel } from './StockReceipt.panel.tsx';
import { StockReportPanel } from './StockReport.panel.tsx';

/** The hospital pharmacy: dispense a prescription by its code, receive goods, see the stock. */
export function PharmacyPage(): ReactElement {
  const { t } = useTranslation();
  const warehouses = useWarehouses();
  const [chosen, setChosen] = useState<string | null>(null);
  usePharmacyLive();
  const list = warehouses.data ?? [];
  const warehouseId = chosen ?? list[0]?.id;
  const warehouseName = list.find((w) => w.id === warehouseId)?.name ?? '';
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2}>{t('pharmacy.title')}</Title>
        <Select
          label={t('pharmacy.warehouse')}
          data={list.map((w) => ({ value: w.id ?? '', label: w.name ?? w.id ?? '' }))}
          value={warehouseId ?? null}
          onChange={setChosen}
          allowDeselect={false}
          w={260}
        />
      </Group>
      {warehouses.isLoading && <LoadingState />}
      {warehouses.error && <ErrorState error={warehouses.error} onRetry={() => void warehouses.refetch()} />}
      {warehouseId && (
        <Tabs defaultValue="dispense" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="dispense">{t('pharmacy.tab.dispense')}</Tabs.Tab>
            <Tabs.Tab value="receipt">{t('pharmacy.tab.receipt')}</Tabs.Tab>
            <Tabs.Tab value="stock">{t('pharmacy.tab.stock')}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="dispense" pt="md">
            <DispensePanel warehouseId={warehouseId} warehouseName={warehouseName} />
          </Tabs.Panel>
          <Tabs.Panel value="receipt" pt="md">
            <StockReceiptPanel warehouseId={warehouseId} warehouseName={warehouseName} />
          </Tabs.Panel>
          <Tabs.Panel value="stock" pt="md">
            <StockReportPanel
              warehouseId={warehouseId}
              warehouses={Object.fromEntries(list.map((w) => [w.id ?? '', w.name ?? '']))}
            />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}
