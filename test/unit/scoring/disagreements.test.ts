import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LabelInput, ScoredRecordInput } from '../../../src/core/scoring/disagreements';
import { exportLine, filterRows, findDisagreements, sigmoid } from '../../../src/core/scoring/disagreements';

function rec(index: number, rewards: number[], pairs: Array<[number, number]>, extra: Partial<ScoredRecordInput> = {}): ScoredRecordInput {
  return {
    index,
    line: index + 1,
    id: `r${index}`,
    rewards,
    datasetCategory: index % 2 ? 'odd' : 'even',
    pairs: pairs.map(([winner, loser]) => ({ winner, loser })),
    ...extra,
  };
}

function label(
  record: string,
  a: number,
  b: number,
  point: string,
  winner: number | null,
  result: LabelInput['result'] = 'consistent',
  source = 'judge',
): LabelInput {
  return { record, a, b, point, winner, result, source };
}

void describe('findDisagreements', () => {
  void test('exactly the pairs whose human winner does not get the higher reward: ties and NaN included', () => {
    const records = [
      rec(
        0,
        [1, 2, 3],
        [
          [0, 1],
          [0, 2],
          [1, 2],
        ],
      ), // 0<1, 0<2 disagree; 1<2 disagrees too
      rec(
        1,
        [3, 2, 1],
        [
          [0, 1],
          [0, 2],
          [1, 2],
        ],
      ), // all agree
      rec(2, [1, 1], [[1, 0]]), // equal rewards: no credit
      rec(3, [NaN, 0], [[0, 1]]),
    ];
    const rows = findDisagreements(records);
    assert.deepEqual(
      rows.map((r) => [r.index, r.humanWinner, r.humanLoser]),
      [
        [0, 0, 2],
        [0, 0, 1],
        [0, 1, 2],
        [2, 1, 0],
        [3, 0, 1],
      ],
    );
    // The count agrees with the agreement rule (pairs − agree), record by record.
    for (const r of records) {
      const agree = r.pairs.filter((p) => r.rewards[p.winner] > r.rewards[p.loser]).length;
      assert.equal(rows.filter((x) => x.index === r.index).length, r.pairs.length - agree);
    }
  });

  void test('sorted by margin r_loser − r_winner (the same order as σ of it), NaN last, then by record and pair', () => {
    const rows = findDisagreements([
      rec(5, [0, 0.5], [[0, 1]]),
      rec(1, [0, 4], [[0, 1]]),
      rec(3, [0, 0.5], [[0, 1]]),
      rec(
        0,
        [0, 40, 41],
        [
          [0, 2],
          [0, 1],
        ],
      ),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.index, r.humanLoser, r.margin]),
      [
        [0, 2, 41],
        [0, 1, 40],
        [1, 1, 4],
        [3, 1, 0.5],
        [5, 1, 0.5],
      ],
    );
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].confidence >= rows[i].confidence);
    assert.equal(rows[2].confidence, sigmoid(4));
    assert.ok(Math.abs(sigmoid(4) - 1 / (1 + Math.exp(-4))) < 1e-15);
    // σ stays finite far out (no exp overflow), so rows remain orderable by confidence.
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
  });

  void test('a, b are the pair in response order, rewards theirs; router and dataset categories carried', () => {
    const [row] = findDisagreements([rec(0, [0.9, -0.2, 1.5], [[0, 2]], { category: 'routed' })]);
    // Human: 0 beats 2; model: 2 higher.
    assert.equal(row.a, 0);
    assert.equal(row.b, 2);
    assert.equal(row.humanWinner, 0);
    assert.deepEqual(row.rewards, [0.9, 1.5]);
    assert.equal(row.routerCategory, 'routed');
    assert.equal(row.datasetCategory, 'even');
    assert.ok(Math.abs(row.margin - 0.6) < 1e-12);
  });

  void test('label noise: a strict majority of consistent verdicts for the same record and pair name the human loser', () => {
    const records = [rec(0, [0, 1], [[0, 1]]), rec(1, [0, 1], [[0, 1]]), rec(2, [0, 1], [[0, 1]]), rec(3, [0, 1], [[0, 1]]), rec(4, [0, 1, 2], [[0, 1]])];
    const labels = [
      // r0: 2 of 3 side with the model (loser 1) → candidate
      label('r0', 0, 1, 'correctness', 1),
      label('r0', 0, 1, 'fluency', 1),
      label('r0', 0, 1, 'safety', 0),
      // r1: 1 vs 1 → no majority; the inconsistent and invalid ones do not count
      label('r1', 0, 1, 'correctness', 1),
      label('r1', 0, 1, 'fluency', 0),
      label('r1', 0, 1, 'safety', 1, 'inconsistent'),
      label('r1', 0, 1, 'style', null, 'invalid'),
      // r2: only ties → no verdicts → not a candidate
      label('r2', 0, 1, 'correctness', null, 'tie', 'ratings:gpt-4'),
      // r3: a ratings source on the model's side, stored with b < a
      label('r3', 1, 0, 'correctness', 1, 'consistent', 'ratings:gpt-4'),
      // r4: labels of another pair of the record do not count
      label('r4', 1, 2, 'correctness', 2),
      label('r4', 0, 2, 'correctness', 2),
      // a label of a record not in the list
      label('zz', 0, 1, 'correctness', 1),
    ];
    const rows = findDisagreements(records, labels);
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.equal(byId.get('r0')?.labelNoise, true);
    assert.deepEqual(byId.get('r0')?.verdicts, [
      { point: 'correctness', source: 'judge', winner: 1, withModel: true },
      { point: 'fluency', source: 'judge', winner: 1, withModel: true },
      { point: 'safety', source: 'judge', winner: 0, withModel: false },
    ]);
    assert.equal(byId.get('r1')?.labelNoise, false);
    assert.equal(byId.get('r1')?.verdicts.length, 2);
    assert.equal(byId.get('r2')?.labelNoise, false);
    assert.deepEqual(byId.get('r2')?.verdicts, []);
    assert.equal(byId.get('r3')?.labelNoise, true);
    assert.equal(byId.get('r3')?.verdicts[0].source, 'ratings:gpt-4');
    assert.equal(byId.get('r4')?.labelNoise, false);
    assert.deepEqual(byId.get('r4')?.verdicts, []);
  });
});

