import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileError } from '../io/file-error';
import { writeFileAtomic } from '../io/safe-output';
import { readStore, mergedLabels } from '../labelling/store';
import { journalFileFor, journalSha256, readJournal } from '../curation/journal';
import { initBackend } from '../model/backend';
import { PRESETS } from '../model/config';
import type { Preset } from '../model/config';
import { Encoder } from '../model/encoder';
import { loadBertFolder } from '../model/hf-import';
import { hubFolder, isHubId } from '../model/hub';
import { TextTokenizer } from '../model/tokenizer';
import { VocabMap } from '../model/vocab';
import { capabilityPairs } from './capability-pairs';
import type { PreferenceData } from './data';
import { loadPreferenceData } from './data';
import { agreement } from './evaluate';
import type { HyperParams } from './hparams';
import { applyOverrides, DEFAULT_MAX_PAIRS_PER_RECORD, defaultHyperParams } from './hparams';
import type { PairSample } from './pairs';
import type { FitOutcome } from './fit';
import type { ModelCardPhase } from './model-card';
import { renderModelCard } from './model-card';
import type { RunModel } from './networks';
import { readRunModel, readRunVocab } from './networks';
import { CancelledError, runRecipe } from './recipe';
import { Rng } from './rng';
import { lockRunFolder, RunFolder } from './run-folder';
import { RunScorer } from './scorer';
import { splitByGroup } from './split';
import type { SequenceSource } from './tasks';
import { sequenceSource } from './tasks';
import type { BackendName, EvalResult, Phase, TrainEvent, TrainOptions, TrainSummary } from './types';
import type { PrefPair } from './pairs';
import type { TrainingPlan } from './plan';
import { writePlan } from './plan';
import { defaultPython, runTorchTrainer } from './torch-trainer';
import { METHODS_NEEDING_LABELS } from './types';

/** How a caller (CLI, worker) hears from and steers a run. */
export interface TrainIO {
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  /** Folders whose node_modules may hold @tensorflow/tfjs-node(-gpu) (the extension's global storage). */
  nativeModulePaths?: string[];
}

/**
 * Trains `options.method` into the run folder `options.out`, resuming what an earlier, interrupted run of
 * the same configuration left there. Cancellation (the signal) stops at the next step, keeps the last
 * checkpoint and rejects with a CancelledError.
 */
export async function train(options: TrainOptions, io: TrainIO = {}): Promise<TrainSummary> {
  const started = Date.now();
  if (METHODS_NEEDING_LABELS.includes(options.method) && !options.labels) {
    throw new Error(`method ${options.method} needs capability labels: pass --labels STORE (from 'rewardlens label' or 'rewardlens labels-from-ratings')`);
  }
  const hp = trainSettings(options);
  const lock = lockRunFolder(options.out);
  try {
    return options.backend === 'torch' ? await trainWithTorch(options, io, hp) : await trainInto(options, io, hp, started);
  } finally {
    lock.release();
  }
}

/**
 * The run's settings, the preset's defaults under the options' overrides, checked against their ranges
 * (HyperParamError): before anything is created or locked, so a bad value leaves nothing behind.
 */
export function trainSettings(options: Pick<TrainOptions, 'preset' | 'base' | 'overrides'>): HyperParams {
  return applyOverrides(defaultHyperParams(options.preset, Boolean(options.base)), options.overrides);
}

