import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Preset } from '../model/config';
import type { Encoder } from '../model/encoder';
import { Classifier, MlpHead, ScalarHead } from '../model/heads';
import { LoraAdapter } from '../model/lora';
import { tf } from '../model/tf';
import type { VocabMap } from '../model/vocab';
import type { PreferenceData } from './data';
import { pct } from './format';
import { pairsOf, positionsByCategory } from './data';
import type { FitOutcome, FitResume, FitTask, NamedParams } from './fit';
import { fit } from './fit';
import type { HyperParams, TrainedPhase } from './hparams';
import { trainingThreads } from './hparams';
import type { InnerModel, RunModel } from '../model/dmoerm';
import { INIT_SEED, RewardNet, componentName, phase3Input } from '../model/dmoerm';
import { loadParts, saveParts } from './parts';
import type { PrefPair } from './pairs';
import { RunThreads, gradientWorkerScript } from './parallel';
import type { Rng } from './rng';
import type { RunFolder, RunState } from './run-folder';
import { RunSplits, ROUTER_BATCH, planComponents } from './plan';
import type { SequenceSource } from './tasks';
import { Standardizer, cacheExpertEmbeddings } from './embedding-cache';
import { cachedPairTask, embedSequences, routerTask, tokenPairTask } from './tasks';
import type { Method, TrainEvent } from './types';
import { CancelledError } from '../cancelled';

/** Why a training run stops when cancelled (the recipe's and the PyTorch trainer's). */
export const TRAINING_CANCELLED = 'training was cancelled; the run folder keeps the last checkpoint and resumes from it';

/** Everything the recipe's steps share. */
export interface RecipeContext {
  method: Method;
  run: RunFolder;
  hp: HyperParams;
  preset: Preset;
  data: PreferenceData;
  src: SequenceSource;
  vocab: VocabMap;
  /** Record positions used for training (the held-out test part removed). */
  train: number[];
  /** Capability pairs per point (records as positions), for dmoerm and dmoerm-no-outer. */
  capability: Map<string, PrefPair[]>;
  /** The encoder every method starts from: created from the preset or imported, vocabulary compacted. */
  initialEncoder: Encoder;
  rng: Rng;
  seed: number;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Epoch ms at which the whole run should end (from --max-minutes). */
  deadline?: number;
}

interface Planned {
  component: string;
  /** Relative cost (the plan's), used to share the time budget between components. */
  weight: number;
}

/** Trains every component `ctx.method` needs, resuming finished and interrupted ones; returns the structure. */
export async function runRecipe(ctx: RecipeContext): Promise<{ model: RunModel; truncated: boolean }> {
  const r = new RecipeRunner(ctx);
  return r.run();
}

class RecipeRunner {
  private state: RunState;
  private truncated = false;
  private plan: Planned[] = [];
  private readonly threads: RunThreads;
  private readonly splits: RunSplits;

  constructor(private readonly ctx: RecipeContext) {
    this.state = ctx.run.readState();
    this.splits = new RunSplits(ctx.data, ctx.hp, ctx.rng);
    const { threads, note } = trainingThreads(ctx.hp.threads, tf.getBackend());
    if (note) this.log(note);
    this.threads = new RunThreads(threads, gradientWorkerScript(), !ctx.hp.threads, (m, level) => this.log(m, level));
  }

  async run(): Promise<{ model: RunModel; truncated: boolean }> {
    try {
      return await this.trainAll();
    } finally {
      // Finished, cancelled or failed: worker threads left running would keep the process alive.
      await this.threads.close();
    }
  }

