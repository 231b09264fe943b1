import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BMI, bmiOf, checkVitals, interpret, VITALS, vitalObservations, worse } from './vitals.ts';

describe('vital signs', () => {
  it('flags abnormal (H/L) and critical (HH/LL) values on the adult ranges', () => {
    assert.equal(interpret(VITALS.systolic, 139), undefined);
    assert.equal(interpret(VITALS.systolic, 140), 'H');
    assert.equal(interpret(VITALS.systolic, 180), 'HH');
    assert.equal(interpret(VITALS.systolic, 85), 'L');
    assert.equal(interpret(VITALS.systolic, 65), 'LL');
    assert.equal(interpret(VITALS.temperature, 38.2), 'H');
    assert.equal(interpret(VITALS.spo2, 93), 'L');
    assert.equal(interpret(VITALS.spo2, 100), undefined);
    assert.equal(worse('H', 'LL'), 'LL');
    assert.equal(worse(undefined, 'L'), 'L');
  });

  it('refuses values that cannot be measured and a half blood pressure', () => {
    assert.deepEqual(checkVitals({ pulse: 80, temperature: 37 }), []);
    assert.deepEqual(
      checkVitals({ temperature: 50, spo2: 101 }).map((p) => p.param),
      ['temperature', 'spo2'],
    );
    assert.equal(checkVitals({ systolic: 120 })[0].param, 'diastolic');
    assert.match(checkVitals({ systolic: 80, diastolic: 90 })[0].vi, /thấp hơn tâm thu/);
  });

  it('writes LOINC/UCUM Observations, BP as one panel with components, BMI when height and weight are known', () => {
    const obs = vitalObservations({ systolic: 150, diastolic: 85, height: 160, weight: 64 });
    const bp = obs.find((o) => o.code.coding?.[0].code === '85354-9');
    assert.deepEqual(
      bp?.component?.map((c) => [
        c.code.coding?.[0].code,
        c.valueQuantity?.value,
        c.interpretation?.[0].coding?.[0].code,
      ]),
      [
        ['8480-6', 150, 'H'],
        ['8462-4', 85, undefined],
      ],
    );
    assert.equal(bp?.interpretation?.[0].coding?.[0].code, 'H');
    const bmi = obs.find((o) => o.code.coding?.[0].code === BMI.loinc);
    assert.equal(bmi?.valueQuantity?.value, 25);
    assert.equal(bmi?.valueQuantity?.code, 'kg/m2');
    assert.equal(bmiOf(170, 50), 17.3);
    assert.equal(vitalObservations({ weight: 60 }).length, 1);
  });
});
