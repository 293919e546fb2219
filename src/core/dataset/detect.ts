import { defaultAdapterOptions } from './adapter';
import type { Adapter, AdapterOptions } from './adapter';
import { builtinAdapters } from './adapters/registry';
import { isObject, kindOf } from './adapters/values';

export interface AdapterCandidate {
  name: string;
  score: number;
}

export type DetectionResult =
  | { adapter: Adapter; score: number; candidates: AdapterCandidate[] }
  | { adapter: undefined; reason: string; candidates: AdapterCandidate[] };

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
  const counts = new Map<string, number>();
  const otherKinds = new Set<string>();
  for (const value of sample) {
    if (!isObject(value)) {
      otherKinds.add(kindOf(value));
      continue;
    }
    for (const key of Object.keys(value)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) {
    return `no adapter recognises these records: they are not JSON objects (${[...otherKinds].join(', ')}); write a mapping file (docs/mapping-file.md)`;
  }
  const fields = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([key]) => key);
  const shown = fields.length > 20 ? `${fields.slice(0, 20).join(', ')}, … ${fields.length - 20} more` : fields.join(', ');
  return `no adapter recognises these records (fields: ${shown}); write a mapping file (docs/mapping-file.md)`;
}

/** The built-in adapter called `name`, for `--format NAME`; undefined when there is none. */
export function byName(name: string, options?: Partial<AdapterOptions>): Adapter | undefined {
  return builtinAdapters(withDefaults(options)).find((adapter) => adapter.name === name);
}

export function builtinAdapterNames(): string[] {
  return builtinAdapters(defaultAdapterOptions).map((adapter) => adapter.name);
}
