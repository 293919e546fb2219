// The demo model's data conversion (scripts/demo/demo-data.ts): FineGrainedRLHF's human feedback must
// become the pairs and per-point ratings the model card describes.
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { recordId } from '../../../src/core/dataset/record-id';
import { feedbackRecords } from '../../../scripts/demo/demo-data';

const row = (over: Record<string, unknown>) => ({
  question: 'When was it released?',
  'prediction 1': 'It came out in 2018. Also, an unrelated sentence.',
  'prediction 2': 'In 2018.',
  'prediction 3': 'In 2019.',
  'prediction 4': 'It came out on 31 August 2018.',
  feedback: { errors: [], 'missing-info': [], 'corrected-prediction': '' },
  preference: [2, 1, 0, 1, 2, 2],
  ...over,
});

void describe('demo data from FineGrainedRLHF feedback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-demo-'));
  const file = join(dir, 'dev_feedback.json');

  void test('verdicts 1/2/0 become pairs in upstream order; errors are counted per point on answer 1, the correction rated 0', () => {
    const feedback = {
      errors: [{ 'error type': 'Irrelevant' }, { 'error type': 'Redundant' }, { 'error type': 'Unverifiable' }],
      'missing-info': [{ 'error type': 'Missing-Answer' }],
      'corrected-prediction': ' It came out in 2018. ',
    };
    writeFileSync(file, JSON.stringify([row({ feedback }), row({})]));
    const [r, plain] = feedbackRecords(file);
    assert.equal(r.category, 'objective knowledge QA');
    assert.deepEqual(r.preference?.pairs, [
      { a: 0, b: 1, winner: 1 },
      { a: 0, b: 2, winner: 0 },
      { a: 0, b: 3, winner: null },
      { a: 1, b: 2, winner: 1 },
      { a: 1, b: 3, winner: 3 },
      { a: 2, b: 3, winner: 3 },
    ]);
    assert.equal(r.responses.length, 5);
    assert.equal(r.responses[4].text, 'It came out in 2018.');
    const rating = (k: number) => Object.fromEntries((r.responses[k].ratings ?? []).map((x) => [x.aspect, x.value]));
    assert.deepEqual(rating(0), { relevance: -2, factuality: -1, completeness: -1 });
    assert.deepEqual(rating(4), { relevance: 0, factuality: 0, completeness: 0 });
    assert.ok(r.responses[0].ratings!.every((x) => x.source === 'human-feedback'));
    assert.equal(r.id, recordId(r), 'the id is the content hash of the record as written');
    // No correction: four answers, no ratings (nothing to compare answer 1 with).
    assert.equal(plain.responses.length, 4);
    assert.ok(plain.responses.every((x) => x.ratings === undefined));
  });

  void test('an error type the grouping does not know is refused with the record named', () => {
    writeFileSync(
      file,
      JSON.stringify([row({}), row({ feedback: { errors: [{ 'error type': 'Spelling' }], 'missing-info': [], 'corrected-prediction': 'x' } })]),
    );
    assert.throws(() => feedbackRecords(file), /dev_feedback\.json: record 2: unknown error type 'Spelling'/);
  });
});
