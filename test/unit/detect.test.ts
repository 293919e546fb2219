import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isGrouped } from '../../src/core/dataset/adapter';
import type { Adapter } from '../../src/core/dataset/adapter';
import { DatasetFileError } from '../../src/core/dataset/dataset-error';
import { builtinAdapterNames, byName, detectAdapter, detectUsableAdapter } from '../../src/core/dataset/detect';

const dataDir = path.resolve(__dirname, '../../../../shared/data');

void describe('detectAdapter', () => {
  void it('picks the adapter that recognises the largest share, despite a malformed value', () => {
    const sample = [
      { prompt: 'a', chosen: 'x', rejected: 'y' },
      { prompt: 'b', chosen: 'x', rejected: 'y' },
      { prompt: 'c', chosen: 'x', rejected: 'y' },
      { garbage: true },
    ];
    const result = detectAdapter(sample);
    assert.equal(result.adapter?.name, 'chosen-rejected');
    assert.ok(result.adapter !== undefined && result.score === 0.75);
    assert.deepEqual(result.candidates[0], { name: 'chosen-rejected', score: 0.75 });
  });

  void it('tells HH transcripts from chosen/rejected pairs with a prompt', () => {
    const hh = { chosen: '\n\nHuman: hi\n\nAssistant: a', rejected: '\n\nHuman: hi\n\nAssistant: b' };
    assert.equal(detectAdapter([hh]).adapter?.name, 'hh-rlhf');
    assert.equal(detectAdapter([{ ...hh, prompt: 'hi' }]).adapter?.name, 'chosen-rejected');
    assert.equal(detectAdapter([{ chosen: 'a', rejected: 'b', question: 'q' }]).adapter?.name, 'chosen-rejected');
  });

  void it('detects each shape', () => {
    const cases: [unknown, string][] = [
      [{ src: ['q'], tgt: [], response: ['a', 'b'], rank: [1, 2] }, 'dmoerm'],
      [{ prompt: 'p', 'response 1': 'a', 'response 2': 'b', label: 0 }, 'pairwise-label'],
      [{ instruction: 'i', response1: 'a', response2: 'b', annotator1: 1 }, 'pairwise-label'],
      [{ question: 'q', 'prediction 1': 'a', 'prediction 2': 'b', preference: [1] }, 'ranked-n'],
      [{ prompt: 'p', responses: ['a', 'b'], scores: [1, 2] }, 'ranked-n'],
      [
        {
          question_uuid: 'q1',
          dialog: [
            { role: 'user', content: 'q' },
            { role: 'llm', content: 'a' },
          ],
          stars: { x: 1 },
        },
        'pointwise-grouped',
      ],
      [{ prompt_id: 7, prompt: 'p', response: 'a', score: 3 }, 'pointwise-grouped'],
      [{ prompt: 'p', response: 'a' }, 'prompt-response'],
      [{ input: 'i', output_1: 'a', output_2: 'b', label: 1 }, 'pairwise-label'],
      [{ input: 'i', output: 'a' }, 'prompt-response'],
      [{ question: 'q', chosen: ['a', 'b'], rejected: ['c'] }, 'chosen-rejected'],
    ];
    for (const [value, name] of cases) assert.equal(detectAdapter([value]).adapter?.name, name, JSON.stringify(value));
  });

  void it('explains a failure by naming the fields seen', () => {
    const result = detectAdapter([
      { idx: 0, gpt_result: '1', gpt_reason: 'r' },
      { idx: 1, gpt_result: '2', gpt_reason: 'r', gpt_reference: 'x' },
    ]);
    assert.equal(result.adapter, undefined);
    assert.ok(result.adapter === undefined);
    assert.equal(
      result.reason,
      'no adapter recognises these records (fields: idx, gpt_result, gpt_reason, gpt_reference); write a mapping file (docs/mapping-file.md)',
    );
    assert.ok(result.candidates.every((c) => c.score === 0));
    const scalars = detectAdapter([1, 'x']);
    assert.ok(scalars.adapter === undefined && /not JSON objects \(a number, a string\)/.test(scalars.reason));
    const empty = detectAdapter([]);
    assert.ok(empty.adapter === undefined && empty.reason === 'no records to detect the format from');
  });

  void it('falls back to the next adapter that recognises the sample when every sampled record of the first fails', () => {
    // pairwise-label recognises these (pair + winner) but no winner is a verdict; ranked-n reads the score lists.
    const value = { prompt: 'p', response_a: 'x', response_b: 'y', winner: 'A>>B', responses: ['x', 'y'], scores: [2, 1] };
    const sample = [
      { value, line: 1 },
      { value: { ...value, winner: 'B>A' }, line: 2 },
    ];
    assert.equal(detectAdapter(sample.map((s) => s.value)).adapter?.name, 'pairwise-label');
    assert.equal(detectUsableAdapter(sample, undefined, 'f.jsonl'), 'ranked-n');
    // One record that maps is enough to keep the detected adapter: the others are malformed records.
    const usable = [...sample, { value: { ...value, winner: 'model_a' }, line: 3 }];
    assert.equal(detectUsableAdapter(usable, undefined, 'f.jsonl'), 'pairwise-label');
  });

  void it('refuses a shape whose every sampled record fails, naming the fields and the first failure', () => {
    const sample = [1, 2].map((line) => ({ value: { instruction: 'i', output_1: 'a', output_2: 'b', label: 3 }, line }));
    assert.throws(
      () => detectUsableAdapter(sample, undefined, 'f.jsonl'),
      (e: unknown) =>
        e instanceof DatasetFileError &&
        e.message ===
          'f.jsonl: none of the first 2 records can be read as pairwise-label (fields: instruction, output_1, output_2, label); line 1: "label" is 3, not a verdict (0 = tie, 1 = response 1, 2 = response 2, or "response 1", "response 2", "tie"); write a mapping file (docs/mapping-file.md)',
    );
  });

  void it('refuses a sample where fewer than half the values fit', () => {
    const result = detectAdapter([{ prompt: 'p', chosen: 'a', rejected: 'b' }, { a: 1 }, { b: 2 }]);
    assert.equal(result.adapter, undefined);
  });

  void it('finds adapters by name and passes the rank direction on', () => {
    assert.deepEqual(builtinAdapterNames(), [
      'canonical',
      'dmoerm',
      'hh-rlhf',
      'chosen-rejected',
      'pairwise-label',
      'ranked-n',
      'pointwise-grouped',
      'prompt-response',
    ]);
    assert.equal(byName('nope'), undefined);
    const adapter = byName('dmoerm', { rankDirection: 'higher-is-better' });
    assert.ok(adapter && !isGrouped(adapter));
    const mapped = adapter.map({ src: ['q'], tgt: [], response: ['a', 'b'], rank: [1, 2] });
    assert.ok(mapped.ok);
    assert.deepEqual(mapped.value.preference, { ranking: [2, 1] });
  });
});

