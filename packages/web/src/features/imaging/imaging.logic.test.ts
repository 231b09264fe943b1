import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Parameters } from '@medplum/fhirtypes';
import { actionsFor, countByState, FINDINGS_URL, reportTexts, worklistOf } from './imaging.logic.ts';

const worklist: Parameters = {
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'item',
      part: [
        {
          name: 'order',
          resource: { resourceType: 'ServiceRequest', id: 'o1', status: 'active', intent: 'order', subject: {} },
        },
        { name: 'state', valueCode: 'awaiting-payment' },
        { name: 'awaitingPayment', valueBoolean: true },
      ],
    },
    {
      name: 'item',
      part: [
        {
          name: 'order',
          resource: { resourceType: 'ServiceRequest', id: 'o2', status: 'active', intent: 'order', subject: {} },
        },
        { name: 'state', valueCode: 'done' },
      ],
    },
  ],
};

describe('imaging logic', () => {
  it('reads the worklist and counts the states', () => {
    const items = worklistOf(worklist);
    assert.equal(items.length, 2);
    assert.equal(items[0].awaitingPayment, true);
    const counts = countByState(items);
    assert.equal(counts['awaiting-payment'], 1);
    assert.equal(counts.done, 1);
    assert.equal(counts.final, 0);
  });

  it('lets the technician mark a scheduled exam done, never a held one, and only the radiologist report', () => {
    const [held, done] = worklistOf(worklist);
    assert.deepEqual(actionsFor(held, ['radiology-technician']), { markDone: false, writeReport: false });
    assert.deepEqual(actionsFor({ ...held, state: 'scheduled' }, ['radiology-technician']), {
      markDone: true,
      writeReport: false,
    });
    assert.deepEqual(actionsFor(done, ['radiology-technician']), { markDone: false, writeReport: false });
    assert.deepEqual(actionsFor(done, ['radiologist']), { markDone: false, writeReport: true });
  });

  it('continues a draft from the stored findings and conclusion', () => {
    assert.deepEqual(
      reportTexts({
        resourceType: 'DiagnosticReport',
        status: 'preliminary',
        code: {},
        extension: [{ url: FINDINGS_URL, valueString: 'Phổi sáng' }],
        conclusion: 'Bình thường',
      }),
      { findings: 'Phổi sáng', conclusion: 'Bình thường' },
    );
    assert.deepEqual(reportTexts(undefined), { findings: '', conclusion: '' });
  });
});
