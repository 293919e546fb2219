import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportRun } from '../../../src/core/export/export';
import type { ExportManifest } from '../../../src/core/export/manifest';
import { readManifest } from '../../../src/core/export/manifest';
import { initBackend } from '../../../src/core/model/backend';
import { encoderOnly } from '../../../src/core/model/config';
import { Encoder } from '../../../src/core/model/encoder';
import { ScalarHead } from '../../../src/core/model/heads';
import { LoraAdapter } from '../../../src/core/model/lora';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import type { VocabMapJson } from '../../../src/core/model/vocab';
import { VocabMap } from '../../../src/core/model/vocab';
import type { PreferenceData } from '../../../src/core/training/data';
import { loadPreferenceData } from '../../../src/core/training/data';
import type { RunModel } from '../../../src/core/model/dmoerm';
import { RewardNet } from '../../../src/core/model/dmoerm';
import { loadParts } from '../../../src/core/training/parts';
import { RunFolder } from '../../../src/core/training/run-folder';
import type { RecordScore } from '../../../src/core/training/scorer';
import { RunScorer } from '../../../src/core/training/scorer';
import type { SequenceSource } from '../../../src/core/training/tasks';
import { embedSequences } from '../../../src/core/training/tasks';
import { train } from '../../../src/core/training/train';
import type { Method, TrainOptions } from '../../../src/core/training/types';
import { scoreFile } from '../../../src/core/scoring/score-file';
import { OrtScorer } from '../../../src/core/scoring/session';
import { writeLabelledSyntheticPreferences, writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { sequenceSource } from '../../../src/core/training/tasks';
import { PARITY_STEPS } from '../../support/tiny-model';

const TOLERANCE = 1e-4;

interface Fixture {
  run: string;
  model: RunModel;
  onnx: string;
  src: SequenceSource;
  reference: Map<number, RecordScore>;
}

const dir = mkdtempSync(join(tmpdir(), 'rl-onnx-'));
const fixtures = new Map<Method, Fixture>();
const testFile = join(dir, 'test.jsonl');

async function sourceFor(runDir: string, model: RunModel): Promise<SequenceSource> {
  const tokenizer = TextTokenizer.fromFile(join(runDir, 'tokenizer.json'));
  const vocab = VocabMap.fromJSON(JSON.parse(readFileSync(join(runDir, 'vocab.json'), 'utf8')) as VocabMapJson);
  const data: PreferenceData = await loadPreferenceData(testFile, tokenizer, { maxLen: model.maxLen, routerMaxLen: model.routerMaxLen });
  return sequenceSource(data, vocab, tokenizer, 16);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Every Phase-2 head's score per response in tfjs: σ(w_i z_i + b_i), z_i from Phase 1's encoder with expert i's LoRA. */
function referenceCapabilities(f: Fixture, category: string): Map<string, Float32Array[]> {
  const run = RunFolder.open(f.run);
  const inner = f.model.inner![category];
  const config = encoderOnly(f.model.encoder, 'test');
  const encoder = Encoder.create(config, 0);
  const out = new Map<string, Float32Array[]>();
  try {
    loadParts(run.checkpointPath(inner.phase1), { encoder, head: ScalarHead.create(f.model.encoder.hidden, 0) });
    for (const e of inner.experts) {
      const net = new RewardNet(encoder, ScalarHead.create(f.model.encoder.hidden, 0), LoraAdapter.create(config, f.model.lora, 0));
      loadParts(run.checkpointPath(e.component), { lora: net.adapter!, head: net.head });
      const rows = f.src.data.records.map((r) => embedSequences(f.src, r.responses, (b) => net.reward(b, false, 0).expandDims(1)).map((x) => x[0]));
      out.set(
        e.point,
        rows.map((r) => Float32Array.from(r)),
      );
      net.adapter!.dispose();
      net.head.dispose();
    }
  } finally {
    encoder.dispose();
  }
  return out;
}

void describe('ONNX export of trained runs (tiny preset, synthetic data)', () => {
  before(async () => {
    await initBackend('wasm');
    const trainFile = join(dir, 'train.jsonl');
    writeSyntheticPreferences(testFile, 30, 12);
    const labels = join(dir, 'train.labels.jsonl');
    await writeLabelledSyntheticPreferences(trainFile, labels, 120, 11);
    for (const method of ['single', 'uwo', 'dmoerm', 'dmoerm-no-outer'] as const) {
      const options: TrainOptions = {
        dataset: trainFile,
        labels,
        method,
        out: join(dir, method),
        preset: 'tiny',
        backend: 'wasm',
        seed: 3,
        overrides: PARITY_STEPS,
        // One general RM for all: the methods differ only in what they add, and the file trains 4× faster.
        baseRun: method === 'single' ? undefined : join(dir, 'single'),
      };
      const summary = await train(options);
      const model = JSON.parse(readFileSync(join(summary.out, 'model.json'), 'utf8')) as RunModel;
      const onnx = join(dir, `${method}.onnx`);
      exportRun(summary.out, onnx);
      const src = await sourceFor(summary.out, model);
      const run = RunFolder.open(summary.out);
      const reference = RunScorer.load(model, (c) => run.checkpointPath(c)).score(
        src,
        src.data.records.map((_, i) => i),
      );
      fixtures.set(method, { run: summary.out, model, onnx, src, reference });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const method of ['single', 'uwo', 'dmoerm', 'dmoerm-no-outer'] as const) {
    void test(`${method}: onnxruntime rewards equal the training engine's to 1e-4`, async () => {
      const f = fixtures.get(method)!;
      const scorer = new OrtScorer(f.onnx, { batchSize: 8, intraOpNumThreads: 1 });
      try {
        const got = await scorer.score(f.src.data.records);
        let worst = 0;
        got.forEach((s, p) => (worst = Math.max(worst, maxDiff(s.rewards, f.reference.get(p)!.rewards))));
        assert.ok(worst < TOLERANCE, `largest reward difference ${worst}`);
        // Not a model that scores everything alike: the comparison above would then prove little.
        const all = got.flatMap((s) => s.rewards);
        assert.ok(Math.max(...all) - Math.min(...all) > 0.05, `rewards span ${Math.min(...all)}..${Math.max(...all)}`);
      } finally {
        await scorer.dispose();
      }
    });
  }

  for (const method of ['single', 'dmoerm', 'dmoerm-no-outer'] as const) {
    void test(`${method}: reward = σ(reward_logit) to 1e-6, one finite logit per response`, async () => {
      const f = fixtures.get(method)!;
      const scorer = new OrtScorer(f.onnx, { batchSize: 8, intraOpNumThreads: 1 });
      try {
        const got = await scorer.score(f.src.data.records);
        let worst = 0;
        for (const s of got) s.logits.forEach((z, i) => (worst = Math.max(worst, Math.abs(1 / (1 + Math.exp(-z)) - s.rewards[i]))));
        assert.ok(worst < 1e-6, `largest |σ(logit) − reward| ${worst}`);
        assert.ok(got.every((s) => s.logits.length === s.rewards.length && s.logits.every(Number.isFinite)));
      } finally {
        await scorer.dispose();
      }
    });
  }

  void test("dmoerm: router probabilities and top-1 category equal the training engine's", async () => {
    const f = fixtures.get('dmoerm')!;
    const scorer = new OrtScorer(f.onnx, { batchSize: 5 });
    try {
      const got = await scorer.score(f.src.data.records);
      let worst = 0;
      got.forEach((s, p) => {
        const route = f.reference.get(p)!.route!;
        assert.equal(s.category, route.category, `record ${p}`);
        worst = Math.max(worst, maxDiff(s.probabilities!, route.probabilities));
      });
      assert.ok(worst < TOLERANCE, `largest probability difference ${worst}`);
      assert.deepEqual(new Set(got.map((s) => s.category)).size, 2, 'both categories are chosen for some record');
    } finally {
      await scorer.dispose();
    }
  });

  for (const method of ['dmoerm', 'dmoerm-no-outer'] as const) {
    void test(`${method}: capability scores equal each Phase-2 head's σ(w_i z_i + b_i) in tfjs`, async () => {
      const f = fixtures.get(method)!;
      const manifest = readManifest(f.onnx);
      const scorer = new OrtScorer(f.onnx);
      try {
        const got = await scorer.score(f.src.data.records);
        const refs = new Map(Object.keys(f.model.inner!).map((c) => [c, referenceCapabilities(f, c)]));
        let worst = 0;
        let compared = 0;
        got.forEach((s, p) => {
          const category = s.category ?? 'all';
          const want = refs.get(category)!;
          assert.deepEqual(
            s.capabilities!.map((c) => c.point),
            [...want.keys()],
          );
          for (const c of s.capabilities!) {
            worst = Math.max(worst, maxDiff(c.scores, want.get(c.point)![p]));
            compared++;
          }
        });
        assert.ok(compared >= f.src.data.records.length * 2, `${compared} capability rows compared`);
        assert.ok(worst < TOLERANCE, `largest capability difference ${worst}`);
        assert.equal(
          manifest.capabilities.length,
          Object.values(f.model.inner!).reduce((n, i) => n + i.experts.length, 0),
        );
      } finally {
        await scorer.dispose();
      }
    });
  }

  void test('batch and sequence length are dynamic: two batch sizes, two lengths, the same rewards', async () => {
    const f = fixtures.get('dmoerm')!;
    const small = new OrtScorer(f.onnx, { batchSize: 3 });
    const large = new OrtScorer(f.onnx, { batchSize: 200 });
    try {
      const a = await small.score(f.src.data.records);
      const b = await large.score(f.src.data.records);
      assert.ok(small.runs > 5 && large.runs === 1, `${small.runs} and ${large.runs} runs`);
      let worst = 0;
      a.forEach((s, i) => (worst = Math.max(worst, maxDiff(s.rewards, b[i].rewards))));
      assert.ok(worst < 1e-5, `batch size changed rewards by ${worst}`);
    } finally {
      await small.dispose();
      await large.dispose();
    }
    // Raw session: the first two responses alone, then padded with 9 more positions; the mask hides them.
    const session = await ort.InferenceSession.create(f.onnx);
    try {
      const m: ExportManifest = readManifest(f.onnx);
      const rec = f.src.data.records[0];
      const feeds = (extra: number): Record<string, ort.Tensor> => {
        const seqs = rec.responses.slice(0, 2);
        const T = Math.max(...seqs.map((s) => s.ids.length)) + extra;
        const ids = new BigInt64Array(2 * T).fill(BigInt(m.special.pad));
        const types = new BigInt64Array(2 * T);
        const mask = new BigInt64Array(2 * T);
        seqs.forEach((s, b) => s.ids.forEach((id, t) => ((ids[b * T + t] = BigInt(id)), (types[b * T + t] = BigInt(s.typeIds[t])), (mask[b * T + t] = 1n))));
        const R = rec.router.length + extra;
        const rIds = new BigInt64Array(R).fill(BigInt(m.special.pad));
        const rMask = new BigInt64Array(R);
        rec.router.forEach((id, t) => ((rIds[t] = BigInt(id)), (rMask[t] = 1n)));
        return {
          input_ids: new ort.Tensor('int64', ids, [2, T]),
          token_type_ids: new ort.Tensor('int64', types, [2, T]),
          attention_mask: new ort.Tensor('int64', mask, [2, T]),
          router_input_ids: new ort.Tensor('int64', rIds, [1, R]),
          router_attention_mask: new ort.Tensor('int64', rMask, [1, R]),
          response_record: new ort.Tensor('int64', BigInt64Array.of(0n, 0n), [2]),
        };
      };
      const short = await session.run(feeds(0));
      const long = await session.run(feeds(9));
      assert.deepEqual(short.reward.dims, [2]);
      assert.deepEqual(long.category_probs.dims, [1, 2]);
      assert.ok(maxDiff(short.reward.data as Float32Array, long.reward.data as Float32Array) < 1e-5);
      assert.ok(maxDiff(short.reward.data as Float32Array, f.reference.get(0)!.rewards.subarray(0, 2)) < TOLERANCE);
      // One record: every row goes to one category and the other's experts run on no rows at all (their
      // capability columns stay 0) — routing is sparse, and empty selections are valid.
      const chosen = m.categories[Number((short.category.data as BigInt64Array)[0])];
      const caps = short.capability_scores.data as Float32Array;
      m.capabilities.forEach((col, p) => {
        for (let row = 0; row < 2; row++) {
          const v = caps[row * m.capabilities.length + p];
          if (col.category === chosen) assert.ok(v > 0, `${col.point} of the chosen category scored`);
          else assert.equal(v, 0, `${col.category}/${col.point} did not run`);
        }
      });
    } finally {
      await session.release();
    }
  });

  void test('past the size limit, the weights go to OUT.data (ONNX external data) and onnxruntime scores the same', async () => {
    const f = fixtures.get('dmoerm')!;
    const out = join(dir, 'external', 'dmoerm.onnx');
    mkdirSync(dirname(out), { recursive: true });
    exportRun(f.run, out, { externalDataAbove: 0 });
    const m = readManifest(out);
    assert.equal(m.data, 'dmoerm.onnx.data');
    assert.ok(statSync(out).size < statSync(f.onnx).size / 4, 'the graph alone is small');
    assert.ok(statSync(`${out}.data`).size > statSync(f.onnx).size / 2, 'the weights are beside it');
    assert.notEqual(m.modelSha256, readManifest(f.onnx).modelSha256);
    const inline = await scoreFile(f.onnx, testFile);
    const external = await scoreFile(out, testFile);
    inline.records.forEach((r, i) => assert.ok(maxDiff(r.rewards, external.records[i].rewards) === 0, `record ${r.index}`));
  });

  void test('the models load in onnxruntime with the inputs and outputs the manifest lists', async () => {
    const expected: Record<string, { inputs: string[]; outputs: string[] }> = {
      single: { inputs: ['input_ids', 'token_type_ids', 'attention_mask'], outputs: ['reward', 'reward_logit'] },
      uwo: { inputs: ['input_ids', 'token_type_ids', 'attention_mask'], outputs: ['member_rewards', 'reward', 'reward_logit'] },
      dmoerm: {
        inputs: ['input_ids', 'token_type_ids', 'attention_mask', 'router_input_ids', 'router_attention_mask', 'response_record'],
        outputs: ['category_probs', 'category', 'reward', 'reward_logit', 'capability_scores'],
      },
      'dmoerm-no-outer': { inputs: ['input_ids', 'token_type_ids', 'attention_mask'], outputs: ['reward', 'reward_logit', 'capability_scores'] },
    };
    for (const [method, f] of fixtures) {
      // Full graph checks and optimisation happen at session creation; a malformed graph throws here.
      const session = await ort.InferenceSession.create(f.onnx, { graphOptimizationLevel: 'all' });
      try {
        const m = readManifest(f.onnx);
        assert.deepEqual([...session.inputNames], expected[method].inputs, method);
        assert.deepEqual([...session.outputNames], expected[method].outputs, method);
        assert.deepEqual(m.inputs, [...session.inputNames]);
        assert.deepEqual(m.outputs, [...session.outputNames]);
      } finally {
        await session.release();
      }
    }
  });

  void test('the manifest names categories, capability points (zh and en), method and training data', () => {
    const f = fixtures.get('dmoerm')!;
    const m = readManifest(f.onnx);
    const runConfig = JSON.parse(readFileSync(join(f.run, 'run.json'), 'utf8')) as { datasetSha256: string; labelsSha256: string };
    assert.equal(m.method, 'dmoerm');
    assert.equal(m.opset, 17);
    assert.deepEqual(m.categories, ['objective knowledge QA', 'subjective knowledge QA']);
    assert.deepEqual(
      m.capabilities.map((c) => `${c.category}/${c.point}`),
      Object.entries(f.model.inner!).flatMap(([c, inner]) => inner.experts.map((e) => `${c}/${e.point}`)),
    );
    // Table 12's names where the point is one of the paper's; its id where it is not.
    assert.deepEqual(
      m.capabilities.find((c) => c.point === 'correctness'),
      { category: 'objective knowledge QA', point: 'correctness', zh: '正确性', en: 'correctness' },
    );
    assert.equal(m.capabilities.find((c) => c.point === 'fluency')?.zh, 'fluency');
    assert.equal(m.training.datasetSha256, runConfig.datasetSha256);
    assert.equal(m.training.labelsSha256, runConfig.labelsSha256);
    assert.equal(m.modelSha256, createHash('sha256').update(readFileSync(f.onnx)).digest('hex'));
    assert.equal(readFileSync(join(dir, m.tokenizer), 'utf8'), readFileSync(join(f.run, 'tokenizer.json'), 'utf8'));
    assert.equal(m.maxLen, f.model.maxLen);
    const uwo = readManifest(fixtures.get('uwo')!.onnx);
    assert.deepEqual(uwo.ensemble, { members: fixtures.get('uwo')!.model.ensemble!.members, aggregation: 'uwo', lambda: 0.5 });
    assert.deepEqual(uwo.categories, []);
  });

  void test('export refuses an unfinished run, naming it and why', () => {
    const empty = join(dir, 'unfinished');
    RunFolder.create(empty, { method: 'single' });
    assert.throws(() => exportRun(empty, join(dir, 'x.onnx')), /unfinished: the run has not finished training \(no model\.json\)/);
    assert.throws(() => exportRun(join(dir, 'nowhere'), join(dir, 'x.onnx')), /nowhere: is not a RewardLens run folder/);
  });
});
