import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportRun } from '../../../src/core/export/export';
import { manifestFileFor } from '../../../src/core/export/manifest';
import { initBackend } from '../../../src/core/model/backend';
import { NonFiniteWeightsError } from '../../../src/core/model/checkpoint';
import { PRESETS, encoderOnly } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { ScalarHead } from '../../../src/core/model/heads';
import { normal } from '../../../src/core/model/init';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { VocabMap } from '../../../src/core/model/vocab';
import { NonFiniteScoreError, OrtScorer } from '../../../src/core/scoring/session';
import type { PreferenceData } from '../../../src/core/training/data';
import { loadPreferenceData } from '../../../src/core/training/data';
import type { RunModel } from '../../../src/core/model/dmoerm';
import { saveParts } from '../../../src/core/training/parts';
import { RunFolder } from '../../../src/core/training/run-folder';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';

/** Issue 12 item 9: export and scoring refuse weights that are not finite, instead of scoring NaN. */

const dir = mkdtempSync(join(tmpdir(), 'rl-non-finite-'));
const tokenizer = TextTokenizer.default();
/** The head's bias: a value whose float32 bytes occur once in the exported graph, so a test can find them. */
const BIAS = 0.123456789;
let data: PreferenceData;
let vocab: VocabMap;

/** A single-model run folder as training leaves it, with random weights and the given head bias. */
function makeRun(name: string, bias: number): string {
  const runDir = join(dir, name);
  const run = RunFolder.create(runDir, { method: 'single', name });
  const model: RunModel = {
    format: 'rewardlens-model',
    version: 1,
    method: 'single',
    encoder: { ...PRESETS.tiny.encoder, layers: 1, vocabSize: vocab.size },
    lora: { r: 4, alpha: 8, dropout: 0, targets: ['query'] },
    maxLen: PRESETS.tiny.maxLen,
    routerMaxLen: PRESETS.tiny.routerMaxLen,
    mlpHidden: 8,
    base: 'base',
  };
  const H = model.encoder.hidden;
  const encoder = Encoder.create(encoderOnly(model.encoder, 'test'), 3);
  const head = ScalarHead.fromNamed(
    new Map([
      ['weight', { shape: [1, H], data: normal(H, 1, 4) }],
      ['bias', { shape: [1], data: Float32Array.of(bias) }],
    ]),
  );
  saveParts(run.checkpointPath('base'), { encoder, head }, { component: 'base' });
  encoder.dispose();
  writeFileSync(join(runDir, 'model.json'), JSON.stringify(model));
  writeFileSync(join(runDir, 'vocab.json'), JSON.stringify(vocab.toJSON()));
  copyFileSync(tokenizer.file, join(runDir, 'tokenizer.json'));
  return runDir;
}

void describe('non-finite weights', () => {
  before(async () => {
    await initBackend('wasm');
    const file = join(dir, 'data.jsonl');
    writeSyntheticPreferences(file, 6, 3);
    data = await loadPreferenceData(file, tokenizer, { maxLen: PRESETS.tiny.maxLen, routerMaxLen: PRESETS.tiny.routerMaxLen });
    const used = new Set<number>();
    for (const r of data.records) for (const s of [r.router, ...r.responses.map((x) => x.ids)]) for (const id of s) used.add(id);
    vocab = VocabMap.build(tokenizer, used);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('export refuses a checkpoint holding NaN, naming the tensor', () => {
    const runDir = makeRun('nan', Number.NaN);
    assert.throws(
      () => exportRun(runDir, join(dir, 'nan.onnx')),
      (e: unknown) => e instanceof NonFiniteWeightsError && /base\.safetensors: tensor 'head\/bias' holds NaN/.test(e.message),
    );
  });

  void it('scoring stops on a model whose rewards are NaN, naming the record', async () => {
    const onnx = join(dir, 'patched.onnx');
    exportRun(makeRun('finite', BIAS), onnx);
    const good = new OrtScorer(onnx);
    try {
      assert.ok((await good.score(data.records.slice(0, 1)))[0].rewards.every(Number.isFinite));
    } finally {
      await good.dispose();
    }
    // A graph whose head bias is NaN, made elsewhere with a manifest of its own (a file corrupted after export
    // is refused earlier, by its hash: cli-hardening.test.ts).
    const bytes = readFileSync(onnx);
    const needle = Buffer.from(Float32Array.of(BIAS).buffer);
    const at = bytes.indexOf(needle);
    assert.ok(at >= 0 && bytes.lastIndexOf(needle) === at, 'the bias occurs once');
    Buffer.from(Float32Array.of(Number.NaN).buffer).copy(bytes, at);
    writeFileSync(onnx, bytes);
    const manifest = manifestFileFor(onnx);
    writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), modelSha256: createHash('sha256').update(bytes).digest('hex') }));
    const bad = new OrtScorer(onnx);
    try {
      await assert.rejects(
        bad.score(data.records),
        (e: unknown) => e instanceof NonFiniteScoreError && /reward for record \w+ is NaN: its weights are not finite/.test(e.message),
      );
    } finally {
      await bad.dispose();
    }
  });
});
