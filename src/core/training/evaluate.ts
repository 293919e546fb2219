import type { EvalResult, Method } from './types';
import { pct } from './format';
import type { PrefPair } from './pairs';
import type { ReferenceResult } from './references';

/**
 * Agreement with human preferences (paper Table 3): the share of non-tied human pairs whose winner
 * the model rewards strictly higher than the loser, overall and per category.
 */

export const UNCATEGORISED = 'uncategorised';

export interface EvalRecord {
  category?: string;
  pairs: PrefPair[];
}

export type Agreement = Omit<EvalResult, 'method'>;

/**
 * The counting shared by models and reference judges. Equal rewards count as disagreement: a model
 * that scores everything alike (untrained, collapsed, or saturated) must not get credit for pairs it
 * does not order; counting ties as half or dropping them would flatter exactly those models. A NaN
 * reward compares false and so disagrees too. `judged(pair)` false leaves a pair out altogether
 * (reference judges that have no opinion on it, e.g. unrated responses); it is counted in `unjudged`.
 */
export function countAgreement(
  records: ReadonlyArray<EvalRecord>,
  rewards: (recordPos: number) => ArrayLike<number>,
  judged?: (r: ArrayLike<number>, pair: PrefPair) => boolean,
): Agreement & { unjudged: number } {
  const tally = new Map<string, { agree: number; pairs: number }>();
  let agree = 0;
  let pairs = 0;
  let unjudged = 0;
  records.forEach((rec, pos) => {
    const category = rec.category ?? UNCATEGORISED;
    let t = tally.get(category);
    if (t === undefined) tally.set(category, (t = { agree: 0, pairs: 0 }));
    if (rec.pairs.length === 0) return;
    const r = rewards(pos);
    for (const p of rec.pairs) {
      if (judged !== undefined && !judged(r, p)) {
        unjudged++;
        continue;
      }
      t.pairs++;
      pairs++;
      if (r[p.winner] > r[p.loser]) {
        t.agree++;
        agree++;
      }
    }
  });
  const byCategory: EvalResult['byCategory'] = {};
  for (const category of [...tally.keys()].sort(compareCategories)) {
    const t = tally.get(category)!;
    byCategory[category] = { accuracy: t.pairs === 0 ? null : t.agree / t.pairs, pairs: t.pairs };
  }
  return { overall: pairs === 0 ? null : agree / pairs, pairs, byCategory, unjudged };
}

/** `rewards(i)`: the model's reward for each response of `records[i]` (asked only for records with pairs). */
export function agreement(method: Method, records: ReadonlyArray<EvalRecord>, rewards: (recordPos: number) => ArrayLike<number>): EvalResult {
  const { overall, pairs, byCategory } = countAgreement(records, rewards);
  return { method, overall, pairs, byCategory };
}

/** Alphabetical, with `uncategorised` last. */
function compareCategories(x: string, y: string): number {
  if (x === y) return 0;
  if (x === UNCATEGORISED) return 1;
  if (y === UNCATEGORISED) return -1;
  return x < y ? -1 : 1;
}

/**
 * Plain-text table for the CLI: one row per method or reference judge, columns overall and each
 * category; a last row gives the pairs behind each column. Where rows were measured on different
 * numbers of pairs in a column (a reference judge that skipped unrated responses), each cell of that
 * column carries its own count.
 */
export function formatEvalTable(results: ReadonlyArray<EvalResult | ReferenceResult>): string {
  if (results.length === 0) return '(no evaluation results)';
  const categories = [...new Set(results.flatMap((r) => Object.keys(r.byCategory)))].sort(compareCategories);
  const columns: Array<{ title: string; cell: (r: EvalResult | ReferenceResult) => { accuracy: number | null; pairs: number } }> = [
    { title: 'overall', cell: (r) => ({ accuracy: r.overall, pairs: r.pairs }) },
    ...categories.map((c) => ({ title: c, cell: (r: EvalResult | ReferenceResult) => r.byCategory[c] ?? { accuracy: null, pairs: 0 } })),
  ];
  const header = ['method', ...columns.map((c) => c.title)];
  const rows = results.map((r) => ['method' in r ? r.method : r.judge]);
  const pairsRow = ['pairs'];
  for (const col of columns) {
    const cells = results.map(col.cell);
    const same = cells.every((c) => c.pairs === cells[0].pairs);
    cells.forEach((c, i) => rows[i].push(same ? pct(c.accuracy, '—') : `${pct(c.accuracy, '—')} (${c.pairs})`));
    pairsRow.push(same ? String(cells[0].pairs) : 'varies');
  }
  const table = [header, ...rows, pairsRow];
  const widths = header.map((_, k) => Math.max(...table.map((row) => row[k].length)));
  const line = (row: string[]): string =>
    row
      .map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line), rule, line(pairsRow)].join('\n');
}
