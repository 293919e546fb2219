import { majorityWinner } from '../../core/dataset/adapters/ranking';
import { humanVerdict } from '../../core/scoring/best-of-n';
import type { PairJudgement, PreferenceRecord } from '../../core/dataset/record';
import { l10n } from './l10n';

/**
 * How records read in lenses, hovers and the record browser. Pure text helpers: no `vscode`, so the
 * webviews and tests can share them.
 */

/** `[2, 1, 2]` → `#2 ≻ #1 = #3` (response numbers, best first; equal ranks are ties). */
export function formatRanking(ranking: readonly number[]): string {
  const order = ranking.map((rank, i) => ({ rank, response: i + 1 })).sort((a, b) => a.rank - b.rank || a.response - b.response);
  let out = '';
  order.forEach((r, k) => {
    if (k > 0) out += order[k - 1].rank === r.rank ? ' = ' : ' ≻ ';
    out += `#${r.response}`;
  });
  return out;
}

export interface PairVerdict {
  a: number;
  b: number;
  /** The majority verdict; `null` = tie or no majority. */
  winner: number | null;
  /** Verdicts given on this pair. */
  votes: number;
  /** Verdicts that agree with `winner`. */
  agreeing: number;
  annotators: string[];
}

/** The pair judgements grouped by pair, each with its majority verdict. */
export function pairVerdicts(pairs: readonly PairJudgement[]): PairVerdict[] {
  const byPair = new Map<string, { a: number; b: number; verdicts: (number | null)[]; annotators: string[] }>();
  for (const p of pairs) {
    const [a, b] = p.a < p.b ? [p.a, p.b] : [p.b, p.a];
    const key = `${a},${b}`;
    let entry = byPair.get(key);
    if (entry === undefined) byPair.set(key, (entry = { a, b, verdicts: [], annotators: [] }));
    entry.verdicts.push(p.winner);
    if (p.annotator !== undefined) entry.annotators.push(p.annotator);
  }
  return [...byPair.values()].map(({ a, b, verdicts, annotators }) => {
    const winner = majorityWinner(verdicts);
    return { a, b, winner, votes: verdicts.length, agreeing: verdicts.filter((v) => v === winner).length, annotators };
  });
}

/** `#2 ≻ #1`, or `#1 = #2` for a tie. */
export function formatVerdict(v: Pick<PairVerdict, 'a' | 'b' | 'winner'>): string {
  if (v.winner === null) return `#${v.a + 1} = #${v.b + 1}`;
  const loser = v.winner === v.a ? v.b : v.a;
  return `#${v.winner + 1} ≻ #${loser + 1}`;
}

function hasAnnotators(record: PreferenceRecord): boolean {
  return record.preference?.pairs?.some((p) => p.annotator !== undefined) ?? false;
}

/**
 * The human preference in a few words: `ranking #1 ≻ #2`, `majority #2 ≻ #1 (3/3 annotators)`,
 * `unlabelled`. `short` drops the labels (`#1 ≻ #2`, `#2 ≻ #1 (3/3)`) for narrow columns.
 */
export function formatPreference(record: PreferenceRecord, short = false): string {
  const pref = record.preference;
  const pairs = pref?.pairs ?? [];
  if (hasAnnotators(record)) {
    const verdicts = pairVerdicts(pairs);
    if (verdicts.length === 1) {
      const v = verdicts[0];
      if (short) return `${formatVerdict(v)} (${v.winner === null ? l10n.t('no majority') : `${v.agreeing}/${v.votes}`})`;
      return v.winner === null
        ? l10n.t('majority {0} (no majority of {1})', formatVerdict(v), v.votes)
        : l10n.t('majority {0} ({1}/{2} annotators)', formatVerdict(v), v.agreeing, v.votes);
    }
    const annotators = new Set(verdicts.flatMap((v) => v.annotators)).size;
    const order = pref?.ranking ? formatRanking(pref.ranking) : verdicts.map(formatVerdict).join(', ');
    if (short) return l10n.t('{0} ({1} annotators)', order, annotators);
    return pref?.ranking
      ? l10n.t('ranking {0} (majority of {1} annotators)', order, annotators)
      : l10n.t('{0} (majority of {1} annotators)', order, annotators);
  }
  if (pref?.ranking) return short ? formatRanking(pref.ranking) : l10n.t('ranking {0}', formatRanking(pref.ranking));
  if (pairs.length > 0)
    return short ? pairVerdicts(pairs).map(formatVerdict).join(', ') : l10n.t('pairs {0}', pairVerdicts(pairs).map(formatVerdict).join(', '));
  return l10n.t('unlabelled');
}

