/**
 * The fast training path (per-head 2-D attention with a hand-written gradient, in-heap Slice/Unpack/SplitV,
 * shared Identity, data parallelism over worker_threads) against stock TensorFlow.js on the same seed:
 * losses and gradients must agree within float tolerance.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread } from 'node:worker_threads';
import { initBackend } from '../../../src/core/model/backend';
import type { TokenBatch } from '../../../src/core/model/batch';
import type { EncoderConfig, LoraConfig } from '../../../src/core/model/config';
import { DataParallel, pairBatchLoss, pairShard, runGradientWorker } from '../../../src/core/model/data-parallel';
import { Encoder } from '../../../src/core/model/encoder';
import { ScalarHead } from '../../../src/core/model/heads';
import { LoraAdapter } from '../../../src/core/model/lora';
import { pairwiseLoss } from '../../../src/core/model/loss';
import { plainReward } from '../../../src/core/model/plain-forward';
import { tf } from '../../../src/core/model/tf';
import type { Scalar, Variable } from '../../../src/core/model/tf';

const NO_DROPOUT: EncoderConfig = {
  vocabSize: 40,
  hidden: 32,
  layers: 2,
  heads: 4,
  intermediate: 64,
  maxPositions: 24,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  hiddenDropout: 0,
  attentionDropout: 0,
};
const WITH_DROPOUT: EncoderConfig = { ...NO_DROPOUT, hiddenDropout: 0.1, attentionDropout: 0.1 };
const LORA: LoraConfig = { r: 4, alpha: 8, dropout: 0.05, targets: ['query', 'value'] };
const LORA_NO_DROPOUT: LoraConfig = { ...LORA, dropout: 0 };

/** P pairs, winners then losers, of random lengths (so masks and padding matter). */
function pairBatch(P: number, T: number, seed: number): TokenBatch {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const B = 2 * P;
  const ids = new Int32Array(B * T);
  const typeIds = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = 3 + Math.floor(next() * (T - 2));
    for (let t = 0; t < len; t++) {
      ids[b * T + t] = 1 + Math.floor(next() * 39);
      typeIds[b * T + t] = t < 2 ? 0 : 1;
      mask[b * T + t] = 1;
    }
  }
  return { ids, typeIds, mask, batch: B, seqLen: T };
}

interface Parts {
  encoder: Encoder;
  head: ScalarHead;
  adapter?: LoraAdapter;
}

function build(config: EncoderConfig, lora: boolean): Parts {
  const encoder = Encoder.create(config, 11);
  const head = ScalarHead.create(config.hidden, 12);
  if (!lora) return { encoder, head };
  encoder.setTrainable(false);
  const adapter = LoraAdapter.create(config, config.hiddenDropout ? LORA : LORA_NO_DROPOUT, 13);
  // peft starts B at zero, which would make every A gradient zero and the comparison of A vacuous.
  tf.tidy(() => adapter.variables().forEach((v, i) => v.shape[1] === LORA.r && v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 14 + i))));
  return { encoder, head, adapter };
}

function trainable(p: Parts): Variable[] {
  return [...(p.adapter ? p.adapter.variables() : p.encoder.variables()), ...p.head.variables()];
}

function lossAndGrads(p: Parts, batch: TokenBatch, seed: number, plain: boolean): { loss: number; grads: Float32Array[] } {
  const vars = trainable(p);
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      if (!plain) return pairBatchLoss(p, batch, seed);
      const r = plainReward(p.encoder, p.head, batch, { adapter: p.adapter, training: true, seed });
      return pairwiseLoss(r.slice(0, batch.batch / 2), r.slice(batch.batch / 2, batch.batch / 2));
    }, vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
  });
}

/**
 * Largest |a − b| relative to the largest |b| of the same gradient (gradients span orders of magnitude),
 * floored at `floor`: the key bias's gradient is zero in exact arithmetic (softmax ignores a constant added to
 * every score), so both paths give rounding noise there and only an absolute bound means anything.
 */
