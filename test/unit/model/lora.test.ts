import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenBatch } from '../../../src/core/model/batch';
import { initBackend } from '../../../src/core/model/backend';
import type { EncoderConfig } from '../../../src/core/model/config';
import { PRESETS } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { LoraAdapter } from '../../../src/core/model/lora';
import { tf } from '../../../src/core/model/tf';

const config: EncoderConfig = { ...PRESETS.tiny.encoder, vocabSize: 50, maxPositions: 32 };

function randomBatch(B: number, T: number, seed: number): TokenBatch {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const ids = new Int32Array(B * T);
  const typeIds = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = 3 + Math.floor(next() * (T - 3));
    for (let t = 0; t < len; t++) {
      ids[b * T + t] = 1 + Math.floor(next() * 49);
      typeIds[b * T + t] = t > len / 2 ? 1 : 0;
      mask[b * T + t] = 1;
    }
  }
  return { ids, typeIds, mask, batch: B, seqLen: T };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Gives every lora_B a random value, so the adapter is not a no-op. */
function randomiseB(adapter: LoraAdapter, seed: number): void {
  for (const [name, v] of adapter.named()) if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', seed));
}

void describe('LoRA adapter', () => {
  before(async () => {
    await initBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  void test('peft names and shapes; B starts at zero so the output equals the base exactly', () => {
    const enc = Encoder.create(config, 1);
    const lora = LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'] }, 2);
    const names = [...lora.named().keys()];
    assert.equal(names.length, config.layers * 2 * 2);
    assert.deepEqual(lora.named().get('encoder.layer.1.attention.self.value.lora_A.weight')!.shape, [4, 64]);
    assert.deepEqual(lora.named().get('encoder.layer.1.attention.self.value.lora_B.weight')!.shape, [64, 4]);
    const batch = randomBatch(3, 16, 7);
    const base = enc.forward(batch);
    const adapted = enc.forward(batch, { adapter: lora });
    assert.deepEqual(adapted.hidden.dataSync(), base.hidden.dataSync());
    tf.dispose([base.hidden, base.pooled, base.cls, adapted.hidden, adapted.pooled, adapted.cls]);
    enc.dispose();
    lora.dispose();
  });

  void test('merge(encoder) gives the same output as forward with the adapter (1e-5)', () => {
    const enc = Encoder.create(config, 3);
    const lora = LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0.1, targets: ['query', 'key', 'value'] }, 4);
    randomiseB(lora, 5);
    const merged = lora.merge(enc);
    const batch = randomBatch(4, 20, 11);
    const a = enc.forward(batch, { adapter: lora });
    const m = merged.forward(batch);
    const base = enc.forward(batch);
    const diff = maxAbsDiff(a.hidden.dataSync() as Float32Array, m.hidden.dataSync() as Float32Array);
    assert.ok(diff < 1e-5, `merged vs adapter max |diff| ${diff}`);
    const moved = maxAbsDiff(a.hidden.dataSync() as Float32Array, base.hidden.dataSync() as Float32Array);
    assert.ok(moved > 1e-3, `the adapter changed the output by only ${moved}`);
    tf.dispose([a, m, base].flatMap((o) => [o.hidden, o.pooled, o.cls]));
    [enc, merged, lora].forEach((x) => x.dispose());
  });

  void test('LoRA dropout applies only when training, and is fixed by the seed', () => {
    const enc = Encoder.create({ ...config, hiddenDropout: 0, attentionDropout: 0 }, 3);
    const lora = LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0.5, targets: ['query', 'value'] }, 4);
    randomiseB(lora, 6);
    const batch = randomBatch(2, 12, 3);
    const evalOut = enc.forward(batch, { adapter: lora });
    const t1 = enc.forward(batch, { adapter: lora, training: true, seed: 9 });
    const t2 = enc.forward(batch, { adapter: lora, training: true, seed: 9 });
    const t3 = enc.forward(batch, { adapter: lora, training: true, seed: 10 });
    assert.deepEqual(t1.hidden.dataSync(), t2.hidden.dataSync());
    assert.ok(maxAbsDiff(t1.hidden.dataSync() as Float32Array, evalOut.hidden.dataSync() as Float32Array) > 1e-4);
    assert.ok(maxAbsDiff(t1.hidden.dataSync() as Float32Array, t3.hidden.dataSync() as Float32Array) > 1e-4);
    tf.dispose([evalOut, t1, t2, t3].flatMap((o) => [o.hidden, o.pooled, o.cls]));
    enc.dispose();
    lora.dispose();
  });

  void test('a frozen base gives LoRA the same gradients as a trainable one', () => {
    const enc = Encoder.create(config, 8);
    const lora = LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'] }, 9);
    randomiseB(lora, 7);
    const batch = randomBatch(3, 10, 5);
    const grads = () => {
      const { grads: g, value } = tf.variableGrads(() => enc.forward(batch, { adapter: lora }).pooled.square().mean(), lora.variables());
      value.dispose();
      return lora.variables().map((v) => g[v.name].dataSync() as Float32Array);
    };
    const trainable = grads();
    enc.setTrainable(false);
    const frozen = grads();
    for (let i = 0; i < trainable.length; i++) assert.ok(maxAbsDiff(trainable[i], frozen[i]) < 1e-7, `variable ${i}`);
    assert.ok(
      trainable.some((g) => g.some((x) => Math.abs(x) > 1e-6)),
      'gradients are all zero',
    );
    enc.dispose();
    lora.dispose();
  });

  void test('readable errors for bad configurations', () => {
    assert.throws(() => LoraAdapter.create(config, { r: 0, alpha: 8, dropout: 0, targets: ['query'] }, 1), /rank r must be a positive integer/);
    assert.throws(() => LoraAdapter.create(config, { r: 4, alpha: 8, dropout: 0, targets: ['dense' as 'query'] }, 1), /subset of query, key, value/);
  });
});
