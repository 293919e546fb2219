/**
 * Best-of-n with reward models: for each record with n ≥ 2 responses, the response each model would
 * pick (the argmax of its rewards) against the human's best, and how often the two coincide. Pure: the
 * extension gathers rewards (scoreFile) and records and posts what this computes.
 */
import type { PreferenceRecord } from '../dataset/record';
import { humanPairs } from '../training/pairs';

/**
 * The analytic KL divergence of the best-of-n policy from the base policy, log n − (n−1)/n (Stiennon
 * et al. 2020, appendix G.3; Gao et al. 2023 use it as the x axis of their over-optimisation curves):
 * how far picking the best of n samples moves away from sampling once.
 */
export function klBestOfN(n: number): number {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`best-of-n needs a whole number of samples n ≥ 1, got ${n}`);
  return Math.log(n) - (n - 1) / n;
}

/** The response with the highest reward (the first of equal ones, as the score lens orders ties); undefined when no reward is a number. */
export function argmax(rewards: readonly number[]): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < rewards.length; i++) {
    if (!Number.isFinite(rewards[i])) continue;
    if (best === undefined || rewards[i] > rewards[best]) best = i;
  }
  return best;
}

/** What the human said about a record's responses, in the terms best-of-n needs. */
export interface HumanVerdict {
  /**
   * Responses no other response beats, among those in at least one non-tied pair: ranking 1 when the
   * record is ranked, the undominated responses of the majority verdict per pair otherwise. Several
   * when tied for first; empty when the record has no non-tied pair or its pairs form a cycle.
   */
  best: number[];
  /**
   * Rank per response (1 = best): the stored ranking when there is one; otherwise 1 + the number of
   * responses that beat it by majority; undefined for a response in no non-tied pair.
   */
  ranks: Array<number | undefined>;
}

export function humanVerdict(record: PreferenceRecord): HumanVerdict {
  const n = record.responses.length;
  const { pairs } = humanPairs(record, 0);
  const losers = new Set(pairs.map((p) => p.loser));
  const best = [...new Set(pairs.map((p) => p.winner))].filter((w) => !losers.has(w)).sort((a, b) => a - b);
  const ranking = record.preference?.ranking;
  let ranks: Array<number | undefined>;
  if (ranking !== undefined) ranks = Array.from({ length: n }, (_, i) => (Number.isFinite(ranking[i]) ? ranking[i] : undefined));
  else {
    const inPair = new Set(pairs.flatMap((p) => [p.winner, p.loser]));
    ranks = Array.from({ length: n }, (_, i) => (inPair.has(i) ? 1 + pairs.filter((p) => p.loser === i).length : undefined));
  }
  return { best, ranks };
}

/** One record of the best-of-n table. */
export interface BonRecord {
  /** Record number in the dataset. */
  index: number;
  n: number;
  human: HumanVerdict;
  /** Per model, in the order the models were given: the response it picks (undefined: no usable reward). */
  picks: Array<number | undefined>;
}

/** A record's best-of-n row from its human preference and each model's rewards (undefined: the model did not score it). */
export function bestOfNRecord(index: number, record: PreferenceRecord, rewards: ReadonlyArray<readonly number[] | undefined>): BonRecord {
  const n = record.responses.length;
  return {
    index,
    n,
    human: humanVerdict(record),
    picks: rewards.map((r) => {
      if (r === undefined) return undefined;
      if (r.length !== n) throw new Error(`record ${index + 1}: ${r.length} rewards for ${n} responses`);
      return argmax(r);
    }),
  };
}

/** Whether a model's pick is one of the human's best responses; undefined when the record has no human best or no pick. */
export function isHit(r: BonRecord, model: number): boolean | undefined {
  const pick = r.picks[model];
  if (pick === undefined || r.human.best.length === 0) return undefined;
  return r.human.best.includes(pick);
}

/** Agreement of one model's picks with the human (over the records it was given). */
export interface ModelBonStats {
  /** Records with a pick and a human best. */
  judged: number;
  /** Of those, picks that are a human-best response. */
  hits: number;
  hitRate?: number;
  /**
   * Mean human rank of the picks over the records whose every response has a human rank: the records the
   * random baseline's mean rank averages over, so the two compare (a pick ranked from pairs alone, in a
   * record with unranked responses, has no random counterpart).
   */
  meanRank?: number;
  ranked: number;
}

export interface BonGroupStats {
  records: number;
  /** Records with a human best. */
  judged: number;
  /** A pick uniformly at random: expected share of human-best picks and expected human rank — the floor a model should clear. */
  random: { hitRate?: number; meanRank?: number };
  models: ModelBonStats[];
}

export interface BonSummary extends BonGroupStats {
  /** Per number of responses, with KL_bon for that n. */
  byN: Array<BonGroupStats & { n: number; kl: number }>;
}

function groupStats(records: readonly BonRecord[], models: number): BonGroupStats {
  const acc = Array.from({ length: models }, () => ({ judged: 0, hits: 0, rankSum: 0, ranked: 0 }));
  let judged = 0;
  let chanceHits = 0;
  let chanceRank = 0;
  let chanceRanked = 0;
  for (const r of records) {
    if (r.human.best.length > 0) {
      judged++;
      chanceHits += r.human.best.length / r.n;
    }
    const ranks = r.human.ranks.filter((x): x is number => x !== undefined);
    const fullyRanked = ranks.length === r.n;
    if (fullyRanked) {
      chanceRank += ranks.reduce((s, x) => s + x, 0) / r.n;
      chanceRanked++;
    }
    for (let m = 0; m < models; m++) {
      const a = acc[m];
      const hit = isHit(r, m);
      if (hit !== undefined) {
        a.judged++;
        if (hit) a.hits++;
      }
      const pick = r.picks[m];
      const rank = pick === undefined ? undefined : r.human.ranks[pick];
      if (rank !== undefined && fullyRanked) {
        a.rankSum += rank;
        a.ranked++;
      }
    }
  }
  return {
    records: records.length,
    judged,
    random: { hitRate: judged > 0 ? chanceHits / judged : undefined, meanRank: chanceRanked > 0 ? chanceRank / chanceRanked : undefined },
    models: acc.map((a) => ({
      judged: a.judged,
      hits: a.hits,
      hitRate: a.judged > 0 ? a.hits / a.judged : undefined,
      meanRank: a.ranked > 0 ? a.rankSum / a.ranked : undefined,
      ranked: a.ranked,
    })),
  };
}

/** Summary over all records and per n (ascending). */
export function summarizeBestOfN(records: readonly BonRecord[], models: number): BonSummary {
  const byN = new Map<number, BonRecord[]>();
  for (const r of records) {
    const list = byN.get(r.n);
    if (list) list.push(r);
    else byN.set(r.n, [r]);
  }
  return {
    ...groupStats(records, models),
    byN: [...byN.entries()].sort(([a], [b]) => a - b).map(([n, rs]) => ({ n, kl: klBestOfN(n), ...groupStats(rs, models) })),
  };
}

/** Which records the table lists: all, those where some model misses the human best, those where the models pick differently. */
export type BonFilter = 'all' | 'missed' | 'disagree';

export function matchesFilter(r: BonRecord, filter: BonFilter): boolean {
  if (filter === 'missed') return r.picks.some((_, m) => isHit(r, m) === false);
  if (filter === 'disagree') return new Set(r.picks).size > 1;
  return true;
}
