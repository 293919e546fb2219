import type * as TF from '@tensorflow/tfjs';
import { tf } from '../model/tf';
import { EarlyStopping } from './early-stopping';
import type { TrainedPhase } from './hparams';
import type { Rng } from './rng';
import type { TrainEvent } from './types';

/** A module whose parameters a checkpoint stores by name. */
export interface NamedParams {
  named(): Map<string, TF.Variable>;
}

/** One optimiser step's outputs: the loss to minimise and, per example, whether the model got it right. */
export interface StepResult {
  loss: TF.Scalar;
  /** 1 for a correctly ordered pair (or classified input), 0 otherwise; [batch]. */
  correct: TF.Tensor1D;
}

/** What one optimiser step did: the batch's mean loss, and how many of its examples the model got right. */
export interface StepTotals {
  loss: number;
  correct: number;
  examples: number;
}

/**
 * What `fit` trains: a number of training examples (pairs, or inputs for the router), a loss over a batch
 * of them, and a validation score. The task decides what an example is; `fit` owns the schedule.
 */
export interface FitTask {
  component: string;
  phase: TrainedPhase;
  expert?: string;
  /** The parameters the optimiser updates, by part name (checkpointed under these names). */
  parts: Record<string, NamedParams>;
  /** Batches of example indices for one pass over the training examples, in training order. */
  epoch(rng: Rng): number[][];
  /** Called inside a gradient tape: `seed` makes dropout deterministic per step. */
  step(batch: number[], seed: number): StepResult;
  /**
   * Optional: the whole optimiser step, run by the task itself (data parallelism over worker threads) instead
   * of `step` under fit's gradient tape. It must make the update `step` would: the gradient of the batch's
   * mean loss, at most `microBatch` examples per pass, pass k's dropout seeded `seed + k`.
   */
  trainStep?(batch: number[], seed: number, microBatch: number, optimizer: TF.Optimizer): Promise<StepTotals>;
  /** Validation accuracy (higher is better) and loss, without gradients. */
  validate(): { accuracy: number; loss: number };
}

export interface FitSchedule {
  lr: number;
  maxSteps: number;
  evalEvery: number;
  patience: number;
  /** Epoch time in ms after which the component stops, keeping its best weights. */
  deadline?: number;
  /**
   * Examples per forward/backward pass; a batch larger than this is split and its gradients summed
   * before one optimiser step (same update up to float rounding). Bounds activation memory: the wasm
   * heap overflows on a 512-wide encoder at 16 sequences of 256 tokens.
   */
  microBatch?: number;
}

export interface FitResume {
  step: number;
  stopping: ReturnType<EarlyStopping['toJSON']>;
}

export interface FitIO {
  rng: Rng;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  onMetric?: (m: { step: number; loss: number; trainAcc: number; valAcc: number; valLoss: number }) => void;
  /** Saves the best weights so far and the schedule's position, so a stopped run resumes here. */
  onCheckpoint?: (resume: FitResume) => void;
  resume?: FitResume;
}

export interface FitOutcome {
  steps: number;
  bestStep: number;
  bestValAcc: number;
  /** Why training ended. */
  reason: 'early-stopped' | 'max-steps' | 'deadline' | 'cancelled';
}

/**
 * Adam on the task's parameters with the paper's early stopping (Appendix B.1): every `evalEvery`
 * steps the validation accuracy is measured; after `patience` evaluations without improvement training
 * stops, and the parameters are set back to the best evaluation's values before returning.
 */