/** The TensorFlow.js recipe, in a folder this process holds the lock of. */
async function trainInto(options: TrainOptions, io: TrainIO, hp: HyperParams, started: number): Promise<TrainSummary> {
  const backend = await initBackend(options.backend as BackendName | 'auto', { nativeModulePaths: io.nativeModulePaths });
  io.onEvent?.({ type: 'backend', ...backend });
  const { run, preset, limits, data, vocab, tokenizer, tokenizerFile, trainPositions, testPositions, capability, initialEncoder, rng } = await setUpRun(options, io, hp);
  run.log(`backend ${backend.backend} (tfjs '${backend.tfBackend}')${backend.note ? `: ${backend.note}` : ''}`);
  const src = sequenceSource(data, vocab, tokenizer, hp.scoreBatch);
  try {
    const { model, truncated } = await runRecipe({
      method: options.method,
      run,
      hp,
      preset: { ...preset, maxLen: limits.maxLen, routerMaxLen: limits.routerMaxLen },
      data,
      src,
      vocab,
      train: trainPositions,
      capability,
      initialEncoder,
      rng,
      seed: options.seed,
      signal: io.signal,
      onEvent: io.onEvent,
      deadline: options.maxMinutes ? started + options.maxMinutes * 60_000 : undefined,
    });
    writeFileAtomic(run.file('model'), JSON.stringify(model, null, 2) + '\n');
    const parameters = [...initialEncoder.named().values()].reduce((n, v) => n + v.size, 0);
    initialEncoder.dispose();

    let evaluation: EvalResult | undefined;
    if (testPositions.length > 0) {
      io.onEvent?.({ type: 'phase', phase: 'eval', message: `evaluating on ${testPositions.length} held-out records` });
      evaluation = evaluatePositions(model, run, src, testPositions);
      run.writeEval(evaluation);
      io.onEvent?.({ type: 'evaluation', result: evaluation });
    }
    writeModelCard(options, { run, limits, data, vocab, tokenizer, tokenizerFile, trainPositions, testPositions, capability }, { parameters, evaluation, truncated, backend: `${backend.backend} (tfjs '${backend.tfBackend}')` });
    run.writeState({ ...run.readState(), finished: true });
    return { out: run.dir, method: options.method, backend: backend.backend, truncated, seconds: (Date.now() - started) / 1000, evaluation };
  } catch (e) {
    if (e instanceof CancelledError) run.log(e.message);
    throw e;
  }
}

/** A base given as a folder, or as a Hub id (`org/name`): downloaded once into the cache, with progress. */
async function baseFolder(base: string, io: TrainIO): Promise<string> {
  if (!isHubId(base)) return base;
  let last = 0;
  return hubFolder(base, {
    signal: io.signal,
    onProgress: (file, done, total) => {
      const now = Date.now();
      if (now - last < 1000 && done !== total) return;
      last = now;
      const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
      io.onEvent?.({ type: 'phase', phase: 'base', message: `downloading ${base}: ${file} ${mb(done)}${total ? ` of ${mb(total)}` : ''} MiB` });
    },
  });
}

/** MODEL_CARD.md of a finished run, whichever engine trained it. */
function writeModelCard(
  options: TrainOptions,
  s: Pick<RunSetup, 'run' | 'limits' | 'data' | 'vocab' | 'tokenizer' | 'tokenizerFile' | 'trainPositions' | 'testPositions' | 'capability'>,
  outcome: { parameters: number; evaluation?: EvalResult; truncated: boolean; backend: string },
): void {
  const { run, data, trainPositions } = s;
  const { evaluation } = outcome;
  run.writeModelCard(
    renderModelCard({
      method: options.method,
      base: options.base ? { kind: 'imported', folder: options.base, parameters: outcome.parameters } : { kind: 'preset', preset: options.preset, parameters: outcome.parameters },
      tokenizer: `${basename(dirname(s.tokenizerFile))}/${basename(s.tokenizerFile)}, ${s.tokenizer.vocabSize} tokens (${s.vocab.size} used), max length ${s.limits.maxLen}`,
      data: {
        file: options.dataset,
        hash: String(run.config.datasetSha256),
        records: trainPositions.length,
        pairs: trainPositions.reduce((n, p) => n + data.pairs[p].length, 0),
        categories: countBy(trainPositions.map((p) => data.categories[p])),
        labels: options.labels && s.capability.size ? { file: options.labels, used: [...s.capability.values()].reduce((n, l) => n + l.length, 0) } : undefined,
        test: evaluation ? { records: s.testPositions.length, pairs: evaluation.pairs } : undefined,
      },
      phases: componentPhases(run, run.readState().completed),
      evaluation: evaluation ? [evaluation] : undefined,
      seed: options.seed,
      backend: outcome.backend,
      created: new Date().toISOString(),
      notes: runNotes(outcome.truncated, data),
    }),
  );
}

/** What a run trains on, read and split once: shared by the TensorFlow.js recipe and the training plan. */
interface RunSetup {
  run: RunFolder;
  hp: HyperParams;
  preset: Preset;
  limits: { maxLen: number; routerMaxLen: number };
  data: PreferenceData;
  vocab: VocabMap;
  tokenizer: TextTokenizer;
  tokenizerFile: string;
  trainPositions: number[];
  testPositions: number[];
  capability: Map<string, PrefPair[]>;
  initialEncoder: Encoder;
  rng: Rng;
}

