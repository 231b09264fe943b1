/**
 * Order download: an analyzer that reads a tube's barcode asks which tests to run (QRY^Q02 with the barcode in
 * QRD-8, or QBP^Q11 with it in QPD-3); Sen answers with the specimen's pending lab orders — ORM^O01 for HL7 2.3/2.4,
 * OML^O21 (with an SPM segment) for 2.5 and later. MSA follows MSH so the analyzer can match the answer to its query.
 * Every resource read goes through the access gate as the analyzer's system principal.
 */
import { Hl7Message } from '@medplum/core';
import type { Patient, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import { parseSearchRequest, referenceId } from '@sen/fhir';
import { searchRows } from '@sen/store';
import type { FhirRouter } from '../../fhir/router.ts';
import type { AccessContext } from '../../fhir/types.ts';
import {
  type AckCode,
  atLeast25,
  buildAck,
  escapeHl7,
  type Hl7Header,
  Hl7Problem,
  hl7Now,
  newControlId,
  queryBarcode,
} from './hl7.ts';

/** Contract 1: the specimen barcode identifier system. */
export const SPECIMEN_BARCODE_SYSTEM = 'https://sen.health.vn/fhir/sid/specimen-barcode';

export interface QueryAnswer {
  ack: AckCode;
  problem?: Hl7Problem;
  barcode?: string;
  /** ServiceRequest ids sent to the analyzer. */
  orders: string[];
  reply: Hl7Message;
}

function hl7Date(d: string | undefined): string {
  return d ? d.replace(/-/g, '').slice(0, 8) : '';
}

function hl7Sex(g: string | undefined): string {
  switch (g) {
    case 'male':
      return 'M';
    case 'female':
      return 'F';
    case 'other':
      return 'O';
    default:
      return 'U';
  }
}

/** The pending orders of the specimen a query names, as an ORM^O01 / OML^O21 answer (or an error ACK). */
export async function answerOrderQuery(
  router: FhirRouter,
  access: AccessContext,
  message: Hl7Message,
  header: Hl7Header,
  facilityId: string,
): Promise<QueryAnswer> {
  let barcode: string | undefined;
  try {
    barcode = queryBarcode(message, header.type);
    access.check('search', 'Specimen');
    const found = await searchRows(
      router.store,
      parseSearchRequest('Specimen', [
        ['accession', `${SPECIMEN_BARCODE_SYSTEM}|${barcode}`],
        ['_count', '10'],
      ]),
      undefined,
      access.policy,
    );
    let specimen: Specimen | undefined;
    for (const row of found.rows) {
      const s = JSON.parse(row.content) as Specimen;
      if (s.status === 'entered-in-error') {
        continue;
      }
      access.check('read', 'Specimen', s, [referenceId(s.subject?.reference, 'Patient') ?? '']);
      specimen = s;
      break;
    }
    const patientId = referenceId(specimen?.subject?.reference, 'Patient');
    if (!specimen || !patientId) {
      throw new Hl7Problem(
        'unknown-specimen',
        `Không có mẫu mã vạch '${barcode}' / No specimen with barcode '${barcode}'`,
        header.type.startsWith('QRY')
          ? { segment: 'QRD', sequence: 1, field: 8 }
          : { segment: 'QPD', sequence: 1, field: 3 },
      );
    }
    const patient = JSON.parse((await router.store.read('Patient', patientId)).content as string) as Patient;
    access.check('read', 'Patient', patient, [patientId]);
    const orders: ServiceRequest[] = [];
    for (const r of specimen.request ?? []) {
      const id = referenceId(r.reference, 'ServiceRequest');
      if (!id) {
        continue;
      }
      const sr = JSON.parse((await router.store.read('ServiceRequest', id)).content as string) as ServiceRequest;
      access.check('read', 'ServiceRequest', sr, [patientId]);
      if (sr.status === 'active') {
        orders.push(sr);
      }
    }
    if (orders.length === 0) {
      throw new Hl7Problem(
        'no-pending-order',
        `Mẫu ${barcode} không còn chỉ định chờ làm / Specimen ${barcode} has no order waiting`,
        header.type.startsWith('QRY')
          ? { segment: 'QRD', sequence: 1, field: 8 }
          : { segment: 'QPD', sequence: 1, field: 3 },
      );
    }
    return {
      ack: 'AA',
      barcode,
      orders: orders.map((o) => o.id as string),
      reply: orderMessage({ query: message, header, facilityId, barcode, specimen, patient, orders }),
    };
  } catch (err) {
    if (!(err instanceof Hl7Problem)) {
      throw err;
    }
    return {
      ack: err.ack,
      problem: err,
      barcode,
      orders: [],
      reply: buildAck({
        message,
        ack: err.ack,
        facility: facilityId,
        problem: { code: err.code, reason: err.message, location: err.location },
      }),
    };
  }
}

/** ORM^O01 (HL7 < 2.5) or OML^O21 (2.5+): MSH, MSA, PID, then ORC + OBR (+ SPM) per pending order. */
export function orderMessage(input: {
  query: Hl7Message;
  header: Hl7Header;
  facilityId: string;
  barcode: string;
  specimen: Specimen;
  patient: Patient;
  orders: ServiceRequest[];
}): Hl7Message {
  const msh = input.query.getSegment('MSH');
  const version = input.header.version || '2.3.1';
  const oml = atLeast25(version);
  const e = escapeHl7;
  const name = input.patient.name?.[0];
  const collected = input.specimen.collection?.collectedDateTime;
  const segments = [
    [
      'MSH',
      '^~\\&',
      msh?.getField(5)?.getComponent(1, 0) || 'SEN',
      msh?.getField(6)?.getComponent(1, 0) || e(input.facilityId),
      msh?.getField(3)?.toString() ?? '',
      msh?.getField(4)?.toString() ?? '',
      hl7Now(),
      '',
      oml ? 'OML^O21^OML_O21' : 'ORM^O01',
      newControlId(),
      msh?.getField(11)?.getComponent(1, 0) || 'P',
      version,
    ].join('|'),
    `MSA|AA|${msh?.getField(10)?.getComponent(1, 0) ?? ''}`,
    [
      'PID',
      '1',
      '',
      `${e(input.patient.id ?? '')}^^^SEN^PI`,
      '',
      `${e(name?.family ?? '')}^${e((name?.given ?? []).join(' '))}`,
      '',
      hl7Date(input.patient.birthDate),
      hl7Sex(input.patient.gender),
    ].join('|'),
  ];
  input.orders.forEach((sr, i) => {
    const coding = sr.code?.coding?.[0];
    const service = `${e(coding?.code ?? '')}^${e(coding?.display ?? sr.code?.text ?? '')}^SEN`;
    const priority = sr.priority === 'stat' || sr.priority === 'urgent' ? 'S' : 'R';
    segments.push(`ORC|NW|${e(sr.id ?? '')}|${e(input.barcode)}||SC||^^^^^${priority}`);
    segments.push(
      `OBR|${i + 1}|${e(sr.id ?? '')}|${e(input.barcode)}|${service}|${priority}||${collected ? hl7Now(new Date(collected)) : ''}`,
    );
    if (oml) {
      const type = input.specimen.type?.coding?.[0];
      segments.push(
        `SPM|1|${e(input.barcode)}^${e(input.barcode)}||${e(type?.code ?? '')}^${e(type?.display ?? input.specimen.type?.text ?? '')}`,
      );
    }
  });
  return Hl7Message.parse(segments.join('\r'));
}
