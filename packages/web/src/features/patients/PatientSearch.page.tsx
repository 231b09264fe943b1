import type { Patient } from '@medplum/fhirtypes';
import { Badge, Button, Group, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, type ReactElement, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { VN_CORE_SID } from '@sen/vn/identifiers.ts';
import { entriesOf } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatBirthDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';

const CCCD_SYSTEM = VN_CORE_SID.cccd;
const isBhyt = (system: string): boolean => system === VN_CORE_SID.bhyt;

/** A 12-digit number is a personal ID (CCCD); anything else is a name, diacritics optional. */
export function patientQuery(text: string): [string, string][] {
  const q = text.trim();
  const base: [string, string][] = [
    ['_count', '20'],
    ['_sort', 'family'],
  ];
  if (/^\d{12}$/.test(q)) {
    return [...base, ['identifier', `${CCCD_SYSTEM}|${q}`]];
  }
  return [...base, ['name', q]];
}

function identifierOf(p: Patient, test: (system: string) => boolean): string | undefined {
  return p.identifier?.find((i) => i.system && test(i.system))?.value;
}

export function PatientSearchPage(): ReactElement {
  const { t } = useTranslation();
  const { fhir } = useSession();
  const [text, setText] = useState('');
  const [submitted, setSubmitted] = useState('');
  const result = useQuery({
    queryKey: ['patients', submitted],
    enabled: submitted.length > 0,
    queryFn: () => fhir.search<Patient>('Patient', [...patientQuery(submitted), ['_total', 'accurate']]),
  });
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    setSubmitted(text.trim());
  };
  const patients = entriesOf<Patient>(result.data, 'Patient');
  const gender = (g: string | undefined): string =>
    t(`patients.${g === 'male' || g === 'female' || g === 'other' ? g : 'unknown'}`);
  return (
    <ResultTable<Patient>
      title={t('patients.title')}
      query={result}
      asked={submitted.length > 0}
      rows={patients}
      empty={t('patients.none')}
      columns={[
        { header: t('patients.name'), strong: true, cell: (p) => displayName(p) },
        { header: t('patients.birthDate'), cell: (p) => formatBirthDate(p.birthDate) },
        { header: t('patients.gender'), cell: (p) => gender(p.gender) },
        { header: t('patients.cccd'), cell: (p) => identifierOf(p, (s) => s === CCCD_SYSTEM) },
        {
          header: t('patients.bhyt'),
          cell: (p) => (identifierOf(p, isBhyt) ? <Badge variant="light">{identifierOf(p, isBhyt)}</Badge> : null),
        },
        { header: t('patients.address'), cell: (p) => p.address?.[0]?.text ?? p.address?.[0]?.city },
      ]}
    >
      <form onSubmit={onSubmit} role="search">
        <Group align="end">
          <TextInput
            label={t('patients.searchLabel')}
            description={t('patients.searchHint')}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            autoFocus
            style={{ flex: 1 }}
            name="q"
          />
          <Button type="submit" disabled={text.trim().length === 0}>
            {t('patients.search')}
          </Button>
        </Group>
      </form>
      {patients.length > 0 && (
        <Text size="sm" c="dimmed">
          {t('patients.count', { count: result.data?.total ?? patients.length })}
        </Text>
      )}
    </ResultTable>
  );
}
