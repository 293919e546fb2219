import type { MapResult } from '../adapter';

/** Helpers shared by the adapters for reading untyped JSON without ever throwing. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON type of a value as a reason phrase reads it: `a boolean`, `an array`, `missing`. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

export function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** Success, omitting `warnings` when there are none so results compare cleanly in tests. */
export function done<T>(value: T, warnings: readonly string[] = []): MapResult<T> {
  return warnings.length > 0 ? { ok: true, value, warnings: [...warnings] } : { ok: true, value };
}

export function has(obj: JsonObject, key: string): boolean {
  return obj[key] !== undefined;
}

export function firstPresent(obj: JsonObject, keys: readonly string[]): string | undefined {
  return keys.find((key) => obj[key] !== undefined);
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Why `value` at `where` is not a usable number; JSON like `1e309` parses to Infinity, which no score or rank may be. */
export function notANumber(value: unknown, where: string): string {
  if (typeof value === 'number') return `${where} is out of range: a number beyond ±1.8e308 (like 1e309) cannot be represented`;
  return `${where} is ${kindOf(value)}, not a number`;
}

/** Detection score: the share of sample values the predicate recognises (0 for an empty sample). */
export function shareOf(sample: readonly unknown[], recognises: (value: unknown) => boolean): number {
  if (sample.length === 0) return 0;
  let hits = 0;
  for (const value of sample) {
    try {
      if (recognises(value)) hits++;
    } catch {
      // A predicate that trips over a bizarre value simply does not recognise it.
    }
  }
  return hits / sample.length;
}

/**
 * Fields an adapter did not read, kept as metadata so that converting is lossless
 * (e.g. PandaLM's `idx` and `cmp_key`, FineGrained's `passages` and `feedback`).
 */
export function leftoverFields(obj: JsonObject, consumed: ReadonlySet<string>): Record<string, unknown> | undefined {
  // Keys, not entries, and no object until a field is left: runs for every record (~6% of mapping an HH one).
  let rest: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (consumed.has(key) || value === undefined) continue;
    (rest ??= {})[key] = value;
  }
  return rest;
}

/** JSON-quoted field name for reasons, so `response 1` and `response_1` read unambiguously. */
export function q(name: string): string {
  return JSON.stringify(name);
}
