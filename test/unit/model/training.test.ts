import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenBatch } from '../../../src/core/model/batch';
import { initBackend } from '../../../src/core/model/backend';
import type { EncoderConfig } from '../../../src/core/model/config';
import { PRESETS } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { MlpHead, ScalarHead } from '../../../src/core/model/heads';
import { LoraAdapter } from '../../../src/core/model/lora';
import { crossEntropy, pairAccuracy, pairwiseLoss } from '../../../src/core/model/loss';
import { tf } from '../../../src/core/model/tf';
import type { Scalar, Variable } from '../../../src/core/model/tf';

const config: EncoderConfig = { ...PRESETS.tiny.encoder, vocabSize: 30, maxPositions: 16 };
const MARK = 7; // responses holding this token are preferred

/** P pairs (winner rows first, then loser rows): same context, the winner's response holds MARK. */
function preferenceBatch(P: number, T: number, seed: number): TokenBatch {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const B = 2 * P;
  const ids = new Int32Array(B * T);
  const typeIds = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  const token = () => {
    let t = 0;
    while (t < 1 || t === MARK) t = 1 + Math.floor(next() * 29);
    return t;
  };
  for (let p = 0; p < P; p++) {
    const ctx = 2 + Math.floor(next() * 3);
    const resp = 3 + Math.floor(next() * (T - ctx - 3));
    const markAt = ctx + Math.floor(next() * resp);
    for (const [row, winner] of [
      [p, true],
      [P + p, false],
    ] as const) {
      for (let t = 0; t < ctx + resp; t++) {
        const at = row * T + t;
        ids[at] = winner && t === markAt ? MARK : token();
        typeIds[at] = t >= ctx ? 1 : 0;
        mask[at] = 1;
      }
    }
  }
  return { ids, typeIds, mask, batch: B, seqLen: T };
}

interface FitResult {
  losses: number[];
  accuracy: number;
  weights: Float32Array[];
  tensorsPerStep: number[];
}

function fit(steps: number, seed: number, data: TokenBatch): FitResult {
  const encoder = Encoder.create(config, seed);
  const head = ScalarHead.create(config.hidden, seed + 1);
  const vars: Variable[] = [...encoder.variables(), ...head.variables()];
  const optimizer = tf.train.adam(3e-3);
  const P = data.batch / 2;
  const losses: number[] = [];
  const tensorsPerStep: number[] = [];
  for (let step = 0; step < steps; step++) {
    const cost = optimizer.minimize(
      () => {
        const r = head.forward(encoder.forward(data, { training: true, seed: seed * 1000 + step }).pooled); // [2P]
        return pairwiseLoss(r.slice(0, P), r.slice(P, P));
      },
      true,
      vars,
    ) as Scalar;
    losses.push(cost.dataSync()[0]);
    cost.dispose();
    tensorsPerStep.push(tf.memory().numTensors);
  }
  const r = tf.tidy(() => head.forward(encoder.forward(data).pooled).dataSync() as Float32Array);
  const accuracy = pairAccuracy(r.slice(0, P), r.slice(P));
  const weights = vars.map((v) => v.dataSync() as Float32Array);
  optimizer.dispose();
  encoder.dispose();
  head.dispose();
  return { losses, accuracy, weights, tensorsPerStep };
}

