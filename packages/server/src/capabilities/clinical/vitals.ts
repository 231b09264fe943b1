/**
 * Vital signs (M3): the inputs of Encounter/$record-vitals, their LOINC codes and UCUM units (FHIR vital-signs
 * profile), the values that cannot be real (400) and the adult ranges that flag a value H/L (abnormal) or HH/LL
 * (critical). Adult ranges only: children's age-specific ranges are not applied here.
 */
import type { Observation, ObservationComponent, Quantity } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export type Flag = 'H' | 'L' | 'HH' | 'LL';

export interface VitalSpec {
  param: string;
  loinc: string;
  display: string;
  vi: string;
  unit: string;
  ucum: string;
  /** Below this or above `max`: not a possible measurement. */
  min: number;
  max: number;
  /** Below `low`: L; below `criticalLow`: LL; at or above `high`: H; at or above `criticalHigh`: HH. */
  low?: number;
  criticalLow?: number;
  high?: number;
  criticalHigh?: number;
}

export const VITALS: Record<string, VitalSpec> = {
  pulse: {
    param: 'pulse',
    loinc: '8867-4',
    display: 'Heart rate',
    vi: 'Mạch',
    unit: 'lần/phút',
    ucum: '/min',
    min: 1,
    max: 300,
    low: 60,
    criticalLow: 40,
    high: 101,
    criticalHigh: 130,
  },
  systolic: {
    param: 'systolic',
    loinc: '8480-6',
    display: 'Systolic blood pressure',
    vi: 'Huyết áp tâm thu',
    unit: 'mmHg',
    ucum: 'mm[Hg]',
    min: 40,
    max: 300,
    low: 90,
    criticalLow: 70,
    high: 140,
    criticalHigh: 180,
  },
  diastolic: {
    param: 'diastolic',
    loinc: '8462-4',
    display: 'Diastolic blood pressure',
    vi: 'Huyết áp tâm trương',
    unit: 'mmHg',
    ucum: 'mm[Hg]',
    min: 20,
    max: 200,
    low: 60,
    criticalLow: 40,
    high: 90,
    criticalHigh: 120,
  },
  temperature: {
    param: 'temperature',
    loinc: '8310-5',
    display: 'Body temperature',
    vi: 'Nhiệt độ',
    unit: '°C',
    ucum: 'Cel',
    min: 25,
    max: 45,
    low: 36,
    criticalLow: 35,
    high: 37.5,
    criticalHigh: 40,
  },
  respiratoryRate: {
    param: 'respiratoryRate',
    loinc: '9279-1',
    display: 'Respiratory rate',
    vi: 'Nhịp thở',
    unit: 'lần/phút',
    ucum: '/min',
    min: 1,
    max: 100,
    low: 12,
    criticalLow: 8,
    high: 21,
    criticalHigh: 30,
  },
  spo2: {
    param: 'spo2',
    loinc: '59408-5',
    display: 'Oxygen saturation in Arterial blood by Pulse oximetry',
    vi: 'SpO2',
    unit: '%',
    ucum: '%',
    min: 1,
    max: 100,
    low: 95,
    criticalLow: 90,
  },
  height: {
    param: 'height',
    loinc: '8302-2',
    display: 'Body height',
    vi: 'Chiều cao',
    unit: 'cm',
    ucum: 'cm',
    min: 20,
    max: 260,
  },
  weight: {
    param: 'weight',
    loinc: '29463-7',
    display: 'Body weight',
    vi: 'Cân nặng',
    unit: 'kg',
    ucum: 'kg',
    min: 0.3,
    max: 500,
  },
};

/** BMI, computed from height and weight; WHO Asia-Pacific cut-offs used in Vietnam (thừa cân from 23). */
export const BMI: VitalSpec = {
  param: 'bmi',
  loinc: '39156-5',
  display: 'Body mass index (BMI) [Ratio]',
  vi: 'Chỉ số khối cơ thể (BMI)',
  unit: 'kg/m²',
  ucum: 'kg/m2',
  min: 5,
  max: 150,
  low: 18.5,
  high: 23,
};

export const BP_PANEL = {
  loinc: '85354-9',
  display: 'Blood pressure panel with all children optional',
  vi: 'Huyết áp',
};

export function interpret(spec: VitalSpec, value: number): Flag | undefined {
  if (spec.criticalHigh !== undefined && value >= spec.criticalHigh) {
    return 'HH';
  }
  if (spec.high !== undefined && value >= spec.high) {
    return 'H';
  }
  if (spec.criticalLow !== undefined && value < spec.criticalLow) {
    return 'LL';
  }
  if (spec.low !== undefined && value < spec.low) {
    return 'L';
  }
  return undefined;
}

