import type { Dataset } from '../dataset/dataset';
import type { PreferenceRecord } from '../dataset/record';
import type { PointsConfig } from './points';
import { defaultPointsConfig, pointForAspect } from './points';
import { RecordLookup } from './records';
import type { StoreContents } from './store';
import { mergedLabels } from './store';

/**
 * What a store holds, per label source × category × capability point: pairs asked (both orders
 * answered), consistent, inconsistent (position bias), invalid, ties (ratings), kept, pending (one
 * order only), the share of verdicts that picked the first position; and, with the dataset, how
 * often the kept labels agree with human labels — per aspect where people rated the same aspect,
 * and with the human overall preference (the paper's Figure 2 view).
 */

export interface Agreement {
  /** Kept labels with a non-tied human judgement to compare with. */
  n: number;
  agree: number;
  /** agree / n, or null when n = 0. */
  rate: number | null;
}

export interface ReportRow {
  /** `judge` or `ratings:<source>`. */
  source: string;
  category: string;
  point: string;
  asked: number;
  consistent: number;
  inconsistent: number;
  invalid: number;
  ties: number;
  /** Labels usable for training: consistent and not tied. */
  kept: number;
  /** Pairs with one order answered (an interrupted run). */
  pending: number;
  /** Share of valid single verdicts that named response 1 (0.5 = no position bias); null for ratings. */
  firstPosition: number | null;
  humanAspect?: Agreement;
  humanOverall?: Agreement;
}

export interface LabelReport {
  store: string;
  setups: string[];
  rows: ReportRow[];
  totals: Omit<ReportRow, 'source' | 'category' | 'point' | 'firstPosition' | 'humanAspect' | 'humanOverall'> & {
    humanAspect?: Agreement;
    humanOverall?: Agreement;
  };
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Judge classifications: category → records (null: the reply named none). */
  classified: Record<string, number>;
  /** Torn or unreadable lines the store ignored. */
  ignoredLines: number;
}

export interface ReportOptions {
  /** With it, human agreement is computed. */
  dataset?: Dataset;
  points?: PointsConfig;
  /** Source of the human ratings to compare with. Default `human`. */
  humanSource?: string;
  /** Only this setup (`model|template|lang|h0`) or ratings source (`ratings:gpt-4`). */
  setup?: string;
}

const agreement = (n = 0, agree = 0): Agreement => ({ n, agree, rate: n ? agree / n : null });

