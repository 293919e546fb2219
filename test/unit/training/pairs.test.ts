import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PairJudgement, PreferenceRecord } from '../../../src/core/dataset/record';
import { countPreferencePairs } from '../../../src/core/dataset/stats';
import type { MergedLabel } from '../../../src/core/labelling/store';
import { capabilityPairs, capabilitySummary } from '../../../src/core/training/capability-pairs';
import { humanPairs } from '../../../src/core/training/pairs';

function rec(responses: number, preference?: PreferenceRecord['preference']): PreferenceRecord {
  return {
    id: 'r',
    context: [{ role: 'user', content: 'q' }],
    responses: Array.from({ length: responses }, (_, i) => ({ text: `resp ${i}` })),
    ...(preference ? { preference } : {}),
  };
}

const vote = (a: number, b: number, winner: number | null, annotator: string): PairJudgement => ({ a, b, winner, annotator });

void describe('humanPairs', () => {
  void test('from a ranking: every pair with different ranks, winner = lower rank, ties counted', () => {
    const { pairs, ties } = humanPairs(rec(4, { ranking: [2, 1, 2, 3] }), 7);
    assert.equal(ties, 1); // responses 0 and 2
    assert.deepEqual(pairs, [
      { record: 7, winner: 1, loser: 0 },
      { record: 7, winner: 0, loser: 3 },
      { record: 7, winner: 1, loser: 2 },
      { record: 7, winner: 1, loser: 3 },
      { record: 7, winner: 2, loser: 3 },
    ]);
  });

  void test('all tied: no pairs, C(k,2) ties', () => {
    assert.deepEqual(humanPairs(rec(3, { ranking: [1, 1, 1] }), 0), { pairs: [], ties: 3, available: 0 });
  });

  void test('the ranking wins over pairs when a record has both', () => {
    const r = rec(2, { ranking: [2, 1], pairs: [vote(0, 1, 0, 'x')] });
    assert.deepEqual(humanPairs(r, 0).pairs, [{ record: 0, winner: 1, loser: 0 }]);
  });

  void test('from annotators: majority per unordered pair, in either order; even split or null = tie', () => {
    const r = rec(3, {
      pairs: [
        // (0,1): two for 1 (one given as b,a), one for 0 → 1 wins
        vote(0, 1, 1, 'x'),
        vote(1, 0, 1, 'y'),
        vote(0, 1, 0, 'z'),
        // (0,2): one each → tie
        vote(0, 2, 0, 'x'),
        vote(2, 0, 2, 'y'),
        // (1,2): null only → tie
        vote(1, 2, null, 'x'),
      ],
    });
    const { pairs, ties } = humanPairs(r, 3);
    assert.deepEqual(pairs, [{ record: 3, winner: 1, loser: 0 }]);
    assert.equal(ties, 2);
  });

  void test('a null verdict abstains: one vote for b against a null is a win for b', () => {
    const { pairs, ties } = humanPairs(rec(2, { pairs: [vote(0, 1, null, 'x'), vote(0, 1, 1, 'y')] }), 0);
    assert.deepEqual([pairs, ties], [[{ record: 0, winner: 1, loser: 0 }], 0]);
  });

  void test('no preference, or out-of-range indices: no pairs', () => {
    assert.deepEqual(humanPairs(rec(2), 0), { pairs: [], ties: 0, available: 0 });
    assert.deepEqual(humanPairs(rec(2, { pairs: [vote(0, 5, 0, 'x'), vote(1, 1, 1, 'y')] }), 0), { pairs: [], ties: 0, available: 0 });
  });

  void test('counts equal the dataset statistics (countPreferencePairs) on varied preferences', () => {
    const prefs: NonNullable<PreferenceRecord['preference']>[] = [
      { ranking: [1, 2, 2, 3, 1] },
      { ranking: [3, 2, 1] },
      { pairs: [vote(0, 1, 0, 'a'), vote(0, 1, 1, 'b'), vote(1, 2, 2, 'a'), vote(2, 1, 2, 'b'), vote(0, 2, null, 'a')] },
      { pairs: [] },
    ];
    for (const p of prefs) {
      const r = rec(5, p);
      const { pairs, ties } = humanPairs(r, 0);
      assert.deepEqual([pairs.length, ties], countPreferencePairs(p, 5), JSON.stringify(p));
    }
  });
});

function label(over: Partial<MergedLabel>): MergedLabel {
  return {
    key: 'k',
    setup: 'judge-setup',
    record: 'rec-a',
    index: 0,
    category: 'roleplay',
    a: 0,
    b: 1,
    point: 'empathy_ability',
    source: 'judge',
    result: 'consistent',
    winner: 0,
    ...over,
  };
}

void describe('capabilityPairs', () => {
  const index = new Map([
    ['rec-a', 0],
    ['rec-b', 4],
  ]);
  const labels: MergedLabel[] = [
    label({ key: '1', winner: 1 }),
    label({ key: '2', record: 'rec-b', a: 1, b: 2, winner: 1 }),
    label({ key: '3', point: 'content_richness', winner: 0 }),
    label({ key: '4', result: 'inconsistent', winner: null }),
    label({ key: '5', result: 'invalid', winner: null }),
    label({ key: '6', result: 'tie', winner: null, source: 'ratings:gpt-4' }),
    label({ key: '7', record: 'rec-gone' }),
    label({ key: '8', source: 'ratings:gpt-4', setup: 'ratings:gpt-4', a: 0, b: 2, winner: 2 }),
    label({ key: '9', winner: 0 }), // the same pair and point as key 1, from a second setup
  ];

  void test('consistent judge labels and decided ratings labels, per point, with record indices from the map', () => {
    const byPoint = capabilityPairs(labels, index);
    assert.deepEqual([...byPoint.keys()], ['empathy_ability', 'content_richness']);
    assert.deepEqual(byPoint.get('empathy_ability'), [
      { record: 0, winner: 1, loser: 0 },
      { record: 4, winner: 1, loser: 2 },
      { record: 0, winner: 2, loser: 0 },
      { record: 0, winner: 0, loser: 1 },
    ]);
    assert.deepEqual(byPoint.get('content_richness'), [{ record: 0, winner: 0, loser: 1 }]);
  });

  void test('summary counts used and skipped labels by reason, per category and point', () => {
    const rows = capabilitySummary([...labels, label({ key: 'x', category: 'chitchat', winner: 3 })], index);
    assert.deepEqual(
      rows.map((r) => [r.category, r.point, r.used, r.repeated]),
      [
        ['chitchat', 'empathy_ability', 0, 0],
        ['roleplay', 'content_richness', 1, 0],
        ['roleplay', 'empathy_ability', 4, 1],
      ],
    );
    assert.deepEqual(rows[2].skipped, { tie: 1, inconsistent: 1, invalid: 1, noRecord: 1, badWinner: 0 });
    assert.equal(rows[0].skipped.badWinner, 1);
  });
});
