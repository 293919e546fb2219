import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import type { VocabMapJson } from '../../../src/core/model/vocab';
import { VocabMap } from '../../../src/core/model/vocab';
import { loadPreferenceData } from '../../../src/core/training/data';
import type { RunModel } from '../../../src/core/model/dmoerm';
import { LockedError } from '../../../src/core/lock';
import { RunFolder, lockRunFolder } from '../../../src/core/training/run-folder';
import { RunScorer } from '../../../src/core/training/scorer';
import { CancelledError } from '../../../src/core/cancelled';
import { evaluateRun, train } from '../../../src/core/training/train';
import type { TrainEvent, TrainOptions } from '../../../src/core/training/types';
import { writeLabelledSyntheticPreferences, writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { sequenceSource } from '../../../src/core/training/tasks';

// Small budgets: the point is that every phase runs for real and the result beats chance on records
// the model never saw, within CI's two cores.
const FAST = { 'maxSteps.base': 120, 'maxSteps.phase1': 40, 'maxSteps.phase2': 40, 'maxSteps.ensemble': 30, evalEvery: 20, patience: 3, minPairs: 8 };

void describe('training end to end (tiny preset, synthetic preferences)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-train-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const trainFile = join(dir, 'train.jsonl');
  const testFile = join(dir, 'test.jsonl');
  const labels = join(dir, 'train.labels.jsonl');
  writeSyntheticPreferences(testFile, 80, 12);
  await writeLabelledSyntheticPreferences(trainFile, labels, 200, 11);
  const options = (method: TrainOptions['method'], out: string): TrainOptions => ({
    dataset: trainFile,
    labels,
    method,
    out: join(dir, out),
    preset: 'tiny',
    backend: 'wasm',
    seed: 3,
    overrides: FAST,
  });

  await test('--test FILE: trained on all of the training file, evaluated on the test file as rewardlens eval evaluates it', async () => {
    const summary = await train({ ...options('single', 'with-test-file'), testFile, overrides: { ...FAST, 'maxSteps.base': 20 } });
    const run = RunFolder.open(summary.out);
    assert.equal(run.config.testFile, testFile);
    const evaluation = summary.evaluation!;
    const again = await evaluateRun(summary.out, testFile);
    assert.equal(evaluation.pairs, again.pairs, 'every pair of the test file, none of the training file');
    assert.equal(evaluation.overall, again.overall);
    assert.match(readFileSync(join(summary.out, 'MODEL_CARD.md'), 'utf8'), new RegExp(`Evaluated on \`${testFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\``));
  });

  await test('single: the general RM beats chance on held-apart records', async (t) => {
    const summary = await train(options('single', 'single'));
    assert.equal(summary.backend, 'wasm');
    const result = await evaluateRun(summary.out, testFile);
    assert.equal(result.method, 'single');
    assert.ok(result.pairs > 100, `${result.pairs} test pairs`);
    t.diagnostic(`single: ${result.overall} on ${result.pairs} held-apart pairs`);
    assert.ok(result.overall! > 0.6, `single agreement ${result.overall}`);
    // Kept in the run for the evaluation report, once per test file content.
    await evaluateRun(summary.out, testFile);
    const kept = RunFolder.open(summary.out).readTestEvals()!;
    assert.equal(kept.length, 1, 'evaluating the same file again replaces its entry');
    assert.equal(kept[0].testFile, testFile);
    assert.match(kept[0].testSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(kept[0].result, result);
    // Two evaluations of one run at once would each rewrite test-evals.json without the other's entry.
    const lock = lockRunFolder(summary.out);
    try {
      await assert.rejects(evaluateRun(summary.out, testFile), LockedError);
    } finally {
      lock.release();
    }
  });

  await test("mean: an ensemble starting from the single run's general RM does not train its own", async () => {
    const events: TrainEvent[] = [];
    const summary = await train({ ...options('mean', 'mean'), baseRun: join(dir, 'single') }, { onEvent: (e) => events.push(e) });
    assert.ok(!events.some((e) => e.type === 'progress' && e.phase === 'base'), 'the general RM is reused');
    const baseCurve = (run: string) =>
      RunFolder.open(join(dir, run))
        .readMetrics()
        .filter((m) => m.phase === 'base');
    assert.ok(baseCurve('single').length > 0);
    assert.deepEqual(baseCurve('mean'), baseCurve('single'), 'the reused general RM brings its training curve');
    assert.ok(events.some((e) => e.type === 'progress' && e.phase === 'ensemble' && e.expert === 'member-2'));
    const result = await evaluateRun(summary.out, testFile);
    assert.ok(result.overall! > 0.6, `mean agreement ${result.overall}`);
    await assert.rejects(train({ ...options('wco', 'wco'), seed: 4, baseRun: join(dir, 'single') }), /its seed is 3, this run's is 4/);
  });

  await test('dmoerm: router, three phases per category, resumable after a cancel, beats chance', async (t) => {
    const o = options('dmoerm', 'dmoerm');
    const controller = new AbortController();
    const seen: TrainEvent[] = [];
    // Cancel at the first Phase-1 checkpoint: base and router are finished, Phase 1 is half-way.
    await assert.rejects(
      train(o, {
        signal: controller.signal,
        onEvent: (e) => {
          seen.push(e);
          if (e.type === 'checkpoint' && e.phase === 'phase1') controller.abort();
        },
      }),
      CancelledError,
    );
    const state = JSON.parse(readFileSync(join(o.out, 'state.json'), 'utf8')) as { completed: string[]; current?: { component: string } };
    assert.deepEqual(state.completed, ['base', 'router']);
    assert.match(state.current?.component ?? '', /^phase1-/);

    const resumed: TrainEvent[] = [];
    const summary = await train(o, { onEvent: (e) => resumed.push(e) });
    assert.ok(!resumed.some((e) => e.type === 'progress' && (e.phase === 'base' || e.phase === 'router')), 'finished components are not trained again');
    assert.ok(resumed.some((e) => e.type === 'log' && /resuming at step/.test(e.message)));
    const model = JSON.parse(readFileSync(join(o.out, 'model.json'), 'utf8')) as RunModel;
    assert.deepEqual(model.router?.categories, ['objective knowledge QA', 'subjective knowledge QA']);
    for (const inner of Object.values(model.inner ?? {})) {
      assert.deepEqual(inner.experts.map((e) => e.point).sort(), ['correctness', 'fluency']);
      assert.ok(inner.phase3 && existsSync(join(o.out, 'checkpoints', `${inner.phase3}.safetensors`)));
    }
    assert.ok(summary.evaluation);
    const result = await evaluateRun(summary.out, testFile);
    t.diagnostic(`dmoerm: ${result.overall} on ${result.pairs} held-apart pairs ${JSON.stringify(result.byCategory)}`);
    assert.ok(result.overall! > 0.6, `dmoerm agreement ${result.overall}`);
    assert.deepEqual(Object.keys(result.byCategory).sort(), ['objective knowledge QA', 'subjective knowledge QA']);
    // The router is a top-1 gate: each record goes to the arg-max category, and on this data (distinct
    // prompt wording per category) it should almost always be the record's own category.
    const tokenizer = TextTokenizer.fromFile(join(o.out, 'tokenizer.json'));
    const test = await loadPreferenceData(testFile, tokenizer, { maxLen: model.maxLen, routerMaxLen: model.routerMaxLen });
    const vocab = VocabMap.fromJSON(JSON.parse(readFileSync(join(o.out, 'vocab.json'), 'utf8')) as VocabMapJson);
    const positions = test.records.map((_, i) => i);
    const scores = RunScorer.load(model, (c) => join(o.out, 'checkpoints', `${c}.safetensors`)).score(sequenceSource(test, vocab, tokenizer, 32), positions);
    let routedRight = 0;
    for (const p of positions) {
      const route = scores.get(p)!.route!;
      const top = route.probabilities.indexOf(Math.max(...route.probabilities));
      assert.equal(route.category, model.router.categories[top]);
      if (route.category === test.categories[p]) routedRight++;
    }
    t.diagnostic(`router: ${routedRight} of ${positions.length} test records to their own category`);
    assert.ok(routedRight / positions.length > 0.9, `router accuracy ${routedRight}/${positions.length}`);
    const card = readFileSync(join(o.out, 'MODEL_CARD.md'), 'utf8');
    for (const expected of ['dmoerm', 'router', 'correctness', 'fluency', String(summary.evaluation.pairs)])
      assert.ok(card.includes(expected), `model card lacks ${expected}`);
    const metrics = readFileSync(join(o.out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { phase: string });
    assert.deepEqual([...new Set(metrics.map((m) => m.phase))].sort(), ['base', 'phase1', 'phase2', 'phase3', 'router']);
  });
});
