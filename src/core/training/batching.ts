/**
 * Token sequences → padded batches, and the order in which they are batched. Attention costs grow with
 * the padded length of a batch, so sequences of similar length are batched together: on the responses of
 * the sample datasets (maxLen 512, batches of 16) 2.6% of the positions are padding, against 55% in
 * random batches (test/unit/training/features.test.ts).
 */
import type { TokenBatch } from '../model/batch';
import type { VocabMap } from '../model/vocab';

export interface Sequence {
  ids: Int32Array;
  typeIds: Int32Array;
}

/**
 * One batch, padded on the right to its longest sequence (not to the model's maximum). `padId` is the
 * id written at padding positions in the batch's vocabulary: compact when `map` is given (padding
 * positions are masked out, so any valid row will do, but it must exist in the embedding table).
 */
export function makeBatch(seqs: Sequence[], padId: number, map?: VocabMap): TokenBatch {
  if (seqs.length === 0) throw new RangeError('makeBatch: no sequences');
  let seqLen = 0;
  for (const s of seqs) {
    if (s.typeIds.length !== s.ids.length) throw new RangeError(`makeBatch: ${s.ids.length} ids but ${s.typeIds.length} token types in one sequence`);
    if (s.ids.length > seqLen) seqLen = s.ids.length;
  }
  const batch = seqs.length;
  const ids = new Int32Array(batch * seqLen).fill(padId);
  const typeIds = new Int32Array(batch * seqLen);
  const mask = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    const s = seqs[b];
    const row = b * seqLen;
    ids.set(map ? map.toCompact(s.ids) : s.ids, row);
    typeIds.set(s.typeIds, row);
    mask.fill(1, row, row + s.ids.length);
  }
  return { ids, typeIds, mask, batch, seqLen };
}

/** Sorting happens within chunks of this many batches: similar lengths, yet a different mix every epoch. */
const CHUNK_BATCHES = 50;

/**
 * Splits `items` into batches of `batchSize` (the last one may be smaller) whose members have similar
 * `length`: shuffle, sort each chunk of ~50 batches by length, cut it into batches, shuffle the batches.
 * The same `rng` stream gives the same batches.
 */
export function bucketByLength<T>(items: T[], length: (t: T) => number, batchSize: number, rng: () => number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer; got ${batchSize}`);
  const order = shuffle(
    items.map((_, i) => i),
    rng,
  );
  const lengths = items.map(length);
  const batches: T[][] = [];
  const chunk = batchSize * CHUNK_BATCHES;
  for (let start = 0; start < order.length; start += chunk) {
    // Ties keep their shuffled order (Array#sort is stable), so equal lengths still mix.
    const part = order.slice(start, start + chunk).sort((a, b) => lengths[a] - lengths[b]);
    for (let k = 0; k < part.length; k += batchSize) batches.push(part.slice(k, k + batchSize).map((i) => items[i]));
  }
  return shuffle(batches, rng);
}

/** Fraction of the positions of `batches` that are padding (0 when there are none). */
export function paddingWaste(batches: TokenBatch[]): number {
  let total = 0;
  let real = 0;
  for (const b of batches) {
    total += b.batch * b.seqLen;
    for (let i = 0; i < b.mask.length; i++) real += b.mask[i];
  }
  return total === 0 ? 0 : (total - real) / total;
}

/** Fisher–Yates, in place. */
function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

/** `items` in consecutive groups of `size` (the last may be shorter). */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
