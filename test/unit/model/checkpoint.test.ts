import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenBatch } from '../../../src/core/model/batch';
import { initBackend } from '../../../src/core/model/backend';
import { loadCheckpoint, saveCheckpoint } from '../../../src/core/model/checkpoint';
import { PRESETS } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { Classifier, MlpHead, ScalarHead } from '../../../src/core/model/heads';
import { LoraAdapter } from '../../../src/core/model/lora';
import { tf } from '../../../src/core/model/tf';

const config = { ...PRESETS.tiny.encoder, vocabSize: 40, maxPositions: 16 };
const batch: TokenBatch = {
  ids: Int32Array.from([2, 5, 9, 3, 0, 0, 2, 7, 7, 7, 11, 3]),
  typeIds: Int32Array.from([0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]),
  mask: Int32Array.from([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]),
  batch: 2,
  seqLen: 6,
};

void describe('checkpoints', () => {
  before(async () => {
    await initBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  void test('save → load → identical outputs of encoder, adapter and heads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-ckpt-'));
    try {
      const encoder = Encoder.create(config, 1);
      const lora = LoraAdapter.create(config, PRESETS.tiny.lora, 2);
      for (const v of lora.variables()) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 3));
      const head = ScalarHead.create(64, 4);
      const mlp = MlpHead.create(3, 8, 5);
      const router = Classifier.create(64, 6, 6);
      const file = join(dir, 'expert-0.safetensors');
      saveCheckpoint(file, { encoder, lora, head, mlp, router }, { step: 42, preset: 'tiny', format: 'ignored' });
      assert.deepEqual(readdirSync(dir).sort(), ['expert-0.json', 'expert-0.safetensors']);
      const manifest = JSON.parse(readFileSync(join(dir, 'expert-0.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(manifest.format, 'rewardlens-checkpoint');
      assert.equal(manifest.version, 1);
      assert.equal(manifest.step, 42);

      const loaded = loadCheckpoint(file);
      assert.equal(loaded.manifest.preset, 'tiny');
      assert.deepEqual(Object.keys(loaded.parts), ['encoder', 'lora', 'head', 'mlp', 'router']);
      const encoder2 = Encoder.fromNamed(config, loaded.parts.encoder);
      const lora2 = LoraAdapter.fromNamed(config, PRESETS.tiny.lora, loaded.parts.lora);
      const head2 = ScalarHead.fromNamed(loaded.parts.head);
      const mlp2 = MlpHead.fromNamed(loaded.parts.mlp);
      const router2 = Classifier.fromNamed(loaded.parts.router);

      const run = (e: Encoder, l: LoraAdapter, h: ScalarHead, m: MlpHead, r: Classifier) =>
        tf.tidy(() => {
          const out = e.forward(batch, { adapter: l });
          return [h.forward(out.pooled), m.forward(out.pooled.slice([0, 0], [2, 3])), r.logits(out.pooled), out.hidden].map(
            (t) => t.dataSync() as Float32Array,
          );
        });
      const before = run(encoder, lora, head, mlp, router);
      const after = run(encoder2, lora2, head2, mlp2, router2);
      for (let i = 0; i < before.length; i++) assert.deepEqual(after[i], before[i]);
      [encoder, lora, head, mlp, router, encoder2, lora2, head2, mlp2, router2].forEach((x) => x.dispose());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('a missing or foreign manifest is a readable error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-ckpt-'));
    try {
      const file = join(dir, 'x.safetensors');
      assert.throws(() => loadCheckpoint(file), /x\.json: checkpoint manifest not found/);
      writeFileSync(join(dir, 'x.json'), JSON.stringify({ format: 'other', version: 1, parts: {} }));
      assert.throws(() => loadCheckpoint(file), /field 'format' is "other"/);
      assert.throws(() => saveCheckpoint(join(dir, 'x.bin'), {}, {}), /must end in \.safetensors/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
