import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FileLock } from '../lock';
import { acquireLock } from '../lock';
import { FileError } from '../io/file-error';
import { makeDirs, writeFileAtomic } from '../io/safe-output';
import type { EvalResult, Phase } from './types';
import { readJsonFile } from '../io/input-file';

/**
 * The run folder: everything a run writes, in one place, resumable (layout in docs/training.md).
 *
 *   run.json        the configuration; written once, compared on resume
 *   state.json      progress: completed components and the one in progress (replaced atomically)
 *   tokenizer.json  the tokenizer used (tokenizer_config.json beside it when the base has one); vocab.json its compact vocabulary map
 *   checkpoints/    <component>.safetensors + <component>.json
 *   metrics.jsonl   one line per evaluation (append-only; a torn last line is ignored)
 *   eval.json       the final evaluation
 *   test-evals.json `rewardlens eval` on other test files: one entry per file content (the latest)
 *   MODEL_CARD.md   the model card
 *   train.log       the worker's log
 *   plan.json, plan.safetensors, init.safetensors   the training plan, when another engine trains the run
 *   run.lock        while a process trains into the folder: its pid@host (lockRunFolder)
 */

export const RUN_FILES = {
  config: 'run.json',
  state: 'state.json',
  tokenizer: 'tokenizer.json',
  /** The base's tokenizer_config.json (names of its special tokens), when it has one. */
  tokenizerConfig: 'tokenizer_config.json',
  vocab: 'vocab.json',
  model: 'model.json',
  checkpoints: 'checkpoints',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  testEvals: 'test-evals.json',
  modelCard: 'MODEL_CARD.md',
  log: 'train.log',
  /** The training plan another engine trains from (src/core/training/plan.ts, docs/torch-trainer.md). */
  plan: 'plan.json',
  planTables: 'plan.safetensors',
  planInit: 'init.safetensors',
  /** The PyTorch trainer's rewards of the held-out records, [{index, rewards}]: what an export must reproduce. */
  testRewards: 'test-rewards.json',
  lock: 'run.lock',
} as const;

/**
 * Configuration fields that may change between a run and its resumption without making it another
 * run: the time budget, where the folder is, which backend computes (results differ only by
 * floating-point rounding), and tool versions. Matched by name at any depth of the configuration.
 */
export const RESUMABLE_FIELDS: readonly string[] = ['maxMinutes', 'out', 'backend', 'tfBackend', 'versions', 'createdAt'];

/**
 * Locks the run folder `dir` (created if needed) for one training process: a second `train` on the same
 * folder would resume the same state and write every metric and checkpoint twice. A lock left by a
 * process that is gone is taken over (src/core/lock.ts).
 */
export function lockRunFolder(dir: string): FileLock {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new FileError(abs, 'is a file, not a folder: choose a folder for the run');
  makeDirs(abs);
  return acquireLock(join(abs, RUN_FILES.lock), `the run folder ${abs}`);
}

export interface RunState {
  /** Components whose best weights are in checkpoints/ (`base`, `phase1-roleplay`, …), in order. */
  completed: string[];
  current?: { component: string; step: number; checkpoint?: string; extra?: Record<string, unknown> };
  finished?: boolean;
}

export interface MetricLine {
  ts: string;
  phase: Phase;
  expert?: string;
  step: number;
  loss: number;
  trainAcc?: number;
  valAcc?: number;
}

export interface RunSummary {
  dir: string;
  method: string;
  finished: boolean;
  evaluation?: EvalResult[];
  /** Why the folder could not be read, when it could not (it is still listed). */
  error?: string;
}

/** JSON with object keys sorted, so equal configurations hash equally whatever their key order. */
function canonicalJson(v: unknown, ignore: ReadonlySet<string>): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x, ignore)).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v)
      .filter((k) => !ignore.has(k) && (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k], ignore)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A stable hash of a configuration, leaving out the fields that may change on resume. */
export function configHash(config: Record<string, unknown>, ignore: readonly string[] = RESUMABLE_FIELDS): string {
  return createHash('sha256')
    .update(canonicalJson(config, new Set(ignore)))
    .digest('hex')
    .slice(0, 16);
}

/** Paths (dotted) where two configurations differ, for an error message that says what changed. */
function differences(a: unknown, b: unknown, ignore: ReadonlySet<string>, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignore.has(k)).sort();
    return keys.flatMap((k) => differences(a[k], b[k], ignore, path ? `${path}.${k}` : k));
  }
  if (canonicalJson(a, ignore) === canonicalJson(b, ignore)) return [];
  const shown = (v: unknown): string => {
    const json = JSON.stringify(v) ?? 'absent';
    return json.length > 80 ? `${json.slice(0, 77)}…` : json;
  };
  return [`${path || '(the whole configuration)'}: ${shown(a)} in the folder, ${shown(b)} now`];
}

const COMPONENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `rewardlens eval RUN TESTFILE`'s result, kept in the run folder. */
export interface TestEval {
  testFile: string;
  testSha256: string;
  /** How the file was read, when not by detection. */
  schemaFile?: string;
  adapter?: string;
  evaluatedAt: string;
  result: EvalResult;
}

export class RunFolder {
  /** Whether the metrics file may end in a torn line this process has not yet closed off. */
  private metricsChecked = false;

  private constructor(
    readonly dir: string,
    /** The configuration as stored in run.json (on resume: the first run's, including its `maxMinutes`). */
    readonly config: Record<string, unknown>,
  ) {}

  /**
   * A new run in `dir` (created if needed), or the same run resumed: when `dir` already holds a
   * run.json whose configuration equals `config` up to `ignore`d fields. Refuses a folder holding
   * another configuration (saying what differs) or other files.
   */
  static create(dir: string, config: Record<string, unknown>, ignore: readonly string[] = RESUMABLE_FIELDS): RunFolder {
    const abs = resolve(dir);
    const configFile = join(abs, RUN_FILES.config);
    if (existsSync(configFile)) {
      const folder = RunFolder.open(abs);
      if (configHash(folder.config, ignore) !== configHash(config, ignore)) {
        const diff = differences(folder.config, config, new Set(ignore));
        const shown = diff.slice(0, 8).join('; ') + (diff.length > 8 ? `; … and ${diff.length - 8} more` : '');
        throw new FileError(
          abs,
          `holds a run with another configuration (${shown}), so it cannot be resumed with this one: choose another output folder, or delete this one to start over`,
        );
      }
      makeDirs(join(abs, RUN_FILES.checkpoints));
      return folder;
    }
    if (existsSync(abs)) {
      if (!statSync(abs).isDirectory()) throw new FileError(abs, 'is a file, not a folder: choose a folder for the run');
      // The worker's log is opened before the recipe creates the run, so it may already be there.
      const entries = readdirSync(abs).filter((e) => e !== RUN_FILES.log && e !== RUN_FILES.lock);
      if (entries.length > 0)
        throw new FileError(
          abs,
          `is not empty and is not a run folder (no ${RUN_FILES.config}; it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): choose an empty or new folder`,
        );
    }
    makeDirs(join(abs, RUN_FILES.checkpoints));
    writeFileAtomic(configFile, `${JSON.stringify(config, null, 2)}\n`);
    return new RunFolder(abs, config);
  }

  static open(dir: string): RunFolder {
    const abs = resolve(dir);
    const configFile = join(abs, RUN_FILES.config);
    if (!existsSync(configFile)) throw new FileError(abs, `is not a RewardLens run folder (it has no ${RUN_FILES.config})`);
    const config = readJsonFile(configFile, 'run configuration');
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new FileError(configFile, 'the run configuration is not a JSON object');
    return new RunFolder(abs, config as Record<string, unknown>);
  }

  file(name: keyof typeof RUN_FILES): string {
    return join(this.dir, RUN_FILES[name]);
  }

  /** checkpoints/<component>.safetensors; the component name is checked so it cannot leave the folder. */
  checkpointPath(component: string): string {
    if (!COMPONENT_NAME.test(component))
      throw new Error(`invalid checkpoint component name ${JSON.stringify(component)}: letters, digits, '.', '_' and '-' only`);
    return join(this.dir, RUN_FILES.checkpoints, `${component}.safetensors`);
  }

  /** checkpoints/<component>.json, the checkpoint's metadata beside its weights. */
  checkpointMetaPath(component: string): string {
    return this.checkpointPath(component).replace(/\.safetensors$/, '.json');
  }

  /** A missing state.json is a run that has not completed anything yet. */
  readState(): RunState {
    const file = this.file('state');
    if (!existsSync(file)) return { completed: [] };
    const s = readJsonFile(file, 'run state') as Partial<RunState> | null;
    if (typeof s !== 'object' || s === null || !Array.isArray(s.completed) || !s.completed.every((c) => typeof c === 'string'))
      throw new Error(`run state ${file} has no list of completed components; delete it to restart the run from its first component`);
    return s as RunState;
  }

  writeState(s: RunState): void {
    writeFileAtomic(this.file('state'), `${JSON.stringify(s, null, 2)}\n`);
  }

