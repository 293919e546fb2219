import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReportRunInput } from '../../../src/core/training/report';
import { buildEvaluationReport, fileTestSet, heldOutTestSet } from '../../../src/core/training/report';
import type { EvalResult, Method } from '../../../src/core/training/types';

const CONFIG = { dataset: '/data/train.jsonl', datasetSha256: 'a1b2c3d4e5f6', seed: 5, hyperParams: { testFraction: 0.2 } };

function result(method: Method, overall: number, pairs: number, byCategory: Record<string, [number | null, number]>): EvalResult {
  return { method, overall, pairs, byCategory: Object.fromEntries(Object.entries(byCategory).map(([c, [accuracy, n]]) => [c, { accuracy, pairs: n }])) };
}

function run(name: string, config: Record<string, unknown>, evaluation?: EvalResult[]): ReportRunInput {
  const dir = `/runs/${name}`;
  return { run: name, dir, testSet: heldOutTestSet(config, dir), evaluation };
}

void describe('heldOutTestSet', () => {
  void test('the key is the data hash, seed, fraction and reader: equal for equal, different otherwise', () => {
    const a = heldOutTestSet(CONFIG, '/runs/a');
    assert.equal(heldOutTestSet({ ...CONFIG, method: 'single' }, '/runs/b').key, a.key);
    assert.notEqual(heldOutTestSet({ ...CONFIG, seed: 6 }, '/runs/b').key, a.key);
    assert.notEqual(heldOutTestSet({ ...CONFIG, datasetSha256: 'ffff' }, '/runs/b').key, a.key);
    assert.notEqual(heldOutTestSet({ ...CONFIG, hyperParams: { testFraction: 0.1 } }, '/runs/b').key, a.key);
    assert.notEqual(heldOutTestSet({ ...CONFIG, adapter: 'hh-rlhf' }, '/runs/b').key, a.key);
    assert.equal(a.label, 'held-out 20% of train.jsonl (seed 5) · data a1b2c3d4');
    assert.match(a.detail, /sha256 a1b2c3d4e5f6/);
  });

  void test('the same file path without a hash is not the same test set as a hashed one, and says so', () => {
    const noHash = heldOutTestSet({ dataset: '/data/train.jsonl', seed: 5 }, '/runs/x');
    assert.notEqual(noHash.key, heldOutTestSet(CONFIG, '/runs/a').key);
    assert.match(noHash.label, /no data hash/);
    // The default test fraction applies when run.json stores none.
    assert.match(noHash.label, /held-out 20%/);
  });

  void test('a run.json naming no dataset is a test set of its own', () => {
    assert.notEqual(heldOutTestSet({}, '/runs/x').key, heldOutTestSet({}, '/runs/y').key);
  });
});

