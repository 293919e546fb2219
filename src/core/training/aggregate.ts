/**
 * Ensemble aggregators: the paper's §5 baselines, after Coste et al. 2023, "Reward Model Ensembles
 * Help Mitigate Overoptimization" (ICLR 2024). Each member scores a response; the ensemble's reward is
 *
 * - `mean`: the members' mean;
 * - `wco` (worst-case optimisation): the minimum, trusting the most pessimistic member;
 * - `uwo` (uncertainty-weighted optimisation): mean − λ · variance, the population (1/k) variance of
 *   the members' scores, so responses the members disagree on are discounted.
 *
 * λ depends on the members' reward scale. Coste et al. normalise each member's rewards before
 * combining them; the recipe should do the same (e.g. zero mean, unit variance on the validation
 * split) for λ to mean what it means there.
 */

export const AGGREGATIONS = ['mean', 'wco', 'uwo'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * Default λ of UWO. Coste et al. treat λ as a tuned hyper-parameter and report UWO as robust to it;
 * 0.5 is the value we recall them using for best-of-n, which (choosing among candidate responses) is
 * the setting closest to ranking a record's responses. Not re-checked against the paper's text here:
 * pass `lambda` (the `uwoLambda` override) to set it.
 */
export const DEFAULT_UWO_LAMBDA = 0.5;

export function aggregate(scores: ArrayLike<number>, how: Aggregation, lambda = DEFAULT_UWO_LAMBDA): number {
  const k = scores.length;
  if (k === 0) throw new Error(`aggregate: no member scores to aggregate (${how})`);
  if (how === 'wco') {
    let min = Infinity;
    for (let i = 0; i < k; i++) min = Math.min(min, scores[i]);
    return min;
  }
  let sum = 0;
  for (let i = 0; i < k; i++) sum += scores[i];
  const mean = sum / k;
  if (how === 'mean') return mean;
  // Two passes: subtracting the mean first keeps the variance exact where sum-of-squares cancels.
  let sq = 0;
  for (let i = 0; i < k; i++) sq += (scores[i] - mean) ** 2;
  return mean - lambda * (sq / k);
}

/** Per response (column), the aggregate over members (`scores[m][i]`: member m's score of response i). */
export function aggregateRows(scores: Float32Array[], how: Aggregation, lambda = DEFAULT_UWO_LAMBDA): Float32Array {
  if (scores.length === 0) throw new Error(`aggregateRows: no ensemble members (${how})`);
  const n = scores[0].length;
  scores.forEach((s, m) => {
    if (s.length !== n) throw new Error(`aggregateRows: member ${m} scored ${s.length} responses, member 0 scored ${n}`);
  });
  const out = new Float32Array(n);
  const column = new Float64Array(scores.length);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < scores.length; m++) column[m] = scores[m][i];
    out[i] = aggregate(column, how, lambda);
  }
  return out;
}