void describe('training on the wasm backend', () => {
  void test('an encoder + scalar head learns "responses with the marked token win" to >90% train accuracy; no tensor leaks', async () => {
    await initBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const data = preferenceBatch(16, 16, 5);
    const startTensors = tf.memory().numTensors;
    const res = fit(40, 1, data);
    assert.ok(res.accuracy > 0.9, `train accuracy ${res.accuracy}, losses ${res.losses.map((l) => l.toFixed(3)).join(' ')}`);
    assert.ok(res.losses.at(-1)! < res.losses[0], 'loss did not fall');
    // Adam makes its moment variables on the first step; after that a step must not leave tensors behind.
    assert.equal(res.tensorsPerStep.at(-1), res.tensorsPerStep[1], `tensors per step: ${res.tensorsPerStep.join(' ')}`);
    assert.equal(tf.memory().numTensors, startTensors, 'tensors left after disposing the model and optimiser');
  });

  void test('the same seed gives identical weights and losses; another seed does not', async () => {
    await initBackend('wasm');
    const data = preferenceBatch(4, 12, 9);
    const a = fit(4, 3, data);
    const b = fit(4, 3, data);
    const c = fit(4, 4, data);
    assert.deepEqual(a.losses, b.losses);
    for (let i = 0; i < a.weights.length; i++) assert.deepEqual(a.weights[i], b.weights[i]);
    assert.notDeepEqual(a.losses, c.losses);
  });

  void test('wasm and cpu gradients of encoder + LoRA + head agree within 1e-5 (including the embedding gather)', async () => {
    const data = preferenceBatch(3, 10, 2);
    const grads = async (backend: 'wasm' | 'cpu') => {
      await initBackend(backend);
      assert.equal(tf.getBackend(), backend);
      const encoder = Encoder.create({ ...config, hiddenAct: 'gelu_new' }, 11);
      const lora = LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value'] }, 12);
      for (const v of lora.variables()) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 13));
      const head = MlpHead.create(config.hidden, 8, 14);
      const vars = [...encoder.variables(), ...lora.variables(), ...head.variables()];
      const { value, grads: g } = tf.variableGrads(() => {
        const r = head.forward(encoder.forward(data, { adapter: lora, training: true, seed: 5 }).pooled);
        return pairwiseLoss(r.slice(0, 3), r.slice(3, 3));
      }, vars);
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => g[v.name].dataSync() as Float32Array) };
      tf.dispose([value, ...Object.values(g)]);
      [encoder, lora, head].forEach((x) => x.dispose());
      return out;
    };
    const w = await grads('wasm');
    const c = await grads('cpu');
    await initBackend('wasm');
    assert.ok(Math.abs(w.loss - c.loss) < 1e-6, `loss ${w.loss} vs ${c.loss}`);
    let worst = 0;
    let largest = 0;
    for (let i = 0; i < w.grads.length; i++) {
      for (let j = 0; j < w.grads[i].length; j++) {
        worst = Math.max(worst, Math.abs(w.grads[i][j] - c.grads[i][j]));
        largest = Math.max(largest, Math.abs(c.grads[i][j]));
      }
    }
    assert.ok(largest > 1e-3, `gradients are too small to compare (${largest})`);
    assert.ok(worst < 1e-5, `max |wasm − cpu| gradient difference ${worst}`);
  });

  void test('losses: pairwise loss is stable for large margins; cross-entropy; ties count as wrong', async () => {
    await initBackend('wasm');
    const [big, small, ce] = tf.tidy(() => [
      pairwiseLoss(tf.tensor1d([100, 0]), tf.tensor1d([0, 100])).dataSync()[0],
      pairwiseLoss(tf.tensor1d([0.7]), tf.tensor1d([0.2])).dataSync()[0],
      crossEntropy(
        tf.tensor2d([
          [2, 0, -1],
          [0, 0, 0],
        ]),
        Int32Array.from([0, 2]),
      ).dataSync()[0],
    ]);
    assert.ok(Math.abs(big - 50) < 1e-4, `${big}`); // (log(1+e^-100) + log(1+e^100)) / 2
    assert.ok(Math.abs(small - Math.log1p(Math.exp(-0.5))) < 1e-6);
    const lse = Math.log(Math.exp(2) + 1 + Math.exp(-1));
    assert.ok(Math.abs(ce - (lse - 2 + Math.log(3)) / 2) < 1e-5);
    assert.equal(pairAccuracy(Float32Array.from([1, 0.5, 0.2]), Float32Array.from([0, 0.5, 0.3])), 1 / 3);
    assert.ok(Number.isNaN(pairAccuracy(new Float32Array(0), new Float32Array(0))));
    assert.throws(() => crossEntropy(tf.zeros([1, 2]), Int32Array.from([2])), /label 2 is outside 0\.\.1/);
  });
});
