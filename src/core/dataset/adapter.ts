import type { PreferenceRecord } from './record';

/** A record as an adapter produces it: the id is computed centrally from the content. */
export type MappedRecord = Omit<PreferenceRecord, 'id'>;

/** One pointwise row (a single response) before it is grouped with the other rows of its prompt. */
export interface MappedRow {
  record: MappedRecord;
  /** The row's overall score (higher is better), from which the group's ranking is derived. */
  score?: number;
}

export type MapResult<T = MappedRecord> = { ok: true; value: T; warnings?: string[] } | { ok: false; reason: string };

export interface AdapterOptions {
  /**
   * How to read explicit numeric ranks (DMoERM's `rank[]`, mapping files with `ranks`). The DMoERM
   * reference code trains with lower = better but evaluates with higher = better; we never guess.
   */
  rankDirection: 'lower-is-better' | 'higher-is-better';
}

export const defaultAdapterOptions: AdapterOptions = { rankDirection: 'lower-is-better' };

/** Maps one parsed JSON value (a line of JSONL or an element of a JSON array) onto the record model. */
export interface RecordAdapter {
  /** Stable short name reported by `index` (`format`), e.g. `chosen-rejected`. */
  readonly name: string;
  readonly description: string;
  /**
   * How well a sample of parsed values fits this adapter: the share of values it recognises, 0..1.
   * Detection picks the highest score; ties go to the earlier adapter in the registry.
   */
  detect(sample: readonly unknown[]): number;
  map(value: unknown): MapResult;
}

/**
 * Pointwise data: one response per row, grouped into records by a key (prompt/question id).
 * Rows of one group need not be adjacent in the file.
 */
export interface GroupedAdapter {
  readonly name: string;
  readonly description: string;
  detect(sample: readonly unknown[]): number;
  groupKey(value: unknown): MapResult<string>;
  mapRow(value: unknown): MapResult<MappedRow>;
  /** Builds the record of one group from its rows, in file order. */
  mergeGroup(rows: readonly MappedRow[]): MapResult;
}

export type Adapter = RecordAdapter | GroupedAdapter;

export function isGrouped(adapter: Adapter): adapter is GroupedAdapter {
  return 'groupKey' in adapter;
}
