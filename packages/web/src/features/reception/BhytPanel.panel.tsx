import type { Patient } from '@medplum/fhirtypes';
import { Badge, Button, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';
import { type FormEvent, type ReactElement, type RefObject, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { displayName } from '../../app/staff.ts';
import { formatBirthDate } from '../../ui/format.ts';
import { ErrorState } from '../../ui/states/States.tsx';
import { bhytInput, type BhytResult, bhytStatusColor } from './reception.model.ts';
import { useBhytCheck } from './reception.queries.ts';

/** The BHYT card: 15-character code or 10-digit BHXH number, checked with `Coverage/$bhyt-check`. */
export function BhytPanel(props: {
  patient: Patient;
  result: BhytResult | undefined;
  onResult: (r: BhytResult | undefined) => void;
  inputRef?: RefObject<HTMLInputElement | null>;
}): ReactElement {
  const { patient, result, onResult, inputRef } = props;
  const { t } = useTranslation();
  const known = patient.identifier?.find((i) => i.system === VN_CORE_SID.bhyt)?.value ?? '';
  const [value, setValue] = useState(known);
  const [bad, setBad] = useState(false);
  const check = useBhytCheck();

  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    const input = bhytInput(value);
    if (!input.ok) {
      setBad(true);
      return;
    }
    setBad(false);
    onResult(undefined);
    check.mutate(
      {
        cardNumber: input.value,
        name: displayName(patient),
        birthDate: patient.birthDate,
        patient: patient.id ? `Patient/${patient.id}` : undefined,
      },
      { onSuccess: onResult },
    );
  };

  return (
    <Stack gap="sm">
      <Title order={3}>{t('reception.bhyt.title')}</Title>
      <form onSubmit={onSubmit}>
        <Group align="start">
          <TextInput
            ref={inputRef}
            label={t('reception.bhyt.label')}
            description={t('reception.bhyt.hint')}
            value={value}
            onChange={(e) => {
              setValue(e.currentTarget.value);
              setBad(false);
            }}
            error={bad ? t('reception.bhyt.badInput') : undefined}
            name="bhyt"
            autoComplete="off"
            maxLength={24}
            style={{ flex: 1 }}
          />
          <Button type="submit" mt={42} loading={check.isPending} disabled={value.trim().length === 0}>
            {t('reception.bhyt.check')}
          </Button>
        </Group>
      </form>
      {check.error && <ErrorState error={check.error} />}
      {result && (
        <Stack gap={4} role="status" aria-label={t('reception.bhyt.status')}>
          <Group gap="sm">
            <Badge size="lg" color={bhytStatusColor(result.status)}>
              {t(`reception.bhyt.status_${result.status}`)}
            </Badge>
            {result.benefitLevel !== undefined && (
              <Badge size="lg" variant="outline">
                {t('reception.bhyt.benefit', { level: result.benefitLevel })}
              </Badge>
            )}
          </Group>
          {result.message && <Text size="sm">{result.message}</Text>}
          {result.validFrom && result.validTo && (
            <Text size="sm" c="dimmed">
              {t('reception.bhyt.valid', {
                from: formatBirthDate(result.validFrom),
                to: formatBirthDate(result.validTo),
              })}
            </Text>
          )}
          {result.status === 'unverified' && (
            <Text size="sm" c="dimmed">
              {t('reception.bhyt.recheck')}
            </Text>
          )}
        </Stack>
      )}
    </Stack>
  );
}