function loadValues(file: string): unknown[] {
  const text = readFileSync(path.join(dataDir, file), 'utf8');
  if (file.endsWith('.jsonl'))
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
  return JSON.parse(text) as unknown[];
}

interface Outcome {
  records: number;
  failed: number;
  reasons: Map<string, number>;
}

/** Maps every value the way the indexer does: per value, or per group for pointwise data. */
function mapAll(adapter: Adapter, values: readonly unknown[]): Outcome {
  const outcome: Outcome = { records: 0, failed: 0, reasons: new Map() };
  const failed = (reason: string): void => {
    outcome.failed++;
    outcome.reasons.set(reason, (outcome.reasons.get(reason) ?? 0) + 1);
  };
  if (!isGrouped(adapter)) {
    for (const value of values) {
      const result = adapter.map(value);
      if (result.ok) outcome.records++;
      else failed(result.reason);
    }
    return outcome;
  }
  const groups = new Map<string, unknown[]>();
  for (const value of values) {
    const key = adapter.groupKey(value);
    if (!key.ok) failed(key.reason);
    else groups.set(key.value, [...(groups.get(key.value) ?? []), value]);
  }
  for (const rows of groups.values()) {
    const mapped = rows.map((row) => adapter.mapRow(row));
    for (const row of mapped) if (!row.ok) failed(row.reason);
    const merged = adapter.mergeGroup(mapped.flatMap((row) => (row.ok ? [row.value] : [])));
    if (merged.ok) outcome.records++;
  }
  return outcome;
}

