import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EarlyStopping } from '../../../src/core/training/early-stopping';

/** Feeds (step, value, loss?) triples; returns the stop flags. */
function feed(es: EarlyStopping, evals: Array<[number, number, number?]>): boolean[] {
  return evals.map(([step, value, loss]) => es.observe(step, value, loss).stop);
}

void describe('EarlyStopping', () => {
  void test('stops after `patience` evaluations without improvement and keeps the best', () => {
    const es = new EarlyStopping({ patience: 2 });
    const stops = feed(es, [
      [100, 0.6],
      [200, 0.7],
      [300, 0.65],
      [400, 0.7], // equal, no loss given: not an improvement
    ]);
    assert.deepEqual(stops, [false, false, false, true]);
    assert.deepEqual(es.best, { step: 200, value: 0.7 });
    assert.equal(es.evaluations, 4);
  });

  void test('an improvement resets the count', () => {
    const es = new EarlyStopping({ patience: 2 });
    const stops = feed(es, [
      [1, 0.5],
      [2, 0.4],
      [3, 0.55],
      [4, 0.5],
      [5, 0.5],
    ]);
    assert.deepEqual(stops, [false, false, false, false, true]);
    assert.equal(es.best?.step, 3);
  });

  void test('minDelta: a rise smaller than it is not an improvement', () => {
    const es = new EarlyStopping({ patience: 1, minDelta: 0.01 });
    assert.deepEqual(es.observe(1, 0.5), { improved: true, stop: false });
    assert.deepEqual(es.observe(2, 0.505), { improved: false, stop: true });
    assert.equal(es.best?.value, 0.5);
  });

  void test('equal accuracy with lower validation loss improves; higher loss or lower accuracy does not', () => {
    const es = new EarlyStopping({ patience: 3 });
    es.observe(1, 0.7, 0.6);
    assert.equal(es.observe(2, 0.7, 0.5).improved, true);
    assert.equal(es.observe(3, 0.7, 0.55).improved, false);
    assert.equal(es.observe(4, 0.69, 0.1).improved, false);
    assert.deepEqual(es.best, { step: 2, value: 0.7, loss: 0.5 });
  });

  void test('a NaN value never improves; patience 0 stops at the first non-improvement', () => {
    const es = new EarlyStopping({ patience: 0 });
    assert.deepEqual(es.observe(1, NaN), { improved: false, stop: true });
    assert.equal(es.best, undefined);
    const es2 = new EarlyStopping({ patience: 0 });
    assert.deepEqual(es2.observe(1, 0.5), { improved: true, stop: false });
    assert.deepEqual(es2.observe(2, 0.4), { improved: false, stop: true });
  });

  void test('best is a copy: callers cannot change the record', () => {
    const es = new EarlyStopping({ patience: 1 });
    es.observe(1, 0.5);
    const b = es.best!;
    b.value = 99;
    assert.equal(es.best?.value, 0.5);
  });

  void test('JSON round trip continues the patience count where it was', () => {
    const es = new EarlyStopping({ patience: 3, minDelta: 0.001 });
    feed(es, [
      [10, 0.6, 0.7],
      [20, 0.62, 0.65],
      [30, 0.61, 0.66],
      [40, 0.6, 0.7],
    ]);
    const resumed = EarlyStopping.fromJSON(JSON.parse(JSON.stringify(es)));
    assert.deepEqual(resumed.toJSON(), es.toJSON());
    assert.deepEqual(resumed.best, { step: 20, value: 0.62, loss: 0.65 });
    // Two evaluations without improvement happened before the resume: the third stops.
    assert.deepEqual(resumed.observe(50, 0.6), { improved: false, stop: true });
    assert.equal(resumed.evaluations, 5);
  });

  void test('bad options and bad JSON are readable errors', () => {
    assert.throws(() => new EarlyStopping({ patience: -1 }), /patience must be a non-negative integer/);
    assert.throws(() => new EarlyStopping({ patience: 1.5 }), /patience must be a non-negative integer/);
    assert.throws(() => new EarlyStopping({ patience: 1, minDelta: -0.1 }), /minDelta/);
    assert.throws(() => EarlyStopping.fromJSON(null), /expected an object/);
    assert.throws(() => EarlyStopping.fromJSON({ patience: 2, minDelta: 0, evaluations: 3, sinceBest: 4 }), /sinceBest/);
    assert.throws(() => EarlyStopping.fromJSON({ patience: 2, minDelta: 0, evaluations: 3, sinceBest: 1 }), /no best/);
    assert.throws(() => EarlyStopping.fromJSON({ patience: 2, evaluations: 1, sinceBest: 0, best: { step: 'x', value: 1 } }), /best must be/);
  });
});
