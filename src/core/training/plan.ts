/**
 * The training plan: everything a run trains on, decided once in TypeScript and written to the run folder, so
 * that another engine (the PyTorch trainer, trainer/ in this repository) trains on the same data, splits,
 * order and initial weights as the TensorFlow.js recipe (docs/torch-trainer.md has the file layout).
 *
 * The plan is built from the recipe's own primitives (the rng forks, splits, validation subsets, epochs and
 * initialisations the recipe uses), so the two engines agree by construction: the parity test in
 * test/unit/trainer checks it step by step.
 */
import type { CheckpointPart } from '../model/checkpoint';
import type { BaseConfig, LoraConfig } from '../model/config';
import { isDecoder } from '../model/config';
import type { DecoderWeights } from '../model/decoder';
import { createDecoderLora } from '../model/decoder';
import type { Encoder } from '../model/encoder';
import { Classifier, MlpHead, ScalarHead } from '../model/heads';
import { LoraAdapter } from '../model/lora';
import type { IntArray } from '../model/safetensors';
import { writeFileAtomic } from '../io/safe-output';
import { encodeSafetensors } from '../model/safetensors';
import { createHash } from 'node:crypto';
import { saveCheckpoint } from '../model/checkpoint';
import type { VocabMap } from '../model/vocab';
import type { PreferenceData } from './data';
import { pairsOf, positionsByCategory } from './data';
import { batchStream } from './fit';
import type { HyperParams, TrainedPhase } from './hparams';
import type { InnerModel, RunModel } from '../model/dmoerm';
import { INIT_SEED, PART, componentName, phase3Input } from '../model/dmoerm';
import type { PrefPair } from './pairs';
import type { Rng } from './rng';
import type { RunFolder } from './run-folder';
import { splitByGroup } from './split';
import { shuffledEpoch, tokenPairEpoch, validationSubset } from './tasks';
import type { Method } from './types';

export const PLAN_FORMAT = 'rewardlens-plan';
export const PLAN_VERSION = 1;
export const PLAN_FILES = { plan: 'plan.json', tables: 'plan.safetensors', init: 'init.safetensors' } as const;

/** Router steps take this many inputs (the recipe's router batch). */
export const ROUTER_BATCH = 32;

/**
 * One component, in training order. `tokens` trains an encoder (or a LoRA adapter on a frozen one) and a
 * scalar head on token pairs; `router` a classifier on the frozen general RM's embeddings of the user turns;
 * `phase3` the aggregation MLP on the frozen experts' embeddings.
 */
export interface PlanComponent {
  name: string;
  phase: TrainedPhase;
  /** What the progress events call it (a category, `category/point`, a member name). */
  expert?: string;
  kind: 'tokens' | 'router' | 'phase3';
  /** Relative cost, for sharing a time budget. */
  weight: number;
  lr: number;
  maxSteps: number;
  /** tokens: where the encoder comes from ('init', or the component whose trained encoder is copied). */
  encoder?: string;
  /** tokens: whether the encoder trains (full fine-tuning) or stays frozen under a LoRA adapter. */
  trainEncoder?: boolean;
  /** tokens: the component whose trained head this one starts from; absent: the initial head in init.safetensors. */
  headFrom?: string;
  /** tokens: a LoRA adapter, initial weights in init.safetensors. */
  lora?: boolean;
  /** router: classes; phase3: the experts (Phase-2 components) whose embeddings are concatenated, in order. */
  categories?: string[];
  experts?: string[];
  /** phase3: the Phase-1 component whose encoder the experts' adapters sit on. */
  phase1?: string;
  /** Counts, for logs and the chart. */
  trainExamples: number;
  valExamples: number;
}

export interface TrainingPlan {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  method: Method;
  seed: number;
  hyperParams: HyperParams;
  encoder: BaseConfig;
  lora: LoraConfig;
  maxLen: number;
  routerMaxLen: number;
  mlpHidden: number;
  /** Compact id written at padding positions. */
  padId: number;
  records: number;
  /** Category names; plan.safetensors' `record/category` indexes them. */
  categories: string[];
  components: PlanComponent[];
  /** The run's structure (model.json) if every component trains; a Phase-3 MLP that takes no step is left out. */
  model: RunModel;
  /** Present when the initial encoder is a pre-trained base read from its folder (not in init.safetensors). */
  baseWeights?: BaseWeights;
  /** SHA-256 of plan.safetensors, which the trainer checks before it trains on the tables (absent in older plans). */
  tablesSha256?: string;
}

