import { Alert, Button, Group, SimpleGrid, Stack, Textarea } from '@mantine/core';
import { type FormEvent, type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { parameters } from './clinic.logic.ts';
import { useEncounterOperation } from './clinic.queries.ts';
import { OutcomeAlert } from './OutcomeAlert.tsx';

export const HISTORY_FIELDS = ['chiefComplaint', 'historyOfPresentIllness', 'pastHistory', 'examination'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/** History and examination, free text ($history). */
export function HistoryPanel(props: {
  encounterId: string;
  initial: Partial<Record<HistoryField, string>>;
  readOnly: boolean;
}): ReactElement {
  const { t } = useTranslation();
  const { encounterId, initial, readOnly } = props;
  const [values, setValues] = useState<Partial<Record<HistoryField, string>>>(initial);
  const [done, setDone] = useState(false);
  const save = useEncounterOperation(encounterId, 'history', ['ClinicalImpression', 'Observation', 'Encounter']);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setDone(false);
    save.mutate(
      parameters(HISTORY_FIELDS.map((f) => [f, values[f]?.trim() ? { valueString: values[f]?.trim() } : undefined])),
      {
        onSuccess: () => setDone(true),
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label={t('clinic.history.form')}>
      <Stack>
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
          {HISTORY_FIELDS.map((f) => (
            <Textarea
              key={f}
              label={t(`clinic.history.${f}`)}
              autosize
              minRows={f === 'chiefComplaint' ? 2 : 3}
              value={values[f] ?? ''}
              readOnly={readOnly}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setValues((s) => ({ ...s, [f]: v }));
              }}
            />
          ))}
        </SimpleGrid>
        {!readOnly && (
          <Group justify="flex-end">
            <Button type="submit" loading={save.isPending} disabled={HISTORY_FIELDS.every((f) => !values[f]?.trim())}>
              {t('clinic.history.save')}
            </Button>
          </Group>
        )}
        {done && (
          <Alert color="green" role="status">
            {t('clinic.history.saved')}
          </Alert>
        )}
        <OutcomeAlert error={save.error} />
      </Stack>
    </form>
  );
}
