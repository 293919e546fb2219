/**
 * Training-speed benchmark (not a test) of the benchmark reward model of shared/notes/ml-engine-measurements.md:
 * vocab 8000, d 128, 4 heads, 2 layers, FFN 512, 256 tokens, LoRA r8 on query/value (base frozen), mean
 * pooling, scalar head, pairwise loss, Adam, 8 pairs (16 sequences) per step.
 *
 * Each variant runs in a fresh child process (kernel registrations are process-wide, and peak memory is per
 * process), --reps times; the table shows medians:
 *   plain   stock tfjs-wasm ops (plain-forward.ts): the yardstick, no workarounds
 *   engine  Encoder + LoraAdapter + ScalarHead + pairwiseLoss + Adam on the backend fit.ts uses
 *   dp2     engine, the 16 sequences split over the main thread and one worker_thread, gradients averaged
 *   fit1    the engine's real training path: fit() on tokenPairTask (batching, micro-batches, Adam), one thread
 *   fit2    fit1 with threads=2 as `rewardlens train` runs it (tokenPairTask over DataParallel)
 *   matmul  (not a step) GFLOP/s of wasm's matmul on the model's shapes: what bounds a step
 * Usage: node dist/bench/train-speed.js [--variants plain,engine,dp2,fit1,fit2] [--steps 6] [--warmup 2] [--reps 3] [--json]
 *
 * --mode e2e: wall time of `train` (method dmoerm: every phase, evaluation included) for the tiny and small
 * presets on a fixed slice of llmeval2-zh (the first --records records in the loader's order, GPT-4 stars as
 * capability labels), each phase capped at --max-steps steps so that runs are comparable and bounded; every
 * --threads value per preset, the values interleaved, --reps rounds.
 *   node dist/bench/train-speed.js --mode e2e [--data /work/shared/data/llmeval2-zh] [--presets tiny,small]
 *     [--records 300] [--max-steps 40] [--threads 1,2] [--reps 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { findWasmDir, initBackend } from '../src/core/model/backend';
import type { TokenBatch } from '../src/core/model/batch';
import type { EncoderConfig, LoraConfig } from '../src/core/model/config';
import { DataParallel, runGradientWorker } from '../src/core/model/data-parallel';
import { Encoder } from '../src/core/model/encoder';
import { ScalarHead } from '../src/core/model/heads';
import { LoraAdapter } from '../src/core/model/lora';
import { pairwiseLoss } from '../src/core/model/loss';
import { plainReward } from '../src/core/model/plain-forward';
import { tf } from '../src/core/model/tf';
import type { Tensor1D, Variable } from '../src/core/model/tf';
import { rewardStepFlops } from '../src/core/model/flops';
import { Dataset } from '../src/core/dataset/dataset';
import { labelsFromRatings } from '../src/core/labelling/from-ratings';
import { defaultPointsConfig } from '../src/core/labelling/points';
import type { PreferenceData } from '../src/core/training/data';
import { fit } from '../src/core/training/fit';
import { RewardNet } from '../src/core/model/dmoerm';
import { Rng } from '../src/core/training/rng';
import { tokenPairTask } from '../src/core/training/tasks';
import { train } from '../src/core/training/train';
import { VocabMap } from '../src/core/model/vocab';
import { GPT_SOURCE, readLlmeval2, writeCanonicalFile } from './llmeval2-data';
import type { PresetName } from '../src/core/model/config';

export const BENCH_ENCODER: EncoderConfig = {
  vocabSize: 8000,
  hidden: 128,
  layers: 2,
  heads: 4,
  intermediate: 512,
  maxPositions: 256,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
};
export const BENCH_LORA: LoraConfig = { r: 8, alpha: 8, dropout: 0.05, targets: ['query', 'value'] };
const SEQ = 256;
const PAIRS = 8;

interface ChildResult {
  variant: string;
  tfBackend: string;
  stepSeconds: number[];
  peakRssMb: number;
  wasmHeapMb: number;
  loss: number;
}

/** 2·PAIRS full-length sequences of random tokens (fixed seed): winners first, then losers. */
function benchBatch(seed: number): TokenBatch {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const B = 2 * PAIRS;
  const ids = new Int32Array(B * SEQ);
  const typeIds = new Int32Array(B * SEQ);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = 1 + Math.floor(next() * (BENCH_ENCODER.vocabSize - 1));
    typeIds[i] = i % SEQ < SEQ / 4 ? 0 : 1; // a quarter context, the rest response
  }
  return { ids, typeIds, mask: new Int32Array(B * SEQ).fill(1), batch: B, seqLen: SEQ };
}

