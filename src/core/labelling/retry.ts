import type { Clock } from './clock';
import { realClock } from './clock';
import { JudgeError } from './provider';

/**
 * Retries with exponential backoff and full jitter (a random delay in [0, base·2^attempt], capped), so
 * that many workers that failed together do not retry together. A server's `Retry-After` wins: the
 * delay is never shorter than it asks (plus up to 10% jitter, for the same reason).
 */

export interface RetryPolicy {
  /** Tries in all, the first included. Default 6. */
  maxAttempts: number;
  /** Default 1000 ms. */
  baseDelayMs: number;
  /** Cap of the exponential delay (not of Retry-After). Default 60 s. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** Delay before retry number `attempt` (1 = the first retry). */
export function retryDelay(attempt: number, error: unknown, policy: RetryPolicy, random: () => number = Math.random): number {
  const retryAfter = error instanceof JudgeError ? error.retryAfterMs : undefined;
  if (retryAfter !== undefined) return Math.round(retryAfter * (1 + 0.1 * random()));
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  clock?: Clock;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: JudgeError }) => void;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { ...defaultRetryPolicy, ...options.policy };
  const clock = options.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof JudgeError) || !e.retryable || attempt >= policy.maxAttempts || options.signal?.aborted) throw e;
      const delayMs = retryDelay(attempt, e, policy, options.random);
      options.onRetry?.({ attempt, delayMs, error: e });
      await clock.sleep(delayMs, options.signal);
    }
  }
}
