import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenBatch } from '../../../src/core/model/batch';
import { initBackend } from '../../../src/core/model/backend';
import { loadBertFolder, loadPeftAdapter } from '../../../src/core/model/hf-import';
import { tf } from '../../../src/core/model/tf';

const FIXTURES = join(process.cwd(), 'test/fixtures/hf-reference');

interface Reference {
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
  last_hidden_state: number[][][];
  pooler_output: number[][];
  lora: { last_hidden_state: number[][][] };
}

const ref = JSON.parse(readFileSync(join(FIXTURES, 'tiny-bert-reference.json'), 'utf8')) as Reference;

function batchOf(r: Reference): TokenBatch {
  const B = r.input_ids.length;
  const T = r.input_ids[0].length;
  return {
    ids: Int32Array.from(r.input_ids.flat()),
    typeIds: Int32Array.from(r.token_type_ids.flat()),
    mask: Int32Array.from(r.attention_mask.flat()),
    batch: B,
    seqLen: T,
  };
}

function maxAbsDiff(actual: Float32Array | number[], expected: number[]): number {
  assert.equal(actual.length, expected.length, 'output size');
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}

void describe('Hugging Face parity (tiny-bert fixtures)', () => {
  before(async () => {
    const info = await initBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.tfBackend, 'wasm');
  });

  void test('BertModel last_hidden_state and pooler_output match transformers to 1e-4', () => {
    const bert = loadBertFolder(join(FIXTURES, 'tiny-bert'));
    assert.equal(bert.modelType, 'bert');
    assert.equal(bert.hasPooler, true);
    assert.ok(bert.tokenizerFile?.endsWith('tokenizer.json'));
    const out = bert.encoder.forward(batchOf(ref));
    assert.deepEqual(out.hidden.shape, [5, 48, 64]);
    const hiddenDiff = maxAbsDiff(out.hidden.dataSync() as Float32Array, ref.last_hidden_state.flat(2));
    const pooled = bert.encoder.pooler(out.cls);
    const poolerDiff = maxAbsDiff(pooled.dataSync() as Float32Array, ref.pooler_output.flat());
    assert.ok(hiddenDiff < 1e-4, `last_hidden_state max |diff| ${hiddenDiff}`);
    assert.ok(poolerDiff < 1e-4, `pooler_output max |diff| ${poolerDiff}`);
    tf.dispose([out.hidden, out.pooled, out.cls, pooled]);
    bert.encoder.dispose();
  });

  void test('peft LoRA adapter output matches peft to 1e-4, and differs from the base', () => {
    const bert = loadBertFolder(join(FIXTURES, 'tiny-bert'));
    const adapter = loadPeftAdapter(join(FIXTURES, 'tiny-bert-lora'), bert.config);
    assert.equal(adapter.config.r, 4);
    assert.equal(adapter.scale, 2);
    assert.deepEqual(adapter.config.targets, ['query', 'value']);
    const out = bert.encoder.forward(batchOf(ref), { adapter });
    const diff = maxAbsDiff(out.hidden.dataSync() as Float32Array, ref.lora.last_hidden_state.flat(2));
    assert.ok(diff < 1e-4, `lora last_hidden_state max |diff| ${diff}`);
    // the adapter must matter, or the comparison above proves nothing
    const baseDiff = maxAbsDiff(out.hidden.dataSync() as Float32Array, ref.last_hidden_state.flat(2));
    assert.ok(baseDiff > 1e-2, `adapter changed the output by only ${baseDiff}`);
    tf.dispose([out.hidden, out.pooled, out.cls]);
    adapter.dispose();
    bert.encoder.dispose();
  });

  void test('masked mean pooling averages the real tokens only', () => {
    const bert = loadBertFolder(join(FIXTURES, 'tiny-bert'));
    const out = bert.encoder.forward(batchOf(ref));
    const pooled = out.pooled.arraySync();
    const T = ref.input_ids[0].length;
    for (let b = 0; b < 5; b++) {
      const real = ref.attention_mask[b].reduce((a, x) => a + x, 0);
      for (const h of [0, 17, 63]) {
        let s = 0;
        for (let t = 0; t < T; t++) if (ref.attention_mask[b][t]) s += ref.last_hidden_state[b][t][h];
        assert.ok(Math.abs(pooled[b][h] - s / real) < 1e-4, `row ${b} unit ${h}`);
      }
    }
    tf.dispose([out.hidden, out.pooled, out.cls]);
    bert.encoder.dispose();
  });

  void test('readable errors for unsupported folders', () => {
    assert.throws(() => loadBertFolder(join(FIXTURES, 'no-such-model')), /config\.json: not found/);
  });
});
