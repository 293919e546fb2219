import type { MappedRecord, MappedRow, MapResult } from '../adapter';
import type { Response, Turn } from '../record';
import { denseRanks } from './ranking';
import { done, fail } from './values';

/**
 * Merges the pointwise rows of one group (one response each) into a record. The context and
 * category come from the first row (with a warning when rows disagree); the ranking orders the
 * rows by score, higher is better, equal scores tie. Metadata equal on every row stays as it is;
 * metadata that differs between rows moves to `metadata.perResponse[key]`, one entry per response.
 */
export function mergeRows(rows: readonly MappedRow[]): MapResult {
  if (rows.length === 0) return fail('the group has no rows');
  const warnings: string[] = [];
  const first = rows[0].record;
  const contextKey = contextFingerprint(first.context);
  const disagreeing = rows.findIndex((row) => contextFingerprint(row.record.context) !== contextKey);
  if (disagreeing >= 0) warnings.push(`row ${disagreeing + 1} of the group has a different context; using the first row's`);
  const categories = new Set(rows.map((row) => row.record.category).filter((c) => c !== undefined));
  if (categories.size > 1) warnings.push(`the rows disagree on the category (${[...categories].join(', ')}); using the first row's`);

  const responses: Response[] = rows.flatMap((row) => row.record.responses);
  const record: MappedRecord = { context: first.context, responses };
  const category = first.category ?? rows.find((row) => row.record.category !== undefined)?.record.category;
  if (category !== undefined) record.category = category;

  const scores = rows.map((row) => row.score);
  if (scores.every((s): s is number => s !== undefined)) {
    if (rows.length > 1) record.preference = { ranking: denseRanks(scores, 'higher') };
  } else if (scores.some((s) => s !== undefined)) {
    warnings.push(`${scores.filter((s) => s === undefined).length} of ${rows.length} rows have no score; no ranking`);
  }

  const metadata = mergeMetadata(rows.map((row) => row.record.metadata ?? {}));
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}

/**
 * Contexts compared without whitespace: copies of one question often differ only in a stray line
 * break (llmeval2 has "干\n涉" beside "干涉"), which is not worth a warning.
 */
function contextFingerprint(context: readonly Turn[]): string {
  return JSON.stringify(context.map((turn) => [turn.role, turn.content.replace(/\s+/g, '')]));
}

function mergeMetadata(all: readonly Record<string, unknown>[]): Record<string, unknown> | undefined {
  const keys = new Set(all.flatMap((m) => Object.keys(m)));
  const shared: Record<string, unknown> = {};
  const perResponse: Record<string, unknown[]> = {};
  for (const key of keys) {
    const first = JSON.stringify(all[0][key]);
    if (all.every((m) => JSON.stringify(m[key]) === first)) shared[key] = all[0][key];
    else perResponse[key] = all.map((m) => m[key] ?? null);
  }
  if (Object.keys(perResponse).length > 0) shared.perResponse = perResponse;
  return Object.keys(shared).length > 0 ? shared : undefined;
}