void describe('filterRows and exportLine', () => {
  const rows = findDisagreements(
    [rec(0, [0, 1], [[0, 1]], { category: 'x' }), rec(1, [0, 2], [[0, 1]], { category: 'y' }), rec(2, [0, 3], [[0, 1]], { category: 'x' })],
    [label('r2', 0, 1, 'p', 1)],
  );

  void test('by dataset category, router category and label-noise flag; no filter returns the list itself', () => {
    assert.equal(filterRows(rows, {}), rows);
    assert.deepEqual(
      filterRows(rows, { category: 'even' }).map((r) => r.index),
      [2, 0],
    );
    assert.deepEqual(
      filterRows(rows, { routerCategory: 'x' }).map((r) => r.index),
      [2, 0],
    );
    assert.deepEqual(filterRows(rows, { routerCategory: 'x', category: 'odd' }), []);
    assert.deepEqual(
      filterRows(rows, { labelNoiseOnly: true }).map((r) => r.index),
      [2],
    );
  });

  void test('an export line is one JSON object with the documented fields; NaN becomes null', () => {
    const o = JSON.parse(exportLine(rows[0])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), [
      'record',
      'line',
      'index',
      'category',
      'routerCategory',
      'a',
      'b',
      'humanWinner',
      'rewards',
      'margin',
      'confidence',
      'labelNoise',
      'verdicts',
    ]);
    assert.equal(o.record, 'r2');
    assert.equal(o.line, 3);
    assert.deepEqual(o.rewards, [0, 3]);
    assert.equal(o.labelNoise, true);
    assert.deepEqual(o.verdicts, [{ point: 'p', source: 'judge', winner: 1, withModel: true }]);
    const [nan] = findDisagreements([rec(0, [NaN, 1], [[0, 1]])]);
    const n = JSON.parse(exportLine(nan)) as Record<string, unknown>;
    assert.deepEqual(n.rewards, [null, 1]);
    assert.equal(n.margin, null);
    assert.ok(!exportLine(nan).includes('\n'));
  });
});