export function buildReport(c: StoreContents, options: ReportOptions = {}): LabelReport {
  const points = options.points ?? defaultPointsConfig();
  const humanSource = options.humanSource ?? 'human';
  const lookup = options.dataset ? new RecordLookup(options.dataset) : undefined;
  const rows = new Map<string, ReportRow & { first: number; valid: number }>();
  const row = (source: string, category: string, point: string): ReportRow & { first: number; valid: number } => {
    const key = `${source}\u0000${category}\u0000${point}`;
    let r = rows.get(key);
    if (!r) {
      r = {
        source,
        category,
        point,
        asked: 0,
        consistent: 0,
        inconsistent: 0,
        invalid: 0,
        ties: 0,
        kept: 0,
        pending: 0,
        firstPosition: null,
        first: 0,
        valid: 0,
      };
      if (lookup) {
        r.humanAspect = agreement();
        r.humanOverall = agreement();
      }
      rows.set(key, r);
    }
    return r;
  };
  const setups = new Set<string>();
  let calls = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  for (const call of c.calls.values()) {
    if (options.setup && call.setup !== options.setup) continue;
    setups.add(call.setup);
    calls++;
    promptTokens += call.promptTokens;
    completionTokens += call.completionTokens;
    const r = row('judge', call.category, call.point);
    if (call.verdict !== null) {
      r.valid++;
      if (call.verdict === 1) r.first++;
    }
    const other = c.calls.get(`${call.pairKey}|${call.order === 'ab' ? 'ba' : 'ab'}`);
    if (!other) r.pending++;
  }
  const classified: Record<string, number> = {};
  for (const line of c.categories.values()) {
    if (options.setup && line.setup !== options.setup) continue;
    calls++;
    promptTokens += line.promptTokens;
    completionTokens += line.completionTokens;
    const name = line.category ?? 'null';
    classified[name] = (classified[name] ?? 0) + 1;
  }
  for (const label of mergedLabels(c)) {
    if (options.setup && label.setup !== options.setup) continue;
    setups.add(label.setup);
    const r = row(label.source, label.category, label.point);
    r.asked++;
    if (label.result === 'tie') r.ties++;
    else r[label.result]++;
    if (label.result !== 'consistent' || label.winner === null) continue;
    r.kept++;
    const record = lookup?.get(label.index, label.record);
    if (!record) continue;
    const aspect = humanAspectWinner(record, label.a, label.b, label.point, humanSource, points);
    if (aspect !== undefined) {
      r.humanAspect!.n++;
      if (aspect === label.winner) r.humanAspect!.agree++;
    }
    const overall = humanOverallWinner(record, label.a, label.b);
    if (overall !== undefined) {
      r.humanOverall!.n++;
      if (overall === label.winner) r.humanOverall!.agree++;
    }
  }
  const out: ReportRow[] = [...rows.values()]
    .map(({ first, valid, ...r }) => {
      r.firstPosition = r.source === 'judge' && valid > 0 ? first / valid : null;
      if (r.humanAspect) r.humanAspect = agreement(r.humanAspect.n, r.humanAspect.agree);
      if (r.humanOverall) r.humanOverall = agreement(r.humanOverall.n, r.humanOverall.agree);
      return r;
    })
    .sort((x, y) => x.source.localeCompare(y.source) || x.category.localeCompare(y.category) || x.point.localeCompare(y.point));
  const totals: LabelReport['totals'] = { asked: 0, consistent: 0, inconsistent: 0, invalid: 0, ties: 0, kept: 0, pending: 0 };
  let ha: Agreement | undefined;
  let ho: Agreement | undefined;
  for (const r of out) {
    for (const k of ['asked', 'consistent', 'inconsistent', 'invalid', 'ties', 'kept', 'pending'] as const) totals[k] += r[k];
    if (r.humanAspect) ha = agreement((ha?.n ?? 0) + r.humanAspect.n, (ha?.agree ?? 0) + r.humanAspect.agree);
    if (r.humanOverall) ho = agreement((ho?.n ?? 0) + r.humanOverall.n, (ho?.agree ?? 0) + r.humanOverall.agree);
  }
  if (ha) totals.humanAspect = ha;
  if (ho) totals.humanOverall = ho;
  return { store: c.file, setups: [...setups].sort(), rows: out, totals, calls, promptTokens, completionTokens, classified, ignoredLines: c.ignoredLines };
}

/** Winner by the human ratings of an aspect that maps to `point`, or undefined (none, or tied). */
function humanAspectWinner(record: PreferenceRecord, a: number, b: number, point: string, source: string, points: PointsConfig): number | undefined {
  const value = (i: number): number | undefined => {
    const rs = (record.responses[i]?.ratings ?? []).filter((r) => r.source === source && pointForAspect(points, r.aspect) === point);
    return rs.length ? rs.reduce((s, r) => s + r.value, 0) / rs.length : undefined;
  };
  const va = value(a);
  const vb = value(b);
  if (va === undefined || vb === undefined || va === vb) return undefined;
  return va > vb ? a : b;
}

/** Winner by the human overall preference (ranking, else the annotators' majority), or undefined. */
function humanOverallWinner(record: PreferenceRecord, a: number, b: number): number | undefined {
  const ranking = record.preference?.ranking;
  if (ranking && ranking[a] !== undefined && ranking[b] !== undefined) {
    if (ranking[a] === ranking[b]) return undefined;
    return ranking[a] < ranking[b] ? a : b;
  }
  const votes = (record.preference?.pairs ?? []).filter((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  const forA = votes.filter((p) => p.winner === a).length;
  const forB = votes.filter((p) => p.winner === b).length;
  return forA === forB ? undefined : forA > forB ? a : b;
}
