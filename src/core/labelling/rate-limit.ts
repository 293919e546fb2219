import type { Clock } from './clock';
import { realClock } from './clock';

/**
 * A token bucket for per-minute limits (requests per minute, tokens per minute). It refills
 * continuously at limit/60 s and holds at most `burst` (default: ten seconds' worth), so a job does
 * not fire a whole minute's quota in its first second. Waiters are served first come, first served.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  readonly burst: number;

  constructor(
    readonly perMinute: number,
    private readonly clock: Clock = realClock,
    burst?: number,
  ) {
    if (!(perMinute > 0)) throw new RangeError('a per-minute limit must be positive');
    this.burst = burst ?? Math.max(1, perMinute / 6);
    this.tokens = this.burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }

  /**
   * Takes `n` tokens, waiting until they are there. A request larger than the burst waits for a full
   * bucket and leaves it in debt, so it is still paid for.
   */
  acquire(n: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => {
      const need = Math.min(n, this.burst);
      for (;;) {
        this.refill();
        if (this.tokens >= need) break;
        await this.clock.sleep(Math.ceil(((need - this.tokens) * 60_000) / this.perMinute), signal);
      }
      this.tokens -= n;
    });
    // A cancelled waiter must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Corrects an estimate once the real cost is known (positive: it cost more). */
  adjust(delta: number): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens - delta);
  }
}
