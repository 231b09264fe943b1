import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODING_RULES, checkDiagnoses, type Icd10Flags } from './icd10-rules.ts';

const CATALOG: Record<string, Icd10Flags> = {
  I10: {},
  'E11.9': {},
  K29: { neverUse: true },
  W19: { notMain: true },
  'R50.9': { discouragedMain: true },
  R99: { causeOfDeathOnly: true },
  O80: { femaleOnly: true },
  N40: { maleOnly: true },
};
const flags = (code: string): Icd10Flags | undefined => CATALOG[code];

describe('ICD-10 coding rules', () => {
  it('accepts a plain main diagnosis with secondary diagnoses', () => {
    const r = checkDiagnoses({
      diagnoses: [
        { code: 'I10', role: 'main' },
        { code: 'E11.9', role: 'secondary' },
      ],
      sex: 'male',
      purpose: 'claim',
      flags,
    });
    assert.deepEqual(r, { ok: true, issues: [] });
  });

  it('refuses a never-use code anywhere, in Vietnamese first and English second', () => {
    const r = checkDiagnoses({ diagnoses: [{ code: 'K29', role: 'secondary' }], flags });
    assert.equal(r.ok, false);
    assert.equal(r.issues[0].rule, CODING_RULES.neverUse);
    assert.equal(r.issues[0].severity, 'error');
    assert.match(r.issues[0].vi, /Không được dùng mã K29/);
    assert.match(r.issues[0].en, /may not be used/);
  });

  it('refuses a not-main code as the main diagnosis but accepts it as a secondary one', () => {
    const asMain = checkDiagnoses({ diagnoses: [{ code: 'W19', role: 'main' }], flags });
    assert.equal(asMain.ok, false);
    assert.equal(asMain.issues[0].rule, CODING_RULES.notMain);
    const asSecondary = checkDiagnoses({
      diagnoses: [
        { code: 'I10', role: 'main' },
        { code: 'W19', role: 'secondary' },
      ],
      flags,
    });
    assert.equal(asSecondary.ok, true);
  });

  it('warns on a discouraged main diagnosis without refusing it', () => {
    const r = checkDiagnoses({ diagnoses: [{ code: 'R50.9', role: 'main' }], flags });
    assert.equal(r.ok, true);
    assert.equal(r.issues[0].rule, CODING_RULES.discouragedMain);
    assert.equal(r.issues[0].severity, 'warning');
  });

  it('allows a cause-of-death-only code only as the cause of death', () => {
    assert.equal(checkDiagnoses({ diagnoses: [{ code: 'R99', role: 'main' }], flags }).ok, false);
    assert.equal(checkDiagnoses({ diagnoses: [{ code: 'R99', role: 'cause-of-death' }], flags }).ok, true);
  });

  it('checks sex-specific codes against the patient and skips the check when the sex is unknown', () => {
    const male = checkDiagnoses({ diagnoses: [{ code: 'O80', role: 'main' }], sex: 'male', flags });
    assert.equal(male.issues[0].rule, CODING_RULES.sexMismatch);
    assert.match(male.issues[0].vi, /chỉ dùng cho người bệnh nữ/);
    const female = checkDiagnoses({ diagnoses: [{ code: 'N40', role: 'main' }], sex: 'female', flags });
    assert.match(female.issues[0].en, /male patients only/);
    assert.deepEqual(checkDiagnoses({ diagnoses: [{ code: 'O80', role: 'main' }], sex: 'female', flags }).issues, []);
    assert.deepEqual(checkDiagnoses({ diagnoses: [{ code: 'O80', role: 'main' }], flags }).issues, []);
  });

  it('refuses codes that are not in the catalog version in force', () => {
    const r = checkDiagnoses({ diagnoses: [{ code: 'X99.9', role: 'main' }], flags });
    assert.equal(r.ok, false);
    assert.equal(r.issues[0].rule, CODING_RULES.unknownCode);
  });

  it('allows one main and at most 12 secondary diagnoses in a claim', () => {
    const twelve = Array.from({ length: 12 }, () => ({ code: 'E11.9', role: 'secondary' as const }));
    const ok = checkDiagnoses({ diagnoses: [{ code: 'I10', role: 'main' }, ...twelve], purpose: 'claim', flags });
    assert.equal(ok.issues.filter((i) => i.severity === 'error').length, 0);
    const thirteen = [...twelve, { code: 'E11.9', role: 'secondary' as const }];
    const tooMany = checkDiagnoses({
      diagnoses: [{ code: 'I10', role: 'main' }, ...thirteen],
      purpose: 'claim',
      flags,
    });
    assert.equal(tooMany.ok, false);
    assert.ok(tooMany.issues.some((i) => i.rule === CODING_RULES.maxSecondary));
    const twoMain = checkDiagnoses({
      diagnoses: [
        { code: 'I10', role: 'main' },
        { code: 'E11.9', role: 'main' },
      ],
      flags,
    });
    assert.equal(twoMain.ok, false);
    assert.equal(twoMain.issues[0].rule, CODING_RULES.oneMain);
    const noMain = checkDiagnoses({ diagnoses: [{ code: 'I10', role: 'secondary' }], purpose: 'claim', flags });
    assert.equal(noMain.ok, false);
    // outside claims more than 12 secondary diagnoses are allowed (the record keeps them all)
    assert.equal(checkDiagnoses({ diagnoses: [{ code: 'I10', role: 'main' }, ...thirteen], flags }).ok, true);
  });
});
