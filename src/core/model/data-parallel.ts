/**
 * Data parallelism for the pairwise reward step over worker_threads. Each worker runs its own wasm
 * backend (one wasm instance per thread: tfjs-wasm has no threads in Node), holds a copy of the frozen
 * weights, and computes the gradients of its share of the pairs; the main thread computes one share
 * itself, adds the shares' gradients weighted by their pair counts (so the sum is the full batch's
 * mean-loss gradient) and applies the optimiser. Only trainable values travel each step.
 *
 * The worker script is any bundle that calls `runGradientWorker()` when it is not the main thread.
 */
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

/** main → worker */
type ToWorker =
  | { type: 'init'; encoder: { config: EncoderConfig; named: Named; trainable: boolean }; adapter?: { config: LoraConfig; named: Named }; head: Named }
  | { type: 'step'; values: Float32Array[]; batch: TokenBatch; seed: number; weight: number }
  | { type: 'close' };

/** worker → main */
type FromWorker = { type: 'ready' } | { type: 'grads'; loss: number; correct: number; grads: Float32Array[] } | { type: 'error'; message: string };

export interface RewardParts {
  encoder: Encoder;
  head: ScalarHead;
  adapter?: LoraAdapter;
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

/** Gradients of weight · loss(shard) for the given variables, as tensors the caller disposes. */
function shardGrads(p: RewardParts, vars: Variable[], shard: TokenBatch, seed: number, weight: number): { loss: number; correct: number; grads: Tensor[] } {
  let correct = 0;
  const { value, grads } = tf.variableGrads(() => {
    const step = pairBatchStep(p, shard, seed);
    correct = step.correct.sum().dataSync()[0];
    return tf.mul<Scalar>(step.loss, weight);
  }, vars);
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, correct, grads: vars.map((v) => grads[v.name]) };
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
  private constructor(
    private readonly parts: RewardParts,
    private readonly workers: Worker[],
    private readonly vars: Variable[],
  ) {}

  static async start(o: DataParallelOptions): Promise<DataParallel> {
    const vars = trainableOf(o);
    const init: ToWorker = {
      type: 'init',
      encoder: { config: o.encoder.config, named: namedOf(o.encoder.named()), trainable: vars.length > (o.adapter?.variables().length ?? 0) + o.head.variables().length },
      adapter: o.adapter && { config: o.adapter.config, named: namedOf(o.adapter.named()) },
      head: namedOf(o.head.named()),
    };
    const workers = [...Array(o.workers).keys()].map(() => new Worker(o.script));
    await Promise.all(workers.map((w) => request(w, init)));
    return new DataParallel({ encoder: o.encoder, head: o.head, adapter: o.adapter }, workers, vars);
  }

  /** One optimiser step on a winners-then-losers batch (as tokenPairTask builds it). */
  async step(batch: TokenBatch, seed: number, optimizer: Optimizer): Promise<ParallelStepResult> {
    const P = batch.batch / 2;
    const shares = this.workers.length + 1;
    const bounds = [...Array(shares + 1).keys()].map((k) => Math.round((k * P) / shares));
    const values = this.vars.map((v) => v.dataSync() as Float32Array);
    const pending = this.workers.map((w, k) => {
      const from = bounds[k + 1];
      const to = bounds[k + 2];
      return request(w, { type: 'step', values, batch: pairShard(batch, from, to), seed: seed * 31 + k + 1, weight: (to - from) / P });
    });
    const mine = shardGrads(this.parts, this.vars, pairShard(batch, bounds[0], bounds[1]), seed * 31, (bounds[1] - bounds[0]) / P);
    const theirs = (await Promise.all(pending)) as Array<Extract<FromWorker, { type: 'grads' }>>;
    let loss = mine.loss;
    tf.tidy(() => {
      const named: Record<string, Tensor> = {};
      this.vars.forEach((v, i) => {
        let g = mine.grads[i];
        for (const t of theirs) g = tf.add(g, tf.tensor(t.grads[i], v.shape));
        named[v.name] = g;
      });
      optimizer.applyGradients(named);
    });
    for (const g of mine.grads) g.dispose();
    let correct = mine.correct;
    for (const t of theirs) {
      loss += t.loss;
      correct += t.correct;
    }
    return { loss, correct, pairs: P };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function request(w: Worker, msg: ToWorker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      w.off('error', onError);
      if (m.type === 'error') reject(new Error(`gradient worker: ${m.message}`));
      else resolve(m);
    };
    const onError = (e: Error): void => {
      w.off('message', onMessage);
      reject(e);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(msg);
  });
}

/** The worker side: builds the model from the init message, then answers step messages with gradients. */
export async function runGradientWorker(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runGradientWorker: not in a worker thread');
  await initBackend('wasm');
  let parts: RewardParts | undefined;
  let vars: Variable[] = [];
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'close') return port.close();
      if (m.type === 'init') {
        const encoder = Encoder.fromNamed(m.encoder.config, toMap(m.encoder.named), 'data-parallel init');
        encoder.setTrainable(m.encoder.trainable);
        const adapter = m.adapter && LoraAdapter.fromNamed(m.encoder.config, m.adapter.config, toMap(m.adapter.named), 'data-parallel init');
        parts = { encoder, adapter, head: ScalarHead.fromNamed(toMap(m.head), 'data-parallel init') };
        vars = trainableOf(parts);
        return port.postMessage({ type: 'ready' } satisfies FromWorker);
      }
      if (!parts) throw new Error('step before init');
      tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(m.values[i], v.shape))));
      const { loss, correct, grads } = shardGrads(parts, vars, m.batch, m.seed, m.weight);
      const out = grads.map((g) => g.dataSync() as Float32Array);
      for (const g of grads) g.dispose();
      port.postMessage({ type: 'grads', loss, correct, grads: out } satisfies FromWorker, out.map((a) => a.buffer));
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
    }
  });
}