void describe('buildEvaluationReport', () => {
  void test('rows per run and method in the paper order, columns per category (uncategorised last) and overall', () => {
    const report = buildEvaluationReport([
      run('r-single', CONFIG, [result('single', 0.6, 100, { chat: [0.7, 60], uncategorised: [0.45, 40] })]),
      run('r-dmoerm', CONFIG, [result('dmoerm', 0.65, 100, { chat: [0.7, 60], uncategorised: [0.575, 40] })]),
      run('r-mean', CONFIG, [result('mean', 0.55, 100, { chat: [0.6, 60], uncategorised: [0.475, 40], code: [0.5, 0] })]),
    ]);
    assert.equal(report.groups.length, 1);
    const [g] = report.groups;
    assert.deepEqual(g.categories, ['chat', 'code', 'uncategorised']);
    assert.deepEqual(
      g.rows.map((r) => `${r.run}/${r.method}`),
      ['r-dmoerm/dmoerm', 'r-single/single', 'r-mean/mean'],
    );
    assert.deepEqual(g.rows[0].cells, [{ accuracy: 0.7, pairs: 60, best: true }, null, { accuracy: 0.575, pairs: 40, best: true }]);
    // Ties share "best"; a column with one value marks nothing.
    assert.equal(g.rows[1].cells[0]?.best, true);
    assert.equal(g.rows[2].cells[1]?.best, false);
    assert.deepEqual(
      g.rows.map((r) => r.overall.best),
      [true, false, false],
    );
    // `code` exists in one row only: nothing to compare.
    assert.deepEqual(g.warnings, []);
    assert.deepEqual(report.skipped, []);
  });

  void test('runs evaluated on different test sets go to different groups, never one table', () => {
    const other = { ...CONFIG, datasetSha256: 'ffffeeee' };
    const report = buildEvaluationReport([
      run('a', CONFIG, [result('single', 0.6, 100, { chat: [0.6, 100] })]),
      run('b', other, [result('dmoerm', 0.9, 50, { chat: [0.9, 50] })]),
      run('c', CONFIG, [result('dmoerm', 0.62, 100, { chat: [0.62, 100] })]),
    ]);
    assert.equal(report.groups.length, 2);
    // The larger group first.
    assert.deepEqual(
      report.groups[0].rows.map((r) => r.run),
      ['c', 'a'],
    );
    assert.deepEqual(
      report.groups[1].rows.map((r) => r.run),
      ['b'],
    );
    assert.notEqual(report.groups[0].testSet.label, report.groups[1].testSet.label);
    // b's 90% is best of nothing: alone in its group.
    assert.equal(report.groups[1].rows[0].overall.best, false);
    assert.equal(report.groups[0].rows[0].overall.best, true);
  });

  void test('a group whose rows counted different pairs is flagged', () => {
    const report = buildEvaluationReport([
      run('a', CONFIG, [result('single', 0.6, 100, { chat: [0.6, 100] })]),
      run('b', CONFIG, [result('dmoerm', 0.7, 98, { chat: [0.7, 98] })]),
    ]);
    const w = report.groups[0].warnings;
    assert.equal(w.length, 2);
    assert.match(w[0], /^overall: pair counts differ, 98 \(b\) vs 100 \(a\)/);
  });

  void test('runs without an evaluation or with an unreadable folder are listed as skipped, with why', () => {
    const report = buildEvaluationReport([
      run('done', CONFIG, [result('single', 0.6, 10, {})]),
      run('running', CONFIG),
      { run: 'broken', dir: '/runs/broken', testSet: heldOutTestSet({}, '/runs/broken'), error: 'run.json is not valid JSON' },
    ]);
    assert.deepEqual(
      report.skipped.map((s) => s.run),
      ['running', 'broken'],
    );
    assert.match(report.skipped[0].reason, /no eval\.json/);
    assert.equal(report.skipped[1].reason, 'run.json is not valid JSON');
    assert.equal(report.groups.length, 1);
  });

  void test('null accuracies (no pairs) are never best; an eval.json with several methods gives a row each', () => {
    const report = buildEvaluationReport([run('ens', CONFIG, [result('mean', 0.5, 10, { chat: [null, 0] }), result('wco', 0.55, 10, { chat: [null, 0] })])]);
    const [g] = report.groups;
    assert.deepEqual(
      g.rows.map((r) => r.method),
      ['mean', 'wco'],
    );
    assert.deepEqual(
      g.rows.map((r) => r.cells[0]?.best),
      [false, false],
    );
    assert.deepEqual(
      g.rows.map((r) => r.overall.best),
      [false, true],
    );
  });
});

void describe('fileTestSet', () => {
  void test('test files evaluated with rewardlens eval are keyed by content and reader, named by file', () => {
    const a = fileTestSet({ testFile: '/data/test.jsonl', testSha256: 'ab'.repeat(32) });
    assert.equal(a.key, fileTestSet({ testFile: '/elsewhere/copy.jsonl', testSha256: 'ab'.repeat(32) }).key, 'same content, same test set');
    assert.notEqual(a.key, fileTestSet({ testFile: '/data/test.jsonl', testSha256: 'cd'.repeat(32) }).key, 'edited file, another test set');
    assert.notEqual(a.key, fileTestSet({ testFile: '/data/test.jsonl', testSha256: 'ab'.repeat(32), adapter: 'hh-rlhf' }).key, 'read another way');
    assert.match(a.label, /^test\.jsonl · data abababab$/);
    const held = heldOutTestSet({ dataset: '/data/test.jsonl', datasetSha256: 'ab'.repeat(32), seed: 1 }, '/runs/x');
    assert.notEqual(a.key, held.key, 'a whole file is not the held-out part of it');
    const report = buildEvaluationReport([
      { run: 'r1', dir: '/r1', testSet: a, evaluation: [{ method: 'dmoerm', overall: 0.6, pairs: 10, byCategory: {} }] },
      {
        run: 'r2',
        dir: '/r2',
        testSet: fileTestSet({ testFile: '/x/test.jsonl', testSha256: 'ab'.repeat(32) }),
        evaluation: [{ method: 'single', overall: 0.5, pairs: 10, byCategory: {} }],
      },
    ]);
    assert.equal(report.groups.length, 1);
    assert.deepEqual(
      report.groups[0].rows.map((r) => r.method),
      ['dmoerm', 'single'],
    );
  });
});
