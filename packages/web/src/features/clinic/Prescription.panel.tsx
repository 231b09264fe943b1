import type { MedicationRequest, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  List,
  NumberInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { FhirError } from '../../api/fhir.ts';
import { EmptyState, ErrorState, LoadingState } from '../../ui/states/States.tsx';
import {
  defaultInstructions,
  type Drug,
  drugsOf,
  formatVnd,
  paramString,
  prescribedQuantity,
  type PrescribingWarning,
  prescribingWarnings,
} from './clinic.logic.ts';
import { useDrugSearch, useEncounterOperation } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

interface Item {
  drug: Drug;
  dosePerTime?: number;
  timesPerDay?: number;
  days?: number;
  route: string;
  instructions: string;
  /** Instructions typed by the doctor (not the default any more). */
  edited: boolean;
}

function itemParameter(i: Item): ParametersParameter {
  return {
    name: 'item',
    part: [
      { name: 'drug', valueCoding: i.drug.code },
      { name: 'dosePerTime', valueDecimal: i.dosePerTime },
      { name: 'timesPerDay', valueInteger: i.timesPerDay },
      { name: 'days', valueInteger: i.days },
      ...(i.route ? [{ name: 'route', valueCode: i.route }] : []),
      ...(i.instructions.trim() ? [{ name: 'instructions', valueString: i.instructions.trim() }] : []),
    ],
  };
}

/** The visit's prescriptions grouped by their national code. */
export function prescriptionsOf(requests: MedicationRequest[]): { code: string; requests: MedicationRequest[] }[] {
  const groups = new Map<string, MedicationRequest[]>();
  for (const m of requests) {
    const code = m.groupIdentifier?.value;
    if (code) {
      groups.set(code, [...(groups.get(code) ?? []), m]);
    }
  }
  return [...groups.entries()].map(([code, list]) => ({ code, requests: list }));
}

/** Prescribing: drug search, dose × times a day × days → quantity, $prescribe with warnings to acknowledge. */
export function PrescriptionPanel(props: {
  encounterId: string;
  existing: MedicationRequest[];
  readOnly: boolean;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const { encounterId, existing, readOnly } = props;
  const [q, setQ] = useState('');
  const [debounced] = useDebouncedValue(q, 250);
  const found = useDrugSearch(debounced);
  const drugs = drugsOf(found.data);
  const [items, setItems] = useState<Item[]>([]);
  const [warnings, setWarnings] = useState<PrescribingWarning[]>([]);
  const [acknowledged, setAcknowledged] = useState<string[]>([]);
  const [code, setCode] = useState<string>();
  const prescribe = useEncounterOperation<Parameters>(encounterId, 'prescribe', ['MedicationRequest']);
  const lang = i18n.language;

  const update = (n: number, patch: Partial<Item>): void =>
    setItems((list) =>
      list.map((it, i) => {
        if (i !== n) {
          return it;
        }
        const next = { ...it, ...patch };
        if (!next.edited) {
          next.instructions = defaultInstructions(lang, next.dosePerTime, next.timesPerDay, next.drug.unit, next.route);
        }
        return next;
      }),
    );
  const add = (d: Drug): void => {
    setCode(undefined);
    setItems((list) => [
      ...list,
      {
        drug: d,
        dosePerTime: 1,
        timesPerDay: 1,
        days: 30,
        route: d.route ?? '',
        instructions: defaultInstructions(lang, 1, 1, d.unit, d.route),
        edited: false,
      },
    ]);
    setQ('');
  };
  const complete = items.length > 0 && items.every((i) => prescribedQuantity(i.dosePerTime, i.timesPerDay, i.days));

  const send = (ack: string[]): void => {
    setWarnings([]);
    prescribe.mutate(
      {
        resourceType: 'Parameters',
        parameter: [...items.map(itemParameter), ...ack.map((c) => ({ name: 'acknowledge', valueString: c }))],
      },
      {
        onSuccess: (out) => {
          setCode(paramString(out, 'prescriptionCode'));
          setItems([]);
          setAcknowledged([]);
        },
        onError: (err) => {
          if (err instanceof FhirError && err.status === 422) {
            setWarnings(prescribingWarnings(err.outcome));
          }
        },
      },
    );
  };
  const blocking = warnings.filter((w) => w.severity === 'error');
  const acknowledgeable = warnings.filter((w) => w.severity === 'warning');
  const groups = prescriptionsOf(existing);

  return (
    <Stack>
      {!readOnly && (
        <Card withBorder padding="sm">
          <Stack gap="sm">
            <TextInput
              label={t('clinic.rx.search')}
              placeholder={t('clinic.rx.searchHint')}
              value={q}
              onChange={(e) => setQ(e.currentTarget.value)}
            />
            {found.isLoading && <LoadingState />}
            {found.error && <ErrorState error={found.error} onRetry={() => void found.refetch()} />}
            {found.data && drugs.length === 0 && <EmptyState text={t('clinic.rx.noMatch')} />}
            {drugs.length > 0 && (
              <Table striped aria-label={t('clinic.rx.results')}>
                <Table.Tbody>
                  {drugs.slice(0, 20).map((d) => (
                    <Table.Tr key={d.code.code}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {d.ingredient} {d.strength}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {[d.name, d.form, d.route].filter(Boolean).join(' · ')}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        {formatVnd(d.price, lang)}/{d.unit}
                      </Table.Td>
                      <Table.Td>
                        {d.bhytCovered ? (
                          <Badge color="green" variant="light">
                            BHYT
                          </Badge>
                        ) : (
                          <Badge color="gray" variant="light">
                            {t('clinic.orders.notCovered')}
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Button
                          size="xs"
                          variant="light"
                          onClick={() => add(d)}
                          aria-label={t('clinic.rx.addDrug', { name: `${d.ingredient ?? d.name} ${d.strength ?? ''}` })}
                        >
                          {t('clinic.rx.add')}
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {items.length > 0 && (
              <Stack gap="xs" role="list" aria-label={t('clinic.rx.items')}>
                {items.map((it, n) => {
                  const qty = prescribedQuantity(it.dosePerTime, it.timesPerDay, it.days);
                  const name = `${it.drug.ingredient ?? it.drug.name} ${it.drug.strength ?? ''}`.trim();
                  return (
                    <Card key={`${it.drug.code.code}-${n}`} withBorder padding="xs" role="listitem" aria-label={name}>
                      <Group justify="space-between" wrap="nowrap" align="flex-start">
                        <Stack gap={4} style={{ flex: 1 }}>
                          <Text fw={600}>
                            {n + 1}. {name}{' '}
                            <Text span size="sm" c="dimmed">
                              ({it.drug.name})
                            </Text>
                          </Text>
                          <Group gap="xs" wrap="wrap" align="flex-end">
                            <NumberInput
                              label={t('clinic.rx.dosePerTime')}
                              value={it.dosePerTime ?? ''}
                              onChange={(v) => update(n, { dosePerTime: typeof v === 'number' ? v : undefined })}
                              min={0}
                              decimalScale={2}
                              decimalSeparator=","
                              w={110}
                            />
                            <NumberInput
                              label={t('clinic.rx.timesPerDay')}
                              value={it.timesPerDay ?? ''}
                              onChange={(v) => update(n, { timesPerDay: typeof v === 'number' ? v : undefined })}
                              min={1}
                              max={12}
                              allowDecimal={false}
                              w={110}
                            />
                            <NumberInput
                              label={t('clinic.rx.days')}
                              value={it.days ?? ''}
                              onChange={(v) => update(n, { days: typeof v === 'number' ? v : undefined })}
                              min={1}
                              max={90}
                              allowDecimal={false}
                              w={100}
                            />
                            <TextInput
                              label={t('clinic.rx.route')}
                              value={it.route}
                              onChange={(e) => update(n, { route: e.currentTarget.value })}
                              w={130}
                            />
                            <Text aria-label={t('clinic.rx.quantity')} fw={700} pb={6}>
                              = {qty === undefined ? '–' : qty.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-US')}{' '}
                              {it.drug.unit}
                            </Text>
                          </Group>
                          <TextInput
                            label={t('clinic.rx.instructions')}
                            value={it.instructions}
                            onChange={(e) => update(n, { instructions: e.currentTarget.value, edited: true })}
                          />
                        </Stack>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          aria-label={t('clinic.rx.remove', { name })}
                          onClick={() => setItems((list) => list.filter((_, i) => i !== n))}
                        >
                          ×
                        </ActionIcon>
                      </Group>
                    </Card>
                  );
                })}
              </Stack>
            )}
            {warnings.length > 0 && (
              <Alert color={blocking.length > 0 ? 'red' : 'orange'} role="alert" title={t('clinic.rx.warnings')}>
                <Stack gap="xs">
                  <List size="sm">
                    {warnings.map((w) => (
                      <List.Item key={w.code}>
                        {w.message}
                        {w.severity === 'warning' && (
                          <Text span size="xs" c="dimmed">
                            {' '}
                            ({w.code})
                          </Text>
                        )}
                      </List.Item>
                    ))}
                  </List>
                  {blocking.length === 0 && acknowledgeable.length > 0 && (
                    <Group>
                      <Button
                        color="orange"
                        onClick={() => {
                          const ack = [...new Set([...acknowledged, ...acknowledgeable.map((w) => w.code)])];
                          setAcknowledged(ack);
                          send(ack);
                        }}
                        loading={prescribe.isPending}
                      >
                        {t('clinic.rx.acknowledge')}
                      </Button>
                      <Text size="xs">{t('clinic.rx.acknowledgeHint')}</Text>
                    </Group>
                  )}
                </Stack>
              </Alert>
            )}
            {prescribe.error && !(prescribe.error instanceof FhirError && prescribe.error.status === 422) && (
              <OutcomeAlert error={prescribe.error} />
            )}
            <Group justify="flex-end">
              <Button onClick={() => send(acknowledged)} loading={prescribe.isPending} disabled={!complete}>
                {t('clinic.rx.prescribe')}
              </Button>
            </Group>
          </Stack>
        </Card>
      )}
      {code && (
        <Alert color="green" role="status" title={t('clinic.rx.done')}>
          <Group gap="sm">
            <Text>
              {t('clinic.rx.code')}:{' '}
              <Text span fw={700} ff="monospace" aria-label={t('clinic.rx.code')}>
                {code}
              </Text>
            </Text>
            <Button
              component={Link}
              to={`/clinic/prescription/${encodeURIComponent(code)}?encounter=${encounterId}`}
              size="xs"
            >
              {t('clinic.rx.print')}
            </Button>
          </Group>
        </Alert>
      )}
      <Title order={4}>{t('clinic.rx.ofVisit')}</Title>
      {groups.length === 0 ? (
        <EmptyState text={t('clinic.rx.none')} />
      ) : (
        groups.map((g) => (
          <Card key={g.code} withBorder padding="sm" aria-label={`${t('clinic.rx.code')} ${g.code}`}>
            <Group justify="space-between" mb={4}>
              <Text fw={700} ff="monospace">
                {g.code}
              </Text>
              <Group gap="xs">
                <Badge variant="light" color={g.requests.every((m) => m.status === 'active') ? 'green' : 'gray'}>
                  {t(`clinic.rx.status_${g.requests[0].status}`)}
                </Badge>
                <Button
                  component={Link}
                  to={`/clinic/prescription/${encodeURIComponent(g.code)}?encounter=${encounterId}`}
                  size="xs"
                  variant="light"
                >
                  {t('clinic.rx.print')}
                </Button>
              </Group>
            </Group>
            <List size="sm">
              {g.requests.map((m) => (
                <List.Item key={m.id}>
                  {m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.display} —{' '}
                  {m.dosageInstruction?.[0]?.text} · {t('clinic.rx.quantity')}: {m.dispenseRequest?.quantity?.value}{' '}
                  {m.dispenseRequest?.quantity?.unit}
                </List.Item>
              ))}
            </List>
          </Card>
        ))
      )}
    </Stack>
  );
}
