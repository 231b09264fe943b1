import type { MedicationRequest, Patient } from '@medplum/fhirtypes';
import { useQuery } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { entriesOf, resolve } from '../../api/fhir.ts';
import { displayName } from '../../app/staff.ts';
import { useSession } from '../../auth/AuthContext.tsx';
import { formatDate } from '../../ui/format.ts';
import { ResultTable } from '../../ui/ResultTable.tsx';

/** Signed prescriptions not yet dispensed, oldest first. */
export function PrescriptionsPage(): ReactElement {
  const { t, i18n } = useTranslation();
  const { fhir } = useSession();
  const result = useQuery({
    queryKey: ['prescriptions'],
    queryFn: () =>
      fhir.search('MedicationRequest', [
        ['status', 'active'],
        ['intent', 'order'],
        ['_sort', 'authoredon'],
        ['_count', '50'],
        ['_include', 'MedicationRequest:subject'],
      ]),
  });
  return (
    <ResultTable<MedicationRequest>
      title={t('prescriptions.title')}
      query={result}
      rows={entriesOf<MedicationRequest>(result.data, 'MedicationRequest')}
      empty={t('prescriptions.none')}
      columns={[
        { header: t('prescriptions.authored'), cell: (m) => formatDate(m.authoredOn, i18n.language) },
        {
          header: t('prescriptions.patient'),
          strong: true,
          cell: (m) => displayName(resolve<Patient>(result.data, m.subject?.reference)),
        },
        {
          header: t('prescriptions.drug'),
          cell: (m) => m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.display,
        },
      ]}
    />
  );
}
