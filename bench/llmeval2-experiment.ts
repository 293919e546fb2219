import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Dataset } from '../src/core/dataset/dataset';
import type { PreferenceRecord } from '../src/core/dataset/record';
import type { FromRatingsSummary } from '../src/core/labelling/from-ratings';
import { labelsFromRatings } from '../src/core/labelling/from-ratings';
import { defaultPointsConfig } from '../src/core/labelling/points';
import type { Aggregation } from '../src/core/training/aggregate';
import { formatEvalTable } from '../src/core/training/evaluate';
import type { RunModel } from '../src/core/model/dmoerm';
import type { ReferenceResult } from '../src/core/training/references';
import { judgedRecords, longerWins, ratingJudge } from '../src/core/training/references';
import { evaluateRun, prepare as prepareRun, train } from '../src/core/training/train';
import type { EvalResult, Method, TrainBackend, TrainEvent } from '../src/core/training/types';
import { METHODS, METHODS_NEEDING_LABELS, TRAIN_BACKENDS } from '../src/core/training/types';
import type { AlignmentReport, Split } from './llmeval2-data';
import { GPT_SOURCE, canonicalJsonl, pairCounts, readLlmeval2, splitByQuestion } from './llmeval2-data';
import type { BackendName } from '../src/core/model/backend';
import type { PresetName } from '../src/core/model/config';
import { PRESET_NAMES } from '../src/core/model/config';

/**
 * Issue 4's experiment: the paper's Table 3 on llmeval2 (docs in bench/llmeval2-experiment.md). Human
 * preference = total human stars, capability labels = GPT-4 stars per dimension, category = question
 * type. Trains every method on the train part, measures agreement on the test part, and measures two
 * reference judges (GPT-4's total stars, "the longer response wins") on the very same test pairs.
 *
 *   node .test-tmp/llmeval2-experiment.js --train DIR [--test DIR] [--preset tiny|small] [--base DIR]
 *     [--max-minutes M] [--methods a,b,…] [--seed S] [--out WORKDIR] [--backend B] [--references-only] [--json]
 *
 * With --json, stdout carries exactly one JSON object; progress goes to stderr.
 */

const USAGE = `usage: llmeval2-experiment --train DIR [--test DIR] [--preset ${PRESET_NAMES.join('|')}] [--base DIR] [--max-minutes M]
  [--methods ${METHODS.join(',')}] [--seed S] [--out WORKDIR] [--backend ${TRAIN_BACKENDS.join('|')}] [--references-only]
  [--plans-only] [--results FILE] [--json]
  --plans-only   write PyTorch training plans (one run folder per method, the test part inside) for a GPU machine
                 without Node.js: bench/device/train-plans.py trains them there (bench/llmeval2-experiment.md)
  --results FILE the table from what train-plans.py wrote (its results.json), with the reference judges`;

/** Share of the questions held out when no --test folder is given (issue 4). */
const TEST_FRACTION = 0.2;
const ENSEMBLE_AGGREGATIONS: readonly Method[] = ['wco', 'uwo'];

interface Options {
  train: string;
  test?: string;
  preset: PresetName;
  base?: string;
  maxMinutes?: number;
  methods: Method[];
  seed: number;
  out: string;
  backend: TrainBackend;
  referencesOnly: boolean;
  plansOnly: boolean;
  results?: string;
  json: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      train: { type: 'string' },
      test: { type: 'string' },
      preset: { type: 'string', default: 'tiny' },
      base: { type: 'string' },
      'max-minutes': { type: 'string' },
      methods: { type: 'string', default: METHODS.join(',') },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: join('bench', 'out', 'llmeval2') },
      backend: { type: 'string', default: 'auto' },
      'references-only': { type: 'boolean', default: false },
      'plans-only': { type: 'boolean', default: false },
      results: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.train) throw new UsageError('--train DIR is required');
  const preset = values.preset as PresetName;
  if (!PRESET_NAMES.includes(preset)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
  const methods = values.methods.split(',').map((m) => m.trim()) as Method[];
  const unknown = methods.filter((m) => !METHODS.includes(m));
  if (unknown.length > 0 || methods.length === 0)
    throw new UsageError(`--methods: unknown ${unknown.join(', ') || '(none given)'}; known: ${METHODS.join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
  const maxMinutes = values['max-minutes'] === undefined ? undefined : Number(values['max-minutes']);
  if (maxMinutes !== undefined && !(maxMinutes > 0)) throw new UsageError('--max-minutes must be a positive number');
  const backend = values.backend as Options['backend'];
  if (!TRAIN_BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${TRAIN_BACKENDS.join(', ')}`);
  return {
    train: values.train,
    test: values.test,
    preset,
    base: values.base,
    maxMinutes,
    methods: [...new Set(methods)],
    seed,
    out: values.out,
    backend,
    referencesOnly: values['references-only'],
    plansOnly: values['plans-only'],
    results: values.results,
    json: values.json,
  };
}

