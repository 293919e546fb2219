import type { PreferenceRecord } from '../dataset/record';

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
 * From `preference.ranking` when there is one (1 = best; equal ranks are ties); otherwise from
 * `preference.pairs`, by majority per distinct unordered pair: votes for a against votes for b, a
 * `null` verdict abstaining. An even split, or only `null` verdicts, is a tie. Ties are counted, not
 * returned. Indices outside the record's responses are ignored (the dataset engine reports them).
 */
export function humanPairs(record: PreferenceRecord, recordIndex: number): { pairs: PrefPair[]; ties: number } {
  const preference = record.preference;
  const n = record.responses.length;
  const pairs: PrefPair[] = [];
  let ties = 0;
  if (preference === undefined) return { pairs, ties };

  const ranking = preference.ranking;
  if (ranking !== undefined) {
    const k = Math.min(ranking.length, n);
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) {
        if (ranking[i] === ranking[j]) ties++;
        else if (ranking[i] < ranking[j]) pairs.push({ record: recordIndex, winner: i, loser: j });
        else pairs.push({ record: recordIndex, winner: j, loser: i });
      }
    return { pairs, ties };
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
    else pairs.push({ record: recordIndex, winner: v > 0 ? lo : hi, loser: v > 0 ? hi : lo });
  }
  return { pairs, ties };
}

function inRange(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n;
}