/** The worse of two flags (critical before abnormal). */
export function worse(a: Flag | undefined, b: Flag | undefined): Flag | undefined {
  const rank = (f: Flag | undefined): number => (f === 'HH' || f === 'LL' ? 2 : f ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

export interface VitalsProblem {
  param: string;
  vi: string;
  en: string;
}

/** Checks a set of inputs: every problem found (empty: fine). */
export function checkVitals(values: Readonly<Record<string, number>>): VitalsProblem[] {
  const problems: VitalsProblem[] = [];
  for (const [param, value] of Object.entries(values)) {
    const spec = VITALS[param];
    if (!spec) {
      continue;
    }
    if (!Number.isFinite(value) || value < spec.min || value > spec.max) {
      problems.push({
        param,
        vi: `${spec.vi} ${value} ${spec.unit} không thể có (cho phép ${spec.min}–${spec.max})`,
        en: `${spec.display} ${value} ${spec.ucum} is not possible (allowed ${spec.min}–${spec.max})`,
      });
    }
  }
  const { systolic, diastolic } = values;
  if ((systolic === undefined) !== (diastolic === undefined)) {
    problems.push({
      param: systolic === undefined ? 'systolic' : 'diastolic',
      vi: 'Huyết áp cần cả tâm thu và tâm trương',
      en: 'Blood pressure needs both systolic and diastolic',
    });
  } else if (systolic !== undefined && diastolic !== undefined && diastolic >= systolic) {
    problems.push({
      param: 'diastolic',
      vi: `Huyết áp tâm trương (${diastolic}) phải thấp hơn tâm thu (${systolic})`,
      en: `Diastolic (${diastolic}) must be below systolic (${systolic})`,
    });
  }
  return problems;
}

/** BMI = weight (kg) / height (m)², to one decimal. */
export function bmiOf(heightCm: number, weightKg: number): number {
  const m = heightCm / 100;
  return Math.round((weightKg / (m * m)) * 10) / 10;
}

function quantity(spec: VitalSpec, value: number): Quantity {
  return { value, unit: spec.unit, system: UCUM, code: spec.ucum };
}

function interpretation(flag: Flag | undefined): Pick<Observation, 'interpretation'> {
  return flag ? { interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: flag }] }] } : {};
}

function referenceRange(spec: VitalSpec): Pick<Observation, 'referenceRange'> {
  if (spec.low === undefined && spec.high === undefined) {
    return {};
  }
  return {
    referenceRange: [
      {
        ...(spec.low !== undefined ? { low: quantity(spec, spec.low) } : {}),
        ...(spec.high !== undefined ? { high: quantity(spec, spec.high) } : {}),
        text: 'Người lớn / adult',
      },
    ],
  };
}

function codeOf(loinc: string, display: string, vi: string): Observation['code'] {
  return { coding: [{ system: LOINC, code: loinc, display }], text: vi };
}

/** The Observation bodies (without subject, encounter, time) for a checked set of inputs. */
export function vitalObservations(values: Readonly<Record<string, number>>): Observation[] {
  const out: Observation[] = [];
  const base = (): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Vital Signs',
          },
        ],
      },
    ],
    code: { text: '' },
  });
  for (const param of ['pulse', 'temperature', 'respiratoryRate', 'spo2', 'height', 'weight']) {
    const value = values[param];
    if (value === undefined) {
      continue;
    }
    const spec = VITALS[param];
    const code = codeOf(spec.loinc, spec.display, spec.vi);
    if (param === 'spo2') {
      code.coding?.push({ system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' });
    }
    out.push({
      ...base(),
      code,
      valueQuantity: quantity(spec, value),
      ...interpretation(interpret(spec, value)),
      ...referenceRange(spec),
    });
  }
  const { systolic, diastolic } = values;
  if (systolic !== undefined && diastolic !== undefined) {
    const component = (spec: VitalSpec, value: number): ObservationComponent => ({
      code: codeOf(spec.loinc, spec.display, spec.vi),
      valueQuantity: quantity(spec, value),
      ...interpretation(interpret(spec, value)),
      ...referenceRange(spec),
    });
    const flag = worse(interpret(VITALS.systolic, systolic), interpret(VITALS.diastolic, diastolic));
    out.push({
      ...base(),
      code: codeOf(BP_PANEL.loinc, BP_PANEL.display, BP_PANEL.vi),
      component: [component(VITALS.systolic, systolic), component(VITALS.diastolic, diastolic)],
      ...interpretation(flag),
    });
  }
  if (values.height !== undefined && values.weight !== undefined) {
    const bmi = bmiOf(values.height, values.weight);
    out.push({
      ...base(),
      code: codeOf(BMI.loinc, BMI.display, BMI.vi),
      valueQuantity: quantity(BMI, bmi),
      ...interpretation(interpret(BMI, bmi)),
      ...referenceRange(BMI),
    });
  }
  return out;
}
