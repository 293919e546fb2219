/**
 * A compact embedding table: only the tokens the training data uses. bert-base-chinese has 21,128 rows
 * of which a dataset typically touches a few thousand; keeping only those makes the embedding (the
 * largest weight of a small encoder) several times smaller and faster to train, and tokens never seen
 * in training would keep their random initial rows anyway, so they go to [UNK].
 */
import type { TextTokenizer } from './tokenizer';

export interface VocabMapJson {
  keep: number[];
  /** Original id of [UNK], where unknown ids go; written by toJSON, optional for hand-made lists. */
  unk?: number;
}

export class VocabMap {
  /** `keep[compactId]` = original id, ascending (what `Encoder.restrictVocab` takes). */
  readonly keep: Int32Array;
  readonly size: number;
  /** Original id → compact id, -1 where not kept. */
  private readonly lookup: Int32Array;
  /** Compact id of [UNK], or -1 when the map does not know it (then unknown ids are an error). */
  private readonly unkCompact: number;

  private constructor(
    keep: Int32Array,
    private readonly unkOriginal: number | undefined,
  ) {
    this.keep = keep;
    this.size = keep.length;
    this.lookup = new Int32Array(keep.length > 0 ? keep[keep.length - 1] + 1 : 0).fill(-1);
    for (let i = 0; i < keep.length; i++) this.lookup[keep[i]] = i;
    this.unkCompact = unkOriginal === undefined ? -1 : this.lookup[unkOriginal];
  }

  /**
   * The tokens of `used` plus the tokenizer's specials, in ascending original-id order. Unknown ids go to
   * [UNK]; a decoder's byte-level tokenizer has none, and they go to its padding token's row instead.
   */
  static build(original: TextTokenizer, used: Iterable<number>): VocabMap {
    const { cls, sep, pad, unk, eos } = original.special;
    const ids = new Set<number>([cls, sep, pad, unk, eos ?? -1].filter((id) => id >= 0));
    for (const id of used) {
      if (!Number.isInteger(id) || id < 0 || id >= original.vocabSize) {
        throw new RangeError(`token id ${id} is not in the vocabulary of ${original.file} (0..${original.vocabSize - 1})`);
      }
      ids.add(id);
    }
    return new VocabMap(Int32Array.from([...ids].sort((a, b) => a - b)), unk >= 0 ? unk : pad);
  }

  /** Reads what `toJSON` wrote (a run folder's vocab.json); throws on anything else, saying why. */
  static fromJSON(json: VocabMapJson): VocabMap {
    const keep: unknown = (json as { keep?: unknown } | null)?.keep;
    if (!Array.isArray(keep)) throw new Error('vocab map: "keep" must be an array of token ids');
    for (let i = 0; i < keep.length; i++) {
      const id: unknown = keep[i];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff)
        throw new Error(`vocab map: keep[${i}] is ${JSON.stringify(id)}, not a token id`);
      if (i > 0 && id <= (keep[i - 1] as number))
        throw new Error(`vocab map: keep must be strictly ascending (keep[${i}] = ${id} after ${keep[i - 1] as number})`);
    }
    const unk = json.unk;
    if (unk !== undefined && !keep.includes(unk)) throw new Error(`vocab map: the [UNK] id ${unk} is not among the kept ids`);
    return new VocabMap(Int32Array.from(keep as number[]), unk);
  }

  toJSON(): { keep: number[]; unk?: number } {
    return this.unkOriginal === undefined ? { keep: Array.from(this.keep) } : { keep: Array.from(this.keep), unk: this.unkOriginal };
  }

  /** Compact ids of `originalIds`; ids not kept become [UNK]. */
  toCompact(originalIds: Int32Array): Int32Array {
    const out = new Int32Array(originalIds.length);
    for (let i = 0; i < originalIds.length; i++) {
      const id = originalIds[i];
      const c = id >= 0 && id < this.lookup.length ? this.lookup[id] : -1;
      if (c >= 0) out[i] = c;
      else if (this.unkCompact >= 0) out[i] = this.unkCompact;
      else throw new RangeError(`token id ${id} is not in the compact vocabulary, and the map has no [UNK] to put in its place (a vocab.json without "unk")`);
    }
    return out;
  }

  /** Original id of compact id `compactId` (for showing tokens). */
  toOriginal(compactId: number): number {
    if (!(compactId >= 0 && compactId < this.size)) throw new RangeError(`compact id ${compactId} is out of range (0..${this.size - 1})`);
    return this.keep[compactId];
  }
}
