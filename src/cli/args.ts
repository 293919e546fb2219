import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import type { IndexOptions } from '../core/dataset/dataset';
import { UsageError } from './errors';

// Flags several commands share, declared once: the same spelling, type and default everywhere.

/** Flags that take a value, by name: `--out FILE`, `--seed N`. */
export function stringFlags<K extends string>(...names: K[]): { [name in K]: { type: 'string' } } {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as { [name in K]: { type: 'string' } };
}

/** `--help`, `-h`: every command's. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** `--json` (machine-readable stdout) and `--help`: all but `serve` take both. */
export const COMMON_FLAGS = { json: { type: 'boolean', default: false }, ...HELP_FLAG } as const;

/** `--quiet`: no progress on stderr. */
export const QUIET_FLAG = { quiet: { type: 'boolean', short: 'q', default: false } } as const;

/** `--no-edits`: the dataset as it is on disk, without its curation edits. */
export const NO_EDITS_FLAG = { 'no-edits': { type: 'boolean', default: false } } as const;

/** How a dataset file is read: `--schema FILE`, `--adapter NAME`. */
export const DATASET_FLAGS = stringFlags('schema', 'adapter');

/** How a dataset is indexed: its reading flags, `--rank-direction` and `--workers`. */
export const INDEX_FLAGS = { ...DATASET_FLAGS, ...stringFlags('rank-direction', 'workers') };

/** The index options that INDEX_FLAGS' values give. */
export function indexOptionsOf(values: { schema?: string; adapter?: string; 'rank-direction'?: string; workers?: string }): IndexOptions {
  const direction = values['rank-direction'];
  if (direction !== undefined && direction !== 'lower-is-better' && direction !== 'higher-is-better') {
    throw new UsageError(`--rank-direction must be lower-is-better or higher-is-better, not "${direction}"`);
  }
  return {
    schemaFile: values.schema,
    adapter: values.adapter,
    adapterOptions: direction ? { rankDirection: direction } : undefined,
    workers: workersFlag(values.workers),
  };
}

/** Scan threads: more than this only costs memory (each holds its own buffers) and start-up time. */
export const MAX_WORKERS = 64;

/**
 * `argv` with `--flag -1` written as `--flag=-1` for string flags: parseArgs takes a value starting
 * with '-' for another flag and calls it ambiguous, where the user meant a (wrong) number and should
 * hear the flag's range instead.
 */
export function negativeValuesJoined(argv: readonly string[], options: Readonly<Record<string, { type: 'string' | 'boolean' }>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d|Infinity|NaN)/.test(argv[i + 1])) {
      out.push(`${a}=${argv[++i]}`);
    } else out.push(a);
  }
  return out;
}

/**
 * A command's flags and positionals (files); a negative number after a flag is that flag's value. A flag
 * that takes one value and is given twice is refused: the last one would win, hiding a mistake in the first.
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  const parsed = parseArgs({ args: negativeValuesJoined(argv, options), allowPositionals: true, options, tokens: true });
  const seen = new Map<string, string | undefined>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || options[t.name]?.type !== 'string' || options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice ("${seen.get(t.name)}", then "${t.value}"): give it once`);
    seen.set(t.name, t.value);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** `--workers N`, 1 to MAX_WORKERS. */
export function workersFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, not "${raw}"`);
  return n;
}
