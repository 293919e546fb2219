import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportRun } from '../../../src/core/export/export';
import { readManifest } from '../../../src/core/export/manifest';
import { initBackend } from '../../../src/core/model/backend';
import type { EncoderConfig, LoraConfig } from '../../../src/core/model/config';
import { PRESETS, encoderOnly } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { Classifier, MlpHead, ScalarHead } from '../../../src/core/model/heads';
import { normal, subSeed } from '../../../src/core/model/init';
import { LoraAdapter } from '../../../src/core/model/lora';
import type { NamedArray } from '../../../src/core/model/safetensors';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { VocabMap } from '../../../src/core/model/vocab';
import type { PreferenceData } from '../../../src/core/training/data';
import { loadPreferenceData } from '../../../src/core/training/data';
import type { RunModel } from '../../../src/core/model/dmoerm';
import { saveParts } from '../../../src/core/training/parts';
import { RunFolder } from '../../../src/core/training/run-folder';
import { RunScorer } from '../../../src/core/training/scorer';
import type { SequenceSource } from '../../../src/core/training/tasks';
import { embedSequences } from '../../../src/core/training/tasks';
import { OrtScorer } from '../../../src/core/scoring/session';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { sequenceSource } from '../../../src/core/training/tasks';

/**
 * Every shape a run can take, on seeded random weights (no training, so each case costs milliseconds):
 * the activations, ensembles' aggregations, a router without a classifier (one category), a category
 * without an inner model, one without Phase 3. Each export must score as RunScorer does.
 */

const dir = mkdtempSync(join(tmpdir(), 'rl-onnx-branches-'));
const tokenizer = TextTokenizer.default();
const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['query', 'key', 'value'] };
let data: PreferenceData;
let vocab: VocabMap;

function random(shape: number[], std: number, name: string): NamedArray {
  return {
    shape,
    data: normal(
      shape.reduce((a, b) => a * b, 1),
      std,
      subSeed(17, name),
    ),
  };
}

/** Heads with weights large enough that rewards spread over (0, 1), so a wrong graph cannot pass by saturating. */
function scalarHead(H: number, name: string): ScalarHead {
  return ScalarHead.fromNamed(
    new Map([
      ['weight', random([1, H], 1, `${name}.w`)],
      ['bias', random([1], 0.1, `${name}.b`)],
    ]),
  );
}

function adapter(c: EncoderConfig, name: string): LoraAdapter {
  const named = new Map<string, NamedArray>();
  for (let i = 0; i < c.layers; i++) {
    for (const t of lora.targets) {
      named.set(`encoder.layer.${i}.attention.self.${t}.lora_A.weight`, random([lora.r, c.hidden], 0.2, `${name}.${i}.${t}.A`));
      named.set(`encoder.layer.${i}.attention.self.${t}.lora_B.weight`, random([c.hidden, lora.r], 0.2, `${name}.${i}.${t}.B`));
    }
  }
  return LoraAdapter.fromNamed(c, lora, named);
}

function sourceOf(): SequenceSource {
  return sequenceSource(data, vocab, tokenizer, 8);
}

/** A run folder as training leaves it, with the components `model` names made up from random weights. */
function makeRun(name: string, model: RunModel): string {
  const runDir = join(dir, name);
  const run = RunFolder.create(runDir, { method: model.method, name });
  const c = encoderOnly(model.encoder, 'test');
  const H = c.hidden;
  const save = (component: string, parts: Parameters<typeof saveParts>[1]): void => saveParts(run.checkpointPath(component), parts, { component });
  const encoderPart = (component: string): void => {
    const encoder = Encoder.create(c, subSeed(5, component));
    save(component, { encoder, head: scalarHead(H, component) });
    encoder.dispose();
  };
  const base = Encoder.create(c, subSeed(5, model.base));
  save(model.base, { encoder: base, head: scalarHead(H, model.base) });
  if (model.router?.component) {
    // Random encoders embed every text nearly alike: centre the classifier on the data's mean embedding
    // so that the records spread over the categories and every branch of the graph is exercised.
    const k = model.router.categories.length;
    const seqs = data.records.map((r) => ({ ids: r.router, typeIds: new Int32Array(r.router.length) }));
    const z = embedSequences(sourceOf(), seqs, (b) => base.forward(b).pooled);
    const mean = new Float64Array(H);
    for (const row of z) row.forEach((x, i) => (mean[i] += x / z.length));
    const w = random([k, H], 60, 'router.w');
    const bias = Float32Array.from({ length: k }, (_, j) => -w.data.subarray(j * H, (j + 1) * H).reduce((acc, x, i) => acc + x * mean[i], 0));
    save(model.router.component, {
      classifier: Classifier.fromNamed(
        new Map([
          ['weight', w],
          ['bias', { shape: [k], data: bias }],
        ]),
      ),
    });
  }
  base.dispose();
  for (const inner of Object.values(model.inner ?? {})) {
    encoderPart(inner.phase1);
    for (const e of inner.experts) save(e.component, { lora: adapter(c, e.component), head: scalarHead(H, e.component) });
    if (inner.phase3) {
      const inDim = H * inner.experts.length;
      const h = model.mlpHidden;
      save(inner.phase3, {
        mlp: MlpHead.fromNamed(
          new Map([
            ['w0', random([h, inDim], 0.3, 'w0')],
            ['b0', random([h], 0.1, 'b0')],
            ['prelu', random([h], 0.25, 'prelu')],
            ['w1', random([1, h], 0.5, 'w1')],
            ['b1', random([1], 0.1, 'b1')],
          ]),
        ),
      });
    }
  }
  for (const m of model.ensemble?.members ?? []) save(m, { lora: adapter(c, m), head: scalarHead(H, m) });
  writeFileSync(join(runDir, 'model.json'), JSON.stringify(model));
  writeFileSync(join(runDir, 'vocab.json'), JSON.stringify(vocab.toJSON()));
  copyFileSync(tokenizer.file, join(runDir, 'tokenizer.json'));
  return runDir;
}

