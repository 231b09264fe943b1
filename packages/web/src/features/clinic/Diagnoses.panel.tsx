import type { Coding, Condition } from '@medplum/fhirtypes';
import { ActionIcon, Alert, Badge, Button, Group, Select, Stack, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { ICD10_SYSTEM, outcomeMessages, paramNamed } from './clinic.logic.ts';
import { useEncounterOperation, useIcd10Search } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

const label = (c: Coding): string => `${c.code} — ${c.display ?? ''}`;

/** An ICD-10 typeahead: the catalog's $expand with the typed filter (no diacritics needed). */
function Icd10Picker(props: {
  label: string;
  value: Coding | undefined;
  onChange: (c: Coding | undefined) => void;
  clearAfterPick?: boolean;
}): ReactElement {
  const { t } = useTranslation();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 200);
  const found = useIcd10Search(props.value && search === label(props.value) ? '' : debounced);
  const options = (found.data ?? []).map((c) => ({ value: c.code, label: `${c.code} — ${c.display}` }));
  if (props.value?.code && !options.some((o) => o.value === props.value?.code)) {
    options.unshift({ value: props.value.code, label: label(props.value) });
  }
  return (
    <Select
      label={props.label}
      placeholder={t('clinic.diagnoses.searchHint')}
      searchable
      clearable
      data={options}
      value={props.clearAfterPick ? null : (props.value?.code ?? null)}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: o }) => o}
      nothingFoundMessage={debounced.trim() && !found.isFetching ? t('clinic.diagnoses.noMatch') : undefined}
      rightSection={found.isFetching ? <Text size="xs">…</Text> : undefined}
      onChange={(code) => {
        const hit = found.data?.find((c) => c.code === code);
        const coding = code ? { system: ICD10_SYSTEM, code, display: hit?.display ?? props.value?.display } : undefined;
        props.onChange(coding);
        if (props.clearAfterPick) {
          setSearch('');
        }
      }}
    />
  );
}

function codingOf(c: Condition): Coding | undefined {
  const coding = c.code?.coding?.find((x) => x.system === ICD10_SYSTEM) ?? c.code?.coding?.[0];
  return coding?.code
    ? { system: ICD10_SYSTEM, code: coding.code, display: coding.display ?? c.code?.text }
    : undefined;
}

/** Main and secondary diagnoses ($set-diagnoses): coding rules refused with the rule's words (422). */
export function DiagnosesPanel(props: {
  encounterId: string;
  current: { main?: Condition; secondary: Condition[] };
  readOnly: boolean;
}): ReactElement {
  const { t } = useTranslation();
  const { encounterId, current, readOnly } = props;
  const [main, setMain] = useState<Coding | undefined>(current.main ? codingOf(current.main) : undefined);
  const [secondary, setSecondary] = useState<Coding[]>(current.secondary.map(codingOf).filter((c): c is Coding => !!c));
  const [done, setDone] = useState(false);
  const [notes, setNotes] = useState<string[]>([]);
  const save = useEncounterOperation(encounterId, 'set-diagnoses', ['Condition', 'Encounter']);
  const submit = (): void => {
    if (!main) {
      return;
    }
    setDone(false);
    save.mutate(
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'main', valueCoding: main },
          ...secondary.map((c) => ({ name: 'secondary', valueCoding: c })),
        ],
      },
      {
        onSuccess: (out) => {
          setDone(true);
          // coding rules that only warn (e.g. a code discouraged as main) come back with the saved diagnoses
          setNotes(outcomeMessages(paramNamed(out, 'warnings')?.resource as OperationOutcome | undefined));
        },
      },
    );
  };
  if (readOnly) {
    return (
      <Stack gap="xs">
        <Text>
          <Text span c="dimmed">
            {t('clinic.diagnoses.main')}:{' '}
          </Text>
          {main ? label(main) : t('clinic.diagnoses.none')}
        </Text>
        {secondary.length > 0 && (
          <Text>
            <Text span c="dimmed">
              {t('clinic.diagnoses.secondary')}:{' '}
            </Text>
            {secondary.map(label).join('; ')}
          </Text>
        )}
      </Stack>
    );
  }
  return (
    <Stack>
      <Icd10Picker label={t('clinic.diagnoses.main')} value={main} onChange={setMain} />
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {t('clinic.diagnoses.secondary')}
        </Text>
        <Group gap={6}>
          {secondary.map((c) => (
            <Badge
              key={c.code}
              variant="light"
              size="lg"
              rightSection={
                <ActionIcon
                  size="xs"
                  variant="transparent"
                  aria-label={t('clinic.diagnoses.remove', { code: c.code })}
                  onClick={() => setSecondary((s) => s.filter((x) => x.code !== c.code))}
                >
                  ×
                </ActionIcon>
              }
            >
              {label(c)}
            </Badge>
          ))}
        </Group>
        <Icd10Picker
          label={t('clinic.diagnoses.addSecondary')}
          value={undefined}
          clearAfterPick
          onChange={(c) => {
            if (c?.code && c.code !== main?.code) {
              setSecondary((s) => (s.some((x) => x.code === c.code) ? s : [...s, c]));
            }
          }}
        />
      </Stack>
      <Group justify="flex-end">
        <Button onClick={submit} loading={save.isPending} disabled={!main}>
          {t('clinic.diagnoses.save')}
        </Button>
      </Group>
      {done && (
        <Alert color="green" role="status">
          {t('clinic.diagnoses.saved')}
        </Alert>
      )}
      {done && notes.length > 0 && (
        <Alert color="yellow" role="status" title={t('clinic.diagnoses.warnings')}>
          {notes.join(' · ')}
        </Alert>
      )}
      <OutcomeAlert error={save.error} />
    </Stack>
  );
}

/** Today's diagnoses of the visit from its Conditions (main = rank 1 on Encounter.diagnosis, else the first). */
export function diagnosesOf(
  conditions: Condition[],
  encounterId: string,
  ranked: { condition?: { reference?: string }; rank?: number }[] | undefined,
): { main?: Condition; secondary: Condition[] } {
  const listed = new Set((ranked ?? []).map((d) => d.condition?.reference).filter(Boolean));
  const mine = conditions.filter(
    (c) =>
      c.encounter?.reference === `Encounter/${encounterId}` &&
      c.verificationStatus?.coding?.[0]?.code !== 'entered-in-error' &&
      (listed.size === 0 || listed.has(`Condition/${c.id}`)),
  );
  const mainRef = ranked?.find((d) => d.rank === 1)?.condition?.reference;
  const main = mine.find((c) => `Condition/${c.id}` === mainRef) ?? (mainRef ? undefined : mine[0]);
  return { main, secondary: mine.filter((c) => c !== main) };
}
