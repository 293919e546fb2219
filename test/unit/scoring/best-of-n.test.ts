import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PairJudgement, PreferenceRecord } from '../../../src/core/dataset/record';
import { argmax, bestOfNRecord, humanVerdict, isHit, klBestOfN, matchesFilter, summarizeBestOfN } from '../../../src/core/scoring/best-of-n';

function ranked(ranking: number[] | undefined, n = ranking?.length ?? 2): PreferenceRecord {
  return {
    id: 'r',
    context: [{ role: 'user', content: 'q' }],
    responses: Array.from({ length: n }, (_, i) => ({ text: `r${i}` })),
    ...(ranking ? { preference: { ranking } } : {}),
  };
}

function paired(n: number, pairs: PairJudgement[]): PreferenceRecord {
  return { id: 'p', context: [{ role: 'user', content: 'q' }], responses: Array.from({ length: n }, (_, i) => ({ text: `r${i}` })), preference: { pairs } };
}

void describe('best-of-n', () => {
  void it('KL_bon = log n − (n−1)/n: 0 for one sample, increasing in n', () => {
    assert.equal(klBestOfN(1), 0);
    assert.ok(Math.abs(klBestOfN(2) - (Math.log(2) - 0.5)) < 1e-12);
    assert.ok(Math.abs(klBestOfN(4) - (Math.log(4) - 0.75)) < 1e-12);
    let previous = klBestOfN(1);
    for (let n = 2; n <= 1024; n++) {
      const kl = klBestOfN(n);
      assert.ok(kl > previous, `KL_bon(${n}) = ${kl} is not above KL_bon(${n - 1}) = ${previous}`);
      previous = kl;
    }
    assert.throws(() => klBestOfN(0), /n ≥ 1, got 0/);
    assert.throws(() => klBestOfN(2.5), /got 2.5/);
  });

  void it('picks the highest reward, the first of equal ones, ignoring non-numbers', () => {
    assert.equal(argmax([0.1, 0.9, 0.5]), 1);
    assert.equal(argmax([0.7, 0.2, 0.7]), 0);
    assert.equal(argmax([Number.NaN, -3, -1]), 2);
    assert.equal(argmax([Number.NaN]), undefined);
    assert.equal(argmax([]), undefined);
  });

  void it('the human best: ranking 1, ties for first, majority of pairs, cycles and unlabelled records', () => {
    assert.deepEqual(humanVerdict(ranked([2, 1, 3])), { best: [1], ranks: [2, 1, 3] });
    assert.deepEqual(humanVerdict(ranked([1, 1, 2])).best, [0, 1]);
    assert.deepEqual(humanVerdict(ranked([1, 1])).best, [], 'all tied: no best');
    assert.deepEqual(humanVerdict(ranked(undefined, 2)), { best: [], ranks: [undefined, undefined] });
    // Two annotators prefer 1 to 0, one prefers 0: the majority makes 1 the best; 2 beats nobody.
    const majority = paired(3, [
      { a: 0, b: 1, winner: 1, annotator: 'x' },
      { a: 0, b: 1, winner: 1, annotator: 'y' },
      { a: 0, b: 1, winner: 0, annotator: 'z' },
      { a: 1, b: 2, winner: 1 },
    ]);
    assert.deepEqual(humanVerdict(majority), { best: [1], ranks: [2, 1, 2] });
    const cycle = paired(3, [
      { a: 0, b: 1, winner: 0 },
      { a: 1, b: 2, winner: 1 },
      { a: 2, b: 0, winner: 2 },
    ]);
    assert.deepEqual(humanVerdict(cycle).best, [], 'a cycle has no best');
    assert.deepEqual(humanVerdict(paired(3, [{ a: 0, b: 1, winner: 0 }])).ranks, [1, 2, undefined], 'a response in no pair has no rank');
  });

  void it('one row per record: each model’s pick and whether it hits the human best', () => {
    const row = bestOfNRecord(7, ranked([2, 1, 3]), [[0.1, 0.8, 0.3], [0.9, 0.1, 0.2], undefined]);
    assert.deepEqual(row.picks, [1, 0, undefined]);
    assert.equal(row.index, 7);
    assert.equal(row.n, 3);
    assert.equal(isHit(row, 0), true);
    assert.equal(isHit(row, 1), false);
    assert.equal(isHit(row, 2), undefined);
    assert.throws(() => bestOfNRecord(3, ranked([1, 2]), [[0.1, 0.2, 0.3]]), /record 4: 3 rewards for 2 responses/);
    assert.equal(isHit(bestOfNRecord(0, ranked([1, 1]), [[0, 1]]), 0), undefined, 'no human best: not judged');
  });

  void it('summary: hit rate, mean human rank of the pick, the random baseline, per n with KL_bon', () => {
    const rows = [
      bestOfNRecord(0, ranked([1, 2]), [
        [1, 0],
        [0, 1],
      ]),
      bestOfNRecord(1, ranked([2, 1]), [
        [0, 1],
        [0, 1],
      ]),
      bestOfNRecord(2, ranked([3, 1, 2]), [
        [0, 0, 1],
        [0, 1, 0],
      ]),
      bestOfNRecord(3, ranked([1, 1]), [
        [1, 0],
        [0, 1],
      ]),
    ];
    const s = summarizeBestOfN(rows, 2);
    assert.equal(s.records, 4);
    assert.equal(s.judged, 3);
    assert.deepEqual(
      s.models.map((m) => [m.hits, m.judged]),
      [
        [2, 3],
        [2, 3],
      ],
    );
    assert.equal(s.models[0].hitRate, 2 / 3);
    // Model 0 picks ranks 1, 1, 2, 1; model 1 picks ranks 2, 1, 1, 1.
    assert.equal(s.models[0].meanRank, 5 / 4);
    assert.equal(s.models[1].meanRank, 5 / 4);
    assert.equal(s.models[0].ranked, 4);
    // Random: hit 1/2, 1/2, 1/3; mean rank 1.5, 1.5, 2, 1.
    assert.ok(Math.abs(s.random.hitRate! - (1 / 2 + 1 / 2 + 1 / 3) / 3) < 1e-12);
    assert.equal(s.random.meanRank, (1.5 + 1.5 + 2 + 1) / 4);
    assert.deepEqual(
      s.byN.map((g) => [g.n, g.records, g.judged]),
      [
        [2, 3, 2],
        [3, 1, 1],
      ],
    );
    assert.equal(s.byN[0].kl, klBestOfN(2));
    assert.equal(s.byN[1].kl, klBestOfN(3));
    assert.deepEqual(
      s.byN[1].models.map((m) => m.hits),
      [0, 1],
    );
    assert.equal(summarizeBestOfN([], 2).models[0].hitRate, undefined);
  });

  void it('mean human rank averages over the records the random baseline does (fully ranked ones)', () => {
    // A pairs-only record with a response in no pair: its pick's rank from pairs has no random counterpart.
    const pairsOnly: PreferenceRecord = {
      id: 'p',
      context: [],
      responses: [{ text: 'a' }, { text: 'b' }, { text: 'c' }],
      preference: { pairs: [{ a: 0, b: 1, winner: 0 }] },
    };
    const rows = [bestOfNRecord(0, ranked([1, 2]), [[1, 0]]), bestOfNRecord(1, pairsOnly, [[0, 1, 0]])];
    const s = summarizeBestOfN(rows, 1);
    assert.equal(s.models[0].ranked, 1);
    assert.equal(s.models[0].meanRank, 1);
    assert.equal(s.random.meanRank, 1.5);
    assert.equal(s.models[0].judged, 2, 'the hit rate still counts every record with a human best');
  });

  void it('filters rows where a model misses and where the models disagree', () => {
    const agreeHit = bestOfNRecord(0, ranked([1, 2]), [
      [1, 0],
      [1, 0],
    ]);
    const agreeMiss = bestOfNRecord(1, ranked([1, 2]), [
      [0, 1],
      [0, 1],
    ]);
    const split = bestOfNRecord(2, ranked([1, 2]), [
      [1, 0],
      [0, 1],
    ]);
    const rows = [agreeHit, agreeMiss, split];
    assert.deepEqual(
      rows.filter((r) => matchesFilter(r, 'all')).map((r) => r.index),
      [0, 1, 2],
    );
    assert.deepEqual(
      rows.filter((r) => matchesFilter(r, 'missed')).map((r) => r.index),
      [1, 2],
    );
    assert.deepEqual(
      rows.filter((r) => matchesFilter(r, 'disagree')).map((r) => r.index),
      [2],
    );
  });
});
