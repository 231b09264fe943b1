/** Vital-sign and laboratory Observations of one demo visit (LOINC codes, UCUM units). */

import type { CodeableConcept, Observation, Quantity } from '@medplum/fhirtypes';
import type { Sex } from '@sen/vn';
import { at, type DemoBuilder } from './demo-builder.ts';
import type { StaffMember } from './demo-facility.ts';
import type { Rng } from './prng.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function quantity(value: number, unit: string, code = unit): Quantity {
  return { value, unit, system: UCUM, code };
}

function concept(code: string, display: string, text: string): CodeableConcept {
  return { coding: [{ system: LOINC, code, display }], text };
}

const VITAL_SIGNS: CodeableConcept[] = [
  { coding: [{ system: OBS_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }] },
];
const LABORATORY: CodeableConcept[] = [
  { coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] },
];

interface LabDef {
  key: string;
  code: string;
  display: string;
  text: string;
  unit: string;
  digits: number;
  range: (sex: Sex) => [number, number];
}

const LABS: Record<'glucose' | 'hba1c' | 'creatinine', LabDef> = {
  glucose: {
    key: 'glu',
    code: '2345-7',
    display: 'Glucose [Mass/volume] in Serum or Plasma',
    text: 'Glucose máu',
    unit: 'mg/dL',
    digits: 0,
    range: () => [70, 99],
  },
  hba1c: {
    key: 'hba1c',
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    text: 'HbA1c',
    unit: '%',
    digits: 1,
    range: () => [4, 5.6],
  },
  creatinine: {
    key: 'crea',
    code: '2160-0',
    display: 'Creatinine [Mass/volume] in Serum or Plasma',
    text: 'Creatinin máu',
    unit: 'mg/dL',
    digits: 2,
    range: (sex) => (sex === 'male' ? [0.7, 1.3] : [0.6, 1.1]),
  },
};

function interpretation(value: number, [low, high]: [number, number]): CodeableConcept[] {
  const [code, display] = value < low ? ['L', 'Low'] : value > high ? ['H', 'High'] : ['N', 'Normal'];
  return [{ coding: [{ system: INTERPRETATION, code, display }] }];
}

export interface VisitContext {
  patientId: string;
  patientName: string;
  encounterId: string;
  sex: Sex;
  age: number;
  start: number; // minutes after midnight
  day: string;
  reason: string;
  diabetic: boolean;
}

export function addVitals(b: DemoBuilder, rng: Rng, v: VisitContext, nurse: StaffMember): void {
  const base: Pick<
    Observation,
    'resourceType' | 'status' | 'category' | 'subject' | 'encounter' | 'effectiveDateTime' | 'performer'
  > = {
    resourceType: 'Observation',
    status: 'final',
    category: VITAL_SIGNS,
    subject: b.ref('Patient', v.patientId, v.patientName),
    encounter: b.ref('Encounter', v.encounterId),
    effectiveDateTime: at(v.day, v.start + 5),
    performer: [b.ref('Practitioner', nurse.id, nurse.name)],
  };
  const obsId = (key: string): string => `${v.encounterId}-${key}`;
  const a = v.age;
  const hr = a < 1 ? rng.int(110, 150) : a < 6 ? rng.int(90, 125) : a < 12 ? rng.int(75, 110) : rng.int(60, 95);
  b.add<Observation>({
    ...base,
    id: obsId('hr'),
    code: concept('8867-4', 'Heart rate', 'Mạch'),
    valueQuantity: quantity(hr, '/min'),
  });
  if (a >= 3) {
    const hypertensive = v.reason.includes('huyết áp');
    const systolic =
      a < 18
        ? rng.int(95, 115)
        : Math.round(105 + Math.max(0, a - 20) * 0.5 + rng.real(-10, 12) + (hypertensive ? 22 : 0));
    const diastolic = Math.round(systolic * 0.63 + rng.real(-6, 6));
    b.add<Observation>({
      ...base,
      id: obsId('bp'),
      code: concept('85354-9', 'Blood pressure panel with all children optional', 'Huyết áp'),
      component: [
        {
          code: concept('8480-6', 'Systolic blood pressure', 'Huyết áp tâm thu'),
          valueQuantity: quantity(systolic, 'mmHg', 'mm[Hg]'),
        },
        {
          code: concept('8462-4', 'Diastolic blood pressure', 'Huyết áp tâm trương'),
          valueQuantity: quantity(diastolic, 'mmHg', 'mm[Hg]'),
        },
      ],
    });
  }
  const fever = v.reason.startsWith('Sốt');
  b.add<Observation>({
    ...base,
    id: obsId('temp'),
    code: concept('8310-5', 'Body temperature', 'Nhiệt độ'),
    valueQuantity: quantity(round(fever ? rng.real(37.8, 39.3) : rng.real(36.3, 37.2), 1), '°C', 'Cel'),
  });
  const weight =
    a < 1
      ? rng.real(4, 10)
      : a <= 10
        ? 2 * a + 8 + rng.real(-2, 3)
        : a < 18
          ? 30 + (a - 10) * 4 + rng.real(-5, 6)
          : v.sex === 'male'
            ? rng.real(52, 78)
            : rng.real(43, 65);
  b.add<Observation>({
    ...base,
    id: obsId('wt'),
    code: concept('29463-7', 'Body weight', 'Cân nặng'),
    valueQuantity: quantity(round(weight, 1), 'kg'),
  });
}

function addLab(b: DemoBuilder, v: VisitContext, lab: LabDef, raw: number, tech: StaffMember): void {
  const value = round(raw, lab.digits);
  const range = lab.range(v.sex);
  b.add<Observation>({
    resourceType: 'Observation',
    id: `${v.encounterId}-${lab.key}`,
    status: 'final',
    category: LABORATORY,
    code: concept(lab.code, lab.display, lab.text),
    subject: b.ref('Patient', v.patientId, v.patientName),
    encounter: b.ref('Encounter', v.encounterId),
    effectiveDateTime: at(v.day, v.start + 15),
    issued: at(v.day, v.start + 50),
    performer: [b.ref('Practitioner', tech.id, tech.name)],
    valueQuantity: quantity(value, lab.unit),
    interpretation: interpretation(value, range),
    referenceRange: [{ low: quantity(range[0], lab.unit), high: quantity(range[1], lab.unit) }],
  });
}

export function addLabs(b: DemoBuilder, rng: Rng, v: VisitContext, tech: StaffMember): void {
  addLab(b, v, LABS.glucose, v.diabetic ? rng.real(110, 220) : rng.real(72, 108), tech);
  addLab(b, v, LABS.creatinine, v.sex === 'male' ? rng.real(0.75, 1.45) : rng.real(0.55, 1.15), tech);
  if (v.diabetic || (v.age >= 35 && rng.chance(0.4))) {
    addLab(b, v, LABS.hba1c, v.diabetic ? rng.real(6.3, 9.5) : rng.real(4.6, 6.1), tech);
  }
}
