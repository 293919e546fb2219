import type * as TF from '@tensorflow/tfjs';
import type { TokenBatch } from '../model/batch';
import type { DataParallel } from '../model/data-parallel';
import type { Classifier, MlpHead } from '../model/heads';
import { crossEntropy, pairwiseLoss } from '../model/loss';
import { tf } from '../model/tf';
import type { TextTokenizer } from '../model/tokenizer';
import type { VocabMap } from '../model/vocab';
import { bucketByLength, chunk, makeBatch } from './batching';
import type { PreferenceData } from './data';
import type { EncodedResponse } from './features';
import type { FitTask, NamedParams, StepResult } from './fit';
import type { TrainedPhase } from './hparams';
import type { EmbeddingCache } from './embedding-cache';
import type { PrefPair } from './pairs';
import type { Rng } from './rng';

/** Rewards of a batch of token sequences: [B] in (0, 1). */
export type RewardFn = (batch: TokenBatch, training: boolean, seed: number) => TF.Tensor1D;
/** Pooled embeddings of a batch of token sequences: [B, D]. */
export type EmbedFn = (batch: TokenBatch) => TF.Tensor2D;

/** Where token sequences come from: the encoded records, mapped into the model's compact vocabulary. */
export interface SequenceSource {
  data: PreferenceData;
  vocab: VocabMap;
  padId: number;
  scoreBatch: number;
}

export interface TaskInfo {
  component: string;
  phase: TrainedPhase;
  expert?: string;
  parts: Record<string, NamedParams>;
}

/** Sequences of `data` in `vocab`, padded with the tokenizer's [PAD] mapped into that vocabulary. */
export function sequenceSource(data: PreferenceData, vocab: VocabMap, tokenizer: TextTokenizer, scoreBatch: number): SequenceSource {
  return { data, vocab, padId: vocab.toCompact(Int32Array.of(tokenizer.special.pad))[0], scoreBatch };
}

const seqOf = (data: PreferenceData, record: number, response: number): EncodedResponse => data.records[record].responses[response];

/** Capped, fixed validation subset: evaluation cost stays bounded and comparable across evaluations. */
export function validationSubset(pairs: PrefPair[], max: number, rng: Rng): PrefPair[] {
  if (pairs.length <= max) return pairs;
  return rng.shuffle(pairs.slice()).slice(0, max);
}

/**
 * Base RM, Phase 1, Phase 2 experts and ensemble members: a token-level network trained on pairs with
 * −log σ(r_w − r_l) (paper eq. 7). Batches group pairs of similar length so padding stays small.
 *
 * With `parallel` (loaded with the same network as `reward`) each step's pairs are split over its threads:
 * the step is cut into as many passes as there are threads (more when `microBatch` is smaller), pass k
 * seeded `seed + k` as fit seeds its micro-batches. With microBatchPairs at most batchPairs / threads the
 * passes are fit's micro-batches exactly, and the training is the single thread's up to float rounding.
 */
export function tokenPairTask(
  info: TaskInfo,
  src: SequenceSource,
  train: PrefPair[],
  val: PrefPair[],
  batchPairs: number,
  reward: RewardFn,
  parallel?: DataParallel,
): FitTask {
  const length = (p: PrefPair): number => Math.max(seqOf(src.data, p.record, p.winner).ids.length, seqOf(src.data, p.record, p.loser).ids.length);
  /** Winners first, then the matching losers: [2B] sequences for B pairs. */
  const pairBatch = (batch: number[]): TokenBatch => {
    const pairs = batch.map((i) => train[i]);
    return makeBatch([...pairs.map((p) => seqOf(src.data, p.record, p.winner)), ...pairs.map((p) => seqOf(src.data, p.record, p.loser))], src.padId, src.vocab);
  };
  if (parallel) checkSameVariables(info, parallel);
  return {
    ...info,
    epoch: tokenPairEpoch(train, length, batchPairs),
    step: (batch, seed): StepResult => {
      const r = reward(pairBatch(batch), true, seed); // [2B]
      const rw = r.slice(0, batch.length);
      const rl = r.slice(batch.length, batch.length);
      return { loss: pairwiseLoss(rw, rl), correct: tf.cast(tf.greater(rw, rl), 'float32') as TF.Tensor1D };
    },
    trainStep: parallel
      ? async (batch, seed, microBatch, optimizer) => {
          // Sized on the nominal batch, so that a short last batch is cut as fit cuts it into micro-batches.
          const size = Math.min(microBatch, Math.ceil(batchPairs / parallel.size));
          const r = await parallel.stepPasses(
            chunk(batch, size).map((pass, k) => ({ batch: pairBatch(pass), seed: seed + k })),
            optimizer,
          );
          return { loss: r.loss, correct: r.correct, examples: r.pairs };
        }
      : undefined,
    validate: () =>
      pairMetrics(
        val,
        scorePairSequences(src, val, (b) => reward(b, false, 0)),
      ),
  };
}

/** One pass over token pairs (indices into `train`): batches of similar length, so padding stays small. */
export function tokenPairEpoch(train: PrefPair[], length: (p: PrefPair) => number, batchPairs: number): (rng: Rng) => number[][] {
  const indices = train.map((_, i) => i);
  return (rng) =>
    bucketByLength(
      indices,
      (i) => length(train[i]),
      batchPairs,
      () => rng.next(),
    );
}

/** One pass over `n` examples of cached features, shuffled: their cost does not depend on a length. */
export function shuffledEpoch(n: number, batchSize: number): (rng: Rng) => number[][] {
  const indices = Array.from({ length: n }, (_, i) => i);
  return (rng) => chunk(rng.shuffle(indices.slice()), batchSize);
}