/** Verdicts a lens lists one by one; more would push the score lens beside it off the screen. */
const LENS_PAIRS = 3;

/**
 * The CodeLens title of a record: `harmless-base · 2 responses · ranking #1 ≻ #2`; a record with many
 * pairwise verdicts and no ranking says how many and who is best (`6 pairs, best #1`; the hover lists them).
 */
export function lensTitle(record: PreferenceRecord): string {
  const n = record.responses.length;
  const pairs = record.preference?.pairs ?? [];
  let preference = formatPreference(record);
  if (!record.preference?.ranking && !hasAnnotators(record) && pairs.length > LENS_PAIRS) {
    const best = humanVerdict(record).best;
    preference =
      best.length > 0
        ? l10n.t('{0} pairs, best {1}', pairs.length, best.map((i) => `#${i + 1}`).join(' = '))
        : l10n.t('{0} pairs, no best (a cycle)', pairs.length);
  }
  return [record.category ?? l10n.t('no category'), n === 1 ? l10n.t('1 response') : l10n.t('{0} responses', n), preference].join(' · ');
}

/** The last user turn: what the responses answer. */
export function promptOf(record: PreferenceRecord): string {
  for (let i = record.context.length - 1; i >= 0; i--) if (record.context[i].role === 'user') return record.context[i].content;
  return record.context[record.context.length - 1]?.content ?? '';
}

/** The first user turn: how a conversation starts (the list's snippet). */
export function firstUserTurn(record: PreferenceRecord): string {
  return record.context.find((t) => t.role === 'user')?.content ?? '';
}

/** One line of at most `max` characters: whitespace runs collapsed, an ellipsis when cut. */
export function snippet(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** `1 ⇒ best`, `2 of 3`. */
export function describeRank(rank: number, ranking: readonly number[]): string {
  const best = Math.min(...ranking);
  const worst = Math.max(...ranking);
  const tied = ranking.filter((r) => r === rank).length > 1;
  const label = rank === best ? l10n.t('best') : rank === worst ? l10n.t('worst') : l10n.t('rank {0}', rank);
  return tied ? l10n.t('{0} (tied)', label) : label;
}

/**
 * A response's heading in the hover, with the human rank the score table above it shows (humanVerdict:
 * the ranking, or ranks from pairs when the record has only pairs): `Response 2 · human rank 1 — best`.
 */
export function responseHeading(record: PreferenceRecord, i: number): string {
  const rank = humanVerdict(record).ranks[i];
  const ranking = record.preference?.ranking;
  const parts = [`**${l10n.t('Response {0}', i + 1)}**`];
  if (rank === undefined) parts.push(l10n.t('no human rank'));
  else parts.push(ranking !== undefined ? `${l10n.t('human rank {0}', rank)} — ${describeRank(rank, ranking)}` : l10n.t('human rank {0} (from pairs)', rank));
  return parts.join(' · ');
}

/** Preview length of a response in the hover: short for the others once there are many, so five fit without scrolling. */
export function responsePreviewChars(responses: number, underCursor: boolean): number {
  if (underCursor) return 560;
  return responses > 3 ? 100 : 280;
}
