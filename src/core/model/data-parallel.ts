/**
 * Data parallelism for the pairwise reward step over worker_threads. Each worker runs its own wasm
 * backend (one wasm instance per thread: tfjs-wasm has no threads in Node), holds a copy of the frozen
 * weights, and computes the gradients of its share of the pairs; the main thread computes one share
 * itself, adds the shares' gradients weighted by their pair counts (so the sum is the full batch's
 * mean-loss gradient) and applies the optimiser. Only trainable values travel each step.
 *
 * The worker script is any bundle that calls `runGradientWorker()` when it is not the main thread
 * (dist/train-worker.js for the CLI and the training process). One set of threads serves a whole run:
 * `load` gives them the next component's weights.
 */
import { existsSync } from 'node:fs';
import { Worker, parentPort } from 'node:worker_threads';
import { initBackend } from './backend';
import type { TokenBatch } from './batch';
import type { EncoderConfig, LoraConfig } from './config';
import { Encoder } from './encoder';
import { ScalarHead } from './heads';
import { LoraAdapter } from './lora';
import { pairwiseLoss } from './loss';
import type { NamedArray } from './safetensors';
import { tf } from './tf';
import type { Optimizer, Scalar, Tensor, Variable } from '@tensorflow/tfjs';

type Named = Array<[string, number[], Float32Array]>;

/** One forward/backward pass: a winners-then-losers batch, its dropout seed and its share of the step's pairs. */
interface WeightedPass {
  batch: TokenBatch;
  seed: number;
  weight: number;
}

/** main → worker */
type ToWorker =
  | { type: 'init'; encoder: { config: EncoderConfig; named: Named; trainable: boolean }; adapter?: { config: LoraConfig; named: Named }; head: Named }
  | { type: 'step'; values: Float32Array[]; passes: WeightedPass[] };

/** worker → main */
type FromWorker = { type: 'ready' } | { type: 'grads'; loss: number; correct: number; grads: Float32Array[] } | { type: 'error'; message: string };

export interface RewardParts {
  encoder: Encoder;
  head: ScalarHead;
  adapter?: LoraAdapter;
}

/** A forward/backward pass over a winners-then-losers batch; `seed` fixes its dropout masks. */
export interface PairPass {
  batch: TokenBatch;
  seed: number;
}

/** The variables a step updates, in a fixed order both sides share: trainable encoder weights, adapter, head. */
function trainableOf(p: RewardParts): Variable[] {
  return [...(p.encoder.variables()[0]?.trainable ? p.encoder.variables() : []), ...(p.adapter?.variables() ?? []), ...p.head.variables()];
}

function namedOf(m: Map<string, Variable>): Named {
  return [...m].map(([n, v]) => [n, v.shape, v.dataSync() as Float32Array]);
}

function toMap(named: Named): Map<string, NamedArray> {
  return new Map(named.map(([n, shape, data]) => [n, { shape, data }]));
}

/** Mean pairwise loss of a batch whose first half are winners and second half the matching losers. */
export function pairBatchLoss(p: RewardParts, batch: TokenBatch, seed: number): Scalar {
  return pairBatchStep(p, batch, seed).loss;
}

/** The loss, and per pair 1 when the winner scores higher (fit.ts's train accuracy), 0 otherwise. */
function pairBatchStep(p: RewardParts, batch: TokenBatch, seed: number): { loss: Scalar; correct: Tensor } {
  const r = p.head.forward(p.encoder.forward(batch, { adapter: p.adapter, training: true, seed }).pooled);
  const P = batch.batch / 2;
  const rw = r.slice(0, P);
  const rl = r.slice(P, P);
  return { loss: pairwiseLoss(rw, rl), correct: tf.cast(tf.greater(rw, rl), 'float32') };
}

/** Pairs [from, to) of a winners-then-losers batch, trimmed to their longest sequence. */
export function pairShard(b: TokenBatch, from: number, to: number): TokenBatch {
  const P = b.batch / 2;
  const rows = [...Array(to - from).keys()].map((i) => from + i);
  const all = [...rows, ...rows.map((r) => r + P)];
  let len = 1;
  for (const r of all) for (let t = b.seqLen - 1; t >= len; t--) if (b.mask[r * b.seqLen + t]) len = t + 1;
  const n = all.length;
  const ids = new Int32Array(n * len);
  const typeIds = new Int32Array(n * len);
  const mask = new Int32Array(n * len);
  all.forEach((r, i) => {
    ids.set(b.ids.subarray(r * b.seqLen, r * b.seqLen + len), i * len);
    typeIds.set(b.typeIds.subarray(r * b.seqLen, r * b.seqLen + len), i * len);
    mask.set(b.mask.subarray(r * b.seqLen, r * b.seqLen + len), i * len);
  });
  return { ids, typeIds, mask, batch: n, seqLen: len };
}

