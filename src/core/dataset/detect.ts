import { defaultAdapterOptions } from './adapter';
import type { Adapter, AdapterOptions, GroupedAdapter } from './adapter';
import { isGrouped } from './adapter';
import { builtinAdapters } from './adapters/registry';
import { isObject, kindOf } from './adapters/values';
import { DatasetFileError } from './dataset-error';
import { objectReason, recordsPath } from './file-shape';

export interface AdapterCandidate {
  name: string;
  score: number;
}

export type DetectionResult =
  { adapter: Adapter; score: number; candidates: AdapterCandidate[] } | { adapter: undefined; reason: string; candidates: AdapterCandidate[] };

/**
 * Below this share of recognised values no adapter is chosen: a file where most records fit no
 * shape should be described by a mapping file rather than half-imported.
 */
export const minimumDetectionScore = 0.5;

function withDefaults(options?: Partial<AdapterOptions>): AdapterOptions {
  return { ...defaultAdapterOptions, ...options };
}

/**
 * Picks the built-in adapter that recognises the largest share of the sample; ties go to the
 * earlier adapter of the registry. `candidates` lists every adapter's score, best first.
 */
export function detectAdapter(sample: readonly unknown[], options?: Partial<AdapterOptions>): DetectionResult {
  const adapters = builtinAdapters(withDefaults(options));
  const scored = adapters.map((adapter, order) => ({ adapter, order, score: adapter.detect(sample) }));
  const ranked = [...scored].sort((a, b) => b.score - a.score || a.order - b.order);
  const candidates = ranked.map(({ adapter, score }) => ({ name: adapter.name, score }));
  const best = ranked[0];
  if (sample.length === 0) return { adapter: undefined, reason: 'no records to detect the format from', candidates };
  if (best !== undefined && best.score >= minimumDetectionScore) return { adapter: best.adapter, score: best.score, candidates };
  return { adapter: undefined, reason: noAdapterReason(sample), candidates };
}

/** Names the fields the sample has, most common first, so the user can write a mapping file. */
function noAdapterReason(sample: readonly unknown[]): string {
  const fields = fieldsSeen(sample);
  if (fields === undefined) {
    const kinds = new Set(sample.map((value) => kindOf(value)));
    return `no adapter recognises these records: they are not JSON objects (${[...kinds].join(', ')}); write a mapping file (docs/mapping-file.md)`;
  }
  return `no adapter recognises these records (fields: ${fields}); write a mapping file (docs/mapping-file.md)`;
}

/** The objects' field names, most common first and at most 20 shown; undefined when no value is an object. */
function fieldsSeen(sample: readonly unknown[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of sample) {
    if (!isObject(value)) continue;
    for (const key of Object.keys(value)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return undefined;
  const fields = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([key]) => key);
  return fields.length > 20 ? `${fields.slice(0, 20).join(', ')}, … ${fields.length - 20} more` : fields.join(', ');
}

/**
 * The name of the detected adapter that maps at least one sampled value. A shape recognised by its
 * fields can still fail on every record (labels in another encoding, lists where strings were
 * expected): then the next adapter that recognises the sample is tried, and when none maps a value
 * the file is refused with its fields and the first failure, rather than indexed as 100% malformed.
 * Throws DatasetFileError naming `fileName`.
 */
export function detectUsableAdapter(
  sample: readonly { value: unknown; line: number }[],
  options: Partial<AdapterOptions> | undefined,
  fileName: string,
): string {
  const values = sample.map((s) => s.value);
  const detected = detectAdapter(values, options);
  if (detected.adapter === undefined) {
    // One value that is a whole object holding the records (`{"data": [...]}` on one line).
    const single = values.length === 1 && recordsPath(values[0]) !== undefined;
    throw new DatasetFileError(fileName, single ? objectReason(values[0]) : detected.reason);
  }
  let firstFailure: { adapter: string; line: number; reason: string } | undefined;
  for (const candidate of detected.candidates) {
    if (candidate.score < minimumDetectionScore) break;
    const adapter = byName(candidate.name, options)!;
    const failure = failureIfNoneMaps(adapter, sample);
    if (failure === undefined) return adapter.name;
    firstFailure ??= { adapter: adapter.name, ...failure };
  }
  const { adapter, line, reason } = firstFailure!;
  throw new DatasetFileError(
    fileName,
    `none of the first ${sample.length} records can be read as ${adapter} (fields: ${fieldsSeen(values) ?? 'none'}); line ${line}: ${reason}; write a mapping file (docs/mapping-file.md)`,
  );
}

/** The first sampled value's failure when no value maps onto a record; undefined when one does. */
function failureIfNoneMaps(adapter: Adapter, sample: readonly { value: unknown; line: number }[]): { line: number; reason: string } | undefined {
  let first: { line: number; reason: string } | undefined;
  for (const { value, line } of sample) {
    const result = isGrouped(adapter) ? mapsAsRow(adapter, value) : adapter.map(value);
    if (result.ok) return undefined;
    first ??= { line, reason: result.reason };
  }
  return first;
}

function mapsAsRow(adapter: GroupedAdapter, value: unknown): { ok: true } | { ok: false; reason: string } {
  const key = adapter.groupKey(value);
  return key.ok ? adapter.mapRow(value) : key;
}

/** The built-in adapter called `name`, for `--format NAME`; undefined when there is none. */
export function byName(name: string, options?: Partial<AdapterOptions>): Adapter | undefined {
  return builtinAdapters(withDefaults(options)).find((adapter) => adapter.name === name);
}

export function builtinAdapterNames(): string[] {
  return builtinAdapters(defaultAdapterOptions).map((adapter) => adapter.name);
}