/**
 * A pre-trained base the trainer reads from its own folder rather than from a copy in init.safetensors
 * (a 0.5B decoder is 2 GB in float32; the folder is there already, and a GPU machine gets a copy of it).
 */
export interface BaseWeights {
  /** The folder at prepare time; `python -m rewardlens_trainer RUN --base DIR` reads another copy. */
  folder: string;
  /** SHA-256 of each weight file: the trainer refuses a changed folder (a copy given with --base is its user's word). */
  files: Record<string, string>;
  /** Each initial encoder weight: its file in the folder and its tensor name there. */
  tensors: Record<string, { file: string; tensor: string }>;
  /** The embedding table whose rows the trainer keeps as vocab.json lists them (the compact vocabulary). */
  vocabRows: string;
}

/** What `buildPlan` needs: the recipe's context before training. */
export interface PlanInput {
  method: Method;
  seed: number;
  hp: HyperParams;
  data: PreferenceData;
  vocab: VocabMap;
  padId: number;
  lora: LoraConfig;
  maxLen: number;
  routerMaxLen: number;
  train: number[];
  test: number[];
  capability: Map<string, PrefPair[]>;
  initialEncoder: Encoder | DecoderWeights;
  /** A pre-trained base: init.safetensors then leaves `base.encoder` to the trainer to read from the folder. */
  baseWeights?: BaseWeights;
  rng: Rng;
}

/** A component's data: pairs (or router positions), the validation subset, and the step-by-step batches. */
interface ComponentTables {
  train: Int32Array;
  /** Values per training example: 3 for (record, winner, loser), 1 for a router position. */
  width: number;
  val: Int32Array;
  batches: number[][];
  seeds: number[];
  /** phase3: records whose responses are embedded. */
  records?: number[];
}

/**
 * The splits every engine uses, named as the recipe forks its streams: the same seed gives the same parts
 * whichever engine asks.
 */
export class RunSplits {
  constructor(
    private readonly data: PreferenceData,
    private readonly hp: HyperParams,
    private readonly rng: Rng,
  ) {}

  /** Training and validation parts of `positions` (validation: `valFraction`, whole prompts). */
  validation(positions: number[], label: string): [number[], number[]] {
    const [train, val] = splitByGroup(positions, (p) => this.data.groups[p], [1 - this.hp.valFraction, this.hp.valFraction], this.rng.fork(`val/${label}`));
    return [train, val];
  }

  /** A category's records for Phases 1–2 and for Phase 3 (paper §4: 60/40). */
  phases(category: string, positions: number[]): [number[], number[]] {
    const f = this.hp.phase12Fraction;
    const [p12, p3] = splitByGroup(positions, (p) => this.data.groups[p], [f, 1 - f], this.rng.fork(`split/${category}`));
    return [p12, p3];
  }

  valSubset(pairs: PrefPair[], component: string): PrefPair[] {
    return validationSubset(pairs, this.hp.maxValPairs, this.rng.fork(`valset/${component}`));
  }
}