/**
 * Gradients of Σ weight · loss(pass) for the given variables, summed over the passes in order, as tensors the
 * caller disposes. A variable the loss does not reach (an imported pooler) gets a zero gradient, so both
 * sides always exchange one array per variable.
 */
function passGrads(p: RewardParts, vars: Variable[], passes: WeightedPass[]): { loss: number; correct: number; grads: Tensor[] } {
  let loss = 0;
  let correct = 0;
  let summed: Tensor[] | undefined;
  for (const pass of passes) {
    const { value, grads } = tf.variableGrads(() => {
      const step = pairBatchStep(p, pass.batch, pass.seed);
      correct += step.correct.sum().dataSync()[0];
      return tf.mul<Scalar>(step.loss, pass.weight);
    }, vars);
    loss += value.dataSync()[0];
    value.dispose();
    const ordered = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
    if (!summed) {
      summed = ordered;
    } else {
      const previous = summed;
      summed = previous.map((g, i) => tf.add(g, ordered[i]));
      tf.dispose([...previous, ...ordered]);
    }
  }
  return { loss, correct, grads: summed ?? vars.map((v) => tf.zerosLike(v)) };
}

/** One data-parallel step's outcome: the batch's mean loss and how many pairs the model ordered right. */
export interface ParallelStepResult {
  loss: number;
  correct: number;
  pairs: number;
}

export interface DataParallelOptions extends RewardParts {
  /** A script whose worker-thread branch calls runGradientWorker(). */
  script: string;
  /** Worker threads besides the main thread (which computes one share too). */
  workers: number;
}

export class DataParallel {
  private parts?: RewardParts;
  private vars: Variable[] = [];

  private constructor(private readonly threads: GradientThread[]) {}

  /** Starts `workers` threads of `script`; `load` then gives them the weights to train. */
  static spawn(script: string, workers: number): DataParallel {
    if (!existsSync(script)) throw new Error(`data parallelism: the worker script ${script} does not exist (rebuild, or train with threads=1)`);
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`data parallelism needs at least one worker thread, got ${workers}`);
    return new DataParallel([...Array(workers).keys()].map((k) => new GradientThread(script, k + 1)));
  }

  static async start(o: DataParallelOptions): Promise<DataParallel> {
    const dp = DataParallel.spawn(o.script, o.workers);
    try {
      await dp.load({ encoder: o.encoder, head: o.head, adapter: o.adapter });
    } catch (e) {
      await dp.close();
      throw e;
    }
    return dp;
  }

  /** Threads computing gradients, the main thread included. */
  get size(): number {
    return this.threads.length + 1;
  }

  /** The variables a step updates (trainable encoder weights, adapter, head), in the order the threads exchange them. */
  get trainable(): readonly Variable[] {
    return this.vars;
  }

  /**
   * Copies the parts' weights into every worker; steps then train these parts. Frozen weights are sent only
   * here, so they must not change until the next `load`.
   */
  async load(parts: RewardParts): Promise<void> {
    const vars = trainableOf(parts);
    const init: ToWorker = {
      type: 'init',
      encoder: {
        config: parts.encoder.config,
        named: namedOf(parts.encoder.named()),
        trainable: vars.length > (parts.adapter?.variables().length ?? 0) + parts.head.variables().length,
      },
      adapter: parts.adapter && { config: parts.adapter.config, named: namedOf(parts.adapter.named()) },
      head: namedOf(parts.head.named()),
    };
    await Promise.all(this.threads.map((t) => t.request(init)));
    this.parts = { encoder: parts.encoder, head: parts.head, adapter: parts.adapter };
    this.vars = vars;
  }

  /**
   * One optimiser step on a winners-then-losers batch, split into one share per thread (each trimmed to its
   * longest sequence; share k's dropout seed is seed·31 + k).
   */
  step(batch: TokenBatch, seed: number, optimizer: Optimizer): Promise<ParallelStepResult> {
    const P = batch.batch / 2;
    const bounds = [...Array(this.size + 1).keys()].map((k) => Math.round((k * P) / this.size));
    const passes = bounds.slice(0, -1).map((from, k) => ({ batch: pairShard(batch, from, bounds[k + 1]), seed: seed * 31 + k }));
    return this.stepPasses(
      passes.filter((p) => p.batch.batch > 0),
      optimizer,
    );
  }

  /**
   * One optimiser step on the mean loss over all pairs of `passes`: consecutive passes go to the same thread
   * (the first ones to the main thread), each pass weighted by its share of the pairs, as fit.ts weighs its
   * micro-batches; the gradients are added in pass order per thread, then thread by thread.
   */
  async stepPasses(passes: PairPass[], optimizer: Optimizer): Promise<ParallelStepResult> {
    const parts = this.parts;
    if (!parts) throw new Error('DataParallel: step before load');
    if (passes.length === 0) throw new RangeError('DataParallel: a step needs at least one pass');
    const P = passes.reduce((n, p) => n + p.batch.batch / 2, 0);
    const weighted = passes.map((p) => ({ ...p, weight: p.batch.batch / 2 / P }));
    const groups = [...Array(this.size).keys()].map((k) =>
      weighted.slice(Math.round((k * passes.length) / this.size), Math.round(((k + 1) * passes.length) / this.size)),
    );
    const values = this.vars.map((v) => v.dataSync() as Float32Array);
    const pending = this.threads.flatMap((t, k) => (groups[k + 1].length ? [t.request({ type: 'step', values, passes: groups[k + 1] })] : []));
    const answers = Promise.all(pending);
    // Should the main share throw first, a worker's later failure must not count as an unhandled rejection.
    answers.catch(() => undefined);
    // The main thread's share runs while the workers compute theirs.
    const mine = passGrads(parts, this.vars, groups[0]);
    try {
      const theirs = (await answers).filter((m): m is Extract<FromWorker, { type: 'grads' }> => m.type === 'grads');
      tf.tidy(() => {
        const named: Record<string, Tensor> = {};
        this.vars.forEach((v, i) => {
          let g = mine.grads[i];
          for (const t of theirs) g = tf.add(g, tf.tensor(t.grads[i], v.shape));
          named[v.name] = g;
        });
        optimizer.applyGradients(named);
      });
      let { loss, correct } = mine;
      for (const t of theirs) {
        loss += t.loss;
        correct += t.correct;
      }
      return { loss, correct, pairs: P };
    } finally {
      tf.dispose(mine.grads);
    }
  }

  /** Stops the worker threads; the instance cannot step afterwards. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

/**
 * One worker thread and its one outstanding request. A thread that throws, or exits when not asked to, fails
 * the request in flight and every later one with an error that says so: a crash never leaves a step waiting.
 */
