/**
 * The canonical preference record: every supported input shape is mapped onto this, and everything
 * downstream (statistics, labelling, training, scoring) reads only this. Documented with examples in
 * docs/record-model.md; `rewardlens convert` writes one of these per line.
 */

/** A conversation turn. Roles are normalised to these three; unknown roles are a mapping problem. */
export type Role = 'system' | 'user' | 'assistant';

export interface Turn {
  role: Role;
  content: string;
}

/** A per-aspect score given to one response, tagged by who gave it (e.g. `human`, `gpt-4`). */
export interface Rating {
  aspect: string;
  value: number;
  source: string;
}

export interface Response {
  text: string;
  /** Who produced it (model name), when the data says so. */
  model?: string;
  ratings?: Rating[];
}

/**
 * One pairwise human judgement between responses `a` and `b` (indices into `responses`).
 * `winner` is the index of the preferred response, or `null` for a tie.
 */
export interface PairJudgement {
  a: number;
  b: number;
  winner: number | null;
  /** Annotator id when a record carries several annotators' verdicts. */
  annotator?: string;
}

/**
 * The human preference. `ranking[i]` is the rank of response i: 1 is best, equal ranks are ties.
 * Records whose labels are pairwise (several annotators, or a fixed list of pair verdicts) keep
 * them in `pairs`; a ranking is derived only when the pairs are consistent with one.
 */
export interface Preference {
  ranking?: number[];
  pairs?: PairJudgement[];
}

export interface PreferenceRecord {
  /** Content hash of context and responses: stable across formats and re-ordering of the file. */
  id: string;
  category?: string;
  /** The conversation up to and including the final user turn. */
  context: Turn[];
  /** Candidate responses to the final turn. */
  responses: Response[];
  preference?: Preference;
  metadata?: Record<string, unknown>;
}

/** Where a record came from in its file (1-based line of its first byte; rows for grouped records). */
export interface RecordSource {
  line: number;
  /** Extra lines that were grouped into this record (pointwise rows). */
  lines?: number[];
}

export interface Problem {
  line: number;
  reason: string;
  /** `error`: the record could not be used at all; `warning`: used, but something looks wrong. */
  severity: 'error' | 'warning';
}