/** Builds the plan and writes plan.json, plan.safetensors and init.safetensors into the run folder. */
export function writePlan(run: RunFolder, input: PlanInput): TrainingPlan {
  const { plan, tables, init } = buildPlan(input);
  const tensors = new Map<string, IntArray>();
  const put = (name: string, data: Int32Array, shape: number[] = [data.length]): void => void tensors.set(name, { shape, data });
  const seq = sequenceTables(input.data, input.vocab);
  put('seq/ids', seq.ids);
  put('seq/types', seq.types);
  put('seq/offsets', seq.offsets);
  put('record/responses', seq.responses);
  put('record/router', seq.router);
  put(
    'record/category',
    Int32Array.from(input.data.categories, (c) => plan.categories.indexOf(c)),
  );
  put(
    'record/index',
    Int32Array.from(input.data.records, (r) => r.index),
  );
  put('test/positions', Int32Array.from(input.test));
  const testPairs = pairsOf(input.data, input.test);
  put('test/pairs', pairTable(testPairs), [testPairs.length, 3]);
  for (const c of plan.components) {
    const t = tables.get(c.name)!;
    put(`${c.name}/train`, t.train, t.width === 1 ? [t.train.length] : [t.train.length / 3, 3]);
    put(`${c.name}/val`, t.val, t.width === 1 ? [t.val.length] : [t.val.length / 3, 3]);
    put(`${c.name}/batches`, Int32Array.from(t.batches.flat()));
    put(
      `${c.name}/batch_sizes`,
      Int32Array.from(t.batches, (b) => b.length),
    );
    put(`${c.name}/seeds`, Int32Array.from(t.seeds));
    if (t.records) put(`${c.name}/records`, Int32Array.from(t.records));
  }
  const tableBytes = encodeSafetensors(tensors, { producer: 'rewardlens', format: PLAN_FORMAT });
  writeFileAtomic(run.file('planTables'), tableBytes);
  plan.tablesSha256 = createHash('sha256').update(tableBytes).digest('hex');
  saveCheckpoint(run.file('planInit'), init, { component: 'init', note: 'initial weights of every component, part names <component>.<part>' });
  // Written: the tensors (the initial encoder among them) are not needed here again.
  for (const p of Object.values(init)) if ('dispose' in p && typeof p.dispose === 'function') (p as { dispose(): void }).dispose();
  writeFileAtomic(run.file('plan'), `${JSON.stringify(plan, null, 1)}\n`);
  return plan;
}

/** The plan in memory: components, their tables and their initial weights (part `<component>.<part>`). */
export function buildPlan(input: PlanInput): { plan: TrainingPlan; tables: Map<string, ComponentTables>; init: Record<string, CheckpointPart> } {
  const { components, tables, model } = planComponents(input);
  const plan: TrainingPlan = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    method: input.method,
    seed: input.seed,
    hyperParams: input.hp,
    encoder: input.initialEncoder.config,
    lora: input.lora,
    maxLen: input.maxLen,
    routerMaxLen: input.routerMaxLen,
    mlpHidden: input.hp.mlpHidden,
    padId: input.padId,
    records: input.data.records.length,
    categories: [...new Set(input.data.categories)].sort(),
    components,
    model,
    ...(input.baseWeights ? { baseWeights: input.baseWeights } : {}),
  };
  return { plan, tables, init: initialWeights(input, components) };
}

/** What deciding the components takes: the recipe's context before training. */
export type ComponentsInput = Pick<
  PlanInput,
  'method' | 'hp' | 'data' | 'lora' | 'maxLen' | 'routerMaxLen' | 'train' | 'capability' | 'initialEncoder' | 'rng'
>;

/**
 * The components `input.method` trains, in training order (what the recipe trains and shares its time
 * budget by), their data tables, and the run's structure if every component trains.
 */
