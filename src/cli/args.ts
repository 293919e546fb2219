import { UsageError } from './errors';

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

/** `--workers N`, 1 to MAX_WORKERS. */
export function workersFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, not "${raw}"`);
  return n;
}
