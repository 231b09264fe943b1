import type { AllergyIntolerance, Coverage, Encounter, Patient } from '@medplum/fhirtypes';
import { Badge, Group, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { displayName } from '../../app/staff.ts';
import { formatBirthDate } from '../../ui/format.ts';
import { ageLabel, BHYT_SID, CCCD_SID, identifierValue, queueNumber } from './clinic.logic.ts';

function allergyText(a: AllergyIntolerance): string {
  return a.code?.text ?? a.code?.coding?.[0]?.display ?? a.code?.coding?.[0]?.code ?? '';
}

/** Who the patient is: name, age, sex, CCCD, BHYT (Coverage, else the card on the Patient) and allergies. */
export function PatientBanner(props: {
  patient: Patient | undefined;
  encounter: Encounter | undefined;
  coverages: Coverage[] | undefined;
  allergies: AllergyIntolerance[] | undefined;
}): ReactElement {
  const { t, i18n } = useTranslation();
  const { patient, encounter, coverages, allergies } = props;
  const coverage = coverages?.find((c) => c.status === 'active') ?? coverages?.[0];
  const bhyt =
    coverage?.subscriberId ??
    coverage?.identifier?.find((i) => i.system === BHYT_SID)?.value ??
    identifierValue(patient, BHYT_SID);
  const active = (allergies ?? []).filter(
    (a) => a.clinicalStatus?.coding?.[0]?.code !== 'inactive' && a.clinicalStatus?.coding?.[0]?.code !== 'resolved',
  );
  const finished = encounter?.status === 'finished';
  return (
    <Paper withBorder p="md" radius="md" bg="#f3faf7" aria-label={t('clinic.banner.label')} role="region">
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
        <Stack gap={4}>
          <Group gap="sm" wrap="wrap">
            <Title order={2}>{displayName(patient)}</Title>
            {encounter && queueNumber(encounter) !== undefined && (
              <Badge size="lg" variant="filled">
                {t('clinic.banner.number', { n: queueNumber(encounter) })}
              </Badge>
            )}
            {finished && (
              <Badge size="lg" color="gray">
                {t('clinic.banner.finished')}
              </Badge>
            )}
          </Group>
          <Group gap="lg" wrap="wrap">
            <Text>
              <Text span c="dimmed">
                {t('clinic.banner.age')}:{' '}
              </Text>
              <span aria-label={t('clinic.banner.age')}>{ageLabel(patient?.birthDate, new Date(), i18n.language)}</span>{' '}
              ({formatBirthDate(patient?.birthDate)})
            </Text>
            <Text>
              <Text span c="dimmed">
                {t('clinic.banner.sex')}:{' '}
              </Text>
              {patient?.gender ? t(`clinic.sex.${patient.gender}`) : t('clinic.banner.unknown')}
            </Text>
            <Text>
              <Text span c="dimmed">
                CCCD:{' '}
              </Text>
              <span aria-label="CCCD">{identifierValue(patient, CCCD_SID) ?? t('clinic.banner.none')}</span>
            </Text>
            <Text>
              <Text span c="dimmed">
                BHYT:{' '}
              </Text>
              <span aria-label="BHYT">{bhyt ?? t('clinic.banner.noBhyt')}</span>
              {coverage?.period?.end && (
                <Text span size="sm" c="dimmed">
                  {' '}
                  ({t('clinic.banner.validTo', { date: formatBirthDate(coverage.period.end) })})
                </Text>
              )}
            </Text>
          </Group>
          {encounter?.reasonCode?.[0]?.text && (
            <Text size="sm">
              <Text span c="dimmed">
                {t('clinic.banner.reason')}:{' '}
              </Text>
              {encounter.reasonCode[0].text}
            </Text>
          )}
        </Stack>
        <Stack gap={4} aria-label={t('clinic.banner.allergies')} role="group">
          <Text size="sm" fw={600}>
            {t('clinic.banner.allergies')}
          </Text>
          {allergies === undefined ? (
            <Text size="sm" c="dimmed">
              {t('app.loading')}
            </Text>
          ) : active.length === 0 ? (
            <Text size="sm">{t('clinic.banner.noAllergies')}</Text>
          ) : (
            <Group gap={4}>
              {active.map((a) => (
                <Badge key={a.id} color="red" variant="light">
                  {allergyText(a)}
                </Badge>
              ))}
            </Group>
          )}
        </Stack>
      </Group>
    </Paper>
  );
}
