import type { MappedRecord } from './adapter';
import type { PiiKind } from './pii';
import type { Preference } from './record';

/**
 * Dataset statistics in a form that parallel scans can merge: plain counters and maps, no
 * per-record arrays. Duplicate detection needs hashes and lives in the indexer.
 */

export const UNCATEGORISED = '(none)';

export interface CategoryStats {
  count: number;
  /** Sum of conversation rounds (user turns) of the category's records. */
  turns: number;
}

export interface StatsPartial {
  records: number;
  categories: Record<string, CategoryStats>;
  turns: number;
  responsesMin: number;
  responsesMax: number;
  responsesSum: number;
  /** Non-tied human preference pairs (what pairwise reward-model training can use). */
  preferencePairs: number;
  tiedPairs: number;
  /** Records with no human preference at all (to be labelled). */
  unlabelled: number;
  ratingSources: Record<string, number>;
  pii: Record<PiiKind, number>;
  /** First lines with PII, for a curator to look at. */
  piiLines: { line: number; kinds: PiiKind[] }[];
}

export const MAX_PII_LINES = 100;

export function emptyStats(): StatsPartial {
  return {
    records: 0,
    categories: {},
    turns: 0,
    responsesMin: Infinity,
    responsesMax: 0,
    responsesSum: 0,
    preferencePairs: 0,
    tiedPairs: 0,
    unlabelled: 0,
    ratingSources: {},
    pii: { email: 0, phone: 0, idCard: 0 },
    piiLines: [],
  };
}

/** Number of conversation rounds: user turns in the context. */
export function roundsOf(record: MappedRecord): number {
  let n = 0;
  for (const t of record.context) if (t.role === 'user') n++;
  return n;
}

/**
 * The human verdict for every pair of responses: from the ranking when there is one, otherwise the
 * majority of the pair judgements (no majority = tie). Returns [non-tied, tied] pair counts.
 */
export function countPreferencePairs(preference: Preference | undefined, responses: number): [number, number] {
  if (preference === undefined) return [0, 0];
  const { ranking, pairs } = preference;
  let decided = 0;
  let tied = 0;
  if (ranking !== undefined) {
    for (let i = 0; i < ranking.length; i++)
      for (let j = i + 1; j < ranking.length; j++) {
        if (ranking[i] === ranking[j]) tied++;
        else decided++;
      }
    return [decided, tied];
  }
  if (pairs === undefined) return [0, 0];
  const votes = new Map<number, number>(); // key a*n+b (a<b) → votes for a minus votes for b
  for (const p of pairs) {
    const [a, b] = p.a < p.b ? [p.a, p.b] : [p.b, p.a];
    const key = a * responses + b;
    const delta = p.winner === null ? 0 : p.winner === a ? 1 : -1;
    votes.set(key, (votes.get(key) ?? 0) + delta);
  }
  for (const v of votes.values()) {
    if (v === 0) tied++;
    else decided++;
  }
  return [decided, tied];
}

export function addRecord(stats: StatsPartial, record: MappedRecord, line: number, pii: PiiKind[]): void {
  stats.records++;
  const rounds = roundsOf(record);
  stats.turns += rounds;
  const category = record.category ?? UNCATEGORISED;
  const c = (stats.categories[category] ??= { count: 0, turns: 0 });
  c.count++;
  c.turns += rounds;
  const n = record.responses.length;
  if (n < stats.responsesMin) stats.responsesMin = n;
  if (n > stats.responsesMax) stats.responsesMax = n;
  stats.responsesSum += n;
  const [decided, tied] = countPreferencePairs(record.preference, n);
  stats.preferencePairs += decided;
  stats.tiedPairs += tied;
  if (record.preference === undefined || (record.preference.ranking === undefined && (record.preference.pairs?.length ?? 0) === 0)) stats.unlabelled++;
  for (const r of record.responses) for (const rating of r.ratings ?? []) stats.ratingSources[rating.source] = (stats.ratingSources[rating.source] ?? 0) + 1;
  if (pii.length > 0) {
    for (const k of pii) stats.pii[k]++;
    if (stats.piiLines.length < MAX_PII_LINES) stats.piiLines.push({ line, kinds: pii });
  }
}

export function mergeStats(into: StatsPartial, other: StatsPartial): StatsPartial {
  into.records += other.records;
  into.turns += other.turns;
  for (const [name, c] of Object.entries(other.categories)) {
    const t = (into.categories[name] ??= { count: 0, turns: 0 });
    t.count += c.count;
    t.turns += c.turns;
  }
  into.responsesMin = Math.min(into.responsesMin, other.responsesMin);
  into.responsesMax = Math.max(into.responsesMax, other.responsesMax);
  into.responsesSum += other.responsesSum;
  into.preferencePairs += other.preferencePairs;
  into.tiedPairs += other.tiedPairs;
  into.unlabelled += other.unlabelled;
  for (const [s, n] of Object.entries(other.ratingSources)) into.ratingSources[s] = (into.ratingSources[s] ?? 0) + n;
  for (const k of Object.keys(other.pii) as PiiKind[]) into.pii[k] += other.pii[k];
  into.piiLines.push(...other.piiLines.slice(0, Math.max(0, MAX_PII_LINES - into.piiLines.length)));
  return into;
}

/** Lines of `other` shifted by `offset` (parallel scans number lines from their range start). */
export function shiftLines(stats: StatsPartial, offset: number): void {
  for (const p of stats.piiLines) p.line += offset;
}
