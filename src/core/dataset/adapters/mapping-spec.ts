import type { Role } from '../record';
import type { FieldPath } from './field-path';

/**
 * A compiled mapping file (docs/mapping-file.md): every path parsed, every name checked. Built by
 * `compileMapping` in ../mapping.ts and run by `mappedAdapter` in ./mapped.ts.
 */
export interface MappingSpec {
  name: string;
  /** Set for pointwise data: one response per row, rows grouped into records by this key. */
  groupBy?: FieldPath;
  system?: FieldPath;
  prompt: PromptSpec;
  /** Record mode: the responses of one record. */
  responses?: ResponsesSpec;
  /** Grouped mode: the one response of a row. */
  response?: RowResponseSpec;
  ranking?: RankingSpec;
  ratings: RatingSpec[];
  category?: CategorySpec;
  metadata: MetadataSpec[];
}

export type PromptSpec =
  { kind: 'text'; paths: FieldPath[] } | { kind: 'messages'; path: FieldPath; role: string; content: string; roles: Readonly<Record<string, Role>> };

export type ResponsesSpec = { kind: 'paths'; paths: FieldPath[] } | { kind: 'list'; path: FieldPath; text?: FieldPath; model?: FieldPath };

export interface RowResponseSpec {
  text: FieldPath;
  model?: FieldPath;
}

export type Aggregate = 'sum' | 'mean';

export type RankingSpec =
  | { kind: 'scores'; path: FieldPath; aggregate?: Aggregate }
  | { kind: 'ranks'; path: FieldPath; direction: 'lower-is-better' | 'higher-is-better' }
  /** `values` maps a label (as a string) to the 1-based number of the winning response or `tie`. */
  | { kind: 'label'; path: FieldPath; values: Readonly<Record<string, number | 'tie'>> }
  /** Record mode: the responses are listed best first (`[1, 2, …, n]`). */
  | { kind: 'order'; order: 'best-first' };

export interface RatingSpec {
  path: FieldPath;
  source: string;
  /** Set when the path holds one number rather than an `{aspect: number}` object. */
  aspect?: string;
}

export interface CategorySpec {
  path: FieldPath;
  values?: Readonly<Record<string, string>>;
}

export interface MetadataSpec {
  name: string;
  path: FieldPath;
  /** Keeps the first capture group (or the whole match) of this pattern applied to a string value. */
  match?: RegExp;
}
