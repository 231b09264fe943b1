import type { Bundle, Observation } from '@medplum/fhirtypes';
import { Alert, Badge, Button, Group, NumberInput, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { type FormEvent, type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf } from '../../api/fhir.ts';
import { formatDate } from '../../ui/format.ts';
import {
  bmiClass,
  bmiOf,
  type Flag,
  observationFlag,
  parameters,
  VITAL_RANGES,
  type VitalKey,
  VITALS,
  vitalFlag,
  vitalImpossible,
} from './clinic.logic.ts';
import { useEncounterOperation } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

const FLAG_COLOR: Record<Flag, string> = { H: 'orange', L: 'orange', HH: 'red', LL: 'red' };

function valueText(o: Observation): string {
  if (o.valueQuantity?.value !== undefined) {
    return `${o.valueQuantity.value} ${o.valueQuantity.unit ?? ''}`.trim();
  }
  if (o.component?.length) {
    return `${o.component.map((c) => c.valueQuantity?.value ?? '–').join('/')} ${o.component[0].valueQuantity?.unit ?? ''}`;
  }
  return '';
}

/** Vital signs of the visit: the form ($record-vitals) with BMI and out-of-range flags, and what was recorded. */
export function VitalsPanel(props: {
  encounterId: string;
  recorded: Observation[];
  readOnly: boolean;
  adult: boolean;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const { encounterId, recorded, readOnly, adult } = props;
  const [values, setValues] = useState<Partial<Record<VitalKey, number>>>({});
  const [saved, setSaved] = useState<Observation[]>();
  const record = useEncounterOperation<Bundle>(encounterId, 'record-vitals', ['Observation']);
  const bmi = bmiOf(values.height, values.weight);
  const impossible = VITALS.filter((k) => vitalImpossible(k, values[k]));
  const empty = VITALS.every((k) => values[k] === undefined);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (impossible.length > 0 || empty) {
      return;
    }
    record.mutate(
      parameters(VITALS.map((k) => [k, values[k] === undefined ? undefined : { valueDecimal: values[k] }])),
      {
        onSuccess: (bundle) => {
          setSaved(entriesOf<Observation>(bundle, 'Observation'));
          setValues({});
        },
      },
    );
  };
  const shown = saved ?? recorded;
  return (
    <Stack>
      {!readOnly && (
        <form onSubmit={submit} aria-label={t('clinic.vitals.form')}>
          <Stack>
            <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
              {VITALS.map((k) => {
                const flag = adult ? vitalFlag(k, values[k]) : undefined;
                const bad = vitalImpossible(k, values[k]);
                return (
                  <NumberInput
                    key={k}
                    label={`${t(`clinic.vitals.${k}`)} (${VITAL_RANGES[k].unit})`}
                    value={values[k] ?? ''}
                    onChange={(v) => setValues((s) => ({ ...s, [k]: typeof v === 'number' ? v : undefined }))}
                    decimalScale={k === 'temperature' || k === 'weight' || k === 'height' ? 1 : 0}
                    decimalSeparator=","
                    allowNegative={false}
                    hideControls
                    inputMode="decimal"
                    error={bad ? t('clinic.vitals.impossible') : undefined}
                    description={
                      flag ? (
                        <Text span c={FLAG_COLOR[flag]} fw={600} size="xs">
                          {t(`clinic.vitals.flag_${flag}`)}
                        </Text>
                      ) : undefined
                    }
                  />
                );
              })}
            </SimpleGrid>
            <Group justify="space-between" wrap="wrap">
              <Text aria-live="polite" aria-label="BMI">
                BMI:{' '}
                {bmi === undefined ? (
                  <Text span c="dimmed">
                    {t('clinic.vitals.bmiNeeds')}
                  </Text>
                ) : (
                  <Text span fw={700}>
                    {bmi.toLocaleString(i18n.language === 'vi' ? 'vi-VN' : 'en-US')} kg/m² ·{' '}
                    {t(`clinic.vitals.bmi_${bmiClass(bmi)}`)}
                  </Text>
                )}
              </Text>
              <Button type="submit" loading={record.isPending} disabled={impossible.length > 0 || empty}>
                {t('clinic.vitals.save')}
              </Button>
            </Group>
            {!adult && (
              <Text size="xs" c="dimmed">
                {t('clinic.vitals.childNote')}
              </Text>
            )}
            <OutcomeAlert error={record.error} />
          </Stack>
        </form>
      )}
      {saved && (
        <Alert color="green" role="status">
          {t('clinic.vitals.saved', { count: saved.length })}
        </Alert>
      )}
      {shown.length > 0 && (
        <Table aria-label={t('clinic.vitals.recorded')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('clinic.vitals.sign')}</Table.Th>
              <Table.Th>{t('clinic.vitals.value')}</Table.Th>
              <Table.Th>{t('clinic.vitals.time')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((o) => {
              const flag =
                observationFlag(o) ?? o.component?.map((c) => observationFlag(c as Observation)).find(Boolean);
              return (
                <Table.Tr key={o.id}>
                  <Table.Td>{o.code.text ?? o.code.coding?.[0]?.display}</Table.Td>
                  <Table.Td>
                    <Group gap={6}>
                      <Text span fw={600}>
                        {valueText(o)}
                      </Text>
                      {flag && (
                        <Badge size="sm" color={FLAG_COLOR[flag]}>
                          {t(`clinic.vitals.flag_${flag}`)}
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>{formatDate(o.effectiveDateTime ?? o.issued, i18n.language)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