export async function fit(task: FitTask, schedule: FitSchedule, io: FitIO): Promise<FitOutcome> {
  const variables = Object.values(task.parts).flatMap((p) => [...p.named().values()]);
  const optimizer = tf.train.adam(schedule.lr);
  const stopping = io.resume ? EarlyStopping.fromJSON(io.resume.stopping) : new EarlyStopping({ patience: schedule.patience });
  let best = snapshot(variables);
  let step = io.resume?.step ?? 0;
  const stream = batchStream((rng) => task.epoch(rng), io.rng, task.component);
  // Replaying the data order up to the resumed step keeps a resumed run on the same example stream.
  for (let skipped = 0; skipped < step; skipped++) stream.next();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let stepsSinceEval = 0;
  let reason: FitOutcome['reason'] = 'max-steps';
  const evaluate = (): boolean => {
    const val = task.validate();
    if (!Number.isFinite(val.loss)) throw nonFinite(task, schedule, 'validation loss', val.loss, step);
    const trainAcc = seen ? correct / seen : 0;
    const loss = stepsSinceEval ? lossSum / stepsSinceEval : val.loss;
    const verdict = stopping.observe(step, val.accuracy, val.loss);
    if (verdict.improved) {
      disposeSnapshot(best);
      best = snapshot(variables);
    }
    io.onMetric?.({ step, loss, trainAcc, valAcc: val.accuracy, valLoss: val.loss });
    io.onEvent?.({ type: 'progress', phase: task.phase, expert: task.expert, step, totalSteps: schedule.maxSteps, loss, trainAcc, valAcc: val.accuracy });
    lossSum = 0;
    correct = 0;
    seen = 0;
    stepsSinceEval = 0;
    return verdict.stop;
  };
  try {
    if (!io.resume) evaluate();
    while (step < schedule.maxSteps) {
      if (io.signal?.aborted) {
        reason = 'cancelled';
        break;
      }
      if (schedule.deadline !== undefined && Date.now() > schedule.deadline) {
        reason = 'deadline';
        break;
      }
      const next = stream.next();
      const seed = next.seed;
      const micro = Math.max(1, schedule.microBatch ?? next.batch.length);
      const totals = task.trainStep
        ? await task.trainStep(next.batch, seed, micro, optimizer)
        : accumulatedStep(task, next.batch, seed, micro, variables, optimizer);
      // A NaN or infinite loss has already been applied to the weights: every later step is NaN too, and
      // early stopping would quietly keep whatever it saw before. Stop here; the last checkpoint is intact.
      if (!Number.isFinite(totals.loss)) throw nonFinite(task, schedule, 'training loss', totals.loss, step + 1);
      lossSum += totals.loss;
      correct += totals.correct;
      seen += totals.examples;
      step++;
      stepsSinceEval++;
      if (step % schedule.evalEvery === 0 || step === schedule.maxSteps) {
        const stop = evaluate();
        io.onCheckpoint?.({ step, stopping: stopping.toJSON() });
        if (stop) {
          reason = 'early-stopped';
          break;
        }
      }
      // Yield so that cancel messages and progress reach the event loop between steps.
      await new Promise((r) => setImmediate(r));
    }
    restore(variables, best);
    const b = stopping.best;
    return { steps: step, bestStep: b?.step ?? 0, bestValAcc: b?.value ?? 0, reason };
  } finally {
    disposeSnapshot(best);
    optimizer.dispose();
  }
}

/**
 * One optimiser step over `batch`, in micro-batches: each micro-batch's mean loss is weighted by its
 * share of the batch, so the summed gradients are those of the whole batch's mean loss.
 */
function accumulatedStep(task: FitTask, batch: number[], seed: number, micro: number, variables: TF.Variable[], optimizer: TF.Optimizer): StepTotals {
  const chunks: number[][] = [];
  for (let i = 0; i < batch.length; i += micro) chunks.push(batch.slice(i, i + micro));
  let summed: Record<string, TF.Tensor> | undefined;
  let loss = 0;
  let correct = 0;
  chunks.forEach((chunk, k) => {
    const weight = chunk.length / batch.length;
    let chunkCorrect: TF.Tensor1D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const r = task.step(chunk, seed + k);
      chunkCorrect = tf.keep(r.correct);
      return tf.mul<TF.Scalar>(r.loss, weight);
    }, variables);
    loss += value.dataSync()[0];
    value.dispose();
    for (const v of chunkCorrect?.dataSync() ?? []) correct += v;
    chunkCorrect?.dispose();
    if (!summed) {
      summed = grads;
    } else {
      const previous: Record<string, TF.Tensor> = summed;
      summed = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.add(previous[name], g)]));
      tf.dispose([...Object.values(previous), ...Object.values(grads)]);
    }
  });
  // Adam's typing wants variables; tfjs matches the gradients to them by variable name.
  optimizer.applyGradients(summed as unknown as Parameters<typeof optimizer.applyGradients>[0]);
  tf.dispose(Object.values(summed ?? {}));
  return { loss, correct, examples: batch.length };
}

/** Training diverged: names the component, the phase and the step, and what to change. */
export class NonFiniteLossError extends Error {}

function nonFinite(task: FitTask, schedule: FitSchedule, what: string, value: number, step: number): NonFiniteLossError {
  const component = task.expert ? `${task.component} (${task.expert})` : task.component;
  return new NonFiniteLossError(
    `${component}, phase ${task.phase}: the ${what} is ${value} at step ${step}; training diverged (learning rate ${schedule.lr}: try a smaller lr.${task.phase})`,
  );
}

/**
 * The example stream of a component: each step's batch (a new epoch when one runs out) and its dropout seed,
 * both from `rng`. Training plans (plan.ts) write down the same stream for other engines.
 */
export function batchStream(epoch: (rng: Rng) => number[][], rng: Rng, component = 'component'): { next(): { batch: number[]; seed: number } } {
  let batches: number[][] = [];
  let at = 0;
  return {
    next() {
      if (at === batches.length) {
        batches = epoch(rng);
        at = 0;
      }
      if (batches.length === 0) throw new Error(`${component}: no training examples`);
      return { batch: batches[at++], seed: rng.int(2 ** 31) };
    },
  };
}

function snapshot(variables: TF.Variable[]): TF.Tensor[] {
  return variables.map((v) => tf.keep(v.clone()));
}

function restore(variables: TF.Variable[], saved: TF.Tensor[]): void {
  variables.forEach((v, i) => v.assign(saved[i]));
}

function disposeSnapshot(saved: TF.Tensor[]): void {
  for (const t of saved) t.dispose();
}
