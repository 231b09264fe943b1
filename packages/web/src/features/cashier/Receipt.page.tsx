import { Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { formatVnd, invoiceNumber, receiptNumber } from './cashier.logic.ts';
import { useReceipt } from './cashier.queries.ts';

/** The printable receipt (phiếu thu): receipt and invoice numbers, patient, lines, amount, method, signatures. */
export function ReceiptPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { staff } = useSession();
  const { invoiceId = '' } = useParams();
  const r = useReceipt(invoiceId);
  if (r.isLoading) {
    return <LoadingState />;
  }
  if (r.error) {
    return <ErrorState error={r.error} onRetry={() => void r.refetch()} />;
  }
  const inv = r.data?.invoice;
  if (!inv || inv.status !== 'balanced' || !r.data?.payment) {
    return <EmptyState text={t('cashier.receipt.notPaid')} />;
  }
  const pay = r.data.payment;
  const method = pay.formCode?.coding?.[0]?.code ?? 'cash';
  return (
    <Stack maw={760} mx="auto" gap="md" role="document" aria-label={t('cashier.receipt.title')}>
      <style>
        {'@media print { header, nav, .sen-no-print { display: none !important; } main { padding: 0 !important; } }'}
      </style>
      <Group justify="space-between" className="sen-no-print">
        <Button component={Link} to="/cashier" variant="subtle" size="xs">
          ← {t('cashier.receipt.back')}
        </Button>
        <Button onClick={() => window.print()}>{t('cashier.receipt.print')}</Button>
      </Group>
      <Stack gap={2}>
        <Text fw={700}>{staff?.facility?.name}</Text>
        <Text size="sm">{t('cashier.nav')}</Text>
      </Stack>
      <Title order={2} ta="center">
        {t('cashier.receipt.title')}
      </Title>
      <Table withRowBorders={false} aria-label={t('cashier.receipt.number')}>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th w={220}>{t('cashier.receipt.number')}</Table.Th>
            <Table.Td>{receiptNumber(inv)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>{t('cashier.receipt.invoice')}</Table.Th>
            <Table.Td>{invoiceNumber(inv)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>{t('cashier.receipt.patient')}</Table.Th>
            <Table.Td>{displayName(r.data.patient)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>{t('cashier.receipt.date')}</Table.Th>
            <Table.Td>{formatDate(pay.created, lang)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>{t('cashier.receipt.method')}</Table.Th>
            <Table.Td>{t(`cashier.receipt.methods.${method}`, { defaultValue: method })}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <Table withTableBorder aria-label={t('cashier.bill')}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('cashier.item')}</Table.Th>
            <Table.Th ta="right">{t('cashier.amount')}</Table.Th>
            <Table.Th ta="right">{t('cashier.bhyt')}</Table.Th>
            <Table.Th ta="right">{t('cashier.patientPays')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(inv.lineItem ?? []).map((l) => {
            const c = (code: string) =>
              l.priceComponent?.find((p) => p.code?.coding?.[0]?.code === code)?.amount?.value ?? 0;
            return (
              <Table.Tr key={l.sequence}>
                <Table.Td>{l.chargeItemReference?.display}</Table.Td>
                <Table.Td ta="right">{formatVnd(c('amount'), lang)}</Table.Td>
                <Table.Td ta="right">{formatVnd(c('bhyt'), lang)}</Table.Td>
                <Table.Td ta="right">{formatVnd(c('copay') + c('out-of-scope'), lang)}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Text size="xl" fw={700} ta="right" aria-label={t('cashier.receipt.amountPaid')}>
        {t('cashier.receipt.amountPaid')}: {formatVnd(pay.paymentAmount?.value, lang)}
      </Text>
      <Group justify="space-around" mt="xl">
        <Stack gap={2} align="center">
          <Text fw={600}>{t('cashier.receipt.payer')}</Text>
          <Text size="xs">{t('cashier.receipt.sign')}</Text>
        </Stack>
        <Stack gap={2} align="center">
          <Text fw={600}>{t('cashier.receipt.cashier')}</Text>
          <Text size="xs">{t('cashier.receipt.sign')}</Text>
        </Stack>
      </Group>
    </Stack>
  );
}