/** GFLOP/s of tf.matMul on wasm for the products a step runs (median of 7 after 2 warm-up calls). */
async function matmulProbe(): Promise<Record<string, number>> {
  await initBackend('wasm');
  const shapes: Array<[string, number[], number[], boolean]> = [
    ['linear [4096,128]·[128,512]', [4096, 128], [128, 512], false],
    ['linear [4096,512]·[512,128]', [4096, 512], [512, 128], false],
    ['linear [4096,128]·[128,128]', [4096, 128], [128, 128], false],
    ['head block [256,32]·[32,256]', [256, 32], [32, 256], false],
    ['head block [256,256]·[256,32]', [256, 256], [256, 32], false],
    ['batched [64,256,32]·[64,256,32]ᵀ (stock attention)', [64, 256, 32], [64, 256, 32], true],
    ['batched [64,256,256]·[64,256,32] (stock attention)', [64, 256, 256], [64, 256, 32], false],
  ];
  const out: Record<string, number> = {};
  for (const [name, a, b, tb] of shapes) {
    const x = tf.randomNormal(a);
    const y = tf.randomNormal(b);
    const m = a[a.length - 2];
    const k = a[a.length - 1];
    const n = tb ? b[b.length - 2] : b[b.length - 1];
    const flops = 2 * m * k * n * (a.length === 3 ? a[0] : 1);
    const reps = Math.max(3, Math.min(50, Math.round(2e9 / flops)));
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) tf.matMul(x, y, false, tb).dispose();
      if (i >= 2) times.push((performance.now() - t0) / 1000 / reps);
    }
    out[name] = +(flops / median(times) / 1e9).toFixed(2);
    tf.dispose([x, y]);
  }
  return out;
}

async function child(variant: string, steps: number, warmup: number): Promise<ChildResult> {
  if (variant === 'plain') {
    // No registerWasmKernelFixes, no fast kernels: stock tfjs-backend-wasm.
    setWasmPaths(`${findWasmDir()!}/`);
    await tf.setBackend('wasm');
    await tf.ready();
  } else {
    await initBackend('wasm');
  }
  const encoder = Encoder.create(BENCH_ENCODER, 1);
  encoder.setTrainable(false);
  const adapter = LoraAdapter.create(BENCH_ENCODER, BENCH_LORA, 2);
  const head = ScalarHead.create(BENCH_ENCODER.hidden, 3);
  const trainable: Variable[] = [...adapter.variables(), ...head.variables()];
  const optimizer = tf.train.adam(1e-3);
  const reward = (b: TokenBatch, seed: number): Tensor1D =>
    variant === 'plain'
      ? plainReward(encoder, head, b, { adapter, training: true, seed })
      : head.forward(encoder.forward(b, { adapter, training: true, seed }).pooled);
  const lossOf = (b: TokenBatch, seed: number) => {
    const r = reward(b, seed);
    const P = b.batch / 2;
    return pairwiseLoss(r.slice(0, P), r.slice(P, P));
  };
  if (variant.startsWith('fit')) return fitChild(variant, Number(variant.slice(3)), steps, warmup, encoder, head, adapter);
  let dp: DataParallel | undefined;
  if (variant.startsWith('dp')) {
    dp = await DataParallel.start({ script: __filename, workers: Number(variant.slice(2)) - 1, encoder, head, adapter });
  }
  const stepSeconds: number[] = [];
  let peakRss = 0;
  let loss = NaN;
  const wasmHeap = (): number => {
    const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
    return b.wasm ? b.wasm.HEAPU8.length : 0;
  };
  for (let i = 0; i < warmup + steps; i++) {
    const batch = benchBatch(100 + i);
    const t0 = performance.now();
    if (dp) {
      loss = (await dp.step(batch, i, optimizer)).loss;
    } else {
      const cost = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(batch, i), trainable);
        optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      });
      loss = (await cost.data())[0];
      cost.dispose();
    }
    if (i >= warmup) stepSeconds.push((performance.now() - t0) / 1000);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  await dp?.close();
  return { variant, tfBackend: tf.getBackend(), stepSeconds, peakRssMb: peakRss / 2 ** 20, wasmHeapMb: wasmHeap() / 2 ** 20, loss };
}

