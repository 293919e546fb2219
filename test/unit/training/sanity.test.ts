import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TrainUsageError, trainCommand } from '../../../src/cli/train';
import { initBackend } from '../../../src/core/model/backend';
import { ScalarHead } from '../../../src/core/model/heads';
import type { Rank } from '@tensorflow/tfjs';
import { tf } from '../../../src/core/model/tf';
import type { FitTask } from '../../../src/core/training/fit';
import { NonFiniteLossError, fit } from '../../../src/core/training/fit';
import { HyperParamError, applyOverrides, defaultHyperParams } from '../../../src/core/training/hparams';
import { Rng } from '../../../src/core/training/rng';

/** Issue 12 item 9: settings that cannot train are refused, and a diverging loss stops the phase. */

const tmp = mkdtempSync(join(tmpdir(), 'rl-sanity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, 'prefs.jsonl');
writeFileSync(data, '{"prompt":"a","chosen":"b","rejected":"c"}\n');

void describe('hyper-parameter ranges', () => {
  const h = defaultHyperParams('tiny');
  const refuses = (overrides: Record<string, number>, message: RegExp): void => {
    assert.throws(
      () => applyOverrides(h, overrides),
      (e: unknown) => e instanceof HyperParamError && message.test(e.message),
    );
  };

  void it('names the key, the value and the range', () => {
    refuses({ 'lr.base': 1e30 }, /^setting lr\.base: 1e\+30 is out of range; it must be \(0, 1\]$/);
    refuses({ 'lr.base': -1 }, /setting lr\.base: -1 .*\(0, 1\]/);
    refuses({ maxSteps: -5 }, /setting maxSteps\.base: -5 .*a whole number \[1, 10000000\]/);
    refuses({ batchPairs: 0 }, /setting batchPairs: 0 .*a whole number \[1, 4096\]/);
    refuses({ patience: 2.5 }, /setting patience: 2\.5/);
    refuses({ valFraction: 1 }, /setting valFraction: 1 .*\[0, 0\.5\]/);
    refuses(
      { maxSteps: -5, batchPairs: 0, 'lr.base': -1 },
      /^setting batchPairs: 0 .*; setting maxSteps\.base: -5 .*; setting lr\.base: -1 is out of range; it must be \(0, 1\]$/,
    );
    refuses({ maxPairsPerRecord: 0 }, /setting maxPairsPerRecord: 0 .*a whole number \[1, 1000000\]/);
  });

  void it('keeps the defaults and ordinary overrides', () => {
    for (const preset of ['tiny', 'small'] as const) for (const pretrained of [false, true]) applyOverrides(defaultHyperParams(preset, pretrained));
    const o = applyOverrides(h, { 'lr.base': 5e-4, maxSteps: 10, testFraction: 0, maxPairsPerRecord: 8 });
    assert.deepEqual([o.lr.base, o.maxSteps.phase3, o.testFraction, o.maxPairsPerRecord], [5e-4, 10, 0, 8]);
  });

  void it('the CLI refuses them as a usage error (exit 2) before anything starts', async () => {
    for (const set of [['lr.base=1e30'], ['maxSteps=-5', 'batchPairs=0', 'lr.base=-1']]) {
      const out = join(tmp, `run-${set.length}`);
      const argv = [data, '--method', 'single', '--out', out, '--quiet', ...set.flatMap((s) => ['--set', s])];
      await assert.rejects(
        trainCommand(argv),
        (e: unknown) => e instanceof TrainUsageError && /^setting \w+(\.\w+)?: -?[\d.e+]+ is out of range/.test(e.message),
      );
      assert.ok(!existsSync(out), 'no run folder made');
    }
  });
});

void describe('a non-finite loss', () => {
  void it('stops the phase with the component, the phase and the step', async () => {
    await initBackend('wasm');
    const head = ScalarHead.create(4, 1);
    let steps = 0;
    const task: FitTask = {
      component: 'phase2/expert',
      phase: 'phase2',
      expert: 'correctness',
      parts: { head },
      epoch: () => [[0], [1], [2], [3]],
      step: () => {
        steps++;
        const r = head.forward(tf.ones([1, 4]));
        // Step 3 diverges.
        return { loss: tf.mul(tf.mean(r), steps === 3 ? Number.NaN : 1).asScalar(), correct: tf.ones<Rank.R1>([1]) };
      },
      validate: () => ({ accuracy: 0.5, loss: 0.69 }),
    };
    await assert.rejects(fit(task, { lr: 0.01, maxSteps: 10, evalEvery: 100, patience: 100 }, { rng: new Rng(1) }), (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError, String(e));
      assert.match(e.message, /^phase2\/expert \(correctness\), phase phase2: the training loss is NaN at step 3; training diverged \(learning rate 0\.01/);
      return true;
    });
    assert.equal(steps, 3);
  });
});
