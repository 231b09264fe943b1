import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChronic, loadClinicalData, matchesWords, parseClinicalData, routingOf } from './data.ts';
import {
  ageInMonths,
  blocking,
  checkAllergies,
  checkChild,
  checkDayLimits,
  checkDuplicates,
  checkInteractions,
  ingredientsOf,
  type PrescribedDrug,
  quantityOf,
} from './prescribing.ts';

const drug = (index: number, code: string, inn: string, days = 5): PrescribedDrug => ({
  index,
  code,
  name: code,
  ingredients: ingredientsOf(inn),
  days,
});

describe('prescription checks', () => {
  const data = loadClinicalData();

  it('finds an allergy by ingredient (diacritics ignored) or by catalog code', () => {
    const items = [drug(0, 'T5', 'Amoxicilin + Acid clavulanic'), drug(1, 'T1', 'Paracetamol')];
    assert.deepEqual(
      checkAllergies(items, [{ codes: [], texts: ['amoxicilin'] }]).map((f) => f.code),
      ['allergy:T5'],
    );
    assert.deepEqual(
      checkAllergies(items, [{ codes: ['T1'], texts: [] }]).map((f) => f.code),
      ['allergy:T1'],
    );
    assert.deepEqual(checkAllergies(items, [{ codes: [], texts: ['Ibuprofen'] }]), []);
  });

  it('finds duplicate therapy and the interactions of the data file', () => {
    const items = [
      drug(0, 'A', 'Amoxicilin'),
      drug(1, 'B', 'Amoxicilin + Acid clavulanic'),
      drug(2, 'C', 'Clopidogrel'),
      drug(3, 'D', 'Omeprazol'),
    ];
    assert.deepEqual(
      checkDuplicates(items).map((f) => f.code),
      ['duplicate:amoxicilin'],
    );
    const ix = checkInteractions(items, data);
    assert.deepEqual(
      ix.map((f) => [f.code, f.interaction]),
      [['interaction:C+D', 'major']],
    );
    assert.deepEqual(checkInteractions([drug(0, 'A', 'Paracetamol'), drug(1, 'B', 'Amlodipin')], data), []);
  });

  it('limits days to 30, or 90 for the chronic list, and needs weight and an adult for children under 72 months', () => {
    assert.deepEqual(checkDayLimits([drug(0, 'A', 'X', 30)], false), []);
    assert.equal(checkDayLimits([drug(0, 'A', 'X', 31)], false)[0].code, 'day-limit:A');
    assert.deepEqual(checkDayLimits([drug(0, 'A', 'X', 90)], true), []);
    assert.equal(isChronic(data, 'I10'), true);
    assert.equal(isChronic(data, 'E11.9'), true);
    assert.equal(isChronic(data, 'J06.9'), false);
    assert.equal(ageInMonths('2020-06-15', '2026-06-14'), 71);
    assert.equal(ageInMonths('2020-06-15', '2026-06-15'), 72);
    assert.deepEqual(
      checkChild(71, {}).map((f) => f.code),
      ['child-weight', 'child-guardian'],
    );
    assert.deepEqual(checkChild(71, { weight: 18, guardian: 'Mẹ' }), []);
    assert.deepEqual(checkChild(72, {}), []);
  });

  it('computes the quantity exactly and lets only warnings be acknowledged', () => {
    assert.equal(quantityOf(0.1, 3, 1), 0.3);
    assert.equal(quantityOf(1.5, 2, 7), 21);
    const findings = [
      { code: 'allergy:A', severity: 'warning' as const, vi: '', en: '' },
      { code: 'day-limit:A', severity: 'error' as const, vi: '', en: '' },
    ];
    assert.deepEqual(
      blocking(findings, ['allergy:A', 'day-limit:A']).map((f) => f.code),
      ['day-limit:A'],
    );
  });
});

describe('clinical data files', () => {
  it('routes services by code before group and matches aliases without diacritics', () => {
    const data = loadClinicalData();
    assert.deepEqual(routingOf(data, '99.2301.2001', 'Xét nghiệm huyết học'), { category: 'lab', department: 'K06' });
    assert.deepEqual(routingOf(data, '99.2401.3003', 'Chẩn đoán hình ảnh'), { category: 'imaging', department: 'K05' });
    assert.equal(routingOf(data, '99.1899.1001', 'Khám bệnh'), undefined);
    assert.ok(data.orderSets.some((s) => s.name === 'Khám sức khỏe tổng quát'));
    assert.equal(matchesWords('Công thức máu', 'cong thuc'), true);
    assert.equal(matchesWords('Công thức máu', 'thuc mau'), true);
    assert.equal(matchesWords('Công thức máu', 'nuoc'), false);
  });

  it('names the file and row of a bad record', () => {
    const ok = 'service_code,service_group,category,department\n,Xét nghiệm huyết học,lab,K06\n';
    const base = {
      serviceDepartments: ok,
      serviceAliases: 'service_code,alias\n',
      orderSets: 'code,name,services\n',
      interactions: 'ingredient_a,ingredient_b,severity,message_vi\n',
      chronic: 'code_prefix\n',
    };
    assert.throws(
      () => parseClinicalData({ ...base, serviceDepartments: `${ok},Chẩn đoán hình ảnh,xray,K07\n` }),
      /service-departments\.csv, row 3/,
    );
    assert.throws(() => parseClinicalData({ ...base, chronic: 'code_prefix\nhello\n' }), /chronic-icd10\.csv, row 2/);
    assert.throws(
      () => parseClinicalData({ ...base, orderSets: 'code,name,services\nX,Bộ X,abc\n' }),
      /not a service code/,
    );
  });
});
