/**
 * Data parallelism in the real training path: fit() on tokenPairTask with the step split over a worker thread
 * against the same fit on one thread, a crashed worker thread, and a whole recipe run that is cancelled and
 * resumed with two threads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMainThread } from 'node:worker_threads';
import { initBackend } from '../../../src/core/model/backend';
import { PRESETS } from '../../../src/core/model/config';
import { DataParallel, runGradientWorker } from '../../../src/core/model/data-parallel';
import { Encoder } from '../../../src/core/model/encoder';
import { ScalarHead } from '../../../src/core/model/heads';
import { LoraAdapter } from '../../../src/core/model/lora';
import { tf } from '../../../src/core/model/tf';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { VocabMap } from '../../../src/core/model/vocab';
import { loadPreferenceData, pairsOf } from '../../../src/core/training/data';
import type { NamedParams } from '../../../src/core/training/fit';
import { fit } from '../../../src/core/training/fit';
import { RewardNet } from '../../../src/core/model/dmoerm';
import { CancelledError } from '../../../src/core/cancelled';
import { Rng } from '../../../src/core/training/rng';
import type { SequenceSource } from '../../../src/core/training/tasks';
import { sequenceSource, tokenPairTask } from '../../../src/core/training/tasks';
import { train } from '../../../src/core/training/train';
import type { TrainEvent, TrainOptions } from '../../../src/core/training/types';
import { writeLabelledSyntheticPreferences } from '../../support/synthetic-prefs';

const STEPS = 6;

interface Trace {
  losses: number[];
  trainAcc: number[];
  /** Trainable weights after each step. */
  weights: Float32Array[][];
  start: Float32Array[];
}

/** `fit` of a tiny preset network (dropout on) for STEPS steps of 8 pairs in passes of 4; `threads` 1 or 2. */
async function trace(src: SequenceSource, lora: boolean, threads: number): Promise<Trace> {
  const config = { ...PRESETS.tiny.encoder, vocabSize: src.vocab.size };
  const encoder = Encoder.create(config, 5);
  const head = ScalarHead.create(config.hidden, 6);
  let net = new RewardNet(encoder, head);
  let parts: Record<string, NamedParams> = { encoder, head };
  if (lora) {
    encoder.setTrainable(false);
    const adapter = LoraAdapter.create(config, PRESETS.tiny.lora, 7);
    // peft starts B at zero; random B makes A's gradients non-zero from the first step.
    tf.tidy(() => adapter.variables().forEach((v, i) => v.shape[1] === PRESETS.tiny.lora.r && v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 20 + i))));
    net = new RewardNet(encoder, head, adapter);
    parts = { lora: adapter, head };
  }
  const variables = Object.values(parts).flatMap((p) => [...p.named().values()]);
  const snapshot = (): Float32Array[] => variables.map((v) => Float32Array.from(v.dataSync()));
  const start = snapshot();
  const all = src.data.records.map((_, i) => i);
  const parallel = threads > 1 ? await DataParallel.start({ script: __filename, workers: threads - 1, ...net }) : undefined;
  const out: Trace = { losses: [], trainAcc: [], weights: [], start };
  try {
    const task = tokenPairTask(
      { component: 'c', phase: 'base', parts },
      src,
      pairsOf(src.data, all.slice(0, 60)),
      pairsOf(src.data, all.slice(60, 64)),
      8,
      (b, training, seed) => net.reward(b, training, seed),
      parallel,
    );
    assert.equal(task.trainStep !== undefined, threads > 1);
    await fit(
      task,
      { lr: 0.01, maxSteps: STEPS, evalEvery: 1, patience: 100, microBatch: 4 },
      {
        rng: new Rng(3),
        onMetric: (m) => {
          if (m.step === 0) return;
          out.losses.push(m.loss);
          out.trainAcc.push(m.trainAcc);
        },
        onCheckpoint: () => out.weights.push(snapshot()),
      },
    );
  } finally {
    await parallel?.close();
    net.adapter?.dispose();
    encoder.dispose();
    head.dispose();
  }
  return out;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((x, i) => x.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}