async function setUpRun(options: TrainOptions, io: TrainIO, hp: HyperParams, extraConfig: Record<string, unknown> = {}): Promise<RunSetup> {
  const preset = PRESETS[options.preset];
  const imported = options.base ? loadBertFolder(await baseFolder(options.base, io)) : undefined;
  const tokenizerFile = imported ? (imported.tokenizerFile ?? fail(`${options.base}: no tokenizer.json beside the model`)) : TextTokenizer.default().file;
  const tokenizer = TextTokenizer.fromFile(tokenizerFile);
  const limits = limitsFor(preset, imported?.config.maxPositions);

  const run = RunFolder.create(options.out, {
    method: options.method,
    dataset: options.dataset,
    datasetSha256: await sha256(options.dataset),
    // Only present when a journal is applied, so that runs without edits keep resuming as before.
    ...editsConfig(options),
    labels: options.labels ?? null,
    labelsSha256: options.labels ? await sha256(options.labels) : null,
    preset: options.preset,
    base: options.base ?? null,
    seed: options.seed,
    schemaFile: options.schemaFile ?? null,
    adapter: options.adapter ?? null,
    hyperParams: hp,
    limits,
    baseRun: options.baseRun ?? null,
    ...extraConfig,
  });
  if (options.baseRun) adoptBase(run, options.baseRun);

  io.onEvent?.({ type: 'phase', phase: 'base', message: `reading ${options.dataset}` });
  const data = await loadPreferenceData(options.dataset, tokenizer, limits, { schemaFile: options.schemaFile, adapter: options.adapter, signal: io.signal, pairSample: pairSampleOf(hp, options.seed), edits: !options.noEdits });
  if (data.edits) {
    io.onEvent?.({ type: 'log', level: 'info', message: `edits journal: ${data.edits.applied} edit(s) applied, ${data.edits.dropped} record(s) dropped` });
    for (const s of data.edits.stale) io.onEvent?.({ type: 'log', level: 'warn', message: `stale edit #${s.edit.seq} (${s.edit.kind}): ${s.reason}` });
  }
  // The dataset's problem, said before any phase starts (and not as an internal error of the first phase).
  if (data.pairs.every((p) => p.length === 0)) throw new FileError(options.dataset, `no usable preference pairs in ${data.records.length} records (see \`rewardlens index ${options.dataset}\`)`);
  const sampling = samplingNote(data, options.seed);
  if (sampling) {
    run.log(sampling);
    io.onEvent?.({ type: 'phase', phase: 'base', message: sampling });
  }
  const vocab = loadOrBuildVocab(run, tokenizer, data);
  copyFileSync(tokenizerFile, run.file('tokenizer'));

  const rng = new Rng(options.seed);
  const all = data.records.map((_, i) => i);
  const [trainPositions, testPositions] = hp.testFraction > 0 ? splitByGroup(all, (p) => data.groups[p], [1 - hp.testFraction, hp.testFraction], rng.fork('split/test')) : [all, []];

  const capability = new Map<string, PrefPair[]>();
  if (options.labels && METHODS_NEEDING_LABELS.includes(options.method)) {
    const byId = new Map(data.records.map((r, i) => [r.id, i]));
    const leftOut = { pairs: 0 };
    for (const [point, pairs] of capabilityPairs(mergedLabels(readStore(options.labels)), byId, pairSampleOf(hp, options.seed), leftOut)) capability.set(point, pairs);
    if (leftOut.pairs > 0) run.log(`capability labels: ${leftOut.pairs.toLocaleString('en-US')} pairs left out by maxPairsPerRecord=${pairSampleOf(hp, options.seed).max} (per record and point, seed ${options.seed})`);
    if (capability.size === 0) throw new Error(`${options.labels}: no consistent capability labels for records of ${options.dataset}`);
  }

  const initialEncoder = imported ? imported.encoder.restrictVocab(vocab.keep) : Encoder.create({ ...preset.encoder, vocabSize: vocab.size }, options.seed);
  imported?.encoder.dispose();
  return { run, hp, preset, limits, data, vocab, tokenizer, tokenizerFile, trainPositions, testPositions, capability, initialEncoder, rng };
}

/**
 * Writes the run's training plan (plan.ts) for another engine: the PyTorch trainer trains it with
 * `python -m rewardlens_trainer RUN`, here or on a machine with a GPU. The run folder is the one `train`
 * would make, so evaluation, export and the editor's views read the result unchanged.
 */
export async function prepare(options: TrainOptions, io: TrainIO = {}): Promise<TrainingPlan> {
  if (METHODS_NEEDING_LABELS.includes(options.method) && !options.labels) throw new Error(`method ${options.method} needs capability labels: pass --labels STORE`);
  const hp = trainSettings(options);
  const lock = lockRunFolder(options.out);
  try {
    return (await preparePlan(options, io, hp)).plan;
  } finally {
    lock.release();
  }
}