const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** Writes `text` only when it differs from what the file holds; says whether it changed. */
function writeIfChanged(file: string, text: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(file, text);
  return true;
}

interface Prepared {
  trainFile: string;
  testFile: string;
  labelsFile: string;
  split: Split;
  alignment: { train: AlignmentReport; test?: AlignmentReport };
  /** Questions (by question_uuid) found in both the train and test folders (should be 0). */
  overlap: number;
  labels: FromRatingsSummary;
}

/** The train and test parts as canonical JSONL in the work dir, and GPT-4 capability labels for the train part. */
async function prepare(o: Options): Promise<Prepared> {
  mkdirSync(o.out, { recursive: true });
  const trainData = readLlmeval2(o.train);
  let split: Split;
  let testReport: AlignmentReport | undefined;
  let overlap = 0;
  if (o.test) {
    const testData = readLlmeval2(o.test);
    testReport = testData.report;
    const trainQuestions = new Set(trainData.questions);
    overlap = testData.questions.filter((q) => trainQuestions.has(q)).length;
    split = { train: trainData.records, test: testData.records };
  } else {
    split = splitByQuestion(trainData, o.seed, TEST_FRACTION);
  }
  const trainFile = join(o.out, 'train.jsonl');
  const testFile = join(o.out, 'test.jsonl');
  const labelsFile = join(o.out, 'train.labels.jsonl');
  const trainChanged = writeIfChanged(trainFile, canonicalJsonl(split.train));
  writeIfChanged(testFile, canonicalJsonl(split.test));
  // The store is append-only and resumable: kept while the train part is unchanged (so its hash, and
  // the run folders that recorded it, stay valid), rebuilt when the part changed.
  if (trainChanged) rmSync(labelsFile, { force: true });

  const dataset = await Dataset.open(trainFile, { adapter: 'canonical' });
  let labels: FromRatingsSummary;
  try {
    labels = labelsFromRatings({ dataset, store: labelsFile, source: GPT_SOURCE, points: defaultPointsConfig() });
  } finally {
    dataset.close();
  }
  return { trainFile, testFile, labelsFile, split, alignment: { train: trainData.report, test: testReport }, overlap, labels };
}

interface References {
  gpt4Judge: ReferenceResult;
  longerWins: ReferenceResult;
}

/** Test pairs whose GPT-4 totals are equal: the judge's stars are coarse, and equal rewards count as wrong. */
function gpt4Ties(judged: ReturnType<typeof judgedRecords>): number {
  let ties = 0;
  for (const { record, pairs } of judged) {
    const totals = record.responses.map((r) => (r.ratings ?? []).filter((x) => x.source === GPT_SOURCE).reduce((s, x) => s + x.value, 0));
    for (const p of pairs) if (totals[p.winner] === totals[p.loser]) ties++;
  }
  return ties;
}

/** Reference judges on the test file as the engine reads it, so their pairs are the models' pairs. */
async function references(testFile: string): Promise<References & { gpt4TiedPairs: number }> {
  const dataset = await Dataset.open(testFile, { adapter: 'canonical' });
  try {
    const records: PreferenceRecord[] = [];
    for (let i = 0; i < dataset.size; i++) {
      const r = dataset.read(i).record;
      if (r && r.responses.length > 0) records.push(r);
    }
    const judged = judgedRecords(records);
    return { gpt4Judge: ratingJudge(judged, GPT_SOURCE), longerWins: longerWins(judged), gpt4TiedPairs: gpt4Ties(judged) };
  } finally {
    dataset.close();
  }
}

/** Run folders per configuration, so a changed split, preset, base or seed never meets an old run. */
function runsDir(o: Options, prepared: Prepared): string {
  const h = createHash('sha256');
  h.update(readFileSync(prepared.trainFile));
  h.update(JSON.stringify({ preset: o.preset, base: o.base ? resolve(o.base) : null, seed: o.seed, ...(o.backend === 'torch' ? { engine: 'torch' } : {}) }));
  return join(o.out, 'runs', h.digest('hex').slice(0, 12));
}