class GradientThread {
  private readonly worker: Worker;
  private pending?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void };
  private failure?: Error;
  private closing = false;

  constructor(
    script: string,
    private readonly index: number,
  ) {
    this.worker = new Worker(script);
    this.worker.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      if (m.type === 'error') p?.reject(new Error(`gradient worker thread ${this.index}: ${m.message}`));
      else p?.resolve(m);
    });
    this.worker.on('error', (e: Error) => this.fail(new Error(`gradient worker thread ${this.index} crashed: ${e.message}`)));
    this.worker.on('exit', (code: number) => {
      if (!this.closing) this.fail(new Error(`gradient worker thread ${this.index} exited unexpectedly (code ${code})`));
    });
  }

  request(msg: ToWorker): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error(`gradient worker thread ${this.index}: a request is already in flight`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.pending?.reject(new Error(`gradient worker thread ${this.index} was stopped`));
    this.pending = undefined;
    await this.worker.terminate();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.pending?.reject(this.failure);
    this.pending = undefined;
  }
}

/** The worker side: builds the model from each init message, then answers step messages with gradients. */
export async function runGradientWorker(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runGradientWorker: not in a worker thread');
  await initBackend('wasm');
  let parts: RewardParts | undefined;
  let vars: Variable[] = [];
  const dispose = (p: RewardParts | undefined): void => {
    p?.encoder.dispose();
    p?.adapter?.dispose();
    p?.head.dispose();
  };
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'init') {
        dispose(parts);
        parts = undefined;
        const encoder = Encoder.fromNamed(m.encoder.config, toMap(m.encoder.named), 'data-parallel init');
        encoder.setTrainable(m.encoder.trainable);
        const adapter = m.adapter && LoraAdapter.fromNamed(m.encoder.config, m.adapter.config, toMap(m.adapter.named), 'data-parallel init');
        parts = { encoder, adapter, head: ScalarHead.fromNamed(toMap(m.head), 'data-parallel init') };
        vars = trainableOf(parts);
        return port.postMessage({ type: 'ready' } satisfies FromWorker);
      }
      if (!parts) throw new Error('step before init');
      tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(m.values[i], v.shape))));
      const { loss, correct, grads } = passGrads(parts, vars, m.passes);
      const out = grads.map((g) => g.dataSync() as Float32Array);
      tf.dispose(grads);
      port.postMessage(
        { type: 'grads', loss, correct, grads: out } satisfies FromWorker,
        out.map((a) => a.buffer),
      );
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
    }
  });
}