async function preparePlan(options: TrainOptions, io: TrainIO, hp: HyperParams): Promise<{ plan: TrainingPlan; setup: RunSetup; parameters: number }> {
  // The initial weights come from the engine's own seeded generators: any backend gives the same values.
  await initBackend('wasm');
  const setup = await setUpRun(options, io, hp, { engine: 'torch' });
  const parameters = [...setup.initialEncoder.named().values()].reduce((n, v) => n + v.size, 0);
  const plan = writePlan(setup.run, {
    method: options.method,
    seed: options.seed,
    hp: setup.hp,
    data: setup.data,
    vocab: setup.vocab,
    padId: setup.vocab.toCompact(Int32Array.of(setup.tokenizer.special.pad))[0],
    lora: setup.preset.lora,
    maxLen: setup.limits.maxLen,
    routerMaxLen: setup.limits.routerMaxLen,
    train: setup.trainPositions,
    test: setup.testPositions,
    capability: setup.capability,
    initialEncoder: setup.initialEncoder,
    rng: setup.rng,
  });
  setup.run.log(`training plan written: ${plan.components.length} components (${plan.components.map((c) => c.name).join(', ')})`);
  return { plan, setup, parameters };
}

/** The PyTorch trainer on the run's plan (docs/torch-trainer.md): prepared here, trained by `python -m rewardlens_trainer`. */
async function trainWithTorch(options: TrainOptions, io: TrainIO, hp: HyperParams): Promise<TrainSummary> {
  const { setup, parameters } = await preparePlan(options, io, hp);
  const threads = options.overrides?.threads;
  const summary = await runTorchTrainer(options.out, {
    python: options.python ?? defaultPython(),
    device: options.device,
    processes: options.gpus,
    threads: typeof threads === 'number' ? threads : undefined,
    maxMinutes: options.maxMinutes,
    signal: io.signal,
    onEvent: io.onEvent,
    onStderr: (line) => io.onEvent?.({ type: 'log', level: 'info', message: `trainer: ${line}` }),
  });
  writeModelCard(options, setup, { parameters, evaluation: summary.evaluation, truncated: summary.truncated, backend: `PyTorch trainer (${summary.device ?? 'torch'})` });
  return summary;
}

export interface EvalOptions {
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  schemaFile?: string;
  adapter?: string;
  nativeModulePaths?: string[];
  backend?: BackendName | 'auto';
  /** Ignore the test file's edits journal, which is applied by default. */
  noEdits?: boolean;
}

/** Agreement of a trained run with the human preferences of `testFile` (paper Table 3), kept in the run's test-evals.json. */
export async function evaluateRun(runDir: string, testFile: string, options: EvalOptions = {}): Promise<EvalResult> {
  const { run, model } = readRunModel(runDir);
  const backend = await initBackend(options.backend ?? 'auto', { nativeModulePaths: options.nativeModulePaths });
  options.onEvent?.({ type: 'backend', ...backend });
  const tokenizer = TextTokenizer.fromFile(run.file('tokenizer'));
  const hp = run.config.hyperParams as HyperParams | undefined;
  const seed = typeof run.config.seed === 'number' ? run.config.seed : 0;
  const data = await loadPreferenceData(testFile, tokenizer, { maxLen: model.maxLen, routerMaxLen: model.routerMaxLen }, { ...options, pairSample: pairSampleOf(hp, seed), edits: !options.noEdits });
  const src = sequenceSource(data, readRunVocab(run), tokenizer, 32);
  const result = evaluatePositions(model, run, src, data.records.map((_, i) => i));
  run.addTestEval({ testFile: resolve(testFile), testSha256: await sha256(testFile), ...(options.schemaFile ? { schemaFile: resolve(options.schemaFile) } : {}), ...(options.adapter ? { adapter: options.adapter } : {}), evaluatedAt: new Date().toISOString(), result });
  return result;
}

function evaluatePositions(model: RunModel, run: RunFolder, src: SequenceSource, positions: number[]): EvalResult {
  const scores = RunScorer.load(model, (c) => run.checkpointPath(c)).score(src, positions);
  return agreement(
    model.method,
    positions.map((p) => ({ category: src.data.categories[p], pairs: src.data.pairs[p] })),
    (i) => scores.get(positions[i])!.rewards,
  );
}

