import { basename } from 'node:path';
import { UNCATEGORISED } from './evaluate';
import type { TestEval } from './run-folder';
import type { EvalResult } from './types';
import { METHODS } from './types';

/**
 * The evaluation report (paper Table 3): one row per evaluated run and method, one column per
 * category plus Overall, grouped by the test set the accuracies were measured on. Accuracies of
 * different test sets are not comparable, so they never share a table.
 *
 * eval.json holds only numbers ({method, overall, pairs, byCategory}); it is written by training, on
 * the held-out part of the training file. Which records that part holds follows from run.json: the
 * file's content (datasetSha256), the split's seed and test fraction, and how the file was read
 * (schema file, adapter). `heldOutTestSet` names the test set by exactly those. `rewardlens eval` on
 * another file keeps its result with the file's hash (test-evals.json): `fileTestSet`.
 */

export interface TestSet {
  /** Equal keys: the same records were evaluated. */
  key: string;
  /** Short, for a heading: `held-out 20% of train.jsonl (seed 5)`. */
  label: string;
  /** Everything the key is made of, for a tooltip. */
  detail: string;
}

export interface ReportRunInput {
  /** The run folder's name. */
  run: string;
  dir: string;
  testSet: TestSet;
  /** eval.json's results; undefined when the run has none (it is listed as skipped). */
  evaluation?: readonly EvalResult[];
  /** Why the run folder could not be read. */
  error?: string;
}

export interface ReportCell {
  accuracy: number | null;
  pairs: number;
  /** The highest accuracy of its column (ties share it); only where two or more rows have one. */
  best: boolean;
}

export interface ReportRow {
  run: string;
  dir: string;
  method: string;
  overall: ReportCell;
  /** Aligned with the group's `categories`; null where the run's evaluation has no such category. */
  cells: Array<ReportCell | null>;
}

export interface ReportGroup {
  testSet: TestSet;
  categories: string[];
  rows: ReportRow[];
  /** Signs that the rows were not measured on the same pairs after all (pair counts differ). */
  warnings: string[];
}

