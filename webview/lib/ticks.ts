// Axis ticks of the accuracy charts. Pure (no DOM), so unit-tested: a chart of one evaluation at step 1
// read `0 0 0 1 1 1` on its step axis when ticks were fifths of the range rounded to integers.

/** 1, 2 or 5 × 10^k: the smallest such step at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Integer step ticks from 0 through at least `maxStep`, at most about `count` intervals, each distinct. */
export function stepTicks(maxStep: number, count = 5): number[] {
  const top = Math.max(1, Math.ceil(maxStep));
  const step = Math.max(1, niceStep(top / count));
  const out: number[] = [];
  for (let t = 0; t < top + step; t += step) {
    out.push(t);
    if (t >= top) break;
  }
  return out;
}

/** Accuracy ticks over [lo, hi] (fractions) on whole percents, 5/10/20-point steps. */
export function accuracyTicks(lo: number, hi: number, count = 5): number[] {
  const step = Math.max(0.05, niceStep(Math.max(1e-9, hi - lo) / count));
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9; k++) out.push(Math.round(k * step * 100) / 100 + 0); // + 0: no -0
  return out;
}
