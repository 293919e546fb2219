import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregate, aggregateRows, DEFAULT_UWO_LAMBDA } from '../../../src/core/training/aggregate';

void describe('aggregate', () => {
  const scores = [1, 2, 6]; // mean 3, population variance ((−2)² + (−1)² + 3²)/3 = 14/3

  void test('mean and worst case', () => {
    assert.equal(aggregate(scores, 'mean'), 3);
    assert.equal(aggregate(scores, 'wco'), 1);
    assert.equal(aggregate([-0.5, 4, -2.25], 'wco'), -2.25);
  });

  void test('UWO is mean − λ · population variance', () => {
    assert.ok(Math.abs(aggregate(scores, 'uwo', 0.3) - (3 - 0.3 * (14 / 3))) < 1e-12);
    assert.ok(Math.abs(aggregate(scores, 'uwo') - (3 - DEFAULT_UWO_LAMBDA * (14 / 3))) < 1e-12);
    assert.equal(aggregate(scores, 'uwo', 0), aggregate(scores, 'mean'));
  });

  void test('UWO: members that agree lose nothing; disagreement lowers the reward', () => {
    assert.equal(aggregate([2, 2, 2], 'uwo', 1), 2);
    assert.ok(aggregate([0, 4], 'uwo', 0.1) < aggregate([1.9, 2.1], 'uwo', 0.1));
  });

  void test('variance exact around a large offset (no sum-of-squares cancellation)', () => {
    const big = [1e8 + 1, 1e8 + 2, 1e8 + 6];
    assert.ok(Math.abs(aggregate(big, 'uwo', 1) - (1e8 + 3 - 14 / 3)) < 1e-6);
  });

  void test('no members is an error naming the aggregator', () => {
    assert.throws(() => aggregate([], 'uwo'), /no member scores.*uwo/);
  });
});

void describe('aggregateRows', () => {
  void test('per response across members, equal to aggregate of each column', () => {
    const members = [Float32Array.from([1, 0, -1]), Float32Array.from([2, 0, 3]), Float32Array.from([6, 0, 1])];
    for (const how of ['mean', 'wco', 'uwo'] as const) {
      const row = aggregateRows(members, how, 0.2);
      assert.ok(row instanceof Float32Array);
      assert.equal(row.length, 3);
      for (let i = 0; i < 3; i++)
        assert.equal(
          row[i],
          Math.fround(
            aggregate(
              members.map((m) => m[i]),
              how,
              0.2,
            ),
          ),
          `${how}[${i}]`,
        );
    }
    assert.deepEqual([...aggregateRows(members, 'wco')], [1, 0, -1]);
  });

  void test('members of different lengths, or none, are refused', () => {
    assert.throws(() => aggregateRows([new Float32Array(2), new Float32Array(3)], 'mean'), /member 1 scored 3 responses, member 0 scored 2/);
    assert.throws(() => aggregateRows([], 'mean'), /no ensemble members/);
  });
});