export function planComponents(input: ComponentsInput): { components: PlanComponent[]; tables: Map<string, ComponentTables>; model: RunModel } {
  const { data, hp, method } = input;
  const splits = new RunSplits(data, hp, input.rng);
  const components: PlanComponent[] = [];
  const tables = new Map<string, ComponentTables>();
  const seqLength = (p: PrefPair): number =>
    Math.max(data.records[p.record].responses[p.winner].ids.length, data.records[p.record].responses[p.loser].ids.length);

  const addTokens = (
    c: Omit<PlanComponent, 'kind' | 'lr' | 'maxSteps' | 'weight' | 'trainExamples' | 'valExamples'>,
    train: PrefPair[],
    val: PrefPair[],
  ): void => {
    if (train.length === 0)
      throw new Error(`${c.name}: no training pairs (check the dataset's preferences${c.phase === 'phase2' ? ' and the capability labels' : ''})`);
    const valSet = splits.valSubset(val, c.name);
    const schedule = schedulePlan(tokenPairEpoch(train, seqLength, hp.batchPairs), input.rng.fork(`data/${c.name}`), hp.maxSteps[c.phase]);
    components.push({
      ...c,
      kind: 'tokens',
      lr: hp.lr[c.phase],
      maxSteps: hp.maxSteps[c.phase],
      weight: hp.maxSteps[c.phase],
      trainExamples: train.length,
      valExamples: valSet.length,
    });
    tables.set(c.name, { train: pairTable(train), width: 3, val: pairTable(valSet), ...schedule });
  };

  const [baseTrain, baseVal] = splits.validation(input.train, 'base');
  addTokens({ name: 'base', phase: 'base', encoder: 'init', trainEncoder: true }, pairsOf(data, baseTrain), pairsOf(data, baseVal));
  const model: RunModel = {
    format: 'rewardlens-model',
    version: 1,
    method,
    encoder: input.initialEncoder.config,
    lora: input.lora,
    maxLen: input.maxLen,
    routerMaxLen: input.routerMaxLen,
    mlpHidden: hp.mlpHidden,
    base: 'base',
  };

  if (method === 'mean' || method === 'wco' || method === 'uwo') {
    const members: string[] = [];
    for (let i = 0; i < hp.ensembleSize; i++) {
      const name = `member-${i}`;
      addTokens(
        { name, phase: 'ensemble', expert: name, encoder: 'base', trainEncoder: false, headFrom: 'base', lora: true },
        pairsOf(data, baseTrain),
        pairsOf(data, baseVal),
      );
      members.push(name);
    }
    model.ensemble = { members, aggregation: method, lambda: hp.uwoLambda };
  }

  /** Phases 1–3 of one category, as recipe.ts trainInner plans them; undefined when the category has too little data. */
  const inner = (category: string, positions: number[]): InnerModel | undefined => {
    const [p12, p3] = splits.phases(category, positions);
    const [p12Train, p12Val] = splits.validation(p12, `phase1/${category}`);
    const phase1Pairs = pairsOf(data, p12Train);
    if (phase1Pairs.length < hp.minPairs) return undefined;
    const phase1 = componentName('phase1', category);
    addTokens({ name: phase1, phase: 'phase1', expert: category, encoder: 'base', trainEncoder: true, headFrom: 'base' }, phase1Pairs, pairsOf(data, p12Val));
    const inTrain = new Set(p12Train);
    const inVal = new Set(p12Val);
    const experts: Array<{ point: string; component: string }> = [];
    for (const [point, pairs] of input.capability) {
      const train = pairs.filter((p) => inTrain.has(p.record));
      if (train.length < hp.minPairs) continue;
      const name = componentName('phase2', category, point);
      addTokens(
        { name, phase: 'phase2', expert: `${category}/${point}`, encoder: phase1, trainEncoder: false, headFrom: phase1, lora: true },
        train,
        pairs.filter((p) => inVal.has(p.record)),
      );
      experts.push({ point, component: name });
    }
    const result: InnerModel = { phase1, experts };
    const [p3Train, p3Val] = splits.validation(p3, `phase3/${category}`);
    const p3Pairs = pairsOf(data, p3Train);
    if (experts.length > 0 && p3Pairs.length >= hp.minPairs) {
      const name = componentName('phase3', category);
      const valSet = splits.valSubset(pairsOf(data, p3Val), name);
      const schedule = schedulePlan(shuffledEpoch(p3Pairs.length, hp.batchPairs), input.rng.fork(`data/${name}`), hp.maxSteps.phase3);
      // Embedding a sequence costs about a third of one sequence's training pass and a step trains
      // 2·batchPairs sequences: the router and Phase 3 are weighed by what caching their embeddings costs, in steps.
      components.push({
        name,
        phase: 'phase3',
        expert: category,
        kind: 'phase3',
        lr: hp.lr.phase3,
        maxSteps: hp.maxSteps.phase3,
        weight: hp.maxSteps.phase3 * 0.02 + (experts.length * p3.length) / (6 * hp.batchPairs),
        phase1,
        experts: experts.map((e) => e.component),
        trainExamples: p3Pairs.length,
        valExamples: valSet.length,
      });
      tables.set(name, { train: pairTable(p3Pairs), width: 3, val: pairTable(valSet), records: p3, ...schedule });
      result.phase3 = name;
    }
    return result;
  };

  if (method === 'dmoerm') {
    const groups = positionsByCategory(data, input.train);
    const categories = [...groups.keys()];
    if (categories.length > 1) {
      const schedule = schedulePlan(shuffledEpoch(baseTrain.length, ROUTER_BATCH), input.rng.fork('data/router'), hp.maxSteps.router);
      components.push({
        name: 'router',
        phase: 'router',
        kind: 'router',
        lr: hp.lr.router,
        maxSteps: hp.maxSteps.router,
        weight: hp.maxSteps.router * 0.02 + input.train.length / (6 * hp.batchPairs),
        categories,
        trainExamples: baseTrain.length,
        valExamples: baseVal.length,
      });
      tables.set('router', { train: Int32Array.from(baseTrain), width: 1, val: Int32Array.from(baseVal), ...schedule });
      model.router = { component: 'router', categories };
    } else model.router = { component: '', categories };
    model.inner = {};
    for (const [category, positions] of groups) {
      const m = inner(category, positions);
      if (m) model.inner[category] = m;
    }
  }
  if (method === 'dmoerm-no-outer') {
    const m = inner('all', input.train);
    model.inner = m ? { all: m } : {};
  }

  return { components, tables, model };
}