  appendMetric(m: MetricLine): void {
    const file = this.file('metrics');
    // A crash can leave the last line unfinished; start on a line of our own so only that one is lost.
    if (!this.metricsChecked) {
      this.metricsChecked = true;
      if (endsMidLine(file)) appendFileSync(file, '\n');
    }
    appendFileSync(file, `${JSON.stringify(m)}\n`);
  }

  /** The metric lines, skipping any that do not parse (a torn last line after a crash). */
  readMetrics(): MetricLine[] {
    const file = this.file('metrics');
    if (!existsSync(file)) return [];
    const out: MetricLine[] = [];
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        const v = JSON.parse(line) as MetricLine;
        if (typeof v === 'object' && v !== null && typeof v.step === 'number' && typeof v.phase === 'string') out.push(v);
      } catch {
        // torn or foreign line: skipped
      }
    }
    return out;
  }

  writeEval(results: EvalResult | EvalResult[]): void {
    writeFileAtomic(this.file('eval'), `${JSON.stringify(Array.isArray(results) ? results : [results], null, 2)}\n`);
  }

  /** The final evaluation, always as a list; undefined before one was written. */
  readEval(): EvalResult[] | undefined {
    const file = this.file('eval');
    if (!existsSync(file)) return undefined;
    const v = readJsonFile(file, 'evaluation');
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((r) => typeof r === 'object' && r !== null && typeof (r as EvalResult).method === 'string'))
      throw new Error(`evaluation ${file} does not hold evaluation results ({method, overall, pairs, byCategory})`);
    return list as EvalResult[];
  }

  /**
   * Keeps an evaluation on a test file, replacing an earlier one of the same content: the evaluation
   * report compares runs on the same test set, so each result names its file and hash.
   */
  addTestEval(entry: TestEval): void {
    const same = (e: TestEval): boolean => e.testSha256 === entry.testSha256 && e.schemaFile === entry.schemaFile && e.adapter === entry.adapter;
    const list = (this.readTestEvals() ?? []).filter((e) => !same(e));
    writeFileAtomic(this.file('testEvals'), `${JSON.stringify([...list, entry], null, 2)}\n`);
  }

  /** Evaluations on test files, oldest first; undefined when none was made. */
  readTestEvals(): TestEval[] | undefined {
    const file = this.file('testEvals');
    if (!existsSync(file)) return undefined;
    const v = readJsonFile(file, 'test evaluations');
    const ok = (e: unknown): e is TestEval =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as TestEval).testFile === 'string' &&
      typeof (e as TestEval).testSha256 === 'string' &&
      typeof (e as TestEval).result?.method === 'string';
    if (!Array.isArray(v) || !v.every(ok)) throw new Error(`${file} does not hold test evaluations ([{testFile, testSha256, evaluatedAt, result}])`);
    return v;
  }

  writeModelCard(markdown: string): void {
    writeFileAtomic(this.file('modelCard'), markdown);
  }

  /** One line of train.log, time-stamped. */
  log(line: string): void {
    appendFileSync(this.file('log'), `${new Date().toISOString()} ${line.replace(/\n+$/, '')}\n`);
  }
}

function endsMidLine(file: string): boolean {
  if (!existsSync(file)) return false;
  const size = statSync(file).size;
  if (size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

function methodOf(config: Record<string, unknown>): string {
  const options = config.options as Record<string, unknown> | undefined;
  const m = config.method ?? options?.method;
  return typeof m === 'string' ? m : 'unknown';
}

/**
 * The run folders directly inside `root` (and `root` itself if it is one), sorted by path, for the
 * runs view. A folder that cannot be read is listed with its `error` rather than hidden.
 */
export function listRuns(root: string): RunSummary[] {
  const abs = resolve(root);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return [];
  const candidates = [
    abs,
    ...readdirSync(abs, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(abs, e.name)),
  ];
  const runs: RunSummary[] = [];
  for (const dir of candidates) {
    if (!existsSync(join(dir, RUN_FILES.config))) continue;
    try {
      const folder = RunFolder.open(dir);
      const summary: RunSummary = { dir, method: methodOf(folder.config), finished: folder.readState().finished === true };
      const evaluation = folder.readEval();
      if (evaluation !== undefined) summary.evaluation = evaluation;
      runs.push(summary);
    } catch (e) {
      runs.push({ dir, method: 'unknown', finished: false, error: (e as Error).message });
    }
  }
  return runs.sort((x, y) => (x.dir < y.dir ? -1 : x.dir > y.dir ? 1 : 0));
}
