import { promptKeyHash } from '../dataset/record-id';
import type { PreferenceRecord } from '../dataset/record';
import type { Rng } from './rng';

/**
 * Splits that never put one prompt on both sides. Records that share a prompt (several response sets
 * for one question, duplicates) are near-copies for a reward model: one in training and one in test
 * would measure memory, not preference. The recipe splits the test part (80/20 when there is no test
 * file), Phase 1/2 against Phase 3 (60/40 per category, paper §4) and validation (10% of each phase's
 * training part) with this.
 */

/** Same context → same group. Multi-turn records group by the whole conversation, not the last turn. */
export function promptGroup(record: PreferenceRecord): string {
  return promptKeyHash(record.context);
}

/**
 * Parts of `items` in the proportions of `fractions` (any positive scale: `[8, 2]` = `[0.8, 0.2]`),
 * whole groups to one part. Groups are visited in an order shuffled by `rng`, each going to the part
 * where it adds least to the distance from the target sizes (ties: the part furthest below its
 * target, then the first). A part only takes a group while it is below its target, so none ends a
 * whole group over it, and with two parts both end within one group's size of their targets. Items
 * keep their input order inside a part. Deterministic for the same items, groups and rng state.
 */
export function splitByGroup<T>(items: T[], group: (t: T) => string, fractions: number[], rng: Rng): T[][] {
  if (fractions.length === 0) throw new Error('splitByGroup: no fractions given');
  if (!fractions.every((f) => Number.isFinite(f) && f >= 0))
    throw new Error(`splitByGroup: fractions must be finite and non-negative (got ${JSON.stringify(fractions)})`);
  const total = fractions.reduce((s, f) => s + f, 0);
  if (total <= 0) throw new Error(`splitByGroup: the fractions sum to 0 (${JSON.stringify(fractions)})`);

  const members = new Map<string, number[]>();
  items.forEach((item, i) => {
    const g = group(item);
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  });
  // First-appearance order, then shuffled: the result depends on the items and the rng only.
  const groups = rng.shuffle([...members.values()]);

  const targets = fractions.map((f) => (f / total) * items.length);
  const sizes = fractions.map(() => 0);
  const partOf = new Int32Array(items.length);
  for (const g of groups) {
    let best = -1;
    let bestCost = Infinity;
    let bestDeficit = -Infinity;
    for (let k = 0; k < targets.length; k++) {
      if (fractions[k] === 0) continue;
      const cost = Math.abs(sizes[k] + g.length - targets[k]) - Math.abs(sizes[k] - targets[k]);
      const deficit = targets[k] - sizes[k];
      if (cost < bestCost || (cost === bestCost && deficit > bestDeficit)) {
        best = k;
        bestCost = cost;
        bestDeficit = deficit;
      }
    }
    sizes[best] += g.length;
    for (const i of g) partOf[i] = best;
  }

  const parts: T[][] = fractions.map(() => []);
  items.forEach((item, i) => parts[partOf[i]].push(item));
  return parts;
}
