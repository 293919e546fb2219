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
 * Usage: node dist/bench/train-speed.js [--variants plain,engine,dp2] [--steps 6] [--warmup 2] [--reps 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
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
      loss = await dp.step(batch, i, optimizer);
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function parent(variants: string[], steps: number, warmup: number, reps: number, json: boolean): void {
  const flops = rewardStepFlops(BENCH_ENCODER, BENCH_LORA, 2 * PAIRS, SEQ);
  const rows: Array<Record<string, string | number>> = [];
  const load0 = loadavg()[0];
  for (const variant of variants) {
    const runs: ChildResult[] = [];
    for (let r = 0; r < reps; r++) {
      const out = spawnSync(process.execPath, [__filename, '--child', variant, '--steps', String(steps), '--warmup', String(warmup)], { encoding: 'utf8', maxBuffer: 1 << 24 });
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
    console.log(JSON.stringify({ meta, rows }));
    return;
  }
  console.log(`model FLOPs per step: ${(flops.total / 1e9).toFixed(2)} G (forward ${(flops.forward / 1e9).toFixed(2)}, backward ${(flops.backward / 1e9).toFixed(2)}; matmuls only)`);
  console.log(`load average ${load0.toFixed(2)} → ${meta.loadavgEnd.toFixed(2)}; ${steps} timed steps after ${warmup} warm-up, ${reps} runs per variant`);
  console.table(rows);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      variants: { type: 'string', default: 'plain,engine,dp2' },
      steps: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '2' },
      reps: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
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
