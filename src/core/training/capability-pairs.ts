import type { MergedLabel } from '../labelling/store';
import type { PairSample, PrefPair } from './pairs';
import { DEFAULT_PAIR_SAMPLE, PairReservoir } from './pairs';

/**
 * Training pairs of the inner experts (paper §4.3, Phase 2): per capability point, the pairs the judge
 * decided the same way in both orders, plus ratings-derived labels with a winner. Ties, inconsistent
 * (position-biased) and invalid labels carry no preference and are skipped, but counted, so a report
 * can say how much of the labelling bought nothing.
 *
 * Every kept label gives one pair. A store that mixes setups (two judge models, or a judge and a
 * ratings source) gives a pair per setup; filter the labels first if that is not wanted — the summary
 * counts such repeats as `repeated`.
 */

export type SkipReason = 'tie' | 'inconsistent' | 'invalid' | 'noRecord' | 'badWinner';

type Classified = { use: PrefPair } | { skip: SkipReason };

function classify(l: MergedLabel, recordIndexById: Map<string, number>): Classified {
  if (l.result === 'tie') return { skip: 'tie' };
  if (l.result === 'inconsistent') return { skip: 'inconsistent' };
  if (l.result === 'invalid') return { skip: 'invalid' };
  const record = recordIndexById.get(l.record);
  // Labels of records outside this part (the test split, or a dataset edited since labelling).
  if (record === undefined) return { skip: 'noRecord' };
  if (l.winner === l.a) return { use: { record, winner: l.a, loser: l.b } };
  if (l.winner === l.b) return { use: { record, winner: l.b, loser: l.a } };
  return { skip: 'badWinner' };
}

/**
 * Point id → pairs, in label order (the store's key order, so equal stores give equal lists). A record
 * gives a point at most `sample.max` pairs (maxPairsPerRecord), a sample seeded as the human pairs are;
 * `leftOut` counts the pairs the sampling dropped.
 */
export function capabilityPairs(
  labels: MergedLabel[],
  recordIndexById: Map<string, number>,
  sample: PairSample = DEFAULT_PAIR_SAMPLE,
  leftOut = { pairs: 0 },
): Map<string, PrefPair[]> {
  const used: { point: string; pair: PrefPair }[] = [];
  const perGroup = new Map<string, PairReservoir<number>>();
  for (const l of labels) {
    const c = classify(l, recordIndexById);
    if (!('use' in c)) continue;
    const group = `${l.point}\u0000${c.use.record}`;
    let r = perGroup.get(group);
    if (r === undefined) perGroup.set(group, (r = new PairReservoir<number>(sample, `capability/${l.point}/${c.use.record}`)));
    r.offer(used.length);
    used.push({ point: l.point, pair: c.use });
  }
  const kept = new Set<number>();
  for (const r of perGroup.values()) {
    for (const i of r.items()) kept.add(i);
    leftOut.pairs += r.offered - r.items().length;
  }
  const out = new Map<string, PrefPair[]>();
  used.forEach(({ point, pair }, i) => {
    if (!kept.has(i)) return;
    let list = out.get(point);
    if (list === undefined) out.set(point, (list = []));
    list.push(pair);
  });
  return out;
}

export interface CapabilitySummaryRow {
  category: string;
  point: string;
  used: number;
  skipped: Record<SkipReason, number>;
  /** Used labels whose record, pair and point another used label already had (mixed setups). */
  repeated: number;
}

/** Per category × point: labels used and skipped by reason, sorted by category then point. */
export function capabilitySummary(labels: MergedLabel[], recordIndexById: Map<string, number>): CapabilitySummaryRow[] {
  const rows = new Map<string, CapabilitySummaryRow>();
  const seen = new Set<string>();
  for (const l of labels) {
    const rowKey = `${l.category}\u0000${l.point}`;
    let row = rows.get(rowKey);
    if (row === undefined) {
      row = { category: l.category, point: l.point, used: 0, skipped: { tie: 0, inconsistent: 0, invalid: 0, noRecord: 0, badWinner: 0 }, repeated: 0 };
      rows.set(rowKey, row);
    }
    const c = classify(l, recordIndexById);
    if ('skip' in c) {
      row.skipped[c.skip]++;
      continue;
    }
    row.used++;
    const pairKey = `${l.record}\u0000${Math.min(l.a, l.b)}\u0000${Math.max(l.a, l.b)}\u0000${l.point}`;
    if (seen.has(pairKey)) row.repeated++;
    else seen.add(pairKey);
  }
  return [...rows.values()].sort((x, y) => cmp(x.category, y.category) || cmp(x.point, y.point));
}

function cmp(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
