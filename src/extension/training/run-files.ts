import { basename } from 'node:path';
import type { MetricLine } from '../../core/training/run-folder';
import { RunFolder } from '../../core/training/run-folder';
import type { EvalResult, Method, TrainBackend, TrainOptions } from '../../core/training/types';
import { METHODS } from '../../core/training/types';
import type { PresetName } from '../../core/model/config';
import { PRESET_NAMES } from '../../core/model/config';
import { errorMessage } from '../../core/error-message';

/**
 * What the runs view, the chart and Resume read from a run folder (src/core/training/run-folder.ts),
 * shaped for them. No `vscode`: plain reads of run.json, state.json, metrics.jsonl and eval.json.
 */

export type RunState = 'running' | 'finished' | 'stopped';

export interface RunInfo {
  dir: string;
  /** The folder's name, which the extension makes `<dataset>-<method>-<time>`. */
  name: string;
  method: string;
  dataset?: string;
  finished: boolean;
  /** The first evaluation of eval.json (the run's own method). */
  evaluation?: EvalResult;
  /** Why the folder could not be read (it is still listed). */
  error?: string;
}

/** One line of the chart: a phase, or one expert of a phase. */
export interface SeriesKey {
  phase: string;
  expert?: string;
}

export interface SeriesSummary extends SeriesKey {
  points: number;
  lastStep: number;
  bestValAcc?: number;
  bestValStep?: number;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function readRunInfo(dir: string): RunInfo {
  try {
    const folder = RunFolder.open(dir);
    const c = folder.config;
    const info: RunInfo = {
      dir: folder.dir,
      name: basename(folder.dir),
      method: text(c.method) ?? 'unknown',
      dataset: text(c.dataset),
      finished: folder.readState().finished === true,
    };
    const evaluation = folder.readEval();
    if (evaluation !== undefined) info.evaluation = evaluation.find((e) => e.method === info.method) ?? evaluation[0];
    return info;
  } catch (e) {
    return { dir, name: basename(dir), method: 'unknown', finished: false, error: errorMessage(e) };
  }
}

export function readMetrics(dir: string): MetricLine[] {
  try {
    return RunFolder.open(dir).readMetrics();
  } catch {
    return [];
  }
}

export function seriesName(k: SeriesKey): string {
  return k.expert ? `${k.phase} · ${k.expert}` : k.phase;
}

/** The series of metrics.jsonl in the order they first appear, with their best validation accuracy. */
export function summarizeSeries(metrics: readonly MetricLine[]): SeriesSummary[] {
  const byKey = new Map<string, SeriesSummary>();
  for (const m of metrics) {
    const key = JSON.stringify([m.phase, m.expert ?? null]);
    let s = byKey.get(key);
    if (s === undefined) byKey.set(key, (s = { phase: m.phase, expert: m.expert, points: 0, lastStep: 0 }));
    s.points++;
    s.lastStep = Math.max(s.lastStep, m.step);
    if (typeof m.valAcc === 'number' && (s.bestValAcc === undefined || m.valAcc > s.bestValAcc)) {
      s.bestValAcc = m.valAcc;
      s.bestValStep = m.step;
    }
  }
  return [...byKey.values()];
}

/**
 * The TrainOptions that resume `dir`: the configuration stored in run.json, with the backend and time
 * budget of now (both may change on resume). Throws with what is missing when run.json cannot say.
 */
export function resumeOptions(dir: string, now: { backend: TrainBackend; maxMinutes?: number }): TrainOptions {
  const folder = RunFolder.open(dir);
  const c = folder.config;
  const method = c.method;
  const dataset = text(c.dataset);
  const preset = c.preset;
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) throw new Error(`${folder.dir}: run.json names no known method`);
  if (dataset === undefined) throw new Error(`${folder.dir}: run.json names no dataset`);
  if (typeof preset !== 'string' || !(PRESET_NAMES as readonly string[]).includes(preset)) throw new Error(`${folder.dir}: run.json names no known preset`);
  const options: TrainOptions = {
    dataset,
    method: method as Method,
    out: folder.dir,
    preset: preset as PresetName,
    // A run the PyTorch trainer started resumes there (its folder holds the plan the trainer follows).
    backend: c.engine === 'torch' ? 'torch' : now.backend,
    seed: typeof c.seed === 'number' ? c.seed : 42,
  };
  const labels = text(c.labels);
  if (labels !== undefined) options.labels = labels;
  const base = text(c.base);
  if (base !== undefined) options.base = base;
  const schemaFile = text(c.schemaFile);
  if (schemaFile !== undefined) options.schemaFile = schemaFile;
  const adapter = text(c.adapter);
  if (adapter !== undefined) options.adapter = adapter;
  // run.json keeps the hyper-parameters as applied, not the --set overrides: handing all of them back
  // as overrides reproduces them exactly, whatever the preset's defaults.
  const overrides = flattenSettings(c.hyperParams ?? c.overrides);
  if (overrides !== undefined && Object.keys(overrides).length > 0) options.overrides = overrides;
  if (now.maxMinutes !== undefined) options.maxMinutes = now.maxMinutes;
  return options;
}

/** `{lr: 1, lora: {rank: 8}}` → `{lr: 1, 'lora.rank': 8}` (the `--set` keys); undefined when not an object. */
export function flattenSettings(v: unknown): Record<string, number | string | boolean> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, number | string | boolean> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') out[k] = value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [sub, x] of Object.entries(value as Record<string, unknown>))
        if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') out[`${k}.${sub}`] = x;
    }
  }
  return out;
}

/** `hh-rlhf.jsonl`, `dmoerm`, a date → `hh-rlhf-dmoerm-20260314-153012` (sortable, no characters a file system refuses). */
export function runFolderName(datasetFile: string, method: string, at: Date): string {
  const stem =
    basename(datasetFile)
      .replace(/\.(jsonl?|json)$/i, '')
      .replace(/[^\w.-]+/g, '_') || 'dataset';
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  return `${stem}-${method}-${stamp}`;
}