function relErr(a: Float32Array, b: Float32Array, floor = 1e-12): number {
  let err = 0;
  let scale = floor;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

function maxAbs(xs: Float32Array[]): number {
  let m = 0;
  for (const x of xs) for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

function assertClose(fast: { loss: number; grads: Float32Array[] }, plain: { loss: number; grads: Float32Array[] }, names: string[], tolerance = 1e-4): void {
  assert.ok(Math.abs(fast.loss - plain.loss) < 1e-5, `loss ${fast.loss} vs plain ${plain.loss}`);
  const floor = 1e-3 * maxAbs(plain.grads);
  let nonZero = 0;
  fast.grads.forEach((g, i) => {
    const e = relErr(g, plain.grads[i], floor);
    assert.ok(e < tolerance, `${names[i]}: relative error ${e}`);
    if (plain.grads[i].some((x) => x !== 0)) nonZero++;
  });
  // Guards the comparison itself: gradients that are all zero would agree whatever the code does.
  assert.ok(nonZero >= fast.grads.length - 1, `only ${nonZero} of ${fast.grads.length} gradients are non-zero`);
}

if (!isMainThread) {
  void runGradientWorker();
} else {
  void describe('fast training path vs stock tfjs (wasm)', () => {
    before(async () => {
      await initBackend('wasm');
    });

    void test('in-heap Slice, Unpack and SplitV return the values stock slicing defines', () => {
      const x = tf.tensor(
        Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i),
        [2, 3, 4, 5],
      );
      const at = (i: number, j: number, k: number, l: number): number => ((i * 3 + j) * 4 + k) * 5 + l;
      const box = tf.slice(x, [1, 0, 1, 2], [1, 3, 2, 2]).dataSync();
      const want: number[] = [];
      for (let j = 0; j < 3; j++) for (let k = 1; k < 3; k++) for (let l = 2; l < 4; l++) want.push(at(1, j, k, l));
      assert.deepEqual([...box], want);
      assert.deepEqual(
        [...tf.slice(x, [0, 2], [2, 1]).dataSync()],
        [...Array(2).keys()].flatMap((i) => [...Array(20).keys()].map((r) => at(i, 2, 0, 0) + r)),
      );
      const parts = tf.unstack(x, 2);
      assert.equal(parts.length, 4);
      assert.deepEqual(parts[3].shape, [2, 3, 5]);
      assert.equal(parts[3].dataSync()[6], at(0, 1, 3, 1));
      const [a, b] = tf.split(x, [1, 4], 3);
      assert.deepEqual(b.shape, [2, 3, 4, 4]);
      assert.equal(a.dataSync()[5], at(0, 1, 1, 0));
      assert.equal(b.dataSync()[5], at(0, 0, 1, 2));
      const c = tf.clone(x);
      x.dispose();
      assert.equal(c.dataSync()[7], 7, 'a shared Identity buffer outlives the tensor it came from');
      tf.dispose([c, a, b, ...parts]);
    });

    for (const lora of [true, false]) {
      for (const [label, config] of [
        ['no dropout', NO_DROPOUT],
        ['dropout', WITH_DROPOUT],
      ] as const) {
        void test(`${lora ? 'LoRA' : 'full fine-tuning'}, ${label}: loss and gradients equal stock tfjs within 1e-4`, () => {
          const p = build(config, lora);
          const batch = pairBatch(3, 20, 5);
          const names = [...(p.adapter ? p.adapter.named() : p.encoder.named()).keys(), 'head.weight', 'head.bias'];
          const before = tf.memory().numTensors;
          const fast = lossAndGrads(p, batch, 7, false);
          assert.equal(tf.memory().numTensors, before, 'the fast path leaks no tensors');
          assertClose(fast, lossAndGrads(p, batch, 7, true), names);
          // Another dropout seed must change the loss, or the dropout comparison above proves nothing.
          if (label === 'dropout') assert.notEqual(lossAndGrads(p, batch, 8, false).loss, fast.loss);
        });
      }
    }

    void test('pair shards weighted by their size sum to the full batch gradient', () => {
      const p = build(NO_DROPOUT, true);
      const batch = pairBatch(5, 20, 9);
      const full = lossAndGrads(p, batch, 0, false);
      const vars = trainable(p);
      const sum = vars.map((v) => new Float32Array(v.size));
      let loss = 0;
      for (const [from, to] of [
        [0, 2],
        [2, 5],
      ]) {
        const shard = pairShard(batch, from, to);
        assert.ok(shard.seqLen <= batch.seqLen);
        const part = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.mul<Scalar>(pairBatchLoss(p, shard, 0), (to - from) / 5), vars);
          return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync()) };
        });
        loss += part.loss;
        part.grads.forEach((g, i) => g.forEach((x, j) => (sum[i][j] += x)));
      }
      assertClose(
        { loss, grads: sum },
        full,
        vars.map((v) => v.name),
      );
    });

    void test('a data-parallel step (main thread + 1 worker) updates the weights as one thread does', async () => {
      const single = build(NO_DROPOUT, true);
      const parallel = build(NO_DROPOUT, true);
      const batch = pairBatch(4, 20, 3);
      // Plain SGD: the update is −rate·gradient (Adam's first step would hide its size); a large rate keeps the
      // update far above the rounding of weight − start.
      const RATE = 1000;
      const sgd = tf.train.sgd(RATE);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => pairBatchLoss(single, batch, 0), trainable(single));
        sgd.applyGradients(grads);
      });
      const dp = await DataParallel.start({ script: __filename, workers: 1, ...parallel });
      let correct = -1;
      try {
        const r = await dp.step(batch, 0, tf.train.sgd(RATE));
        assert.equal(r.pairs, 4);
        correct = r.correct;
      } finally {
        await dp.close();
      }
      const ref = build(NO_DROPOUT, true); // the weights before the step, which the step's rewards came from
      const rw = plainReward(ref.encoder, ref.head, batch, { adapter: ref.adapter }).dataSync();
      let want = 0;
      for (let i = 0; i < 4; i++) if (rw[i] > rw[i + 4]) want++;
      assert.ok(want > 0 && want < 4, `the batch must mix right and wrong pairs for the count to mean anything (${want} of 4 right)`);
      assert.equal(correct, want, 'pairs ordered right, counted over both shares');
      const a = trainable(single).map((v) => v.dataSync() as Float32Array);
      const b = trainable(parallel).map((v) => v.dataSync() as Float32Array);
      const start = trainable(build(NO_DROPOUT, true)).map((v) => v.dataSync() as Float32Array);
      const moved = a.map((w, i) => w.map((x, j) => x - start[i][j]));
      const movedDp = b.map((w, i) => w.map((x, j) => x - start[i][j]));
      // Each share is trimmed to its own longest sequence, so its products run over other lengths and round
      // differently: the bound is float noise on the small head-bias gradient, not a different result.
      assertClose({ loss: 0, grads: movedDp }, { loss: 0, grads: moved }, [...single.adapter!.named().keys(), 'head.weight', 'head.bias'], 1e-3);
    });
  });
}