function samplingNote(data: PreferenceData, seed: number): string | undefined {
  const { records, pairsLeftOut, maxPairsPerRecord } = data.sampled;
  if (records === 0) return undefined;
  return `${records} record${records === 1 ? '' : 's'} had more than maxPairsPerRecord=${maxPairsPerRecord} preference pairs: ${maxPairsPerRecord} sampled from each (seed ${seed}), ${pairsLeftOut.toLocaleString('en-US')} pairs left out`;
}

function runNotes(truncated: boolean, data: PreferenceData): string[] | undefined {
  const notes: string[] = [];
  if (truncated) notes.push('The time budget (--max-minutes) ended some phases before early stopping did.');
  const { records, maxPairsPerRecord } = data.sampled;
  if (records > 0) notes.push(`${records} record${records === 1 ? '' : 's'} gave a sample of ${maxPairsPerRecord} of ${records === 1 ? 'its' : 'their'} preference pairs (maxPairsPerRecord).`);
  return notes.length > 0 ? notes : undefined;
}

/** Absent in run folders written before the setting existed: the default. */
function pairSampleOf(hp: Partial<HyperParams> | undefined, seed: number): PairSample {
  return { max: hp?.maxPairsPerRecord ?? DEFAULT_MAX_PAIRS_PER_RECORD, seed };
}

function loadOrBuildVocab(run: RunFolder, tokenizer: TextTokenizer, data: PreferenceData): VocabMap {
  const file = run.file('vocab');
  // A resumed run must keep the embedding rows its checkpoints were trained with.
  if (existsSync(file)) return readRunVocab(run);
  const used = new Set<number>();
  for (const r of data.records) {
    for (const id of r.router) used.add(id);
    for (const s of r.responses) for (const id of s.ids) used.add(id);
  }
  const vocab = VocabMap.build(tokenizer, used);
  writeFileAtomic(file, JSON.stringify(vocab.toJSON()) + '\n');
  return vocab;
}

/** Copies the finished general RM (and the vocabulary it was trained with) of another run into this one. */
function adoptBase(run: RunFolder, from: string): void {
  if (run.readState().completed.includes('base')) return;
  const source = RunFolder.open(from);
  for (const key of ['datasetSha256', 'preset', 'base', 'seed', 'schemaFile', 'adapter']) {
    const a = JSON.stringify(source.config[key] ?? null);
    const b = JSON.stringify(run.config[key] ?? null);
    if (a !== b) throw new Error(`--base-run ${from}: its ${key} is ${a}, this run's is ${b}; the general RM can only be shared between runs of the same data, preset, base and seed`);
  }
  if (!source.readState().completed.includes('base')) throw new Error(`--base-run ${from}: that run has not finished its general RM yet`);
  copyFileSync(join(source.dir, 'vocab.json'), join(run.dir, 'vocab.json'));
  copyFileSync(source.checkpointPath('base'), run.checkpointPath('base'));
  copyFileSync(source.checkpointMetaPath('base'), run.checkpointMetaPath('base'));
  // Its training curve too: the chart and the evaluation report show the general RM's history here as well.
  for (const m of source.readMetrics()) if (m.phase === 'base') run.appendMetric(m);
  run.writeState({ ...run.readState(), completed: ['base'] });
  run.log(`general RM taken from ${source.dir}`);
}

/** What each finished component's checkpoint manifest says about its training, for the model card. */
function componentPhases(run: RunFolder, components: string[]): ModelCardPhase[] {
  return components.map((c) => {
    const m = JSON.parse(readFileSync(run.checkpointMetaPath(c), 'utf8')) as { phase: Phase; expert?: string; outcome: FitOutcome };
    const stoppedBy = { 'early-stopped': 'early stopping', deadline: 'time budget', 'max-steps': undefined, cancelled: 'cancel' }[m.outcome.reason];
    return { phase: m.phase, expert: m.expert, steps: m.outcome.steps, bestStep: m.outcome.bestStep, bestValAcc: m.outcome.bestValAcc, stoppedBy };
  });
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function limitsFor(preset: Preset, maxPositions?: number): { maxLen: number; routerMaxLen: number } {
  const cap = maxPositions ?? Infinity;
  return { maxLen: Math.min(preset.maxLen, cap), routerMaxLen: Math.min(preset.routerMaxLen, cap) };
}

function editsConfig(options: TrainOptions): Record<string, unknown> {
  if (options.noEdits) return { edits: 'ignored' };
  const journal = journalFileFor(options.dataset);
  const sha = journalSha256(journal);
  return sha && readJournal(journal).active.length > 0 ? { editsJournal: journal, editsSha256: sha } : {};
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function fail(message: string): never {
  throw new Error(message);
}
