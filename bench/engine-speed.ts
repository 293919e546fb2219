/**
 * Steps per second of the two training engines on the same training plan (not a test): the TensorFlow.js
 * engine (wasm, its default path: data parallel over 2 threads, micro-batches of 2 pairs with a pre-trained
 * base) and the PyTorch trainer (`--backend torch`, whole batches), each on a pre-trained BERT base, full
 * fine-tuning (`single`'s general RM) and LoRA (an ensemble member over the frozen general RM), 8 pairs per
 * step on llmeval2 records at maxLen 256.
 *
 * A rate is measured between the evaluations at steps/2 and steps (metrics.jsonl's timestamps, the same for
 * both engines), so model loading, data reading and the first evaluation are left out; the window holds one
 * evaluation of 8 validation pairs (16 sequences, about a tenth of one training step's work).
 *
 *   node dist/bench/engine-speed.js [--base ../shared/bases/bge-small-zh-v1.5] [--data ../shared/data/llmeval2-zh]
 *     [--records 200] [--steps 10] [--engines tfjs,torch] [--modes full,lora] [--device cpu] [--json]
 *     [--plans-only DIR]
 * The PyTorch trainer runs with REWARDLENS_PYTHON (default python3). `--plans-only DIR` writes the PyTorch
 * plans (DIR/speed-full, DIR/speed-lora, and DIR/speed.json saying which steps to time) for a GPU machine
 * without Node.js: bench/device/train-plans.py trains them there and times them the same way.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepare, train } from '../src/core/training/train';
import type { TrainOptions } from '../src/core/training/types';
import { readLlmeval2, writeCanonicalFile } from './llmeval2-data';

type Engine = 'tfjs' | 'torch';
type Mode = 'full' | 'lora';

interface Row {
  engine: Engine;
  mode: Mode;
  stepsPerSecond: number;
  window: { steps: number; seconds: number };
  device: string;
  load: number;
}

function speedOptions(engine: Engine, mode: Mode, dataset: string, base: string, steps: number, device: string, out: string): TrainOptions {
  const half = Math.max(1, Math.floor(steps / 2));
  const shared = { evalEvery: half, patience: 1000, maxValPairs: 8, testFraction: 0.05 };
  const overrides =
    mode === 'full'
      ? { ...shared, 'maxSteps.base': steps }
      : // The general RM takes one step: the LoRA member over it is what is timed.
        { ...shared, 'maxSteps.base': 1, 'maxSteps.ensemble': steps, ensembleSize: 1 };
  return {
    dataset,
    method: mode === 'full' ? 'single' : 'mean',
    out,
    preset: 'small',
    base,
    backend: engine === 'torch' ? 'torch' : 'wasm',
    ...(engine === 'torch' ? { device } : {}),
    seed: 1,
    overrides,
  };
}

/** The phase a mode times: the general RM (full fine-tuning) or the LoRA ensemble member. */
const PHASE: Record<Mode, string> = { full: 'base', lora: 'ensemble' };

async function measure(engine: Engine, mode: Mode, dataset: string, base: string, steps: number, device: string, dir: string): Promise<Row> {
  const out = join(dir, `${engine}-${mode}`);
  const half = Math.max(1, Math.floor(steps / 2));
  const options = speedOptions(engine, mode, dataset, base, steps, device, out);
  let where = '';
  await train(options, {
    onEvent: (e) => (e.type === 'backend' ? (where = e.backend === 'torch' ? e.tfBackend : `${e.backend} (tfjs ${e.tfBackend})`) : undefined),
  });
  const phase = PHASE[mode];
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { phase: string; step: number; ts: string })
    .filter((m) => m.phase === phase);
  const a = lines.find((m) => m.step === half);
  const b = lines.find((m) => m.step === steps);
  if (!a || !b) throw new Error(`${out}: no evaluations at steps ${half} and ${steps} in metrics.jsonl`);
  const seconds = (Date.parse(b.ts) - Date.parse(a.ts)) / 1000;
  return { engine, mode, stepsPerSecond: (steps - half) / seconds, window: { steps: steps - half, seconds }, device: where, load: loadavg()[0] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string', default: join('..', 'shared', 'bases', 'bge-small-zh-v1.5') },
      data: { type: 'string', default: join('..', 'shared', 'data', 'llmeval2-zh') },
      records: { type: 'string', default: '200' },
      steps: { type: 'string', default: '10' },
      engines: { type: 'string', default: 'tfjs,torch' },
      modes: { type: 'string', default: 'full,lora' },
      device: { type: 'string', default: 'cpu' },
      json: { type: 'boolean', default: false },
      'plans-only': { type: 'string' },
    },
  });
  const plansDir = values['plans-only'];
  if (plansDir) {
    mkdirSync(plansDir, { recursive: true });
    const dataset = join(plansDir, 'llmeval2.jsonl');
    writeCanonicalFile(dataset, readLlmeval2(values.data).records.slice(0, Number(values.records)));
    const steps = Number(values.steps);
    const modes = values.modes.split(',') as Mode[];
    for (const mode of modes) await prepare(speedOptions('torch', mode, dataset, values.base, steps, 'cuda', join(plansDir, `speed-${mode}`)));
    rmSync(dataset);
    const half = Math.max(1, Math.floor(steps / 2));
    writeFileSync(
      join(plansDir, 'speed.json'),
      `${JSON.stringify(Object.fromEntries(modes.map((m) => [`speed-${m}`, { mode: m, phase: PHASE[m], from: half, to: steps }])), null, 2)}\n`,
    );
    console.error(`plans for ${modes.join(', ')} in ${plansDir}: time them with bench/device/train-plans.py`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rl-engine-speed-'));
  try {
    const dataset = join(dir, 'llmeval2.jsonl');
    writeCanonicalFile(dataset, readLlmeval2(values.data).records.slice(0, Number(values.records)));
    const rows: Row[] = [];
    for (const mode of values.modes.split(',') as Mode[]) {
      for (const engine of values.engines.split(',') as Engine[]) {
        const row = await measure(engine, mode, dataset, values.base, Number(values.steps), values.device, dir);
        rows.push(row);
        if (!values.json)
          console.error(
            `${engine} ${mode}: ${row.stepsPerSecond.toFixed(3)} steps/s (${row.window.steps} steps in ${row.window.seconds.toFixed(1)} s) on ${row.device}, load ${row.load.toFixed(2)}`,
          );
      }
    }
    if (values.json) console.log(JSON.stringify({ base: values.base, records: Number(values.records), steps: Number(values.steps), rows }));
    else {
      console.log('| engine | mode | steps/s | device |\n|---|---|---|---|');
      for (const r of rows) console.log(`| ${r.engine} | ${r.mode} | ${r.stepsPerSecond.toFixed(3)} | ${r.device} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