if (!isMainThread) {
  void runGradientWorker();
} else {
  void describe('data parallelism in fit (tiny preset, wasm)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-dp-fit-'));
    let src: SequenceSource;
    const data = join(dir, 'train.jsonl');
    const labels = join(dir, 'train.labels.jsonl');
    before(async () => {
      await initBackend('wasm');
      await writeLabelledSyntheticPreferences(data, labels, 120, 4);
      const tokenizer = TextTokenizer.default();
      const prefs = await loadPreferenceData(data, tokenizer, { maxLen: PRESETS.tiny.maxLen, routerMaxLen: PRESETS.tiny.routerMaxLen });
      const used = prefs.records.flatMap((r) => r.responses.flatMap((s) => [...s.ids]));
      src = sequenceSource(prefs, VocabMap.build(tokenizer, used), tokenizer, 32);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const lora of [false, true]) {
      void test(`${lora ? 'LoRA on a frozen encoder' : 'full fine-tuning'}: 2 threads give 1 thread's losses and weights within 1e-4`, async () => {
        const one = await trace(src, lora, 1);
        const two = await trace(src, lora, 2);
        assert.equal(one.losses.length, STEPS);
        assert.equal(two.weights.length, STEPS);
        one.losses.forEach((l, i) => assert.ok(Math.abs(l - two.losses[i]) < 1e-4, `step ${i + 1}: loss ${l} on 1 thread, ${two.losses[i]} on 2`));
        assert.deepEqual(two.trainAcc, one.trainAcc, 'pairs ordered right, counted over both threads');
        one.weights.forEach((w, i) => {
          const d = maxDiff(w, two.weights[i]);
          assert.ok(d < 1e-4, `step ${i + 1}: weights differ by up to ${d}`);
        });
        // Guards the comparison: weights that never moved would agree whatever the threads did.
        assert.ok(maxDiff(one.weights[STEPS - 1], one.start) > 1e-3, 'training moved the weights');
      });
    }

    void test('a worker thread that exits or throws fails the step with an error, not a hang', async () => {
      const encoder = Encoder.create({ ...PRESETS.tiny.encoder, vocabSize: src.vocab.size }, 1);
      const head = ScalarHead.create(PRESETS.tiny.encoder.hidden, 2);
      const batch = { ids: new Int32Array(8).fill(5), typeIds: new Int32Array(8), mask: new Int32Array(8).fill(1), batch: 4, seqLen: 2 };
      try {
        for (const [how, code, message] of [
          ['exits', 'process.exit(7)', /thread 1 exited unexpectedly \(code 7\)/],
          ['throws', "throw new Error('out of cheese')", /thread 1 crashed: out of cheese/],
        ] as const) {
          // Answers init like a gradient worker, then dies on the first step.
          const script = join(dir, `${how}.js`);
          writeFileSync(
            script,
            `const { parentPort } = require('node:worker_threads');\nparentPort.on('message', (m) => { if (m.type === 'init') parentPort.postMessage({ type: 'ready' }); else ${code}; });\n`,
          );
          const dp = await DataParallel.start({ script, workers: 1, encoder, head });
          try {
            await assert.rejects(dp.step(batch, 1, tf.train.adam(0.01)), message);
            await assert.rejects(dp.step(batch, 2, tf.train.adam(0.01)), message, 'a failed thread stays failed');
          } finally {
            await dp.close();
          }
        }
      } finally {
        encoder.dispose();
        head.dispose();
      }
    });

    void test('train() with threads=2: split steps, cancel closes the threads, the run resumes and finishes', async () => {
      process.env.REWARDLENS_GRADIENT_WORKER = __filename;
      // OS threads of this process (Linux): a worker thread that was not stopped is still one of them.
      const osThreads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
      await readFile(data); // starts libuv's thread pool, which training's file hashing would start anyway
      const idle = osThreads();
      let during = 0;
      const options: TrainOptions = {
        dataset: data,
        labels,
        method: 'dmoerm-no-outer',
        out: join(dir, 'run'),
        preset: 'tiny',
        backend: 'wasm',
        seed: 2,
        overrides: { threads: 2, 'maxSteps.base': 10, 'maxSteps.phase1': 10, 'maxSteps.phase2': 6, 'maxSteps.phase3': 10, evalEvery: 5, minPairs: 8 },
      };
      const controller = new AbortController();
      const seen: TrainEvent[] = [];
      try {
        await assert.rejects(
          train(options, {
            signal: controller.signal,
            onEvent: (e) => {
              seen.push(e);
              if (e.type === 'checkpoint' && e.phase === 'phase1') {
                during = osThreads();
                controller.abort();
              }
            },
          }),
          CancelledError,
        );
        assert.ok(
          seen.some((e) => e.type === 'log' && /split over 2 threads/.test(e.message)),
          'the run says it trains on 2 threads',
        );
        assert.ok(during > idle, `${during} threads while training, ${idle} before`);
        assert.equal(osThreads(), idle, 'a cancelled run leaves no worker thread behind');
        const resumed: TrainEvent[] = [];
        const summary = await train(options, { onEvent: (e) => resumed.push(e) });
        assert.ok(resumed.some((e) => e.type === 'log' && /resuming at step 5/.test(e.message)));
        assert.ok(summary.evaluation && summary.evaluation.pairs > 0);
        assert.equal(osThreads(), idle, 'a finished run leaves no worker thread behind');
        await assert.rejects(train({ ...options, overrides: { ...options.overrides, threads: 1 } }), /threads: 2 in the folder, 1 now/);
      } finally {
        delete process.env.REWARDLENS_GRADIENT_WORKER;
      }
    });
  });
}