/** Every component's initial weights, part `<component>.<part>`, seeded as INIT_SEED says, in training order. */
function initialWeights(input: PlanInput, components: PlanComponent[]): Record<string, CheckpointPart> {
  const { hp, seed } = input;
  const base = input.initialEncoder.config;
  const init: Record<string, CheckpointPart> = {
    ...(input.baseWeights ? {} : { 'base.encoder': input.initialEncoder }),
    'base.head': ScalarHead.create(base.hidden, seed),
  };
  let member = 0;
  let expert = 0; // within the current category: its Phase 1 comes first
  for (const c of components) {
    if (c.phase === 'ensemble') init[`${c.name}.${PART.lora}`] = createLora(base, input.lora, seed + INIT_SEED.member(member++));
    else if (c.phase === 'phase1') expert = 0;
    else if (c.phase === 'phase2') init[`${c.name}.${PART.lora}`] = createLora(base, input.lora, seed + INIT_SEED.expert(expert++));
    else if (c.kind === 'router') init[`${c.name}.${PART.classifier}`] = Classifier.create(base.hidden, c.categories!.length, seed + INIT_SEED.router);
    else if (c.kind === 'phase3')
      init[`${c.name}.${PART.mlp}`] = MlpHead.create(phase3Input(base.hidden, c.experts!.length), hp.mlpHidden, seed + INIT_SEED.phase3);
  }
  return init;
}

/** A LoRA adapter's initial weights for either family of base. */
function createLora(base: BaseConfig, lora: LoraConfig, seed: number): CheckpointPart {
  return isDecoder(base) ? createDecoderLora(base, lora, seed) : LoraAdapter.create(base, lora, seed);
}

/** The batches and dropout seeds of `steps` optimiser steps, as `fit` draws them. */
function schedulePlan(epoch: (rng: Rng) => number[][], rng: Rng, steps: number): { batches: number[][]; seeds: number[] } {
  const batches: number[][] = [];
  const seeds: number[] = [];
  const stream = batchStream(epoch, rng);
  for (let i = 0; i < steps; i++) {
    const { batch, seed } = stream.next();
    batches.push(batch);
    seeds.push(seed);
  }
  return { batches, seeds };
}

function pairTable(pairs: PrefPair[]): Int32Array {
  const out = new Int32Array(pairs.length * 3);
  pairs.forEach((p, i) => out.set([p.record, p.winner, p.loser], 3 * i));
  return out;
}

/**
 * Every sequence in compact ids, end to end: each record's responses in order (record/responses[i] is the
 * first), then its router input (record/router[i], so record i has router[i] − responses[i] responses).
 */
function sequenceTables(
  data: PreferenceData,
  vocab: VocabMap,
): { ids: Int32Array; types: Int32Array; offsets: Int32Array; responses: Int32Array; router: Int32Array } {
  let total = 0;
  let count = 0;
  for (const r of data.records) {
    for (const s of r.responses) total += s.ids.length;
    total += r.router.length;
    count += r.responses.length + 1;
  }
  const ids = new Int32Array(total);
  const types = new Int32Array(total);
  const offsets = new Int32Array(count + 1);
  const responses = new Int32Array(data.records.length);
  const router = new Int32Array(data.records.length);
  let at = 0;
  let s = 0;
  const push = (seq: Int32Array, typeIds?: Int32Array): void => {
    ids.set(vocab.toCompact(seq), at);
    if (typeIds) types.set(typeIds, at);
    at += seq.length;
    offsets[++s] = at;
  };
  data.records.forEach((r, i) => {
    responses[i] = s;
    for (const resp of r.responses) push(resp.ids, resp.typeIds);
    router[i] = s;
    push(r.router);
  });
  return { ids, types, offsets, responses, router };
}