/** Progress for stderr: phase changes and warnings as they come, step progress at most every 15 s. */
function progressPrinter(method: string): (e: TrainEvent) => void {
  let lastProgress = 0;
  return (e) => {
    if (e.type === 'phase') log(`[${method}] ${e.phase}${e.expert ? ` ${e.expert}` : ''}: ${e.message}`);
    else if (e.type === 'log' && e.level === 'warn') log(`[${method}] warning: ${e.message}`);
    else if (e.type === 'backend') log(`[${method}] backend ${e.backend} (tfjs '${e.tfBackend}')${e.note ? `: ${e.note}` : ''}`);
    else if (e.type === 'progress' && Date.now() - lastProgress > 15_000) {
      lastProgress = Date.now();
      const val = e.valAcc === undefined ? '' : ` val ${(100 * e.valAcc).toFixed(1)}%`;
      log(`[${method}] ${e.phase}${e.expert ? ` ${e.expert}` : ''} step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}${val}`);
    }
  };
}

interface MethodOutcome {
  result: EvalResult | { overall: null; pairs: 0; byCategory: Record<string, never>; error: string };
  minutes: number;
  truncated?: boolean;
  /** The run folder already held this configuration (resumed, or finished and only re-evaluated). */
  resumed?: boolean;
  backend?: BackendName | 'torch';
  tfBackend?: string;
}

/** Evaluation runs in this process on TensorFlow.js, also for runs the PyTorch trainer trained. */
function evalBackend(o: Options): BackendName | 'auto' {
  return o.backend === 'torch' ? 'auto' : o.backend;
}

async function trainAndEvaluate(method: Method, o: Options, prepared: Prepared, runs: string, signal: AbortSignal): Promise<MethodOutcome> {
  const out = join(runs, method);
  const resumed = existsSync(join(out, 'run.json'));
  let tfBackend: string | undefined;
  const onEvent = progressPrinter(method);
  const started = Date.now();
  const summary = await train(
    {
      dataset: prepared.trainFile,
      labels: METHODS_NEEDING_LABELS.includes(method) ? prepared.labelsFile : undefined,
      method,
      out,
      preset: o.preset,
      base: o.base,
      baseRun: method === 'single' ? undefined : join(runs, 'single'),
      backend: o.backend,
      maxMinutes: o.maxMinutes,
      seed: o.seed,
      adapter: 'canonical',
      // The test part is a file of its own: train on all of the train part.
      overrides: { testFraction: 0 },
    },
    {
      signal,
      onEvent: (e) => {
        if (e.type === 'backend') tfBackend = e.tfBackend;
        onEvent(e);
      },
    },
  );
  const minutes = (Date.now() - started) / 60_000;
  log(`[${method}] trained in ${minutes.toFixed(1)} min${summary.truncated ? ' (stopped by the time budget)' : ''}; evaluating`);
  const result = await evaluateRun(out, prepared.testFile, { signal, backend: evalBackend(o), adapter: 'canonical' });
  return { result, minutes, truncated: summary.truncated, resumed, backend: summary.backend, tfBackend };
}

/**
 * WCO and UWO from the members trained for `mean`: the recipe trains the members the same way for all
 * three (only `model.json`'s aggregation differs), so a folder that shares mean's checkpoints and says
 * another aggregation is the same model as training it again, at no training cost.
 */
async function evaluateAggregation(method: Method, meanRun: string, runs: string, o: Options, prepared: Prepared, signal: AbortSignal): Promise<EvalResult> {
  const dir = join(runs, `${method}-from-mean`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['run.json', 'tokenizer.json', 'vocab.json']) copyFileSync(join(meanRun, f), join(dir, f));
  const model = JSON.parse(readFileSync(join(meanRun, 'model.json'), 'utf8')) as RunModel;
  if (!model.ensemble) throw new Error(`${meanRun}: the mean run has no ensemble in model.json`);
  const derived: RunModel = { ...model, method, ensemble: { ...model.ensemble, aggregation: method as Aggregation } };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(derived, null, 2) + '\n');
  try {
    symlinkSync(resolve(meanRun, 'checkpoints'), join(dir, 'checkpoints'), 'dir');
  } catch {
    cpSync(join(meanRun, 'checkpoints'), join(dir, 'checkpoints'), { recursive: true });
  }
  return evaluateRun(dir, prepared.testFile, { signal, backend: evalBackend(o), adapter: 'canonical' });
}