export interface EvaluationReport {
  groups: ReportGroup[];
  /** Runs without an evaluation, or whose folder could not be read. */
  skipped: Array<{ run: string; dir: string; reason: string }>;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The held-out test set of a run, from its run.json. A run.json without a data hash (older runs, or
 * folders written by hand) is keyed by the dataset path and says so; without either, the run is its
 * own test set, so it is never grouped with another by guesswork.
 */
export function heldOutTestSet(config: Record<string, unknown>, dir: string, defaultTestFraction = 0.2): TestSet {
  const hp = (typeof config.hyperParams === 'object' && config.hyperParams !== null ? config.hyperParams : {}) as Record<string, unknown>;
  const fraction = typeof hp.testFraction === 'number' ? hp.testFraction : defaultTestFraction;
  const seed = typeof config.seed === 'number' ? config.seed : undefined;
  const dataset = text(config.dataset);
  const sha = text(config.datasetSha256);
  const reading = [
    text(config.schemaFile) ? `schema ${String(config.schemaFile)}` : undefined,
    text(config.adapter) ? `adapter ${String(config.adapter)}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const name = dataset ? basename(dataset) : undefined;
  const what = `held-out ${Math.round(fraction * 100)}% of ${name ?? 'an unnamed dataset'}${seed !== undefined ? ` (seed ${seed})` : ''}`;
  const parts = [`fraction ${fraction}`, `seed ${seed ?? '?'}`, `schema ${text(config.schemaFile) ?? '-'}`, `adapter ${text(config.adapter) ?? '-'}`];
  if (sha !== undefined) {
    return {
      key: ['sha256', sha, ...parts].join('|'),
      label: `${what} · data ${sha.slice(0, 8)}`,
      detail: [`dataset ${dataset ?? '?'}`, `sha256 ${sha}`, `test fraction ${fraction}, seed ${seed ?? '?'}`, reading].filter(Boolean).join('\n'),
    };
  }
  if (dataset !== undefined) {
    return {
      key: ['path', dataset, ...parts].join('|'),
      label: `${what} · no data hash`,
      detail: [
        `dataset ${dataset} (run.json records no hash: the file may have changed between runs)`,
        `test fraction ${fraction}, seed ${seed ?? '?'}`,
        reading,
      ]
        .filter(Boolean)
        .join('\n'),
    };
  }
  return {
    key: `run|${dir}`,
    label: `${basename(dir)}: unknown test set`,
    detail: `${dir}: run.json names no dataset, so its evaluation is compared with no other run`,
  };
}

/** A test file evaluated with `rewardlens eval` (the run's test-evals.json): keyed by its content and how it was read. */
export function fileTestSet(e: Pick<TestEval, 'testFile' | 'testSha256' | 'schemaFile' | 'adapter'>): TestSet {
  const reading = [e.schemaFile ? `schema ${e.schemaFile}` : undefined, e.adapter ? `adapter ${e.adapter}` : undefined].filter(Boolean).join(', ');
  return {
    key: ['file', e.testSha256, e.schemaFile ?? '-', e.adapter ?? '-'].join('|'),
    label: `${basename(e.testFile)} · data ${e.testSha256.slice(0, 8)}`,
    detail: [`test file ${e.testFile}`, `sha256 ${e.testSha256}`, reading].filter(Boolean).join('\n'),
  };
}

/** Alphabetical, `uncategorised` last (as evaluate.ts orders byCategory). */
function compareCategories(x: string, y: string): number {
  if (x === y) return 0;
  if (x === UNCATEGORISED) return 1;
  if (y === UNCATEGORISED) return -1;
  return x < y ? -1 : 1;
}

/** Paper order of the methods (types.ts METHODS), unknown methods after them. */
function methodRank(m: string): number {
  const i = (METHODS as readonly string[]).indexOf(m);
  return i < 0 ? METHODS.length : i;
}

/** Rounding noise must not make one of two equal accuracies "best". */
const EPS = 1e-12;

function markBest(cells: Array<ReportCell | null>): void {
  const valued = cells.filter((c): c is ReportCell & { accuracy: number } => c !== null && c.accuracy !== null && Number.isFinite(c.accuracy));
  if (valued.length < 2) return;
  const top = Math.max(...valued.map((c) => c.accuracy));
  for (const c of valued) if (c.accuracy >= top - EPS) c.best = true;
}

export function buildEvaluationReport(inputs: readonly ReportRunInput[]): EvaluationReport {
  const skipped: EvaluationReport['skipped'] = [];
  const byKey = new Map<string, { testSet: TestSet; results: Array<{ input: ReportRunInput; result: EvalResult }> }>();
  for (const input of inputs) {
    if (input.error !== undefined) {
      skipped.push({ run: input.run, dir: input.dir, reason: input.error });
      continue;
    }
    if (input.evaluation === undefined || input.evaluation.length === 0) {
      skipped.push({ run: input.run, dir: input.dir, reason: 'no eval.json (not finished, or no held-out part)' });
      continue;
    }
    let group = byKey.get(input.testSet.key);
    if (group === undefined) byKey.set(input.testSet.key, (group = { testSet: input.testSet, results: [] }));
    for (const result of input.evaluation) group.results.push({ input, result });
  }

  const groups: ReportGroup[] = [];
  for (const { testSet, results } of byKey.values()) {
    const categories = [...new Set(results.flatMap(({ result }) => Object.keys(result.byCategory ?? {})))].sort(compareCategories);
    const sorted = [...results].sort(
      (x, y) => methodRank(x.result.method) - methodRank(y.result.method) || (x.input.run < y.input.run ? -1 : x.input.run > y.input.run ? 1 : 0),
    );
    const rows: ReportRow[] = sorted.map(({ input, result }) => ({
      run: input.run,
      dir: input.dir,
      method: result.method,
      overall: { accuracy: result.overall, pairs: result.pairs, best: false },
      cells: categories.map((c) => {
        const v = result.byCategory?.[c];
        return v === undefined ? null : { accuracy: v.accuracy, pairs: v.pairs, best: false };
      }),
    }));
    markBest(rows.map((r) => r.overall));
    categories.forEach((_, i) => markBest(rows.map((r) => r.cells[i])));
    groups.push({ testSet, categories, rows, warnings: pairWarnings(rows, categories) });
  }
  groups.sort((a, b) => b.rows.length - a.rows.length || (a.testSet.label < b.testSet.label ? -1 : a.testSet.label > b.testSet.label ? 1 : 0));
  return { groups, skipped };
}

/**
 * Runs keyed to one test set should have counted the same pairs; when they did not (an edited file
 * read without a hash, a changed reader), the table says so instead of ranking them silently.
 */
function pairWarnings(rows: readonly ReportRow[], categories: readonly string[]): string[] {
  const warnings: string[] = [];
  const describe = (counts: Map<number, string[]>): string => [...counts.entries()].map(([n, runs]) => `${n} (${runs.join(', ')})`).join(' vs ');
  const check = (label: string, value: (r: ReportRow) => number | undefined): void => {
    const counts = new Map<number, string[]>();
    for (const r of rows) {
      const n = value(r);
      if (n === undefined) continue;
      const list = counts.get(n) ?? [];
      list.push(r.run);
      counts.set(n, list);
    }
    if (counts.size > 1) warnings.push(`${label}: pair counts differ, ${describe(counts)}: these rows were not measured on the same pairs`);
  };
  check('overall', (r) => r.overall.pairs);
  categories.forEach((c, i) => check(c, (r) => r.cells[i]?.pairs));
  return warnings;
}
