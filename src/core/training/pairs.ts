import type { PreferenceRecord } from '../dataset/record';
import { DEFAULT_MAX_PAIRS_PER_RECORD } from './hparams';
import { Rng } from './rng';

/**
 * Preference pairs as the pairwise loss (paper eq. 7) and the agreement metric use them: every
 * non-tied pair of responses of a record. The rules match `countPreferencePairs` in
 * src/core/dataset/stats.ts, so the pair counts the dataset overview shows are the pairs trained on.
 */

export interface PrefPair {
  /** Index into the list of records being encoded (not the record's line in its file). */
  record: number;
  /** Response indices. */
  winner: number;
  loser: number;
}

/**
 * At most `max` pairs per record, a uniform sample drawn with a stream of the run's `seed` forked per
 * record, so the same file and seed give the same pairs. Without a bound, one record of 10,000 ranked
 * responses is 50 million pairs and the process dies in V8's out-of-memory abort.
 */
export interface PairSample {
  max: number;
  seed: number;
}

/** Where no run decides (reference judges, scoring a file outside a run): the default bound, seed 0. */
export const DEFAULT_PAIR_SAMPLE: PairSample = { max: DEFAULT_MAX_PAIRS_PER_RECORD, seed: 0 };

/**
 * Rankings with more responses than this are refused rather than paired: even sampled, the candidate
 * pairs are walked once (k² / 2 steps), and 20,000 responses already make 2·10⁸ of them.
 */
export const MAX_RANKED_RESPONSES = 20_000;

export interface RecordPairs {
  pairs: PrefPair[];
  ties: number;
  /** Non-tied pairs the record has; more than `pairs.length` when it was sampled down. */
  available: number;
}

/**
 * From `preference.ranking` when there is one (1 = best; equal ranks are ties); otherwise from
 * `preference.pairs`, by majority per distinct unordered pair: votes for a against votes for b, a
 * `null` verdict abstaining. An even split, or only `null` verdicts, is a tie. Ties are counted, not
 * returned. Indices outside the record's responses are ignored (the dataset engine reports them).
 */
export function humanPairs(record: PreferenceRecord, recordIndex: number, sample: PairSample = DEFAULT_PAIR_SAMPLE): RecordPairs {
  const preference = record.preference;
  const n = record.responses.length;
  const pairs = new Reservoir(sample, recordIndex);
  let ties = 0;
  if (preference === undefined) return pairs.result(ties);

  const ranking = preference.ranking;
  if (ranking !== undefined) {
    const k = Math.min(ranking.length, n);
    if (k > MAX_RANKED_RESPONSES)
      throw new Error(
        `record ${recordIndex + 1} (${record.id}): ${k} ranked responses are more than the ${MAX_RANKED_RESPONSES} a record may have to be paired`,
      );
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) {
        if (ranking[i] === ranking[j]) ties++;
        else if (ranking[i] < ranking[j]) pairs.offer(i, j);
        else pairs.offer(j, i);
      }
    return pairs.result(ties);
  }

  // key lo * n + hi → votes for lo minus votes for hi
  const votes = new Map<number, number>();
  for (const p of preference.pairs ?? []) {
    if (p.a === p.b || !inRange(p.a, n) || !inRange(p.b, n)) continue;
    const [lo, hi] = p.a < p.b ? [p.a, p.b] : [p.b, p.a];
    const key = lo * n + hi;
    const delta = p.winner === lo ? 1 : p.winner === hi ? -1 : 0;
    votes.set(key, (votes.get(key) ?? 0) + delta);
  }
  for (const key of [...votes.keys()].sort((x, y) => x - y)) {
    const v = votes.get(key)!;
    const lo = Math.floor(key / n);
    const hi = key % n;
    if (v === 0) ties++;
    else if (v > 0) pairs.offer(lo, hi);
    else pairs.offer(hi, lo);
  }
  return pairs.result(ties);
}

/**
 * Reservoir sampling (Algorithm R): the first `max` items, then each later one replaces a random slot,
 * so every item is kept with the same chance whatever the order. The stream is forked from the run's
 * seed by `label` (one per record), and drawn from only once there are more than `max` items.
 */
export class PairReservoir<T> {
  private readonly kept: T[] = [];
  private seen = 0;
  private rng: Rng | undefined;

  constructor(
    private readonly sample: PairSample,
    private readonly label: string,
  ) {}

  offer(item: T): void {
    this.seen++;
    if (this.kept.length < this.sample.max) {
      this.kept.push(item);
      return;
    }
    this.rng ??= new Rng(this.sample.seed).fork(this.label);
    const slot = this.rng.int(this.seen);
    if (slot < this.sample.max) this.kept[slot] = item;
  }

  /** Items offered so far. */
  get offered(): number {
    return this.seen;
  }

  /** The kept items; in slot order, not offer order, once some were dropped. */
  items(): T[] {
    return this.kept;
  }
}

class Reservoir {
  private readonly r: PairReservoir<PrefPair>;

  constructor(
    private readonly sample: PairSample,
    private readonly record: number,
  ) {
    this.r = new PairReservoir(sample, `pairs/${record}`);
  }

  offer(winner: number, loser: number): void {
    this.r.offer({ record: this.record, winner, loser });
  }

  result(ties: number): RecordPairs {
    const pairs = this.r.items();
    // Sampled pairs back in candidate order, so a sample reads like the full list with gaps.
    if (this.r.offered > this.sample.max)
      pairs.sort((x, y) => Math.min(x.winner, x.loser) - Math.min(y.winner, y.loser) || Math.max(x.winner, x.loser) - Math.max(y.winner, y.loser));
    return { pairs, ties, available: this.r.offered };
  }
}

function inRange(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}