void describe('real data in shared/data', () => {
  const expected: { file: string; adapter: string; values: number; records: number; reasons?: Record<string, number> }[] = [
    {
      file: 'hh-rlhf-harmless/test.jsonl',
      adapter: 'hh-rlhf',
      values: 2312,
      // 4 chosen transcripts end with an empty Assistant turn: kept, with a warning.
      records: 2312,
    },
    {
      file: 'pandalm/testset-v1.json',
      adapter: 'pairwise-label',
      values: 999,
      // 54 empty responses are kept with a warning; 6 responses that are `true` make records unusable.
      records: 993,
      reasons: { '"response1" is a boolean, not a string': 4, '"response2" is a boolean, not a string': 2 },
    },
    { file: 'finegrained-rlhf-qa/dev_feedback.json', adapter: 'ranked-n', values: 500, records: 500 },
    { file: 'autoj-pairwise/testdata_pairwise.jsonl', adapter: 'pairwise-label', values: 1392, records: 1392 },
    { file: 'autoj-pairwise/zh_testdata_critique.jsonl', adapter: 'prompt-response', values: 232, records: 232 },
    { file: 'zh-pairs/medicalgpt_dpo_zh_500.jsonl', adapter: 'chosen-rejected', values: 500, records: 500 },
    { file: 'zh-pairs/medicalgpt_medical_reward_test_100.jsonl', adapter: 'chosen-rejected', values: 100, records: 100 },
    { file: 'zh-pairs/llamafactory_dpo_zh_demo_300.json', adapter: 'chosen-rejected', values: 300, records: 300 },
    { file: 'llmeval2-zh/human-score/Physics_data.json', adapter: 'pointwise-grouped', values: 800, records: 40 },
    {
      file: 'llmeval2-zh/gpt-score/Foreign_Languages_data.json',
      adapter: 'pointwise-grouped',
      values: 800,
      records: 40,
      reasons: { '"content" of turn 2 in "dialog" is a boolean, not a string': 6 },
    },
  ];

  for (const { file, adapter: name, values: count, records, reasons } of expected) {
    void it(`${file}: ${name}, ${records} records`, (t) => {
      if (!existsSync(dataDir)) {
        t.skip(`${dataDir} is absent`);
        return;
      }
      const values = loadValues(file);
      assert.equal(values.length, count);
      const detected = detectAdapter(values);
      assert.equal(detected.adapter?.name, name);
      assert.ok(detected.adapter !== undefined);
      assert.equal(detected.score, 1);
      // Unambiguous: no other adapter recognises any of these values.
      assert.deepEqual(
        detected.candidates.slice(1).map((c) => c.score),
        detected.candidates.slice(1).map(() => 0),
      );
      const outcome = mapAll(detected.adapter, values);
      assert.equal(outcome.records, records);
      assert.deepEqual(Object.fromEntries(outcome.reasons), reasons ?? {});
    });
  }

  void it('pandalm judgement files (no responses) are refused with the fields named', (t) => {
    if (!existsSync(dataDir)) {
      t.skip(`${dataDir} is absent`);
      return;
    }
    const gpt = detectAdapter(loadValues('pandalm/gpt-3.5-turbo-testset-v1.json'));
    assert.ok(gpt.adapter === undefined);
    assert.equal(
      gpt.reason,
      'no adapter recognises these records (fields: idx, gpt_result, gpt_reason, gpt_reference); write a mapping file (docs/mapping-file.md)',
    );
    const panda = detectAdapter(loadValues('pandalm/pandalm-7b-testset-v1.json'));
    assert.ok(panda.adapter === undefined);
    assert.match(panda.reason, /fields: idx, pandalm_result, pandalm_reason, pandalm_reference/);
  });

  void it('FineGrained: pair verdicts become pairs, and rankings where they are consistent', (t) => {
    if (!existsSync(dataDir)) {
      t.skip(`${dataDir} is absent`);
      return;
    }
    const adapter = byName('ranked-n');
    assert.ok(adapter && !isGrouped(adapter));
    let ranked = 0;
    let allTied = 0;
    for (const value of loadValues('finegrained-rlhf-qa/dev_feedback.json')) {
      const result = adapter.map(value);
      assert.ok(result.ok);
      assert.equal(result.value.responses.length, 4);
      assert.equal(result.value.preference?.pairs?.length, 6);
      if (result.value.preference?.ranking) ranked++;
      if (result.value.preference?.ranking?.every((rank) => rank === 1)) allTied++;
    }
    // Every dev record's verdicts are acyclic (checked independently by brute force over the 24
    // orders); 12 records say "no preference" for all six pairs.
    assert.equal(ranked, 500);
    assert.equal(allTied, 12);
  });
});