  private async trainAll(): Promise<{ model: RunModel; truncated: boolean }> {
    const { ctx } = this;
    const model: RunModel = {
      format: 'rewardlens-model',
      version: 1,
      method: ctx.method,
      encoder: ctx.initialEncoder.config,
      lora: ctx.preset.lora,
      maxLen: ctx.preset.maxLen,
      routerMaxLen: ctx.preset.routerMaxLen,
      mlpHidden: ctx.hp.mlpHidden,
      base: 'base',
    };
    const [baseTrain, baseVal] = this.splits.validation(ctx.train, 'base');
    // What the PyTorch trainer's plan would train, so both engines share a time budget alike.
    const { components } = planComponents({
      method: ctx.method,
      hp: ctx.hp,
      data: ctx.data,
      lora: ctx.preset.lora,
      maxLen: ctx.preset.maxLen,
      routerMaxLen: ctx.preset.routerMaxLen,
      train: ctx.train,
      capability: ctx.capability,
      initialEncoder: ctx.initialEncoder,
      rng: ctx.rng,
    });
    this.plan = components.map((c) => ({ component: c.name, weight: c.weight }));

    const base = new RewardNet(ctx.initialEncoder, ScalarHead.create(ctx.initialEncoder.config.hidden, ctx.seed));
    await this.trainTokens(
      'base',
      'base',
      undefined,
      { encoder: base.encoder, head: base.head },
      pairsOf(ctx.data, baseTrain),
      pairsOf(ctx.data, baseVal),
      base,
    );
    // From here on the base is frozen (LoRA phases, caches): skipping its weight gradients saves a matmul per projection.
    base.encoder.setTrainable(false);

    if (ctx.method === 'mean' || ctx.method === 'wco' || ctx.method === 'uwo') {
      const members: string[] = [];
      for (let i = 0; i < ctx.hp.ensembleSize; i++) {
        const name = `member-${i}`;
        // Members differ by seed (LoRA init, head unchanged from the base) and by data order (their own rng).
        const net = new RewardNet(base.encoder, base.head.clone(), LoraAdapter.create(base.encoder.config, ctx.preset.lora, ctx.seed + INIT_SEED.member(i)));
        const memberTrain = pairsOf(ctx.data, baseTrain);
        await this.trainTokens(name, 'ensemble', name, { lora: net.adapter!, head: net.head }, memberTrain, pairsOf(ctx.data, baseVal), net);
        net.adapter!.dispose();
        net.head.dispose();
        members.push(name);
      }
      model.ensemble = { members, aggregation: ctx.method, lambda: ctx.hp.uwoLambda };
    }

    if (ctx.method === 'dmoerm') {
      const groups = positionsByCategory(ctx.data, ctx.train);
      const categories = [...groups.keys()];
      if (categories.length > 1) {
        await this.trainRouter(base, categories, baseTrain, baseVal);
        model.router = { component: 'router', categories };
      } else {
        this.log(`one category (${categories[0] ?? 'none'}) in the training data: the router always picks it`);
        model.router = { component: '', categories };
      }
      model.inner = {};
      for (const [category, positions] of groups) {
        const inner = await this.trainInner(base, category, positions);
        if (inner) model.inner[category] = inner;
      }
    }

    if (ctx.method === 'dmoerm-no-outer') {
      const inner = await this.trainInner(base, 'all', ctx.train);
      model.inner = inner ? { all: inner } : {};
    }
    return { model, truncated: this.truncated };
  }

  private async trainRouter(base: RewardNet, categories: string[], train: number[], val: number[]): Promise<void> {
    const { ctx } = this;
    const classifier = Classifier.create(base.encoder.config.hidden, categories.length, ctx.seed + INIT_SEED.router);
    const parts = { classifier };
    if (!this.isDone('router')) {
      this.phase('router', undefined, `router over ${categories.length} categories: embedding the user turns`);
      // The router reads the frozen base encoder's embedding of the user turns; caching it makes each
      // classifier step cost a matrix product instead of a transformer pass.
      const seqs = ctx.data.records.map((r) => ({ ids: r.router, typeIds: new Int32Array(r.router.length) }));
      const raw = embedSequences(ctx.src, seqs, (b) => base.embed(b));
      const std = Standardizer.fit(train.map((p) => raw[p]));
      const features = raw.map((row) => std.apply(row));
      const index = new Map(categories.map((c, i) => [c, i]));
      const labels = ctx.data.categories.map((c) => index.get(c) ?? -1);
      const task = routerTask({ component: 'router', phase: 'router', parts }, features, labels, train, val, ROUTER_BATCH, classifier);
      const p = classifier.named();
      await this.runFit('router', task, 'router', parts, () => std.foldInto(p.get('weight')!, p.get('bias')!));
    } else {
      loadParts(ctx.run.checkpointPath('router'), parts);
    }
    classifier.dispose();
  }

