import type { PreferenceRecord } from '../dataset/record';
import type { Agreement } from './evaluate';
import { countAgreement } from './evaluate';
import type { PairSample, PrefPair } from './pairs';
import { DEFAULT_PAIR_SAMPLE, humanPairs } from './pairs';

/**
 * Reference judges measured on the same test pairs as the models, so a table can say what the
 * numbers mean: "the longer response wins" is the bias a reward model learns first, and a rating
 * source (llmeval2's GPT-4 stars) is what an LLM judge reaches without training.
 */

export interface JudgedRecord {
  record: PreferenceRecord;
  /** Human pairs of the record (`humanPairs`), response indices into `record.responses`. */
  pairs: PrefPair[];
}

export interface ReferenceResult extends Agreement {
  /** `longer-wins`, or `ratings:<source>`. */
  judge: string;
  /** Human pairs the judge has no opinion on (a response without ratings by the source); not in `pairs`. */
  unjudged: number;
}

/** The records with their human pairs, as the recipe's test split has them. */
export function judgedRecords(records: ReadonlyArray<PreferenceRecord>, sample: PairSample = DEFAULT_PAIR_SAMPLE): JudgedRecord[] {
  return records.map((record, i) => ({ record, pairs: humanPairs(record, i, sample).pairs }));
}

function asEvalRecords(records: ReadonlyArray<JudgedRecord>): Array<{ category?: string; pairs: PrefPair[] }> {
  return records.map((r) => ({ category: r.record.category, pairs: r.pairs }));
}

/** The longer response (in UTF-16 code units, JavaScript's length) wins; equal lengths disagree, as equal rewards do. */
export function longerWins(records: ReadonlyArray<JudgedRecord>): ReferenceResult {
  const result = countAgreement(asEvalRecords(records), (pos) => records[pos].record.responses.map((r) => r.text.length));
  return { judge: 'longer-wins', ...result };
}

/**
 * The sum of each response's ratings by `source` (over all aspects it rated) as its reward. A pair
 * where either response has no rating by the source is left out and counted in `unjudged`. Sums,
 * not means, as a judge's total stars; they compare fairly only when the source rated every response
 * on the same aspects, as llmeval2's sources do.
 */
export function ratingJudge(records: ReadonlyArray<JudgedRecord>, source: string): ReferenceResult {
  const totals = (pos: number): number[] =>
    records[pos].record.responses.map((response) => {
      let sum = 0;
      let rated = false;
      for (const r of response.ratings ?? []) {
        if (r.source !== source || !Number.isFinite(r.value)) continue;
        sum += r.value;
        rated = true;
      }
      return rated ? sum : NaN;
    });
  const result = countAgreement(asEvalRecords(records), totals, (r, p) => !Number.isNaN(r[p.winner]) && !Number.isNaN(r[p.loser]));
  return { judge: `ratings:${source}`, ...result };
}
