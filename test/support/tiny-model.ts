// Tiny reward models for the integration tests that need a real model, not a good one: synthetic data,
// capability labels derived from its ratings, training and export, all through the CLI in a child process
// (the extension host's thread stays free for the extension under test). Bundled into each test file:
// `__dirname` is dist/test/integration/{suite,ui}, three levels below dist/cli.js.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeSyntheticPreferences } from './synthetic-prefs';

const run = promisify(execFile);

/** Steps enough for every phase to run and export; the scores need not be good. */
export const FAST_SETTINGS: readonly string[] = [
  'maxSteps.base=10',
  'maxSteps.router=10',
  'maxSteps.phase1=5',
  'maxSteps.phase2=5',
  'maxSteps.phase3=5',
  'evalEvery=5',
  'minPairs=8',
];

/**
 * Step limits (train() overrides) for parity tests: trained-looking weights (LoRA B ≠ 0, a router that is not
 * uniform), not good ones.
 */
export const PARITY_STEPS = {
  'maxSteps.base': 30,
  'maxSteps.router': 40,
  'maxSteps.phase1': 10,
  'maxSteps.phase2': 10,
  'maxSteps.phase3': 40,
  'maxSteps.ensemble': 10,
  evalEvery: 10,
  patience: 3,
  minPairs: 8,
};

export interface TinyModelOptions {
  /** Where the training data and labels are written (and, by default, the run); the caller removes it. */
  dir: string;
  method: 'single' | 'dmoerm';
  /** The training seed (`--seed`). */
  seed: number;
  /** Train on this file instead of synthetic data. */
  dataset?: string;
  /** Synthetic records (`<dir>/train.jsonl`) and the seed they are drawn with. */
  records?: number;
  dataSeed?: number;
  /** `--set` settings; FAST_SETTINGS by default. */
  settings?: readonly string[];
  /** The run folder; `<dir>/run` by default. */
  run?: string;
  /** Where the model is exported, `<run>/model.onnx` by default; null: not exported. */
  model?: string | null;
  /** For each CLI call. */
  timeoutMs?: number;
}

export interface TinyModel {
  dataset: string;
  run: string;
  /** The exported model, undefined when `model: null`. */
  model?: string;
  /** `rewardlens train --json`'s stdout: the run's summary. */
  summary: string;
}

const CLI = join(__dirname, '..', '..', '..', 'cli.js');

function cli(args: string[], cwd: string, timeout: number): Promise<{ stdout: string }> {
  // In desktop VS Code the extension host is Electron; this makes it a plain Node for the child.
  return run(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout, maxBuffer: 16 * 1024 * 1024 });
}

/** Trains (and exports) a tiny model on the wasm backend; a dmoerm gets its capability labels from the data's ratings. */
export async function trainTinyModel(o: TinyModelOptions): Promise<TinyModel> {
  const timeout = o.timeoutMs ?? 60_000;
  const dataset = o.dataset ?? join(o.dir, 'train.jsonl');
  if (o.dataset === undefined) writeSyntheticPreferences(dataset, o.records ?? 80, o.dataSeed ?? 31);
  const runDir = o.run ?? join(o.dir, 'run');
  const labels: string[] = [];
  if (o.method === 'dmoerm') {
    const store = join(o.dir, 'labels');
    await cli(['labels-from-ratings', dataset, '--source', 'judge', '--store', store], o.dir, timeout);
    labels.push('--labels', join(store, `${basename(dataset)}.labels.jsonl`));
  }
  const settings = (o.settings ?? FAST_SETTINGS).flatMap((s) => ['--set', s]);
  const { stdout } = await cli(
    [
      'train',
      dataset,
      '--method',
      o.method,
      '--out',
      runDir,
      ...labels,
      '--preset',
      'tiny',
      '--backend',
      'wasm',
      '--seed',
      String(o.seed),
      ...settings,
      '--json',
      '-q',
    ],
    o.dir,
    timeout,
  );
  const model = o.model === null ? undefined : (o.model ?? join(runDir, 'model.onnx'));
  if (model !== undefined) await exportModel(runDir, model, timeout);
  return { dataset, run: runDir, model, summary: stdout };
}

/** `rewardlens export RUN --out MODEL`: another copy of a trained model, under a name a test chooses. */
export async function exportModel(runDir: string, model: string, timeoutMs = 60_000): Promise<string> {
  await cli(['export', runDir, '--out', model], dirname(model), timeoutMs);
  return model;
}

// One model per setting for the whole test process (every test file is a bundle of its own: the cache
// lives on globalThis), in a folder removed when the process exits. Only the run and its exported model are
// shared: a suite that writes beside them, or removes them, trains its own.
const SHARED = Symbol.for('rewardlens.test.sharedTinyModels');
type Exported = TinyModel & { model: string };
type SharedCache = { root: string; models: Map<string, Promise<Exported>> };

function newCache(): SharedCache {
  const root = mkdtempSync(join(tmpdir(), 'rl-it-shared-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return { root, models: new Map() };
}

/**
 * The tiny model of these settings that an earlier suite of this process trained, or a new one. Callers
 * read it and must not write into its folder; for a file name of their own they export it again (exportModel).
 */
export function sharedTinyModel(o: Omit<TinyModelOptions, 'dir' | 'run' | 'model' | 'dataset'>): Promise<Exported> {
  const holder = globalThis as { [SHARED]?: SharedCache };
  const cache = (holder[SHARED] ??= newCache());
  const settings = { method: o.method, seed: o.seed, records: o.records ?? 80, dataSeed: o.dataSeed ?? 31, settings: o.settings ?? FAST_SETTINGS };
  const key = JSON.stringify(settings);
  let model = cache.models.get(key);
  if (model === undefined) {
    const dir = mkdtempSync(join(cache.root, `${o.method}-`));
    const file = join(dir, 'run', 'model.onnx');
    model = trainTinyModel({ ...settings, timeoutMs: o.timeoutMs, dir, model: file }).then((m) => ({ ...m, model: file }));
    // A failed training is not kept: the next suite tries again and reports its own error.
    model.catch(() => cache.models.delete(key));
    cache.models.set(key, model);
  }
  return model;
}
