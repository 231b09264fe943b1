import type { ParametersParameter } from '@medplum/fhirtypes';
import { Alert, Button, Card, Group, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import {
  formatDecimal,
  isPrice,
  isQuantity,
  type ReceiptRow,
  receiptRequest,
  receiptRowComplete,
} from './pharmacy.logic.ts';
import { useDrugSearch, useReceiveStock } from './pharmacy.queries.ts';

const EMPTY: ReceiptRow = { lot: '', expiry: '', quantity: '', unitPrice: '' };

function DrugPicker({
  value,
  onChange,
  label,
}: {
  value?: { code: string; display: string };
  onChange: (v: { code: string; display: string } | undefined) => void;
  label: string;
}): ReactElement {
  const [search, setSearch] = useState('');
  const found = useDrugSearch(search);
  const options = (found.data?.parameter ?? [])
    .filter((p) => p.name === 'drug')
    .map((p) => {
      const coding = p.part?.find((x: ParametersParameter) => x.name === 'code')?.valueCoding;
      const strength = p.part?.find((x: ParametersParameter) => x.name === 'strength')?.valueString;
      return {
        value: coding?.code ?? '',
        label: `${coding?.display ?? coding?.code ?? ''}${strength ? ` ${strength}` : ''}`,
      };
    });
  const data =
    value && !options.some((o) => o.value === value.code)
      ? [{ value: value.code, label: value.display }, ...options]
      : options;
  return (
    <Select
      aria-label={label}
      size="xs"
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      data={data}
      value={value?.code ?? null}
      onChange={(code) => {
        const o = data.find((x) => x.value === code);
        onChange(o ? { code: o.value, display: o.label } : undefined);
      }}
      nothingFoundMessage={search ? '—' : undefined}
      miw={240}
    />
  );
}

/** Goods received: drug, lot, expiry, quantity and unit price (exact decimals), into the chosen warehouse. */
export function StockReceiptPanel({
  warehouseId,
  warehouseName,
}: {
  warehouseId: string;
  warehouseName: string;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const [number, setNumber] = useState('');
  const [rows, setRows] = useState<ReceiptRow[]>([{ ...EMPTY }]);
  const [total, setTotal] = useState<string>();
  const receive = useReceiveStock();
  const change = (i: number, c: Partial<ReceiptRow>): void =>
    setRows((r) => r.map((x, k) => (k === i ? { ...x, ...c } : x)));
  const ready = rows.length > 0 && rows.every(receiptRowComplete);
  const submit = (): void => {
    setTotal(undefined);
    receive.mutate(receiptRequest(warehouseId, number, rows), {
      onSuccess: (out) => {
        setTotal(out.parameter?.find((p) => p.name === 'totalValue')?.valueString ?? '0');
        setRows([{ ...EMPTY }]);
        setNumber('');
      },
    });
  };
  return (
    <Card withBorder padding="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={600}>{t('pharmacy.receipt.title', { warehouse: warehouseName })}</Text>
          <TextInput
            label={t('pharmacy.receipt.number')}
            value={number}
            onChange={(e) => setNumber(e.currentTarget.value)}
            size="xs"
          />
        </Group>
        <Table.ScrollContainer minWidth={820}>
          <Table aria-label={t('pharmacy.receipt.items')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('pharmacy.drug')}</Table.Th>
                <Table.Th>{t('pharmacy.lot')}</Table.Th>
                <Table.Th>{t('pharmacy.expiry')}</Table.Th>
                <Table.Th>{t('pharmacy.quantity')}</Table.Th>
                <Table.Th>{t('pharmacy.unitPrice')}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => (
                <Table.Tr key={i}>
                  <Table.Td>
                    <DrugPicker
                      label={t('pharmacy.receipt.drugN', { n: i + 1 })}
                      value={r.drug}
                      onChange={(drug) => change(i, { drug })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      aria-label={t('pharmacy.receipt.lotN', { n: i + 1 })}
                      size="xs"
                      value={r.lot}
                      onChange={(e) => change(i, { lot: e.currentTarget.value })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      aria-label={t('pharmacy.receipt.expiryN', { n: i + 1 })}
                      type="date"
                      size="xs"
                      value={r.expiry}
                      onChange={(e) => change(i, { expiry: e.currentTarget.value })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      aria-label={t('pharmacy.receipt.quantityN', { n: i + 1 })}
                      size="xs"
                      inputMode="decimal"
                      value={r.quantity}
                      error={r.quantity && !isQuantity(r.quantity) ? t('pharmacy.receipt.badQuantity') : undefined}
                      onChange={(e) => change(i, { quantity: e.currentTarget.value })}
                    />
                  </Table.Td>
                  <Table.Td>
                    <TextInput
                      aria-label={t('pharmacy.receipt.priceN', { n: i + 1 })}
                      size="xs"
                      inputMode="decimal"
                      value={r.unitPrice}
                      error={r.unitPrice && !isPrice(r.unitPrice) ? t('pharmacy.receipt.badPrice') : undefined}
                      onChange={(e) => change(i, { unitPrice: e.currentTarget.value })}
                    />
                  </Table.Td>
                  <Table.Td>
                    {rows.length > 1 && (
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        onClick={() => setRows((x) => x.filter((_, k) => k !== i))}
                      >
                        {t('pharmacy.receipt.remove')}
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <OutcomeAlert error={receive.error} />
        {total !== undefined && (
          <Alert color="green" role="status" title={t('pharmacy.receipt.done')}>
            {t('pharmacy.receipt.total', { value: formatDecimal(total, i18n.language) })}
          </Alert>
        )}
        <Group justify="space-between">
          <Button variant="light" onClick={() => setRows((x) => [...x, { ...EMPTY }])}>
            {t('pharmacy.receipt.addRow')}
          </Button>
          <Button onClick={submit} disabled={!ready} loading={receive.isPending}>
            {t('pharmacy.receipt.save')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
