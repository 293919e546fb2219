import type { Clock } from './clock';
import { realClock } from './clock';
import { JudgeError } from './provider';

/**
 * Retries with exponential backoff and full jitter (a random delay in [0, base·2^attempt], capped), so
 * that many workers that failed together do not retry together. A server's `Retry-After` wins: the
 * delay is never shorter than it asks (plus up to 10% jitter, for the same reason) — up to `maxWaitMs`:
 * a server asking for an hour (or for 99999999 s, which as a timer overflows to 1 ms and would hammer
 * it) gets the cap, and the retry event says it was capped so that the wait is not silent.
 */

export interface RetryPolicy {
  /** Tries in all, the first included. Default 6. */
  maxAttempts: number;
  /** Default 1000 ms. */
  baseDelayMs: number;
  /** Cap of the exponential delay (not of Retry-After). Default 60 s. */
  maxDelayMs: number;
  /** Cap of any one wait, Retry-After included. Default 120 s. */
  maxWaitMs: number;
}

export const DEFAULT_MAX_RETRY_WAIT_SECONDS = 120;
/** A day: far below the 2^31-1 ms at which a timer overflows. */
export const MAX_RETRY_WAIT_SECONDS_LIMIT = 86_400;

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, maxWaitMs: DEFAULT_MAX_RETRY_WAIT_SECONDS * 1000 };

export interface RetryWait {
  delayMs: number;
  /** What the server's Retry-After asked for, when that was more than the cap. */
  requestedMs?: number;
}

/** Wait before retry number `attempt` (1 = the first retry). */
export function retryWait(attempt: number, error: unknown, policy: RetryPolicy, random: () => number = Math.random): RetryWait {
  const cap = Math.min(policy.maxWaitMs, MAX_RETRY_WAIT_SECONDS_LIMIT * 1000);
  const retryAfter = error instanceof JudgeError ? error.retryAfterMs : undefined;
  if (retryAfter !== undefined) {
    if (retryAfter > cap) return { delayMs: cap, requestedMs: retryAfter };
    return { delayMs: Math.min(cap, Math.round(retryAfter * (1 + 0.1 * random()))) };
  }
  const ceiling = Math.min(policy.maxDelayMs, cap, policy.baseDelayMs * 2 ** (attempt - 1));
  return { delayMs: Math.round(random() * ceiling) };
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  clock?: Clock;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; requestedMs?: number; error: JudgeError }) => void;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  // A field given as undefined (a flag not set) keeps its default: spread, it would make every wait NaN, i.e. no backoff.
  const policy: RetryPolicy = { ...defaultRetryPolicy };
  for (const [k, v] of Object.entries(options.policy ?? {}) as [keyof RetryPolicy, number | undefined][]) if (v !== undefined) policy[k] = v;
  const clock = options.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof JudgeError) || !e.retryable || attempt >= policy.maxAttempts || options.signal?.aborted) throw e;
      const wait = retryWait(attempt, e, policy, options.random);
      options.onRetry?.({ attempt, ...wait, error: e });
      await clock.sleep(wait.delayMs, options.signal);
    }
  }
}

/** Waits at least this long are told as they start, not only counted: a silent minute looks like a hang. */
export const LONG_WAIT_MS = 10_000;

/** `retry 2 in 120 s (the server asked for 3600 s: waiting the cap, maxRetryWaitSeconds)`, or undefined for a short wait. */
export function describeLongWait(e: { attempt: number; delayMs: number; requestedMs?: number }): string | undefined {
  if (e.requestedMs === undefined && e.delayMs < LONG_WAIT_MS) return undefined;
  const s = (ms: number): string => `${Math.round(ms / 1000)} s`;
  const capped = e.requestedMs === undefined ? '' : ` (the server asked for ${s(e.requestedMs)}: waiting the cap, maxRetryWaitSeconds)`;
  return `retry ${e.attempt} in ${s(e.delayMs)}${capped}`;
}
