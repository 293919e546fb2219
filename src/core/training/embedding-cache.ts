/**
 * Embeddings cached from frozen encoders (the router's and Phase 3's inputs), and the per-dimension
 * standardisation their linear layers train on.
 */
import type * as TF from '@tensorflow/tfjs';
import { phase3Input } from '../model/dmoerm';
import type { Encoder } from '../model/encoder';
import type { LoraAdapter } from '../model/lora';
import { tf } from '../model/tf';
import type { SequenceSource } from './tasks';
import { embedSequences } from './tasks';

/**
 * Per-dimension standardisation of cached embeddings. Frozen encoders (a from-scratch one especially)
 * can put every input near one point, with the differences that matter a thousandth of the common
 * part; a linear layer learns from standardised features in a few steps instead of not at all. After
 * training, the transform is folded into the layer's weights (`foldInto`), so checkpoints, scoring
 * and export see an ordinary linear layer over the raw embeddings.
 */
export class Standardizer {
  private constructor(
    readonly mean: Float32Array,
    /** 1 / standard deviation, with a floor so constant dimensions stay finite. */
    readonly scale: Float32Array,
  ) {}

  static fit(rows: Iterable<Float32Array>): Standardizer {
    let n = 0;
    let sum: Float64Array | undefined;
    let sq: Float64Array | undefined;
    for (const row of rows) {
      sum ??= new Float64Array(row.length);
      sq ??= new Float64Array(row.length);
      for (let j = 0; j < row.length; j++) {
        sum[j] += row[j];
        sq[j] += row[j] * row[j];
      }
      n++;
    }
    if (!sum || !sq || n === 0) throw new Error('no embeddings to standardise');
    const mean = Float32Array.from(sum, (s) => s / n);
    const scale = Float32Array.from(sq, (q, j) => 1 / Math.sqrt(Math.max(q / n - mean[j] * mean[j], 1e-12)));
    return new Standardizer(mean, scale);
  }

  apply(row: Float32Array): Float32Array {
    return Float32Array.from(row, (x, j) => (x - this.mean[j]) * this.scale[j]);
  }

  /** For y = W·x̂ + b with x̂ = (x − mean)·scale: W ← W·diag(scale), b ← b − W_new·mean. W is [out, in]. */
  foldInto(weight: TF.Variable, bias: TF.Variable): void {
    const [out, inDim] = weight.shape;
    const w = weight.dataSync() as Float32Array;
    const b = bias.dataSync() as Float32Array;
    const folded = new Float32Array(w.length);
    const shifted = Float32Array.from(b);
    for (let o = 0; o < out; o++) {
      for (let j = 0; j < inDim; j++) {
        folded[o * inDim + j] = w[o * inDim + j] * this.scale[j];
        shifted[o] -= folded[o * inDim + j] * this.mean[j];
      }
    }
    tf.tidy(() => {
      weight.assign(tf.tensor(folded, weight.shape));
      bias.assign(tf.tensor(shifted, bias.shape));
    });
  }
}

/** Embeddings of (record, response) pairs held as plain arrays, concatenated over experts (z = ⊕ z_i). */
export class EmbeddingCache {
  private readonly rows = new Map<string, Float32Array>();
  constructor(readonly dim: number) {}

  set(record: number, response: number, row: Float32Array): void {
    this.rows.set(`${record}:${response}`, row);
  }

  /** Standardises every row in place and returns the transform, to fold into the first layer later. */
  standardise(): Standardizer {
    const std = Standardizer.fit(this.rows.values());
    for (const [k, row] of this.rows) this.rows.set(k, std.apply(row));
    return std;
  }

  get(record: number, response: number): Float32Array {
    const row = this.rows.get(`${record}:${response}`);
    if (!row) throw new Error(`no cached embedding for record ${record} response ${response}`);
    return row;
  }

  tensor(keys: Array<[number, number] | number[]>): TF.Tensor2D {
    const flat = new Float32Array(keys.length * this.dim);
    keys.forEach(([rec, resp], i) => flat.set(this.get(rec, resp), i * this.dim));
    return tf.tensor2d(flat, [keys.length, this.dim]);
  }
}

/**
 * Phase 3's input z = ⊕ z_i, [n, k·H] with the experts in order, for every response of the given records
 * (`keys`: record, response): one frozen pass of `encoder` per expert (paper §3.3). `lend(k, embed)`
 * hands the k-th adapter to `embed`, so a caller may load each one only for its pass.
 */
export function expertEmbeddings(
  src: SequenceSource,
  encoder: Encoder,
  positions: number[],
  experts: number,
  lend: (k: number, embed: (adapter: LoraAdapter) => void) => void,
): { keys: Array<[number, number]>; z: Float32Array } {
  const keys = positions.flatMap((p) => src.data.records[p].responses.map((_, r) => [p, r] as [number, number]));
  const seqs = keys.map(([p, r]) => src.data.records[p].responses[r]);
  const hidden = encoder.config.hidden;
  const z = new Float32Array(keys.length * phase3Input(hidden, experts));
  for (let k = 0; k < experts; k++) {
    lend(k, (adapter) => {
      const rows = embedSequences(src, seqs, (b) => encoder.forward(b, { adapter }).pooled);
      rows.forEach((row, i) => z.set(row, (i * experts + k) * hidden));
    });
  }
  return { keys, z };
}

/** Phase 3's inputs for training: every response's z = ⊕ z_i, by (record, response). */
export function cacheExpertEmbeddings(src: SequenceSource, encoder: Encoder, adapters: LoraAdapter[], positions: number[]): EmbeddingCache {
  const { keys, z } = expertEmbeddings(src, encoder, positions, adapters.length, (k, embed) => embed(adapters[k]));
  const width = phase3Input(encoder.config.hidden, adapters.length);
  const cache = new EmbeddingCache(width);
  keys.forEach(([p, r], i) => cache.set(p, r, z.subarray(i * width, (i + 1) * width)));
  return cache;
}
