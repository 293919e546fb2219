import type { MergedLabel } from '../labelling/store';

/**
 * The disagreement explorer's core: the human preference pairs a reward model orders the other way,
 * most confident first, each with the capability labels (LLM judge, or ratings) of the same pair.
 *
 * A pair disagrees when the model does not reward the human winner strictly higher — the rule of
 * evaluate.ts, so the rows of a file are exactly its pairs minus the agreeing pairs scoreFile counts
 * (equal rewards and NaN disagree: a model that does not order a pair gets no credit for it).
 *
 * Rewards here are the heads' logits (pre-σ), as RLHF uses them: σ-squashed rewards saturate at 0/1,
 * which capped every confidence at σ(1). Confidence is the model's own Bradley–Terry probability that the
 * human loser is better, σ(r_loser − r_winner) on logits (paper eq. 7 trains exactly this probability);
 * rows are sorted by the margin r_loser − r_winner, which orders them the same way and keeps apart pairs
 * whose σ rounds to 1.
 *
 * A pair is a label-noise candidate when its consistent capability verdicts mostly side with the model:
 * of the consistent labels for the same record and response pair (any point, any source), strictly
 * more name the human loser than the human winner. Inconsistent, invalid and tied labels carry no
 * preference and are not counted.
 */

export interface ScoredRecordInput {
  /** Record number in the dataset. */
  index: number;
  /** 1-based line of the record in its file. */
  line: number;
  id: string;
  /** One reward logit (pre-σ) per response. */
  rewards: ArrayLike<number>;
  /** The router's category (dmoerm); absent for models without one. */
  category?: string;
  /** The record's own category. */
  datasetCategory: string;
  /** Non-tied human pairs (pairs.ts `humanPairs`). */
  pairs: ReadonlyArray<{ winner: number; loser: number }>;
}

export type LabelInput = Pick<MergedLabel, 'record' | 'a' | 'b' | 'point' | 'result' | 'winner'> & { source?: string };

export interface CapabilityVerdict {
  point: string;
  /** `judge` or `ratings:<source>`. */
  source: string;
  /** The response the label prefers. */
  winner: number;
  /** True when it prefers the human loser, as the model does. */
  withModel: boolean;
}

export interface DisagreementRow {
  index: number;
  line: number;
  id: string;
  routerCategory?: string;
  datasetCategory: string;
  /** The pair's responses, a < b. */
  a: number;
  b: number;
  humanWinner: number;
  humanLoser: number;
  /** The reward logits of a and b. */
  rewards: [number, number];
  /** r_loser − r_winner: ≥ 0 (0: the model does not order the pair; NaN: a reward is NaN). */
  margin: number;
  /** σ(margin) on logits: P(human loser better) by the model's own Bradley–Terry model. */
  confidence: number;
  labelNoise: boolean;
  verdicts: CapabilityVerdict[];
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export const pairKey = (id: string, a: number, b: number): string => `${id}\u0000${Math.min(a, b)}\u0000${Math.max(a, b)}`;

/** Consistent labels with a winner in their pair, by record id and unordered pair (`pairKey`). */
export function indexVerdicts(labels: readonly LabelInput[]): Map<string, Array<{ point: string; source: string; winner: number }>> {
  const out = new Map<string, Array<{ point: string; source: string; winner: number }>>();
  for (const l of labels) {
    if (l.result !== 'consistent' || l.winner === null || (l.winner !== l.a && l.winner !== l.b)) continue;
    const key = pairKey(l.record, l.a, l.b);
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push({ point: l.point, source: l.source ?? 'judge', winner: l.winner });
  }
  return out;
}

/** Largest margin first; NaN margins last; then record, then pair, so equal inputs give equal lists. */
export function compareRows(x: DisagreementRow, y: DisagreementRow): number {
  const xn = Number.isNaN(x.margin);
  const yn = Number.isNaN(y.margin);
  if (xn !== yn) return xn ? 1 : -1;
  if (!xn && x.margin !== y.margin) return y.margin - x.margin;
  return x.index - y.index || x.a - y.a || x.b - y.b;
}

export function findDisagreements(records: Iterable<ScoredRecordInput>, labels: readonly LabelInput[] = []): DisagreementRow[] {
  const verdictsByPair = indexVerdicts(labels);
  const rows: DisagreementRow[] = [];
  for (const r of records) {
    for (const { winner, loser } of r.pairs) {
      if (!modelDisagrees(r.rewards, winner, loser)) continue;
      const rw = r.rewards[winner];
      const rl = r.rewards[loser];
      const a = Math.min(winner, loser);
      const b = Math.max(winner, loser);
      const verdicts = (verdictsByPair.get(pairKey(r.id, a, b)) ?? []).map((v) => ({ ...v, withModel: v.winner === loser }));
      const margin = rl - rw;
      const row: DisagreementRow = {
        index: r.index,
        line: r.line,
        id: r.id,
        datasetCategory: r.datasetCategory,
        a,
        b,
        humanWinner: winner,
        humanLoser: loser,
        rewards: [r.rewards[a], r.rewards[b]],
        margin,
        confidence: sigmoid(margin),
        labelNoise: labelsSideWithLoser(verdicts, loser),
        verdicts,
      };
      if (r.category !== undefined) row.routerCategory = r.category;
      rows.push(row);
    }
  }
  return rows.sort(compareRows);
}

/** The model does not reward the human winner strictly higher (equal rewards and NaN disagree: evaluate.ts's rule). */
export function modelDisagrees(rewards: ArrayLike<number>, winner: number, loser: number): boolean {
  return !(rewards[winner] > rewards[loser]);
}

/**
 * The label-noise rule on its own, for a human pair whether or not a model disagrees with it: of the
 * pair's consistent capability verdicts, strictly more name the human loser than the winner.
 */
export function labelsSideWithLoser(verdicts: ReadonlyArray<{ winner: number }> | undefined, loser: number): boolean {
  if (!verdicts) return false;
  const withLoser = verdicts.filter((v) => v.winner === loser).length;
  return withLoser > verdicts.length - withLoser;
}

export interface DisagreementFilter {
  /** The record's own category. */
  category?: string;
  /** The router's category. */
  routerCategory?: string;
  labelNoiseOnly?: boolean;
}

export function filterRows(rows: readonly DisagreementRow[], f: DisagreementFilter): DisagreementRow[] {
  if (f.category === undefined && f.routerCategory === undefined && !f.labelNoiseOnly) return rows as DisagreementRow[];
  return rows.filter(
    (r) =>
      (f.category === undefined || r.datasetCategory === f.category) &&
      (f.routerCategory === undefined || r.routerCategory === f.routerCategory) &&
      (!f.labelNoiseOnly || r.labelNoise),
  );
}

/** One line of the JSONL export (docs/analysis-views.md): the row, with the human winner named as the data names responses. */
export function exportLine(row: DisagreementRow): string {
  return JSON.stringify({
    record: row.id,
    line: row.line,
    index: row.index,
    category: row.datasetCategory,
    routerCategory: row.routerCategory ?? null,
    a: row.a,
    b: row.b,
    humanWinner: row.humanWinner,
    rewards: row.rewards.map(finiteOrNull),
    margin: finiteOrNull(row.margin),
    confidence: finiteOrNull(row.confidence),
    labelNoise: row.labelNoise,
    verdicts: row.verdicts.map((v) => ({ point: v.point, source: v.source, winner: v.winner, withModel: v.withModel })),
  });
}

/** JSON has no NaN: a NaN reward is written as null rather than making the line invalid. */
function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
