import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenBatch } from '../../../src/core/model/batch';
import { initBackend } from '../../../src/core/model/backend';
import { PRESETS } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { bundledTf, tf, useTfNamespace } from '../../../src/core/model/tf';
import type { TfNamespace } from '../../../src/core/model/tf';

const config = { ...PRESETS.tiny.encoder, vocabSize: 20, maxPositions: 8 };

void describe('encoder and backend', () => {
  before(async () => {
    await initBackend('wasm');
  });

  void test('initBackend is idempotent and reports the backend in use', async () => {
    const a = await initBackend('wasm');
    const b = await initBackend('wasm');
    assert.deepEqual(a, b);
    assert.equal(tf.getBackend(), 'wasm');
  });

  void test('an explicit native backend that is not installed fails with a readable reason; auto falls back to wasm and says so', async () => {
    await assert.rejects(
      initBackend('tfjs-node-gpu', { nativeModulePaths: ['/nonexistent'] }),
      /tfjs-node-gpu is not installed: run 'RewardLens: Install GPU Training Backend'/,
    );
    await assert.rejects(initBackend('tfjs-node'), /tfjs-node is not installed/);
    const info = await initBackend('auto');
    assert.equal(info.backend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(info.note ?? '', /tfjs-node-gpu is not installed.*tfjs-node is not installed/);
  });

  void test('useTfNamespace swaps the namespace every module sees (live binding survives bundling)', () => {
    const other = { ...bundledTf() } as TfNamespace;
    useTfNamespace(other);
    try {
      assert.equal(tf, other);
    } finally {
      useTfNamespace(bundledTf());
    }
    assert.equal(tf, bundledTf());
  });

  void test('create is deterministic per seed and uses BERT initialisation', () => {
    const a = Encoder.create(config, 5);
    const b = Encoder.create(config, 5);
    const c = Encoder.create(config, 6);
    const word = (e: Encoder) => e.named().get('embeddings.word_embeddings.weight')!.dataSync() as Float32Array;
    assert.deepEqual(word(a), word(b));
    assert.notDeepEqual(word(a), word(c));
    const w = word(a);
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    assert.ok(Math.abs(std - 0.02) < 0.003, `embedding std ${std}`);
    assert.deepEqual([...(a.named().get('encoder.layer.0.output.LayerNorm.weight')!.dataSync() as Float32Array)], new Array(64).fill(1));
    assert.deepEqual(a.named().get('encoder.layer.1.intermediate.dense.weight')!.shape, [128, 64]);
    assert.equal(a.hasPooler, false);
    assert.throws(() => a.pooler(tf.zeros([1, 64])), /no pooler weights/);
    [a, b, c].forEach((e) => e.dispose());
  });

  void test('restrictVocab keeps the chosen rows; clone is independent of the original', () => {
    const enc = Encoder.create(config, 1);
    const keep = Int32Array.from([0, 3, 7, 19]);
    const small = enc.restrictVocab(keep);
    assert.equal(small.config.vocabSize, 4);
    const full = enc.named().get('embeddings.word_embeddings.weight')!.arraySync() as number[][];
    const rows = small.named().get('embeddings.word_embeddings.weight')!.arraySync() as number[][];
    keep.forEach((id, j) => assert.deepEqual(rows[j], full[id]));
    // the same sequence in both vocabularies gives the same output
    const batchOf = (ids: number[]): TokenBatch => ({
      ids: Int32Array.from(ids),
      typeIds: new Int32Array(4),
      mask: Int32Array.from([1, 1, 1, 1]),
      batch: 1,
      seqLen: 4,
    });
    const o1 = enc.forward(batchOf([3, 7, 19, 0]));
    const o2 = small.forward(batchOf([1, 2, 3, 0]));
    assert.deepEqual(o2.hidden.dataSync(), o1.hidden.dataSync());
    assert.throws(() => small.forward(batchOf([1, 2, 4, 0])), /id 4 at position 2 is outside the vocabulary \(size 4\)/);
    assert.throws(() => enc.restrictVocab(Int32Array.from([20])), /token id 20 is outside the vocabulary/);

    const copy = enc.clone();
    copy
      .named()
      .get('embeddings.LayerNorm.bias')!
      .assign(tf.ones([64]));
    assert.equal(enc.named().get('embeddings.LayerNorm.bias')!.dataSync()[0], 0);
    tf.dispose([o1.hidden, o1.pooled, o1.cls, o2.hidden, o2.pooled, o2.cls]);
    [enc, small, copy].forEach((e) => e.dispose());
  });

  void test('padding does not change the real tokens’ outputs; too-long batches are refused', () => {
    const enc = Encoder.create({ ...config, hiddenDropout: 0.1 }, 2);
    const short: TokenBatch = { ids: Int32Array.from([2, 5, 9]), typeIds: Int32Array.from([0, 1, 1]), mask: Int32Array.from([1, 1, 1]), batch: 1, seqLen: 3 };
    const padded: TokenBatch = {
      ids: Int32Array.from([2, 5, 9, 0, 0]),
      typeIds: Int32Array.from([0, 1, 1, 0, 0]),
      mask: Int32Array.from([1, 1, 1, 0, 0]),
      batch: 1,
      seqLen: 5,
    };
    const a = enc.forward(short);
    const b = enc.forward(padded);
    const real = b.hidden.slice([0, 0, 0], [1, 3, 64]);
    let worst = 0;
    const av = a.hidden.dataSync();
    const bv = real.dataSync();
    for (let i = 0; i < av.length; i++) worst = Math.max(worst, Math.abs(av[i] - bv[i]));
    assert.ok(worst < 1e-5, `padding changed real outputs by ${worst}`);
    const pd = a.pooled.dataSync();
    const pp = b.pooled.dataSync();
    for (let i = 0; i < pd.length; i++) assert.ok(Math.abs(pd[i] - pp[i]) < 1e-5);
    const long: TokenBatch = { ids: new Int32Array(9), typeIds: new Int32Array(9), mask: new Int32Array(9).fill(1), batch: 1, seqLen: 9 };
    assert.throws(() => enc.forward(long), /9 tokens per row exceed the encoder's 8 positions/);
    tf.dispose([a.hidden, a.pooled, a.cls, b.hidden, b.pooled, b.cls, real]);
    enc.dispose();
  });
});
