import type { PairJudgement } from '../record';

/** Turning the many ways data states a preference into canonical dense rankings (1 = best). */

export type Better = 'lower' | 'higher';

/** Dense ranks: equal values share a rank and the next distinct value takes the next integer. */
export function denseRanks(values: readonly number[], better: Better): number[] {
  const distinct = [...new Set(values)].sort((a, b) => (better === 'lower' ? a - b : b - a));
  const rankOf = new Map(distinct.map((value, i) => [value, i + 1]));
  return values.map((value) => rankOf.get(value) ?? 0);
}

/**
 * Why explicit ranks are not a ranking of their `ranks.length` responses (undefined when they are).
 * Ranks are whole numbers 1…n with ties allowed — a permutation, dense (`[1, 2, 2]`) or competition
 * (`[1, 2, 2, 4]`) ranking; `[1, 7, -3]` is a misread field rather than a ranking to normalise.
 */
export function rankProblem(ranks: readonly number[], where: string): string | undefined {
  const n = ranks.length;
  const bad = ranks.findIndex((r) => !Number.isInteger(r) || r < 1 || r > n);
  if (bad < 0) return undefined;
  return `${where} entry ${bad + 1} is ${ranks[bad]}: ranks of ${n} responses are whole numbers from 1 to ${n} (equal ranks tie)`;
}

/** The ranking of two responses given the winner's index, or `null` for a tie. */
export function rankingFromWinner(winner: number | null): number[] {
  if (winner === null) return [1, 1];
  return winner === 0 ? [1, 2] : [2, 1];
}

/**
 * Several annotators' verdicts on one pair: the verdict more than half of them gave wins;
 * without such a majority the pair counts as a tie.
 */
export function majorityWinner(verdicts: readonly (number | null)[]): number | null {
  const counts = new Map<number | null, number>();
  for (const verdict of verdicts) counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  for (const [verdict, count] of counts) if (count * 2 > verdicts.length) return verdict;
  return null;
}

export type PairsRanking = { ranking: number[] } | { problem: string };

/**
 * A ranking implied by pairwise verdicts, or why there is none. Responses are ordered by
 * Copeland score (wins minus losses); the order is accepted only when every decided pair agrees
 * with it, so the ranking never contradicts a human verdict. Undecided pairs (ties) constrain
 * nothing. Verdicts of several annotators on the same pair are reduced by majority first.
 */
export function rankingFromPairs(count: number, pairs: readonly PairJudgement[]): PairsRanking {
  const byPair = new Map<string, { a: number; b: number; verdicts: (number | null)[] }>();
  for (const pair of pairs) {
    const [a, b] = pair.a < pair.b ? [pair.a, pair.b] : [pair.b, pair.a];
    const key = `${a},${b}`;
    const entry = byPair.get(key) ?? { a, b, verdicts: [] };
    entry.verdicts.push(pair.winner);
    byPair.set(key, entry);
  }
  const decided = [...byPair.values()].map((p) => ({ a: p.a, b: p.b, winner: majorityWinner(p.verdicts) }));
  const score = new Array<number>(count).fill(0);
  for (const { a, b, winner } of decided) {
    if (winner === null) continue;
    const loser = winner === a ? b : a;
    score[winner]++;
    score[loser]--;
  }
  const ranking = denseRanks(score, 'higher');
  for (const { a, b, winner } of decided) {
    if (winner === null) continue;
    const loser = winner === a ? b : a;
    if (!(ranking[winner] < ranking[loser])) {
      return {
        problem: `the pairwise verdicts are not consistent with one ranking (response ${winner + 1} beats response ${loser + 1}, but not by win count)`,
      };
    }
  }
  return { ranking };
}