/** The threads must update exactly the parameters fit would (and checkpoints save): a wiring mistake is loud. */
function checkSameVariables(info: TaskInfo, parallel: DataParallel): void {
  const names = (vs: Iterable<TF.Variable>): string =>
    [...vs]
      .map((v) => v.name)
      .sort()
      .join(',');
  const expected = Object.values(info.parts).flatMap((p) => [...p.named().values()]);
  if (names(expected) !== names(parallel.trainable)) {
    throw new Error(
      `${info.component}: the data-parallel threads train ${parallel.trainable.length} variables, the task's parts have ${expected.length}; load the component's network into them first`,
    );
  }
}

/** Phase 3: the aggregation MLP over cached expert embeddings (base and LoRA frozen, paper §3.3). */
export function cachedPairTask(info: TaskInfo, features: EmbeddingCache, train: PrefPair[], val: PrefPair[], batchPairs: number, head: MlpHead): FitTask {
  const rewards = (pairs: PrefPair[], side: 'winner' | 'loser'): TF.Tensor1D => head.forward(features.tensor(pairs.map((p) => [p.record, p[side]])));
  return {
    ...info,
    epoch: shuffledEpoch(train.length, batchPairs),
    step: (batch): StepResult => {
      const pairs = batch.map((i) => train[i]);
      const rw = rewards(pairs, 'winner');
      const rl = rewards(pairs, 'loser');
      return { loss: pairwiseLoss(rw, rl), correct: tf.cast(tf.greater(rw, rl), 'float32') as TF.Tensor1D };
    },
    validate: () => {
      const scores = new Map<string, number>();
      for (const group of chunk(val, 256)) {
        const keys = group.flatMap(
          (p) =>
            [
              [p.record, p.winner],
              [p.record, p.loser],
            ] as Array<[number, number]>,
        );
        const r = tf.tidy(() => head.forward(features.tensor(keys)).dataSync());
        keys.forEach(([rec, resp], i) => scores.set(`${rec}:${resp}`, r[i]));
      }
      return pairMetrics(val, scores);
    },
  };
}

/** The router: a top-1 classifier over task categories on cached embeddings of the user turns. */
export function routerTask(
  info: TaskInfo,
  features: Float32Array[],
  labels: number[],
  train: number[],
  val: number[],
  batchSize: number,
  classifier: Classifier,
): FitTask {
  const dim = features[0]?.length ?? 0;
  const inputs = (positions: number[]): TF.Tensor2D => {
    const flat = new Float32Array(positions.length * dim);
    positions.forEach((p, i) => flat.set(features[p], i * dim));
    return tf.tensor2d(flat, [positions.length, dim]);
  };
  return {
    ...info,
    epoch: shuffledEpoch(train.length, batchSize),
    step: (batch): StepResult => {
      const positions = batch.map((i) => train[i]);
      const target = Int32Array.from(positions, (p) => labels[p]);
      const logits = classifier.logits(inputs(positions));
      const correct = tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(target, 'int32')), 'float32') as TF.Tensor1D;
      return { loss: crossEntropy(logits, target), correct };
    },
    validate: () => {
      if (val.length === 0) return { accuracy: 0, loss: 0 };
      return tf.tidy(() => {
        const target = Int32Array.from(val, (p) => labels[p]);
        const logits = classifier.logits(inputs(val));
        const predicted = tf.argMax(logits, 1).dataSync();
        let right = 0;
        predicted.forEach((c, i) => (right += c === target[i] ? 1 : 0));
        return { accuracy: right / val.length, loss: crossEntropy(logits, target).dataSync()[0] };
      });
    },
  };
}

/**
 * Runs `embed` over the given sequences in length-sorted batches without gradients and returns one row
 * per sequence, in the order given.
 */
export function embedSequences(src: SequenceSource, seqs: EncodedResponse[], embed: EmbedFn): Float32Array[] {
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].ids.length - seqs[b].ids.length);
  const out: Float32Array[] = new Array<Float32Array>(seqs.length);
  for (const group of chunk(order, src.scoreBatch)) {
    const values = tf.tidy(
      () =>
        embed(
          makeBatch(
            group.map((i) => seqs[i]),
            src.padId,
            src.vocab,
          ),
        ).dataSync() as Float32Array,
    );
    const dim = values.length / group.length;
    group.forEach((i, row) => (out[i] = values.slice(row * dim, (row + 1) * dim)));
  }
  return out;
}

/** Rewards of every response appearing in `pairs`, keyed `record:response`. */
export function scorePairSequences(src: SequenceSource, pairs: PrefPair[], reward: (b: TokenBatch) => TF.Tensor1D): Map<string, number> {
  const keys = new Map<string, [number, number]>();
  for (const p of pairs) {
    keys.set(`${p.record}:${p.winner}`, [p.record, p.winner]);
    keys.set(`${p.record}:${p.loser}`, [p.record, p.loser]);
  }
  const list = [...keys.values()];
  const rows = embedSequences(
    src,
    list.map(([rec, resp]) => seqOf(src.data, rec, resp)),
    (b) => tf.expandDims<TF.Tensor2D>(reward(b), 1),
  );
  return new Map(list.map(([rec, resp], i) => [`${rec}:${resp}`, rows[i][0]]));
}

function pairMetrics(pairs: PrefPair[], scores: Map<string, number>): { accuracy: number; loss: number } {
  if (pairs.length === 0) return { accuracy: 0, loss: 0 };
  let right = 0;
  let loss = 0;
  for (const p of pairs) {
    const d = (scores.get(`${p.record}:${p.winner}`) ?? 0) - (scores.get(`${p.record}:${p.loser}`) ?? 0);
    if (d > 0) right++;
    loss += Math.log1p(Math.exp(-d)); // −log σ(d)
  }
  return { accuracy: right / pairs.length, loss: loss / pairs.length };
}
