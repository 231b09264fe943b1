import type { Invoice, Parameters } from '@medplum/fhirtypes';
import {
  Alert,
  Badge,
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { displayName } from '../../app/staff.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { QrCode } from '../clinic/QrCode.tsx';
import {
  billOf,
  changeDue,
  formatVnd,
  invoiceNumber,
  receiptNumber,
  ROUTES,
  type Route,
  visitInvoices,
} from './cashier.logic.ts';
import { useBill, useCashierActions, useEncounter, useInvoices } from './cashier.queries.ts';

const NOWRAP = { whiteSpace: 'nowrap' } as const;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One invoice: take cash, show the VietQR and wait for the bank, print the receipt, refund. */
function InvoiceCard({ invoice, encounterId }: { invoice: Invoice; encounterId: string }): ReactElement {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const actions = useCashierActions(encounterId);
  const [mode, setMode] = useState<'none' | 'cash' | 'qr' | 'refund'>('none');
  const [received, setReceived] = useState('');
  const [reason, setReason] = useState('');
  const [qr, setQr] = useState<Parameters | undefined>();
  const due = invoice.totalNet?.value ?? 0;
  const number = invoiceNumber(invoice) ?? invoice.id ?? '';
  const change = changeDue(received, due);
  const qrValue = qr?.parameter?.find((p) => p.name === 'qr')?.valueString;
  const color = invoice.status === 'balanced' ? 'green' : invoice.status === 'issued' ? 'orange' : 'gray';
  return (
    <Paper withBorder p="sm" aria-label={t('cashier.invoice', { number })} role="region">
      <Group justify="space-between">
        <Text fw={700}>{t('cashier.invoice', { number })}</Text>
        <Badge color={color} variant="light" aria-label={t('cashier.status')}>
          {t(`cashier.invoiceStatus.${invoice.status}`)}
        </Badge>
      </Group>
      <Group gap="xl" mt="xs">
        <Text size="sm">
          {t('cashier.amount')}: {formatVnd(invoice.totalGross?.value, lang)}
        </Text>
        <Text size="lg" fw={700} aria-label={t('cashier.due')}>
          {t('cashier.due')}: {formatVnd(due, lang)}
        </Text>
      </Group>
      {invoice.status === 'issued' && (
        <Stack gap="xs" mt="sm">
          <Group>
            <Button variant={mode === 'cash' ? 'filled' : 'light'} onClick={() => setMode('cash')}>
              {t('cashier.cash')}
            </Button>
            <Button
              variant={mode === 'qr' ? 'filled' : 'light'}
              loading={actions.vietqr.isPending}
              onClick={() => {
                setMode('qr');
                actions.vietqr.mutate(invoice.id as string, { onSuccess: setQr });
              }}
            >
              {t('cashier.vietqr')}
            </Button>
          </Group>
          {mode === 'cash' && (
            <Group align="flex-end">
              <TextInput
                label={t('cashier.received')}
                inputMode="numeric"
                value={received}
                onChange={(e) => setReceived(e.currentTarget.value)}
              />
              <Text size="sm" c={change === undefined ? 'red' : undefined}>
                {received === ''
                  ? ''
                  : change === undefined
                    ? t('cashier.notEnough')
                    : t('cashier.change', { amount: formatVnd(change, lang) })}
              </Text>
              <Button
                disabled={change === undefined}
                loading={actions.payCash.isPending}
                onClick={() =>
                  actions.payCash.mutate({
                    invoiceId: invoice.id as string,
                    received: Number(received.replace(/\D/g, '')),
                  })
                }
              >
                {t('cashier.confirmCash')}
              </Button>
            </Group>
          )}
          {mode === 'qr' && qrValue && (
            <Group align="center">
              <QrCode value={qrValue} size={220} label={t('cashier.qrLabel', { amount: formatVnd(due, lang) })} />
              <Stack gap={4}>
                <Text size="sm">{t('cashier.qrHint')}</Text>
                <Text fw={600} role="status">
                  {t('cashier.waiting')}
                </Text>
              </Stack>
            </Group>
          )}
          {actions.vietqr.error && <Alert color="red">{errorText(actions.vietqr.error)}</Alert>}
          {actions.payCash.error && <Alert color="red">{errorText(actions.payCash.error)}</Alert>}
        </Stack>
      )}
      {invoice.status === 'balanced' && (
        <Stack gap="xs" mt="sm">
          <Alert color="green" role="status">
            {t('cashier.paid', { receipt: receiptNumber(invoice) ?? '' })}
          </Alert>
          <Group>
            <Button component={Link} to={`/cashier/receipt/${invoice.id}`}>
              {t('cashier.printReceipt')}
            </Button>
            <Button variant="light" color="red" onClick={() => setMode('refund')}>
              {t('cashier.refund')}
            </Button>
          </Group>
          {mode === 'refund' && (
            <Group align="flex-end">
              <Textarea
                style={{ flex: 1 }}
                label={t('cashier.refundReason')}
                value={reason}
                onChange={(e) => setReason(e.currentTarget.value)}
              />
              <Button
                color="red"
                disabled={reason.trim().length < 3}
                loading={actions.refund.isPending}
                onClick={() => actions.refund.mutate({ invoiceId: invoice.id as string, reason })}
              >
                {t('cashier.confirmRefund')}
              </Button>
            </Group>
          )}
          {actions.refund.error && <Alert color="red">{errorText(actions.refund.error)}</Alert>}
        </Stack>
      )}
      {invoice.status === 'cancelled' && invoice.cancelledReason && (
        <Text size="sm" c="dimmed" mt="xs">
          {invoice.cancelledReason}
        </Text>
      )}
    </Paper>
  );
}

/** The visit's bill, line by line (BHYT share, co-payment, outside scope), and its invoices. */
export function BillPanel({ encounterId }: { encounterId: string }): ReactElement {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const visit = useEncounter(encounterId);
  const billQuery = useBill(encounterId);
  const invoices = useInvoices(visit.data?.patient?.id);
  const actions = useCashierActions(encounterId);
  if (billQuery.isLoading || visit.isLoading) {
    return <LoadingState />;
  }
  if (billQuery.error) {
    return <ErrorState error={billQuery.error} onRetry={() => void billQuery.refetch()} />;
  }
  const bill = billOf(billQuery.data);
  const mine = visitInvoices(invoices.data ?? [], encounterId);
  const money = (v: number) => formatVnd(v, lang);
  return (
    <Stack gap="md">
      <Paper withBorder p="sm">
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Title order={3}>{displayName(visit.data?.patient)}</Title>
            <Text size="sm">
              {t(`cashier.visitTypes.${bill.visitType}`)} ·{' '}
              {bill.benefitLevel !== undefined
                ? t('cashier.benefit', { level: bill.benefitLevel, percent: bill.percent })
                : t('cashier.noCard')}
            </Text>
            {bill.smallAmount && (
              <Text size="sm" c="teal">
                {t('cashier.smallAmount')}
              </Text>
            )}
          </Stack>
          {bill.visitType === 'bhyt' && (
            <Select
              label={t('cashier.route')}
              w={200}
              value={bill.route}
              allowDeselect={false}
              data={ROUTES.map((r) => ({ value: r, label: t(`cashier.routes.${r}`) }))}
              onChange={(v) => v && actions.setRoute.mutate(v as Route)}
            />
          )}
        </Group>
        <Title order={4} mt="md">
          {t('cashier.bill')}
        </Title>
        {bill.lines.length === 0 ? (
          <EmptyState text={t('cashier.noCharges')} />
        ) : (
          <Table.ScrollContainer minWidth={760} mt="xs">
            <Table striped fz="sm" aria-label={t('cashier.bill')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('cashier.item')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.qty')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.unitPrice')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.amount')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.bhyt')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.copay')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.outOfScope')}</Table.Th>
                  <Table.Th ta="right">{t('cashier.patientPays')}</Table.Th>
                  <Table.Th>{t('cashier.status')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {bill.lines.map((l) => (
                  <Table.Tr key={l.id}>
                    <Table.Td miw={160}>{l.name}</Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {l.quantity}
                    </Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {money(l.unitPrice)}
                    </Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {money(l.amount)}
                    </Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {money(l.bhyt)}
                    </Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {money(l.copay)}
                    </Table.Td>
                    <Table.Td ta="right" style={NOWRAP}>
                      {money(l.outOfScope)}
                    </Table.Td>
                    <Table.Td ta="right" fw={600} style={NOWRAP}>
                      {money(l.patient)}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" c={l.status === 'billed' ? 'blue' : 'dimmed'}>
                        {t(`cashier.lineStatus.${l.status}`, { defaultValue: l.status })}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
              <Table.Tfoot>
                <Table.Tr>
                  <Table.Th colSpan={3}>{t('cashier.total')}</Table.Th>
                  <Table.Th ta="right" style={NOWRAP}>
                    {money(bill.totals.amount)}
                  </Table.Th>
                  <Table.Th ta="right" style={NOWRAP}>
                    {money(bill.totals.bhyt)}
                  </Table.Th>
                  <Table.Th ta="right" style={NOWRAP}>
                    {money(bill.totals.copay)}
                  </Table.Th>
                  <Table.Th ta="right" style={NOWRAP}>
                    {money(bill.totals.outOfScope)}
                  </Table.Th>
                  <Table.Th ta="right" style={NOWRAP} aria-label={t('cashier.patientPays')}>
                    {money(bill.totals.patient)}
                  </Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Tfoot>
            </Table>
          </Table.ScrollContainer>
        )}
        {bill.unbilled > 0 && (
          <Button mt="sm" loading={actions.issue.isPending} onClick={() => actions.issue.mutate()}>
            {t('cashier.issue')}
          </Button>
        )}
        {actions.issue.error && (
          <Alert color="red" mt="xs">
            {errorText(actions.issue.error)}
          </Alert>
        )}
        {actions.setRoute.error && (
          <Alert color="red" mt="xs">
            {errorText(actions.setRoute.error)}
          </Alert>
        )}
      </Paper>
      {mine.length > 0 && (
        <Stack gap="sm">
          <Title order={4}>{t('cashier.invoices')}</Title>
          {mine.map((inv) => (
            <InvoiceCard key={inv.id} invoice={inv} encounterId={encounterId} />
          ))}
        </Stack>
      )}
    </Stack>
  );
}
