/**
 * Scoring benchmark (not a test): the same weights scored by the training engine (tfjs, RunScorer) and by
 * their ONNX export in onnxruntime-node (OrtScorer), in responses per second. The run is made here with
 * seeded random weights (method single: one encoder and its head; a dmoerm export runs one encoder per
 * expert, so its cost is a multiple of this), so the benchmark needs no training.
 * Usage: node dist/bench/score-speed.js [--preset small|tiny] [--records 32] [--words 150] [--threads 1,2] [--batch 16] [--runs 3] [--backend wasm] [--json]
 * --threads, --batch (responses per onnxruntime run) and --spin (0/1: onnxruntime's threads busy-wait) take
 * lists: every combination is timed.
 * Each engine is warmed up on a few records first (session creation, wasm compilation), then timed over all
 * records --runs times, engines interleaved, keeping each one's best pass: on a machine shared with other
 * work the best pass is the one least disturbed by it.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticText } from './synthetic-text';
import { exportRun } from '../src/core/export/export';
import { initBackend } from '../src/core/model/backend';
import { PRESETS } from '../src/core/model/config';
import { Encoder } from '../src/core/model/encoder';
import { ScalarHead } from '../src/core/model/heads';
import { TextTokenizer } from '../src/core/model/tokenizer';
import { VocabMap } from '../src/core/model/vocab';
import { OrtScorer, ScoreCache } from '../src/core/scoring/session';
import { loadPreferenceData } from '../src/core/training/data';
import type { RunModel } from '../src/core/model/dmoerm';
import { saveParts } from '../src/core/training/parts';
import { RunFolder } from '../src/core/training/run-folder';
import { RunScorer } from '../src/core/training/scorer';
import { sequenceSource } from '../src/core/training/tasks';
import type { BackendName } from '../src/core/model/backend';
import type { PresetName } from '../src/core/model/config';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' },
    records: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
    words: { type: 'string', default: '150' },
    threads: { type: 'string', default: '1,2' },
    batch: { type: 'string', default: '16' },
    spin: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'boolean', default: false },
  },
});
const preset = PRESETS[values.preset as PresetName];
if (!preset) throw new Error(`--preset must be tiny or small, not ${values.preset}`);
const recordCount = Number(values.records);
const words = Number(values.words);
const threadCounts = values.threads.split(',').map(Number);
const batchSizes = values.batch.split(',').map(Number);
const spins = values.spin.split(',').map((v) => v === '1');
const ortConfigs = threadCounts.flatMap((threads) => batchSizes.flatMap((batch) => spins.map((spinning) => ({ threads, batch, spinning }))));
const runs = Number(values.runs);

/** Three responses of about `words` words per record, so sequences are near the preset's maxLen. */
function writeRecords(file: string): void {
  const text = syntheticText(1);
  const lines = Array.from({ length: recordCount }, (_, i) => ({
    id: `bench-${i}`,
    context: [{ role: 'user', content: `question ${i}: ${text(12)}` }],
    responses: [0, 1, 2].map(() => ({ text: text(words) })),
    preference: { ranking: [1, 2, 3] },
  }));
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-score-bench-'));
  // The machine is shared: the load average before and after says how much of it the run had.
  const load = [loadavg()[0]];
  try {
    const backend = await initBackend(values.backend as BackendName);
    const dataFile = join(dir, 'data.jsonl');
    writeRecords(dataFile);
    const tokenizer = TextTokenizer.default();
    const limits = { maxLen: preset.maxLen, routerMaxLen: preset.routerMaxLen };
    const data = await loadPreferenceData(dataFile, tokenizer, limits);
    const used = new Set<number>();
    for (const r of data.records) for (const s of [r.router, ...r.responses.map((x) => x.ids)]) for (const id of s) used.add(id);
    const vocab = VocabMap.build(tokenizer, used);

    // A run folder as training leaves it, with seeded random weights.
    const runDir = join(dir, 'run');
    const run = RunFolder.create(runDir, { method: 'single', bench: true });
    const encoder = Encoder.create({ ...preset.encoder, vocabSize: vocab.size }, 7);
    const head = ScalarHead.create(preset.encoder.hidden, 7);
    saveParts(run.checkpointPath('base'), { encoder, head }, { component: 'base', phase: 'base' });
    encoder.dispose();
    head.dispose();
    const model: RunModel = {
      format: 'rewardlens-model',
      version: 1,
      method: 'single',
      encoder: { ...preset.encoder, vocabSize: vocab.size },
      lora: preset.lora,
      maxLen: limits.maxLen,
      routerMaxLen: limits.routerMaxLen,
      mlpHidden: 64,
      base: 'base',
    };
    writeFileSync(join(runDir, 'model.json'), JSON.stringify(model));
    writeFileSync(join(runDir, 'vocab.json'), JSON.stringify(vocab.toJSON()));
    copyFileSync(tokenizer.file, join(runDir, 'tokenizer.json'));
    const onnx = join(dir, 'model.onnx');
    const exported = exportRun(runDir, onnx);

    const responses = data.records.reduce((n, r) => n + r.responses.length, 0);
    const meanLen = data.records.reduce((n, r) => n + r.responses.reduce((m, s) => m + s.ids.length, 0), 0) / responses;
    const positions = data.records.map((_, i) => i);
    const src = sequenceSource(data, vocab, tokenizer, 16);
    const scorer = RunScorer.load(model, (c) => run.checkpointPath(c));
    scorer.score(src, positions.slice(0, 2)); // warm-up: kernels compiled, weights paged in
    const orts = ortConfigs.map(
      ({ threads, batch, spinning }) => new OrtScorer(onnx, { intraOpNumThreads: threads, batchSize: batch, spinning, cache: new ScoreCache() }),
    );
    for (const ort of orts) await ort.score(data.records.slice(0, 2)); // warm-up: session created
    const best = new Array<number>(1 + orts.length).fill(Infinity);
    const reference = scorer.score(src, positions);
    let maxDiff = 0;
    for (let run = 0; run < runs; run++) {
      let t = performance.now();
      scorer.score(src, positions);
      best[0] = Math.min(best[0], (performance.now() - t) / 1000);
      for (const [k, ort] of orts.entries()) {
        ort.cache.clear();
        t = performance.now();
        const got = await ort.score(data.records);
        best[k + 1] = Math.min(best[k + 1], (performance.now() - t) / 1000);
        got.forEach((s, p) => s.rewards.forEach((x, j) => (maxDiff = Math.max(maxDiff, Math.abs(x - reference.get(p)!.rewards[j])))));
      }
    }
    for (const ort of orts) await ort.dispose();
    const results: Array<{ engine: string; threads?: number; batch?: number; spinning?: boolean; seconds: number; perSecond: number; maxDiff?: number }> = [
      { engine: `tfjs ${backend.tfBackend}`, seconds: best[0], perSecond: responses / best[0] },
      ...ortConfigs.map(({ threads, batch, spinning }, k) => ({
        engine: 'onnxruntime-node',
        threads,
        batch,
        spinning,
        seconds: best[k + 1],
        perSecond: responses / best[k + 1],
        maxDiff,
      })),
    ];
    const summary = {
      preset: values.preset,
      runs,
      hidden: preset.encoder.hidden,
      layers: preset.encoder.layers,
      records: recordCount,
      responses,
      meanTokens: Math.round(meanLen),
      onnxBytes: exported.bytes,
      exportSeconds: exported.seconds,
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      loadAverage: [...load, loadavg()[0]],
      results,
    };
    if (values.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    console.log(
      `${values.preset} preset (hidden ${preset.encoder.hidden}, ${preset.encoder.layers} layers), ${responses} responses of ${Math.round(meanLen)} tokens on average, ${summary.cores} cores (${summary.cpu}), load ${summary.loadAverage.map((l) => l.toFixed(2)).join(' → ')}`,
    );
    console.log(`export: ${(exported.bytes / 1e6).toFixed(1)} MB in ${exported.seconds.toFixed(2)} s`);
    for (const r of results) {
      const speedup = r.perSecond / results[0].perSecond;
      console.log(
        `${r.engine.padEnd(18)} ${r.threads ? `${r.threads} thread${r.threads > 1 ? 's' : ' '}` : '         '} ${r.batch ? `batch ${String(r.batch).padEnd(3)}` : '         '} ${r.spinning === undefined ? '       ' : r.spinning ? 'spin   ' : 'no spin'}  ${r.perSecond.toFixed(1).padStart(8)} responses/s  ${speedup.toFixed(1).padStart(5)}×${r.maxDiff !== undefined ? `  max |Δ| ${r.maxDiff.toExponential(1)}` : ''}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
