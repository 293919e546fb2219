import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import { agreement, formatEvalTable } from '../../../src/core/training/evaluate';
import type { PrefPair } from '../../../src/core/training/pairs';
import { judgedRecords, longerWins, ratingJudge } from '../../../src/core/training/references';

const pair = (record: number, winner: number, loser: number): PrefPair => ({ record, winner, loser });

void describe('agreement', () => {
  const records = [
    { category: 'roleplay', pairs: [pair(0, 0, 1), pair(0, 0, 2), pair(0, 1, 2)] },
    { category: 'chitchat', pairs: [pair(1, 1, 0)] },
    { pairs: [pair(2, 0, 1)] },
    { category: 'chitchat', pairs: [] },
  ];
  const rewards = [
    [3, 2, 2], // 0>1 agree, 0>2 agree, 1 vs 2 equal → disagree
    [0.5, 0.1], // disagree
    [1, NaN], // NaN → disagree
    [9, 9],
  ];

  void test('strictly higher reward for the winner agrees; equal and NaN rewards disagree', () => {
    const r = agreement('single', records, (i) => rewards[i]);
    assert.equal(r.method, 'single');
    assert.equal(r.pairs, 5);
    assert.equal(r.overall, 2 / 5);
    assert.deepEqual(r.byCategory, {
      chitchat: { accuracy: 0, pairs: 1 },
      roleplay: { accuracy: 2 / 3, pairs: 3 },
      uncategorised: { accuracy: 0, pairs: 1 },
    });
  });

  void test('rewards are asked only for records that have pairs', () => {
    const asked: number[] = [];
    agreement('mean', records, (i) => (asked.push(i), rewards[i]));
    assert.deepEqual(asked, [0, 1, 2]);
  });

  void test('no pairs: accuracy null, not 0 or NaN', () => {
    const r = agreement('dmoerm', [{ category: 'roleplay', pairs: [] }], () => []);
    assert.deepEqual(r, { method: 'dmoerm', overall: null, pairs: 0, byCategory: { roleplay: { accuracy: null, pairs: 0 } } });
    assert.deepEqual(
      agreement('dmoerm', [], () => []),
      { method: 'dmoerm', overall: null, pairs: 0, byCategory: {} },
    );
  });
});

function record(category: string | undefined, texts: string[], ranking: number[], stars?: Array<number[] | undefined>): PreferenceRecord {
  return {
    id: texts.join('|'),
    ...(category ? { category } : {}),
    context: [{ role: 'user', content: 'q' }],
    responses: texts.map((text, i) => ({
      text,
      ...(stars?.[i] ? { ratings: stars[i].map((value, k) => ({ aspect: `aspect${k}`, value, source: 'gpt-4' })) } : {}),
    })),
    preference: { ranking },
  };
}

void describe('reference judges', () => {
  void test('longer wins: by length, equal length disagrees, per category', () => {
    const judged = judgedRecords([
      record('roleplay', ['long answer', 'short'], [1, 2]), // agree
      record('roleplay', ['same', 'size'], [1, 2]), // equal → disagree
      record(undefined, ['a', 'longer'], [1, 2]), // disagree
      record(undefined, ['x', 'y', 'zz'], [1, 1, 1]), // ties only: no pairs
    ]);
    const r = longerWins(judged);
    assert.equal(r.judge, 'longer-wins');
    assert.deepEqual([r.overall, r.pairs, r.unjudged], [1 / 3, 3, 0]);
    assert.deepEqual(r.byCategory, { roleplay: { accuracy: 0.5, pairs: 2 }, uncategorised: { accuracy: 0, pairs: 1 } });
  });

  void test("rating judge: sum of the source's ratings; pairs with an unrated response are left out and counted", () => {
    const judged = judgedRecords([
      // totals 5, 3, 4: pairs (0>1 agree), (0>2 agree), (1>2: 3 < 4 disagree)
      record(
        'objective knowledge QA',
        ['a', 'b', 'c'],
        [1, 2, 3],
        [
          [3, 2],
          [1, 2],
          [2, 2],
        ],
      ),
      // response 1 unrated by gpt-4 → its pair unjudged
      record('objective knowledge QA', ['a', 'b'], [2, 1], [[1], undefined]),
    ]);
    const r = ratingJudge(judged, 'gpt-4');
    assert.deepEqual([r.judge, r.overall, r.pairs, r.unjudged], ['ratings:gpt-4', 2 / 3, 3, 1]);
    const none = ratingJudge(judged, 'human');
    assert.deepEqual([none.overall, none.pairs, none.unjudged], [null, 0, 4]);
  });
});

void describe('formatEvalTable', () => {
  void test('methods × categories with percentages and a pairs row; varying counts shown per cell', () => {
    const dm = agreement(
      'dmoerm',
      [
        { category: 'roleplay', pairs: [pair(0, 0, 1), pair(0, 1, 2)] },
        { category: 'chitchat', pairs: [pair(1, 0, 1)] },
      ],
      (i) =>
        [
          [2, 1, 0],
          [0, 1],
        ][i],
    );
    const single = agreement(
      'single',
      [
        { category: 'roleplay', pairs: [pair(0, 0, 1), pair(0, 1, 2)] },
        { category: 'chitchat', pairs: [pair(1, 0, 1)] },
      ],
      (i) =>
        [
          [0, 0, 0],
          [1, 0],
        ][i],
    );
    const lw = { ...longerWins(judgedRecords([record('roleplay', ['aa', 'b'], [1, 2])])) };
    const text = formatEvalTable([dm, single, lw]);
    const lines = text.split('\n');
    assert.match(lines[0], /^method\s+overall\s+chitchat\s+roleplay$/);
    assert.match(
      lines.find((l) => l.startsWith('dmoerm'))!,
      /^dmoerm\s+66\.7% \(3\)\s+0\.0% \(1\)\s+100\.0% \(2\)$/,
    );
    assert.match(
      lines.find((l) => l.startsWith('single'))!,
      /^single\s+33\.3% \(3\)\s+100\.0% \(1\)\s+0\.0% \(2\)$/,
    );
    // longer-wins has no chitchat pairs: its cell is a dash, and the column's counts vary
    assert.match(
      lines.find((l) => l.startsWith('longer-wins'))!,
      /^longer-wins\s+100\.0% \(1\)\s+— \(0\)\s+100\.0% \(1\)$/,
    );
    assert.match(lines[lines.length - 1], /^pairs\s+varies\s+varies\s+varies$/);
  });

  void test('equal counts go to the pairs row only; no results is said so', () => {
    const a = agreement('mean', [{ pairs: [pair(0, 0, 1)] }], () => [1, 0]);
    const b = agreement('wco', [{ pairs: [pair(0, 0, 1)] }], () => [0, 1]);
    const lines = formatEvalTable([a, b]).split('\n');
    assert.match(lines[2], /^mean\s+100\.0%\s+100\.0%$/);
    assert.match(lines[3], /^wco\s+0\.0%\s+0\.0%$/);
    assert.match(lines[lines.length - 1], /^pairs\s+1\s+1$/);
    assert.equal(formatEvalTable([]), '(no evaluation results)');
  });
});