function modelOf(method: RunModel['method'], encoder: Partial<EncoderConfig>, extra: Partial<RunModel> = {}): RunModel {
  const preset = PRESETS.tiny;
  return {
    format: 'rewardlens-model',
    version: 1,
    method,
    encoder: { ...preset.encoder, layers: 1, vocabSize: vocab.size, ...encoder },
    lora,
    maxLen: preset.maxLen,
    routerMaxLen: preset.routerMaxLen,
    mlpHidden: 8,
    base: 'base',
    ...extra,
  };
}

/** Exports the run, scores the data both ways, and returns the largest differences. */
async function compare(name: string, model: RunModel): Promise<{ reward: number; probs: number; spread: number; categories: Set<string | undefined> }> {
  const runDir = makeRun(name, model);
  const onnx = join(dir, `${name}.onnx`);
  exportRun(runDir, onnx);
  const src = sourceOf();
  const run = RunFolder.open(runDir);
  const want = RunScorer.load(model, (c) => run.checkpointPath(c)).score(
    src,
    data.records.map((_, i) => i),
  );
  const scorer = new OrtScorer(onnx, { batchSize: 10 });
  try {
    const got = await scorer.score(data.records);
    let reward = 0;
    let probs = 0;
    const all: number[] = [];
    got.forEach((s, p) => {
      const w = want.get(p)!;
      s.rewards.forEach((x, j) => (reward = Math.max(reward, Math.abs(x - w.rewards[j]))));
      all.push(...s.rewards);
      if (w.route && model.router) {
        assert.equal(s.category, w.route.category);
        s.probabilities!.forEach((x, j) => (probs = Math.max(probs, Math.abs(x - w.route!.probabilities[j]))));
      }
    });
    return { reward, probs, spread: Math.max(...all) - Math.min(...all), categories: new Set(got.map((s) => s.category)) };
  } finally {
    await scorer.dispose();
  }
}

void describe('ONNX export of every run shape (random weights)', () => {
  before(async () => {
    await initBackend('wasm');
    const file = join(dir, 'data.jsonl');
    writeSyntheticPreferences(file, 24, 5);
    data = await loadPreferenceData(file, tokenizer, { maxLen: PRESETS.tiny.maxLen, routerMaxLen: PRESETS.tiny.routerMaxLen });
    const used = new Set<number>();
    for (const r of data.records) for (const s of [r.router, ...r.responses.map((x) => x.ids)]) for (const id of s) used.add(id);
    vocab = VocabMap.build(tokenizer, used);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const act of ['gelu_new', 'relu'] as const) {
    void test(`single with ${act}`, async () => {
      const r = await compare(`single-${act}`, modelOf('single', { hiddenAct: act }));
      assert.ok(r.reward < 1e-4 && r.spread > 0.01, JSON.stringify(r));
    });
  }

  for (const how of ['mean', 'wco'] as const) {
    void test(`${how} ensemble of three LoRA members (query, key and value adapted)`, async () => {
      const r = await compare(how, modelOf(how, {}, { ensemble: { members: ['member-0', 'member-1', 'member-2'], aggregation: how, lambda: 0.5 } }));
      assert.ok(r.reward < 1e-4 && r.spread > 0.01, JSON.stringify(r));
    });
  }

  void test('dmoerm with one category: no classifier, everything routed to it; its Phase-1 head scores (no Phase 3)', async () => {
    const model = modelOf(
      'dmoerm',
      {},
      {
        router: { component: '', categories: ['only'] },
        inner: { only: { phase1: 'phase1-only', experts: [{ point: 'correctness', component: 'phase2-only-correctness' }] } },
      },
    );
    const r = await compare('one-category', model);
    assert.ok(r.reward < 1e-4 && r.spread > 0.01, JSON.stringify(r));
    assert.deepEqual([...r.categories], ['only']);
    assert.deepEqual(
      readManifest(join(dir, 'one-category.onnx')).capabilities.map((c) => c.point),
      ['correctness'],
    );
  });

  void test('dmoerm with three categories: one with Phase 3, one without experts, one scored by the general RM', async () => {
    const model = modelOf(
      'dmoerm',
      {},
      {
        router: { component: 'router', categories: ['a', 'b', 'c'] },
        inner: {
          a: {
            phase1: 'phase1-a',
            experts: [
              { point: 'logic', component: 'phase2-a-logic' },
              { point: 'correctness', component: 'phase2-a-correctness' },
            ],
            phase3: 'phase3-a',
          },
          b: { phase1: 'phase1-b', experts: [] },
        },
      },
    );
    const r = await compare('three-categories', model);
    assert.ok(r.reward < 1e-4 && r.probs < 1e-4 && r.spread > 0.01, JSON.stringify(r));
    assert.equal(r.categories.size, 3, `routed to ${[...r.categories].join(', ')}`);
  });
});
