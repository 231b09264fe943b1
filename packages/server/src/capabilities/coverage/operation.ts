/**
 * `POST Coverage/$bhyt-check`: in `cardNumber` (15-character BHYT code or 10-digit BHXH number), `name`, `birthDate`,
 * `patient` (optional); out `status` (verified | unverified | expired | not-found | invalid), `message` (Vietnamese),
 * `benefitLevel`, `validFrom`, `validTo`, and `coverage` (the Coverage written when a patient is given and the card
 * is valid or unverified). A malformed number is an answer (`invalid`), not an error; a missing one is a 400.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { outcomes } from '@sen/fhir';
import type { FhirOperation } from '../../fhir/operations.ts';
import { assertIsoDate, type BhytService } from './service.ts';

function patientRef(ref: string | undefined): string | undefined {
  if (ref === undefined) {
    return undefined;
  }
  const m = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
  if (!m) {
    throw outcomes.badRequest("'patient' phải là tham chiếu Patient/<id> / 'patient' must reference Patient/<id>");
  }
  return m[1];
}

export function bhytCheckOperation(service: BhytService): FhirOperation {
  return {
    name: 'bhyt-check',
    resourceTypes: ['Coverage'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'search', resourceType: 'Coverage' },
    async handler({ req, input }) {
      const cardNumber = input.string('cardNumber');
      if (cardNumber === undefined || cardNumber.trim() === '') {
        throw outcomes.badRequest("Thiếu mã thẻ BHYT ('cardNumber') / The parameter 'cardNumber' is required");
      }
      const birthDate = input.string('birthDate');
      assertIsoDate('birthDate', birthDate);
      const patientId = patientRef(input.first('patient')?.valueReference?.reference ?? input.string('patient'));
      const r = await service.check({ cardNumber, name: input.string('name'), birthDate, patientId }, req.access);
      const parameter: ParametersParameter[] = [
        { name: 'status', valueCode: r.status },
        { name: 'message', valueString: r.message },
      ];
      if (r.benefitLevel) {
        parameter.push({ name: 'benefitLevel', valueInteger: r.benefitLevel });
      }
      if (r.validFrom) {
        parameter.push({ name: 'validFrom', valueDate: r.validFrom });
      }
      if (r.validTo) {
        parameter.push({ name: 'validTo', valueDate: r.validTo });
      }
      if (r.card) {
        parameter.push({ name: 'cardCode', valueString: r.card.cardCode });
        parameter.push({ name: 'bhxhNumber', valueString: r.card.bhxhNumber });
      }
      if (r.coverage) {
        parameter.push({ name: 'coverage', resource: r.coverage });
      }
      const body: Parameters = { resourceType: 'Parameters', parameter };
      return { status: 200, body };
    },
  };
}
