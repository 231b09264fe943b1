import type { MedicationDispense, Parameters } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Card, Group, NumberInput, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { displayName } from '../../app/staff.ts';
import { formatBirthDate, formatDate } from '../../ui/format.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import { OutcomeAlert } from '../clinic/OutcomeAlert.tsx';
import {
  choiceProblems,
  dispenseRequest,
  fefoPlan,
  formatDecimal,
  isPrescriptionCode,
  type LineChoice,
  prescriptionsOf,
  type Rx,
} from './pharmacy.logic.ts';
import { useDispensable, useDispense, usePatientSearch } from './pharmacy.queries.ts';

const STATE_COLOR: Record<string, string> = {
  ready: 'blue',
  partial: 'yellow',
  complete: 'green',
  replaced: 'red',
  stopped: 'red',
  expired: 'red',
};

function PrescriptionCard({ rx, warehouseId }: { rx: Rx; warehouseId: string }): ReactElement {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [choices, setChoices] = useState<Record<string, LineChoice>>({});
  const [done, setDone] = useState<MedicationDispense[]>();
  const dispense = useDispense();
  const open = rx.state === 'ready' || rx.state === 'partial';
  const problems = choiceProblems(rx, choices);
  const choice = (id: string, remaining: number): LineChoice => choices[id] ?? { quantity: remaining };
  const set = (id: string, remaining: number, change: Partial<LineChoice>): void =>
    setChoices((c) => ({ ...c, [id]: { ...choice(id, remaining), ...change } }));
  const submit = (): void => {
    setDone(undefined);
    dispense.mutate(dispenseRequest(rx.code, warehouseId, rx, choices), {
      onSuccess: (out: Parameters) => {
        setDone(
          (out.parameter ?? [])
            .filter((p) => p.name === 'medicationDispense')
            .map((p) => p.resource as MedicationDispense),
        );
        setChoices({});
      },
    });
  };
  const lotLabel = (l: { lotNumber: string; expiry: string; available: number }): string =>
    t('pharmacy.lotOption', {
      lot: l.lotNumber,
      expiry: formatBirthDate(l.expiry),
      available: formatDecimal(l.available, lang),
    });
  return (
    <Card withBorder padding="md" aria-label={t('pharmacy.prescription', { code: rx.code })}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Stack gap={0}>
            <Text fw={700} size="lg">
              {rx.patientName}
            </Text>
            <Text size="sm" c="dimmed">
              {[
                rx.birthDate ? `${t('pharmacy.birthDate')}: ${formatBirthDate(rx.birthDate)}` : '',
                rx.authoredOn ? `${t('pharmacy.authored')}: ${formatDate(rx.authoredOn, lang)}` : '',
              ]
                .filter(Boolean)
                .join(' · ')}
            </Text>
          </Stack>
          <Stack gap={4} align="flex-end">
            <Text ff="monospace" fw={600}>
              {rx.code}
            </Text>
            <Badge color={STATE_COLOR[rx.state]} aria-label={t('pharmacy.stateLabel')}>
              {t(`pharmacy.state.${rx.state}`)}
            </Badge>
            {rx.validUntil && (
              <Text size="xs" c="dimmed">
                {t('pharmacy.validUntil', { date: formatDate(rx.validUntil, lang) })}
              </Text>
            )}
          </Stack>
        </Group>
        {rx.replacedBy && (
          <Alert color="red" role="alert">
            {t('pharmacy.replacedBy', { code: rx.replacedBy })}
          </Alert>
        )}
        <Table.ScrollContainer minWidth={760}>
          <Table striped aria-label={t('pharmacy.lines')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('pharmacy.drug')}</Table.Th>
                <Table.Th ta="right">{t('pharmacy.prescribed')}</Table.Th>
                <Table.Th ta="right">{t('pharmacy.dispensed')}</Table.Th>
                <Table.Th ta="right">{t('pharmacy.remaining')}</Table.Th>
                {open && <Table.Th>{t('pharmacy.lot')}</Table.Th>}
                {open && <Table.Th>{t('pharmacy.quantityNow')}</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rx.lines.map((l) => {
                const id = l.request.id ?? '';
                const c = choice(id, l.remaining);
                const plan = c.lotId ? undefined : fefoPlan(l.lots, c.quantity);
                const problem = problems.find((p) => p.lineId === id);
                return (
                  <Table.Tr key={id}>
                    <Table.Td>
                      <Text fw={600}>{l.drugName}</Text>
                      <Text size="xs" c="dimmed">
                        {l.dosage}
                      </Text>
                    </Table.Td>
                    <Table.Td ta="right">
                      {formatDecimal(l.prescribed, lang)} {l.unit}
                    </Table.Td>
                    <Table.Td ta="right">{formatDecimal(l.dispensed, lang)}</Table.Td>
                    <Table.Td ta="right" fw={600}>
                      {formatDecimal(l.remaining, lang)}
                    </Table.Td>
                    {open && (
                      <Table.Td miw={260}>
                        {l.remaining > 0 && (
                          <Stack gap={2}>
                            <Select
                              aria-label={t('pharmacy.lotFor', { drug: l.drugName })}
                              size="xs"
                              value={c.lotId ?? ''}
                              onChange={(v) => set(id, l.remaining, { lotId: v || undefined })}
                              allowDeselect={false}
                              data={[
                                { value: '', label: t('pharmacy.fefo') },
                                ...l.lots.map((lot) => ({ value: lot.id, label: lotLabel(lot) })),
                              ]}
                            />
                            {plan && plan.plan.length > 0 && (
                              <Text size="xs" c="dimmed" data-testid="fefo-plan">
                                {plan.plan
                                  .map((p) => `${p.lot.lotNumber} × ${formatDecimal(p.quantity, lang)}`)
                                  .join(', ')}
                              </Text>
                            )}
                          </Stack>
                        )}
                      </Table.Td>
                    )}
                    {open && (
                      <Table.Td w={150}>
                        {l.remaining > 0 && (
                          <NumberInput
                            aria-label={t('pharmacy.quantityFor', { drug: l.drugName })}
                            size="xs"
                            min={0}
                            max={l.remaining}
                            decimalScale={3}
                            value={c.quantity}
                            onChange={(v) =>
                              set(id, l.remaining, { quantity: typeof v === 'number' ? v : Number(v) || 0 })
                            }
                            error={problem ? t(`pharmacy.problem.${problem.kind}`) : undefined}
                          />
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <OutcomeAlert error={dispense.error} />
        {done && (
          <Alert color="green" role="status" title={t('pharmacy.dispensedTitle')}>
            {done
              .map(
                (d) =>
                  `${d.medicationCodeableConcept?.coding?.[0]?.display ?? ''} × ${formatDecimal(d.quantity?.value, lang)} (${
                    d.extension?.[0]?.extension?.find((e) => e.url === 'lotNumber')?.valueString ?? ''
                  })`,
              )
              .join('; ')}
          </Alert>
        )}
        {open && (
          <Group justify="flex-end">
            <Button onClick={submit} loading={dispense.isPending} disabled={problems.length > 0}>
              {t('pharmacy.dispense')}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

/** Scan or type the prescription code (or a patient's name), see the lines, pick lots (FEFO by default), dispense. */
export function DispensePanel({
  warehouseId,
  warehouseName,
}: {
  warehouseId: string;
  warehouseName: string;
}): ReactElement {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [lookup, setLookup] = useState<{ code?: string; patient?: string }>();
  const [name, setName] = useState('');
  const result = useDispensable(lookup, warehouseId);
  const patients = usePatientSearch(name);
  const submit = (e: React.FormEvent): void => {
    e.preventDefault();
    const v = text.trim();
    if (isPrescriptionCode(v)) {
      setName('');
      setLookup({ code: v });
    } else {
      setLookup(undefined);
      setName(v);
    }
  };
  const list = prescriptionsOf(result.data);
  return (
    <Stack>
      <form onSubmit={submit}>
        <Group align="flex-end">
          <TextInput
            label={t('pharmacy.lookup')}
            description={t('pharmacy.lookupHint', { warehouse: warehouseName })}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            autoFocus
            style={{ flex: 1 }}
          />
          <Button type="submit">{t('pharmacy.find')}</Button>
        </Group>
      </form>
      {name && (
        <Stack gap="xs">
          {patients.isLoading && <LoadingState />}
          {patients.error && <ErrorState error={patients.error} />}
          {patients.data?.length === 0 && <EmptyState text={t('pharmacy.noPatient')} />}
          <Group gap="xs">
            {patients.data?.map((p) => (
              <Button key={p.id} variant="light" onClick={() => setLookup({ patient: p.id })}>
                {displayName(p)} {p.birthDate ? `(${formatBirthDate(p.birthDate)})` : ''}
              </Button>
            ))}
          </Group>
        </Stack>
      )}
      {result.isLoading && <LoadingState />}
      {result.error && <OutcomeAlert error={result.error} />}
      {result.data && list.length === 0 && <EmptyState text={t('pharmacy.noPrescription')} />}
      {list.map((rx) => (
        <PrescriptionCard key={`${rx.code}-${warehouseId}`} rx={rx} warehouseId={warehouseId} />
      ))}
    </Stack>
  );
}
