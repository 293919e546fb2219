import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { FileError } from '../io/file-error';
import { copyFileAtomic, writeFileAtomic } from '../io/safe-output';
import { readStore, mergedLabels } from '../labelling/store';
import { journalFileFor, journalSha256, readJournal } from '../curation/journal';
import { initBackend } from '../model/backend';
import { exportRun } from '../export/export';
import { PRESETS, isDecoder } from '../model/config';
import { scoreFile } from '../scoring/score-file';
import type { Preset } from '../model/config';
import type { DecoderWeights } from '../model/decoder';
import { Encoder } from '../model/encoder';
import type { WeightSources } from '../model/hf-import';
import { loadBaseFolder } from '../model/hf-import';
import { hubFolder, isHubId } from '../model/hub';
import { TextTokenizer } from '../model/tokenizer';
import { VocabMap } from '../model/vocab';
import { capabilityPairs } from './capability-pairs';
import type { PreferenceData } from './data';
import { appendRecords, loadPreferenceData } from './data';
import { agreement } from './evaluate';
import type { HyperParams } from './hparams';
import { applyOverrides, DEFAULT_MAX_PAIRS_PER_RECORD, defaultHyperParams } from './hparams';
import type { PairSample } from './pairs';
import type { FitOutcome } from './fit';
import type { ModelCardPhase } from './model-card';
import { renderModelCard } from './model-card';
import type { RunModel } from '../model/dmoerm';
import { readRunModel, readRunVocab, runTokenizer } from './run-model';
import { runRecipe } from './recipe';
import { CancelledError } from '../cancelled';
import { Rng } from './rng';
import { lockRunFolder, RunFolder } from './run-folder';
import { RunScorer } from './scorer';
import { splitByGroup } from './split';
import type { SequenceSource } from './tasks';
import { sequenceSource } from './tasks';
import type { EvalResult, Phase, TrainEvent, TrainOptions, TrainSummary } from './types';
import type { PrefPair } from './pairs';
import type { BaseWeights, TrainingPlan } from './plan';
import { writePlan } from './plan';
import { defaultPython, runTorchTrainer } from './torch-trainer';
import { METHODS_NEEDING_LABELS } from './types';
import type { BackendName } from '../model/backend';

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
  const setup = await setUpRun(options, io, hp);
  const { run, limits, data, vocab, testPositions, initialEncoder } = setup;
  if (!(initialEncoder instanceof Encoder)) throw encoderOnlyError(options);
  run.log(`backend ${backend.backend} (tfjs '${backend.tfBackend}')${backend.note ? `: ${backend.note}` : ''}`);
  const src = sequenceSource(data, vocab, setup.tokenizer, hp.scoreBatch);
  try {
    const { model, truncated } = await runRecipe({
      method: options.method,
      run,
      hp,
      preset: { ...setup.preset, maxLen: limits.maxLen, routerMaxLen: limits.routerMaxLen },
      data,
      src,
      vocab,
      train: setup.trainPositions,
      capability: setup.capability,
      initialEncoder,
      rng: setup.rng,
      seed: options.seed,
      signal: io.signal,
      onEvent: io.onEvent,
      deadline: options.maxMinutes ? started + options.maxMinutes * 60_000 : undefined,
    });
    writeFileAtomic(run.file('model'), JSON.stringify(model, null, 2) + '\n');
    const parameters = initialEncoder.parameters;
    initialEncoder.dispose();

    let evaluation: EvalResult | undefined;
    if (testPositions.length > 0) {
      io.onEvent?.({ type: 'phase', phase: 'eval', message: `evaluating on ${testPositions.length} held-out records` });
      evaluation = evaluatePositions(model, run, src, testPositions);
      run.writeEval(evaluation);
      io.onEvent?.({ type: 'evaluation', result: evaluation });
    }
    writeModelCard(options, setup, { parameters, evaluation, truncated, backend: `${backend.backend} (tfjs '${backend.tfBackend}')` });
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
      base: options.base
        ? { kind: 'imported', folder: options.base, parameters: outcome.parameters }
        : { kind: 'preset', preset: options.preset, parameters: outcome.parameters },
      tokenizer: `${basename(dirname(s.tokenizerFile))}/${basename(s.tokenizerFile)}, ${s.tokenizer.vocabSize} tokens (${s.vocab.size} used), max length ${s.limits.maxLen}`,
      data: {
        file: options.dataset,
        hash: String(run.config.datasetSha256),
        records: trainPositions.length,
        pairs: trainPositions.reduce((n, p) => n + data.pairs[p].length, 0),
        categories: countBy(trainPositions.map((p) => data.categories[p])),
        labels: options.labels && s.capability.size ? { file: options.labels, used: [...s.capability.values()].reduce((n, l) => n + l.length, 0) } : undefined,
        test: evaluation ? { ...(options.testFile ? { file: options.testFile } : {}), records: s.testPositions.length, pairs: evaluation.pairs } : undefined,
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
  /** A TensorFlow.js encoder, or a decoder's weights (which only the PyTorch trainer runs). */
  initialEncoder: Encoder | DecoderWeights;
  /** The pre-trained base's folder, where each weight lies in it, and its embedding table's name. */
  base?: { dir: string; sources: WeightSources; vocabRows: string };
  rng: Rng;
}

function encoderOnlyError(options: TrainOptions): FileError {
  return new FileError(
    options.base ?? '--base',
    'decoder bases train with --backend torch (the PyTorch trainer); the TensorFlow.js engine runs BERT-family encoders only',
  );
}

async function setUpRun(options: TrainOptions, io: TrainIO, hp: HyperParams, extraConfig: Record<string, unknown> = {}): Promise<RunSetup> {
  const preset = PRESETS[options.preset];
  const baseDir = options.base ? resolve(await baseFolder(options.base, io)) : undefined;
  const imported = baseDir ? loadBaseFolder(baseDir) : undefined;
  // Refused before the run folder exists, so a wrong choice leaves nothing to clean up.
  // A plan (`prepare`) is for the PyTorch trainer whatever --backend says.
  if (imported?.kind === 'decoder' && options.backend !== 'torch' && extraConfig.engine !== 'torch') throw encoderOnlyError(options);
  const tokenizerFile = imported ? (imported.tokenizerFile ?? fail(`${options.base}: no tokenizer.json beside the model`)) : TextTokenizer.default().file;
  const tokenizer = TextTokenizer.fromFile(tokenizerFile, imported?.kind === 'decoder' ? 'decoder' : 'bert');
  const limits = limitsFor(preset, imported?.config.maxPositions);

  const run = RunFolder.create(options.out, {
    method: options.method,
    dataset: options.dataset,
    datasetSha256: await sha256(options.dataset),
    ...(options.testFile ? { testFile: options.testFile, testSha256: await sha256(options.testFile) } : {}),
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
  const data = await loadPreferenceData(options.dataset, tokenizer, limits, {
    schemaFile: options.schemaFile,
    adapter: options.adapter,
    signal: io.signal,
    pairSample: pairSampleOf(hp, options.seed),
    edits: !options.noEdits,
  });
  const warn = (message: string): void => {
    run.log(message);
    io.onEvent?.({ type: 'log', level: 'warn', message });
  };
  for (const note of [data.malformedNote, data.journalNote]) if (note) warn(note);
  if (data.edits) {
    io.onEvent?.({ type: 'log', level: 'info', message: `edits journal: ${data.edits.applied} edit(s) applied, ${data.edits.dropped} record(s) dropped` });
    for (const s of data.edits.stale) io.onEvent?.({ type: 'log', level: 'warn', message: `stale edit #${s.edit.seq} (${s.edit.kind}): ${s.reason}` });
  }
  // The dataset's problem, said before any phase starts (and not as an internal error of the first phase).
  if (data.pairs.every((p) => p.length === 0))
    throw new FileError(options.dataset, `no usable preference pairs in ${data.records.length} records (see \`rewardlens index ${options.dataset}\`)`);
  const sampling = samplingNote(data, options.seed);
  if (sampling) {
    run.log(sampling);
    io.onEvent?.({ type: 'phase', phase: 'base', message: sampling });
  }
  const trainRecords = data.records.length;
  if (options.testFile) {
    const test = await loadPreferenceData(options.testFile, tokenizer, limits, {
      schemaFile: options.schemaFile,
      adapter: options.adapter,
      signal: io.signal,
      pairSample: pairSampleOf(hp, options.seed),
      edits: !options.noEdits,
    });
    if (test.pairs.every((p) => p.length === 0))
      throw new FileError(options.testFile, `no usable preference pairs in ${test.records.length} records to evaluate on`);
    for (const note of [test.malformedNote, test.journalNote]) if (note) warn(note);
    const shared = appendRecords(data, test);
    if (shared > 0)
      warn(
        `${shared} of ${test.records.length} test records share their prompt with a training record (${options.testFile}): agreement on them is not held-out`,
      );
  }
  const vocab = loadOrBuildVocab(run, tokenizer, data);
  copyFileAtomic(tokenizerFile, run.file('tokenizer'));
  // Its special tokens' names (a decoder's eos and pad above all), so the run reads the tokenizer as training did.
  const tokenizerConfig = join(dirname(tokenizerFile), 'tokenizer_config.json');
  if (existsSync(tokenizerConfig)) copyFileAtomic(tokenizerConfig, run.file('tokenizerConfig'));

  const rng = new Rng(options.seed);
  const all = data.records.map((_, i) => i);
  const [trainPositions, testPositions] = options.testFile
    ? [all.slice(0, trainRecords), all.slice(trainRecords)]
    : hp.testFraction > 0
      ? splitByGroup(all, (p) => data.groups[p], [1 - hp.testFraction, hp.testFraction], rng.fork('split/test'))
      : [all, []];
  const trainingPairs = trainPositions.reduce((n, p) => n + data.pairs[p].length, 0);
  if (trainingPairs < hp.minPairs)
    warn(
      `${options.dataset}: only ${trainingPairs} training pair${trainingPairs === 1 ? '' : 's'} (fewer than minPairs, ${hp.minPairs}): ` +
        'the model, its validation accuracy and early stopping will mean little; add preference data',
    );

  const capability = new Map<string, PrefPair[]>();
  if (options.labels && METHODS_NEEDING_LABELS.includes(options.method)) {
    // Training records only: a test record with a training record's content must not take its labels.
    const byId = new Map(data.records.slice(0, trainRecords).map((r, i) => [r.id, i]));
    const leftOut = { pairs: 0 };
    for (const [point, pairs] of capabilityPairs(mergedLabels(readStore(options.labels)), byId, pairSampleOf(hp, options.seed), leftOut))
      capability.set(point, pairs);
    if (leftOut.pairs > 0)
      run.log(
        `capability labels: ${leftOut.pairs.toLocaleString('en-US')} pairs left out by maxPairsPerRecord=${pairSampleOf(hp, options.seed).max} (per record and point, seed ${options.seed})`,
      );
    if (capability.size === 0)
      throw new FileError(
        options.labels,
        `no consistent capability labels for records of ${options.dataset} (a store of another dataset, or of another version of it?)`,
      );
  }

  let initialEncoder: Encoder | DecoderWeights;
  if (imported?.kind === 'decoder') initialEncoder = imported.weights.restrictVocab(vocab.keep);
  else if (imported) {
    initialEncoder = imported.encoder.restrictVocab(vocab.keep);
    imported.encoder.dispose();
  } else initialEncoder = Encoder.create({ ...preset.encoder, vocabSize: vocab.size }, options.seed);
  return {
    run,
    hp,
    preset,
    limits,
    data,
    vocab,
    tokenizer,
    tokenizerFile,
    trainPositions,
    testPositions,
    capability,
    initialEncoder,
    base:
      imported && baseDir
        ? { dir: baseDir, sources: imported.sources, vocabRows: imported.kind === 'decoder' ? 'embed_tokens.weight' : 'embeddings.word_embeddings.weight' }
        : undefined,
    rng,
  };
}

/** Where each initial weight of an imported base lies in its folder, and the weight files' hashes. */
async function baseWeightsOf(base: NonNullable<RunSetup['base']>, initial: Encoder | DecoderWeights): Promise<BaseWeights> {
  const folder = base.dir;
  const tensors: BaseWeights['tensors'] = {};
  for (const name of initial.named().keys()) {
    const source = base.sources.get(name);
    if (!source) throw new Error(`${folder}: the base has no weight '${name}'`);
    tensors[name] = source;
  }
  const files: Record<string, string> = {};
  for (const file of new Set(Object.values(tensors).map((t) => t.file))) files[file] = await sha256(join(folder, file));
  return { folder, files, tensors, vocabRows: base.vocabRows };
}

/**
 * Writes the run's training plan (plan.ts) for another engine: the PyTorch trainer trains it with
 * `python -m rewardlens_trainer RUN`, here or on a machine with a GPU. The run folder is the one `train`
 * would make, so evaluation, export and the editor's views read the result unchanged.
 */
export async function prepare(options: TrainOptions, io: TrainIO = {}): Promise<TrainingPlan> {
  if (METHODS_NEEDING_LABELS.includes(options.method) && !options.labels)
    throw new Error(`method ${options.method} needs capability labels: pass --labels STORE`);
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
  const parameters = setup.initialEncoder.parameters;
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
    baseWeights: setup.base ? await baseWeightsOf(setup.base, setup.initialEncoder) : undefined,
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
  writeModelCard(options, setup, {
    parameters,
    evaluation: summary.evaluation,
    truncated: summary.truncated,
    backend: `PyTorch trainer (${summary.device ?? 'torch'})`,
  });
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
  // test-evals.json is read, extended and written: two evaluations at once would lose one.
  const lock = lockRunFolder(run.dir);
  try {
    const hp = run.config.hyperParams as HyperParams | undefined;
    const seed = typeof run.config.seed === 'number' ? run.config.seed : 0;
    const result = isDecoder(model.encoder)
      ? await evaluateThroughOnnx(run, testFile, options, pairSampleOf(hp, seed))
      : await evaluateWithTfjs(run, model, testFile, options, pairSampleOf(hp, seed));
    run.addTestEval({
      testFile: resolve(testFile),
      testSha256: await sha256(testFile),
      ...(options.schemaFile ? { schemaFile: resolve(options.schemaFile) } : {}),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      evaluatedAt: new Date().toISOString(),
      result,
    });
    return result;
  } finally {
    lock.release();
  }
}

async function evaluateWithTfjs(run: RunFolder, model: RunModel, testFile: string, options: EvalOptions, pairSample: PairSample): Promise<EvalResult> {
  const backend = await initBackend(options.backend ?? 'auto', { nativeModulePaths: options.nativeModulePaths });
  options.onEvent?.({ type: 'backend', ...backend });
  const tokenizer = runTokenizer(run, model);
  const data = await loadPreferenceData(
    testFile,
    tokenizer,
    { maxLen: model.maxLen, routerMaxLen: model.routerMaxLen },
    { ...options, pairSample, edits: !options.noEdits },
  );
  for (const note of [data.malformedNote, data.journalNote]) if (note) options.onEvent?.({ type: 'log', level: 'warn', message: note });
  const src = sequenceSource(data, readRunVocab(run), tokenizer, 32);
  return evaluatePositions(
    model,
    run,
    src,
    data.records.map((_, i) => i),
  );
}

/** Decoder runs, which the TensorFlow.js engine does not run: exported to a temporary ONNX model and scored by onnxruntime. */
async function evaluateThroughOnnx(run: RunFolder, testFile: string, options: EvalOptions, pairSample: PairSample): Promise<EvalResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'rewardlens-eval-'));
  try {
    const onnx = join(tmp, 'model.onnx');
    exportRun(run.dir, onnx);
    const { summary, malformedNote } = await scoreFile(onnx, testFile, {
      signal: options.signal,
      schemaFile: options.schemaFile,
      adapter: options.adapter,
      pairSample,
    });
    if (malformedNote) options.onEvent?.({ type: 'log', level: 'warn', message: malformedNote });
    return { method: summary.method, overall: summary.overall, pairs: summary.pairs, byCategory: summary.byCategory };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
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
  if (records > 0)
    notes.push(
      `${records} record${records === 1 ? '' : 's'} gave a sample of ${maxPairsPerRecord} of ${records === 1 ? 'its' : 'their'} preference pairs (maxPairsPerRecord).`,
    );
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
    if (a !== b)
      throw new Error(
        `--base-run ${from}: its ${key} is ${a}, this run's is ${b}; the general RM can only be shared between runs of the same data, preset, base and seed`,
      );
  }
  if (!source.readState().completed.includes('base')) throw new Error(`--base-run ${from}: that run has not finished its general RM yet`);
  copyFileAtomic(join(source.dir, 'vocab.json'), join(run.dir, 'vocab.json'));
  copyFileAtomic(source.checkpointPath('base'), run.checkpointPath('base'));
  copyFileAtomic(source.checkpointMetaPath('base'), run.checkpointMetaPath('base'));
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