/**
 * One PyTorch run folder per method, each with the test part inside (`--test`), for a GPU machine that has
 * Python and no Node.js: bench/device/train-plans.py trains and evaluates them there, and its results.json
 * comes back to `--results`. Every method trains its own general RM from the same seed (no --base-run: the
 * folders are prepared before any of them trains); wco and uwo train their own members.
 */
async function writePlans(o: Options, prepared: Prepared, runs: string): Promise<number> {
  const plans = join(runs, 'plans');
  for (const method of o.methods) {
    const out = join(plans, method);
    const plan = await prepareRun(
      {
        dataset: prepared.trainFile,
        testFile: prepared.testFile,
        labels: METHODS_NEEDING_LABELS.includes(method) ? prepared.labelsFile : undefined,
        method,
        out,
        preset: o.preset,
        base: o.base,
        backend: 'torch',
        seed: o.seed,
        adapter: 'canonical',
      },
      { onEvent: progressPrinter(method) },
    );
    const bytes = ['plan.json', 'plan.safetensors', 'init.safetensors'].reduce((n, f) => n + statSync(join(out, f)).size, 0);
    log(`[${method}] plan: ${plan.components.length} components, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${out}`);
  }
  log(`train them with: python bench/device/train-plans.py ${plans} --base <the base folder there> --out <folder for results.json>`);
  return 0;
}

/** What bench/device/train-plans.py measured, per method. */
function readDeviceResults(file: string): Map<Method, MethodOutcome> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    device?: string;
    methods: Record<string, { evaluation?: EvalResult; minutes: number; truncated?: boolean; error?: string }>;
  };
  const out = new Map<Method, MethodOutcome>();
  for (const [method, m] of Object.entries(raw.methods)) {
    out.set(method as Method, {
      result: m.evaluation ?? failed(new Error(m.error ?? 'no evaluation')),
      minutes: m.minutes,
      truncated: m.truncated,
      backend: 'torch',
      tfBackend: raw.device,
    });
  }
  return out;
}

function failed(e: unknown): MethodOutcome['result'] {
  return { overall: null, pairs: 0, byCategory: {}, error: e instanceof Error ? e.message : String(e) };
}

