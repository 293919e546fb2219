/**
 * The paper's parsing rule: the verdict is whichever of the characters `1` or `2` comes first in the
 * judge's reply (reference code: `res.find('1')` vs `res.find('2')`); a reply with neither is invalid.
 * Nothing smarter on purpose: it is the protocol the paper's labels were made with.
 */

export type Verdict = 1 | 2 | null;

export function parseVerdict(reply: string): Verdict {
  const one = reply.indexOf('1');
  const two = reply.indexOf('2');
  if (one < 0 && two < 0) return null;
  if (two < 0 || (one >= 0 && one < two)) return 1;
  return 2;
}

/** `ab`: response 1 in the prompt is response `a` of the pair; `ba`: the responses are swapped. */
export type Order = 'ab' | 'ba';

/** The pair index a verdict picks. */
export function winnerOf(verdict: Verdict, order: Order, a: number, b: number): number | null {
  if (verdict === null) return null;
  const first = order === 'ab' ? a : b;
  const second = order === 'ab' ? b : a;
  return verdict === 1 ? first : second;
}

export type PairResult = 'consistent' | 'inconsistent' | 'invalid';

/**
 * Both orders merged: kept only when both name the same response. Either reply invalid → invalid;
 * different responses (typically "1" both times: position bias) → inconsistent.
 */
export function mergeOrders(ab: Verdict, ba: Verdict, a: number, b: number): { result: PairResult; winner: number | null } {
  const w1 = winnerOf(ab, 'ab', a, b);
  const w2 = winnerOf(ba, 'ba', a, b);
  if (w1 === null || w2 === null) return { result: 'invalid', winner: null };
  if (w1 !== w2) return { result: 'inconsistent', winner: null };
  return { result: 'consistent', winner: w1 };
}