/**
 * fit() on tokenPairTask over records of random full-length tokens (one pair each, the bench batch's shape):
 * what `rewardlens train` runs for a LoRA phase, minus validation (no validation pairs). Step times come from
 * fit's per-step evaluation callback (evalEvery 1).
 */
async function fitChild(
  variant: string,
  threads: number,
  steps: number,
  warmup: number,
  encoder: Encoder,
  head: ScalarHead,
  adapter: LoraAdapter,
): Promise<ChildResult> {
  const total = warmup + steps;
  const data: PreferenceData = {
    file: 'bench',
    records: [],
    pairs: [],
    groups: [],
    categories: [],
    ties: 0,
    malformed: 0,
    sampled: { records: 0, pairsLeftOut: 0, maxPairsPerRecord: 0 },
  };
  for (let i = 0; i < total; i++) {
    const b = benchBatch(100 + i);
    for (let k = 0; k < PAIRS; k++) {
      const r = data.records.length;
      const seq = (row: number) => ({ ids: b.ids.slice(row * SEQ, (row + 1) * SEQ), typeIds: b.typeIds.slice(row * SEQ, (row + 1) * SEQ) });
      data.records.push({ index: r, id: String(r), router: new Int32Array(1), responses: [seq(k), seq(PAIRS + k)] });
      data.pairs.push([{ record: r, winner: 0, loser: 1 }]);
      data.groups.push(String(r));
      data.categories.push('bench');
    }
  }
  const vocab = VocabMap.fromJSON({ keep: [...Array(BENCH_ENCODER.vocabSize).keys()] });
  const src = { data, vocab, padId: 0, scoreBatch: 32 };
  const net = new RewardNet(encoder, head, adapter);
  const parts = { lora: adapter, head };
  const dp = threads > 1 ? await DataParallel.start({ script: __filename, workers: threads - 1, encoder, head, adapter }) : undefined;
  const task = tokenPairTask(
    { component: 'bench', phase: 'phase2', parts },
    src,
    data.pairs.flat(),
    [],
    PAIRS,
    (b, training, seed) => net.reward(b, training, seed),
    dp,
  );
  const times: number[] = [];
  let loss = NaN;
  let peakRss = 0;
  try {
    await fit(
      task,
      { lr: 1e-3, maxSteps: total, evalEvery: 1, patience: total + 1, microBatch: PAIRS },
      {
        rng: new Rng(1),
        onMetric: (m) => {
          times.push(performance.now());
          if (m.step > 0) loss = m.loss;
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        },
      },
    );
  } finally {
    await dp?.close();
  }
  const stepSeconds = times
    .slice(1)
    .map((t, i) => (t - times[i]) / 1000)
    .slice(warmup);
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return { variant, tfBackend: tf.getBackend(), stepSeconds, peakRssMb: peakRss / 2 ** 20, wasmHeapMb: (b.wasm?.HEAPU8.length ?? 0) / 2 ** 20, loss };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function parent(variants: string[], steps: number, warmup: number, reps: number, json: boolean): void {
  const flops = rewardStepFlops(BENCH_ENCODER, BENCH_LORA, 2 * PAIRS, SEQ);
  const rows: Array<Record<string, string | number>> = [];
  const load0 = loadavg()[0];
  let matmul: Record<string, number> | undefined;
  for (const variant of variants) {
    if (variant === 'matmul') {
      const out = spawnSync(process.execPath, [__filename, '--child', 'matmul'], { encoding: 'utf8' });
      const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
      if (out.status !== 0 || !line) throw new Error(`matmul probe failed (${out.status}): ${out.stderr.slice(-2000)}`);
      matmul = JSON.parse(line) as Record<string, number>;
      continue;
    }
    const runs: ChildResult[] = [];
    for (let r = 0; r < reps; r++) {
      const out = spawnSync(process.execPath, [__filename, '--child', variant, '--steps', String(steps), '--warmup', String(warmup)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
      if (out.status !== 0 || !line) throw new Error(`${variant}: child failed (${out.status}): ${out.stderr.slice(-2000)}`);
      runs.push(JSON.parse(line) as ChildResult);
    }
    // The median step of each run, then the median over runs: one slow step (GC, a neighbour's burst) moves neither.
    const perRun = runs.map((r) => median(r.stepSeconds));
    const sec = median(perRun);
    rows.push({
      variant,
      backend: runs[0].tfBackend,
      'steps/s': +(1 / sec).toFixed(3),
      'seq/s': +((2 * PAIRS) / sec).toFixed(1),
      'GFLOP/s': +(flops.total / sec / 1e9).toFixed(2),
      'runs (s/step)': perRun.map((s) => s.toFixed(2)).join(' '),
      'peak RSS MB': Math.round(median(runs.map((r) => r.peakRssMb))),
      'wasm heap MB': Math.round(median(runs.map((r) => r.wasmHeapMb))),
      loss: +runs[0].loss.toFixed(4),
    });
  }
  const base = rows.find((r) => r.variant === 'plain');
  for (const r of rows) if (base) r['× plain'] = +((r['steps/s'] as number) / (base['steps/s'] as number)).toFixed(2);
  const meta = { date: new Date().toISOString(), loadavgStart: load0, loadavgEnd: loadavg()[0], steps, warmup, reps, flopsPerStep: flops };
  if (json) {
    console.log(JSON.stringify({ meta, rows, matmul }));
    return;
  }
  if (matmul) {
    console.log('wasm matmul GFLOP/s (one thread):');
    console.table(matmul);
  }
  console.log(
    `model FLOPs per step: ${(flops.total / 1e9).toFixed(2)} G (forward ${(flops.forward / 1e9).toFixed(2)}, backward ${(flops.backward / 1e9).toFixed(2)}; matmuls only)`,
  );
  console.log(`load average ${load0.toFixed(2)} → ${meta.loadavgEnd.toFixed(2)}; ${steps} timed steps after ${warmup} warm-up, ${reps} runs per variant`);
  console.table(rows);
}

const TRAINED_PHASES = ['base', 'router', 'phase1', 'phase2', 'phase3', 'ensemble'] as const;

/** Seconds of one dmoerm run on the slice, in total and per phase (from phase events to the next). */
async function endToEnd(preset: PresetName, dataset: string, labels: string, maxSteps: number, threads: number): Promise<Record<string, number | string>> {
  const out = mkdtempSync(join(tmpdir(), `train-speed-${preset}-`));
  const overrides: Record<string, number> = { patience: 1000, threads }; // no early stop: every run takes its steps
  for (const p of TRAINED_PHASES) overrides[`maxSteps.${p}`] = maxSteps;
  const phases: Record<string, number> = {};
  // What the run says it ran on, not what was asked for: a missing worker script falls back to one thread.
  let ranOn = 1;
  let current: string | undefined;
  let since = performance.now();
  const t0 = since;
  try {
    const summary = await train(
      { dataset, labels, method: 'dmoerm', out, preset, backend: 'wasm', seed: 1, overrides },
      {
        onEvent: (e) => {
          const split = e.type === 'log' ? /split over (\d+) threads/.exec(e.message) : null;
          if (split) ranOn = Number(split[1]);
          if (e.type === 'log' && e.level === 'warn') console.error(`${preset}, threads ${threads}: ${e.message}`);
          if (e.type !== 'phase') return;
          const now = performance.now();
          if (current) phases[current] = (phases[current] ?? 0) + (now - since) / 1000;
          current = e.phase;
          since = now;
        },
      },
    );
    if (current) phases[current] = (phases[current] ?? 0) + (performance.now() - since) / 1000;
    const row: Record<string, number | string> = {
      preset,
      threads: ranOn,
      load: +loadavg()[0].toFixed(2),
      'total s': +((performance.now() - t0) / 1000).toFixed(1),
    };
    for (const [p, sec] of Object.entries(phases)) row[`${p} s`] = +sec.toFixed(1);
    row['agreement'] = summary.evaluation?.overall !== undefined && summary.evaluation.overall !== null ? +summary.evaluation.overall.toFixed(3) : '-';
    return row;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function e2e(dataDir: string, presets: PresetName[], records: number, maxSteps: number, threads: number[], rounds: number, json: boolean): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'train-speed-data-'));
  const dataset = join(work, 'slice.jsonl');
  const labels = join(work, 'slice.labels.jsonl');
  const load0 = loadavg()[0];
  const rows = [];
  try {
    writeCanonicalFile(dataset, readLlmeval2(dataDir).records.slice(0, records));
    const ds = await Dataset.open(dataset, { adapter: 'canonical' });
    try {
      labelsFromRatings({ dataset: ds, store: labels, source: GPT_SOURCE, points: defaultPointsConfig() });
    } finally {
      ds.close();
    }
    // Interleaved, so that a neighbour's burst of load falls on both thread counts alike.
    for (let round = 0; round < rounds; round++) {
      for (const preset of presets) for (const t of threads) rows.push(await endToEnd(preset, dataset, labels, maxSteps, t));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const meta = { date: new Date().toISOString(), loadavgStart: load0, loadavgEnd: loadavg()[0], records, maxSteps };
  if (json) console.log(JSON.stringify({ meta, rows }));
  else {
    console.log(
      `dmoerm end to end, first ${records} records of ${dataDir}, ≤ ${maxSteps} steps per phase; load ${load0.toFixed(2)} → ${meta.loadavgEnd.toFixed(2)}`,
    );
    console.table(rows);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      mode: { type: 'string', default: 'model' },
      data: { type: 'string', default: '/work/shared/data/llmeval2-zh' },
      presets: { type: 'string', default: 'tiny,small' },
      records: { type: 'string', default: '300' },
      'max-steps': { type: 'string', default: '40' },
      threads: { type: 'string', default: '1,2' },
      variants: { type: 'string', default: 'plain,engine,dp2,fit1,fit2' },
      steps: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '2' },
      reps: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  if (values.mode === 'e2e') {
    await e2e(
      values.data,
      values.presets.split(',') as PresetName[],
      Number(values.records),
      Number(values['max-steps']),
      values.threads.split(',').map(Number),
      Number(values.reps),
      values.json,
    );
    return;
  }
  if (values.child === 'matmul') {
    console.log(JSON.stringify(await matmulProbe()));
    process.exit(0);
  }
  if (values.child) {
    console.log(JSON.stringify(await child(values.child, steps, warmup)));
    process.exit(0);
  }
  parent(values.variants.split(','), steps, warmup, Number(values.reps), values.json);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  void runGradientWorker();
}