/** The methods in training order: `mean` before the aggregations that reuse its members. */
/** `single` first: its general RM is the one every other method starts from (same base, same budget). */
function trainingOrder(methods: readonly Method[]): Method[] {
  const order: Method[] = ['single', ...METHODS.filter((m) => m !== 'single')];
  return order.filter((m) => m === 'single' || methods.includes(m) || (m === 'mean' && methods.some((x) => ENSEMBLE_AGGREGATIONS.includes(x))));
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      log(`${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => {
    log('interrupted: stopping at the next step (run folders keep their checkpoints and resume)');
    abort.abort();
  });

  log(`preparing ${o.train}${o.test ? ` and ${o.test}` : ` (test: ${100 * TEST_FRACTION}% of the questions, seed ${o.seed})`} in ${o.out}`);
  const prepared = await prepare(o);
  const trainPairs = pairCounts(prepared.split.train);
  const testPairs = pairCounts(prepared.split.test);
  log(`train: ${prepared.split.train.length} records, ${trainPairs.pairs} pairs; test: ${prepared.split.test.length} records, ${testPairs.pairs} pairs`);
  log(
    `GPT-4 capability labels: ${prepared.labels.decided} decided, ${prepared.labels.ties} ties (${prepared.labels.written} written now) in ${prepared.labelsFile}`,
  );
  const { gpt4TiedPairs, ...refs } = await references(prepared.testFile);
  log(`references on the test pairs: GPT-4 total stars ${pct(refs.gpt4Judge.overall)}, longer wins ${pct(refs.longerWins.overall)}`);

  const runs = runsDir(o, prepared);
  const outcomes = new Map<Method, MethodOutcome>();
  const warnings: string[] = [];
  if (prepared.overlap > 0) warnings.push(`${prepared.overlap} test questions (question_uuid) are also in the train folder`);
  if (o.plansOnly) return writePlans(o, prepared, runs);
  if (o.results) {
    for (const [method, outcome] of readDeviceResults(o.results)) if (o.methods.includes(method)) outcomes.set(method, outcome);
  } else if (!o.referencesOnly) {
    for (const method of trainingOrder(o.methods)) {
      if (abort.signal.aborted) break;
      if (ENSEMBLE_AGGREGATIONS.includes(method)) {
        const mean = outcomes.get('mean');
        if (!mean || 'error' in mean.result) {
          outcomes.set(method, {
            result: failed(new Error(`needs the mean run's members, which did not train${mean && 'error' in mean.result ? `: ${mean.result.error}` : ''}`)),
            minutes: 0,
          });
          continue;
        }
        try {
          log(`[${method}] evaluating the mean run's members aggregated by ${method}`);
          const result = await evaluateAggregation(method, join(runs, 'mean'), runs, o, prepared, abort.signal);
          outcomes.set(method, { ...mean, result });
        } catch (e) {
          outcomes.set(method, { result: failed(e), minutes: 0 });
        }
        continue;
      }
      log(`[${method}] training into ${join(runs, method)}${o.maxMinutes ? ` (at most ${o.maxMinutes} min)` : ''}`);
      const started = Date.now();
      try {
        outcomes.set(method, await trainAndEvaluate(method, o, prepared, runs, abort.signal));
      } catch (e) {
        log(`[${method}] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        outcomes.set(method, { result: failed(e), minutes: (Date.now() - started) / 60_000 });
      }
      const r = outcomes.get(method)!.result;
      log(`[${method}] agreement ${pct(r.overall)} on ${r.pairs} pairs`);
    }
  }

  const reported = o.methods.filter((m) => outcomes.has(m));
  for (const m of reported) {
    const r = outcomes.get(m)!.result;
    if (!('error' in r) && r.pairs !== refs.longerWins.pairs + refs.longerWins.unjudged)
      warnings.push(`${m} was evaluated on ${r.pairs} pairs, the references on ${refs.longerWins.pairs + refs.longerWins.unjudged}`);
  }
  const backends = [...new Set(reported.map((m) => outcomes.get(m)!.backend).filter((b) => b !== undefined))];
  const tfBackends = [...new Set(reported.map((m) => outcomes.get(m)!.tfBackend).filter((b) => b !== undefined))];
  const result = {
    methods: Object.fromEntries(
      reported.map((m) => {
        const r = outcomes.get(m)!.result;
        return [m, { overall: r.overall, pairs: r.pairs, byCategory: r.byCategory, ...('error' in r ? { error: r.error } : {}) }];
      }),
    ),
    references: refs,
    setup: {
      preset: o.preset,
      base: o.base ?? null,
      seed: o.seed,
      maxMinutesPerMethod: o.maxMinutes ?? null,
      test: o.test ? `folder ${o.test}` : `${100 * TEST_FRACTION}% of the questions of ${o.train}, split by question_uuid (seed ${o.seed})`,
      trainRecords: prepared.split.train.length,
      testRecords: prepared.split.test.length,
      trainPairs: trainPairs.pairs,
      testPairs: testPairs.pairs,
      tiedPairs: { train: trainPairs.ties, test: testPairs.ties },
      minutes: Object.fromEntries(reported.map((m) => [m, round(outcomes.get(m)!.minutes)])),
      truncated: Object.fromEntries(reported.filter((m) => outcomes.get(m)!.truncated !== undefined).map((m) => [m, outcomes.get(m)!.truncated])),
      resumed: reported.filter((m) => outcomes.get(m)!.resumed),
      ensembles: o.methods.some((m) => ENSEMBLE_AGGREGATIONS.includes(m))
        ? "wco and uwo are the members trained for mean, aggregated differently (the recipe trains them identically); their minutes are mean's"
        : undefined,
      backend: backends.length > 0 ? backends.join(', ') : null,
      tfBackend: tfBackends.length > 0 ? tfBackends.join(', ') : null,
      labels: {
        source: GPT_SOURCE,
        store: prepared.labelsFile,
        decided: prepared.labels.decided,
        ties: prepared.labels.ties,
        byPoint: prepared.labels.byPoint,
      },
      referenceNotes: {
        counting: 'equal rewards count as disagreement, for models and reference judges alike',
        gpt4TiedPairs,
      },
      alignment: prepared.alignment,
      runs,
      warnings,
    },
  };

  if (o.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    const rows: Array<EvalResult | ReferenceResult> = [
      ...reported.map((m): EvalResult => ({ ...outcomes.get(m)!.result, method: m })),
      { ...refs.gpt4Judge, judge: 'GPT-4 stars' },
      { ...refs.longerWins, judge: 'longer wins' },
    ];
    console.log(formatEvalTable(rows));
    console.log(`\n${JSON.stringify(result.setup, null, 2)}`);
  }
  return reported.some((m) => 'error' in outcomes.get(m)!.result) ? 1 : 0;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(1)}%`;
}

main().then(
  (code) => {
    // The tfjs backends keep handles open; the experiment is over once its result is written.
    process.exit(code);
  },
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