  /** Phases 1–3 of one category's inner MoE (paper §3.2–3.3). Undefined when the category has too little data. */
  private async trainInner(base: RewardNet, category: string, positions: number[]): Promise<InnerModel | undefined> {
    const { ctx } = this;
    const [p12, p3] = this.splits.phases(category, positions);
    const [p12Train, p12Val] = this.splits.validation(p12, `phase1/${category}`);
    const phase1Pairs = pairsOf(ctx.data, p12Train);
    if (phase1Pairs.length < ctx.hp.minPairs) {
      this.log(`category '${category}': ${phase1Pairs.length} training pairs (< ${ctx.hp.minPairs}); the general RM scores it`);
      return undefined;
    }
    // Phase 1: full fine-tuning of a copy of the general RM on this category's 60%.
    const phase1Name = componentName('phase1', category);
    const phase1 = new RewardNet(base.encoder.clone(), base.head.clone());
    phase1.encoder.setTrainable(true);
    await this.trainTokens(phase1Name, 'phase1', category, { encoder: phase1.encoder, head: phase1.head }, phase1Pairs, pairsOf(ctx.data, p12Val), phase1);
    phase1.encoder.setTrainable(false);

    // Phase 2: one LoRA expert per capability point, base frozen, head initialised from Phase 1's.
    const inTrain = new Set(p12Train);
    const inVal = new Set(p12Val);
    const experts: InnerModel['experts'] = [];
    const adapters: LoraAdapter[] = [];
    for (const [point, pairs] of ctx.capability) {
      const train = pairs.filter((p) => inTrain.has(p.record));
      const val = pairs.filter((p) => inVal.has(p.record));
      if (train.length < ctx.hp.minPairs) {
        // A point with no labels in this category is not one of its points: nothing to say.
        if (train.length > 0) this.log(`category '${category}', point '${point}': ${train.length} capability pairs (< ${ctx.hp.minPairs}); no expert`);
        continue;
      }
      const name = componentName('phase2', category, point);
      const expert = new RewardNet(
        phase1.encoder,
        phase1.head.clone(),
        LoraAdapter.create(phase1.encoder.config, ctx.preset.lora, ctx.seed + INIT_SEED.expert(experts.length)),
      );
      await this.trainTokens(name, 'phase2', `${category}/${point}`, { lora: expert.adapter!, head: expert.head }, train, val, expert);
      expert.head.dispose();
      adapters.push(expert.adapter!);
      experts.push({ point, component: name });
    }

    if (experts.length === 0)
      this.log(`category '${category}': no capability point has ${ctx.hp.minPairs} labelled training pairs; its Phase-1 model scores it`);

    // Phase 3: the MLP over the experts' concatenated embeddings, on the other 40%, everything else frozen.
    const inner: InnerModel = { phase1: phase1Name, experts };
    const [p3Train, p3Val] = this.splits.validation(p3, `phase3/${category}`);
    const p3Pairs = pairsOf(ctx.data, p3Train);
    const name = componentName('phase3', category);
    if (experts.length > 0 && p3Pairs.length >= ctx.hp.minPairs && (this.isDone(name) || !this.pastDeadline())) {
      const hidden = phase1.encoder.config.hidden;
      const mlp = MlpHead.create(phase3Input(hidden, experts.length), ctx.hp.mlpHidden, ctx.seed + INIT_SEED.phase3);
      const parts = { mlp };
      let steps: number;
      if (!this.isDone(name)) {
        this.phase('phase3', category, `Phase 3 '${category}': caching ${experts.length} experts' embeddings of ${p3.length} records`);
        const cache = cacheExpertEmbeddings(ctx.src, phase1.encoder, adapters, p3);
        const std = cache.standardise();
        const task = cachedPairTask(
          { component: name, phase: 'phase3', expert: category, parts },
          cache,
          p3Pairs,
          this.splits.valSubset(pairsOf(ctx.data, p3Val), name),
          ctx.hp.batchPairs,
          mlp,
        );
        const p = mlp.named();
        steps = (await this.runFit(name, task, 'phase3', parts, () => std.foldInto(p.get('w0')!, p.get('b0')!))).steps;
      } else {
        steps = (JSON.parse(readFileSync(ctx.run.checkpointMetaPath(name), 'utf8')) as { outcome: FitOutcome }).outcome.steps;
      }
      mlp.dispose();
      // An MLP that never took a step is its random initialisation: Phase 1's head scores better.
      if (steps > 0) inner.phase3 = name;
      else this.log(`category '${category}': the time budget left Phase 3 no step; Phase 1's head scores it`);
    } else if (experts.length > 0) {
      this.log(
        `category '${category}': ${this.pastDeadline() ? 'no time left' : `${p3Pairs.length} Phase-3 pairs (< ${ctx.hp.minPairs})`} for Phase 3; Phase 1's head scores it`,
      );
    }
    for (const a of adapters) a.dispose();
    phase1.encoder.dispose();
    phase1.head.dispose();
    return inner;
  }

  /** Trains (or loads, when finished earlier) one token-level component. */
  private async trainTokens(
    name: string,
    phase: TrainedPhase,
    expert: string | undefined,
    parts: Record<string, NamedParams>,
    train: PrefPair[],
    val: PrefPair[],
    net: RewardNet,
  ): Promise<void> {
    const { ctx } = this;
    if (this.isDone(name)) {
      loadParts(ctx.run.checkpointPath(name), parts);
      return;
    }
    if (train.length === 0)
      throw new Error(`${name}: no training pairs (check the dataset's preferences${phase === 'phase2' ? ' and the capability labels' : ''})`);
    this.phase(phase, expert, `${name}: ${train.length} training pairs, ${val.length} validation pairs`);
    const valSet = this.splits.valSubset(val, name);
    const parallel = await this.threads.load({ encoder: net.encoder, head: net.head, adapter: net.adapter });
    const task = tokenPairTask(
      { component: name, phase, expert, parts },
      ctx.src,
      train,
      valSet,
      ctx.hp.batchPairs,
      (b, training, seed) => net.reward(b, training, seed),
      parallel,
    );
    await this.runFit(name, task, phase, parts);
  }

  /** `finalize` adjusts the trained parameters before the final checkpoint (e.g. folds a standardisation in). */
  private async runFit(name: string, task: FitTask, phase: TrainedPhase, parts: Record<string, NamedParams>, finalize?: () => void): Promise<FitOutcome> {
    const { ctx } = this;
    const partial = ctx.run.checkpointPath(`${name}.partial`);
    let resume: FitResume | undefined;
    if (this.state.current?.component === name && existsSync(partial)) {
      const manifest = loadParts(partial, parts);
      resume = manifest.resume as FitResume;
      this.log(`${name}: resuming at step ${resume.step}`);
    }
    const outcome = await fit(
      task,
      {
        lr: ctx.hp.lr[phase],
        maxSteps: ctx.hp.maxSteps[phase],
        evalEvery: ctx.hp.evalEvery,
        patience: ctx.hp.patience,
        deadline: this.componentDeadline(name),
        microBatch: ctx.hp.microBatchPairs,
      },
      {
        rng: ctx.rng.fork(`data/${name}`),
        signal: ctx.signal,
        onEvent: ctx.onEvent,
        resume,
        onMetric: (m) =>
          ctx.run.appendMetric({
            ts: new Date().toISOString(),
            phase,
            expert: task.expert,
            step: m.step,
            loss: m.loss,
            trainAcc: m.trainAcc,
            valAcc: m.valAcc,
          }),
        onCheckpoint: (r) => {
          // The best weights so far are in `parts` only after fit returns; mid-run, the current ones are
          // saved, which is what a resumed run continues from.
          saveParts(partial, parts, { component: name, phase, expert: task.expert, resume: r });
          this.state = { ...this.state, current: { component: name, step: r.step, checkpoint: partial } };
          ctx.run.writeState(this.state);
          ctx.onEvent?.({ type: 'checkpoint', phase, expert: task.expert, step: r.step, path: partial });
        },
      },
    );
    if (outcome.reason === 'cancelled') throw new CancelledError(TRAINING_CANCELLED);
    if (outcome.reason === 'deadline') this.truncated = true;
    finalize?.();
    saveParts(ctx.run.checkpointPath(name), parts, { component: name, phase, expert: task.expert, outcome });
    this.state = { ...this.state, completed: [...this.state.completed, name], current: undefined };
    ctx.run.writeState(this.state);
    rmSync(partial, { force: true });
    rmSync(partial.replace(/\.safetensors$/, '.json'), { force: true });
    this.log(`${name}: ${outcome.reason} after ${outcome.steps} steps, best validation accuracy ${pct(outcome.bestValAcc)} at step ${outcome.bestStep}`);
    return outcome;
  }

  /** This component's share of the remaining time, in proportion to its planned cost. */
  private componentDeadline(name: string): number | undefined {
    const { deadline } = this.ctx;
    if (deadline === undefined) return undefined;
    const at = this.plan.findIndex((p) => p.component === name);
    if (at < 0) return deadline;
    const remaining = this.plan.slice(at).filter((p) => !this.isDone(p.component));
    const total = remaining.reduce((s, p) => s + p.weight, 0);
    const share = total > 0 ? this.plan[at].weight / total : 1;
    const now = Date.now();
    return now + Math.max(0, deadline - now) * share;
  }

  private pastDeadline(): boolean {
    return this.ctx.deadline !== undefined && Date.now() > this.ctx.deadline;
  }

  private isDone(name: string): boolean {
    return this.state.completed.includes(name);
  }

  private phase(phase: TrainedPhase, expert: string | undefined, message: string): void {
    this.ctx.onEvent?.({ type: 'phase', phase, expert, message });
    this.ctx.run.log(message);
  }

  private log(message: string, level: 'info' | 'warn' = 'info'): void {
    this.ctx.onEvent?.({ type: 'log', level, message });
    this.ctx.run.log(message);
  }
}
