/**
 * Concurrent requests scored together: a session run costs about the same for 1 and for 16 short
 * sequences on a CPU, so requests that arrive within a short window share one run. Each request's records
 * stay together and come back to it alone (results are sliced by position, never matched by content).
 */

/** The queue holds as many queries as it may; the request is answered 503 with Retry-After. */
export class QueueFullError extends Error {}

export interface BatcherOptions {
  /** Queries per run; a request larger than this runs alone. */
  maxBatch: number;
  /** Queries waiting (not yet running) at most. */
  maxQueue: number;
  /** How long the first waiting request waits for others before its run starts. */
  windowMs: number;
}

interface Job<T, R> {
  items: T[];
  signal?: AbortSignal;
  resolve: (r: R[]) => void;
  reject: (e: unknown) => void;
}

export class Batcher<T, R> {
  private queue: Array<Job<T, R>> = [];
  private waiting = 0;
  private running = false;
  private timer?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];
  /** Session runs so far, and the queries of each (tests read them). */
  readonly runSizes: number[] = [];

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** Queries waiting for a run. */
  get pending(): number {
    return this.waiting;
  }

  submit(items: T[], signal?: AbortSignal): Promise<R[]> {
    if (this.waiting + items.length > this.options.maxQueue)
      return Promise.reject(new QueueFullError(`the queue is full (${this.waiting} queries waiting, at most ${this.options.maxQueue})`));
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, signal, resolve, reject });
      this.waiting += items.length;
      this.schedule();
    });
  }

  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    if (this.waiting >= this.options.maxBatch || this.options.windowMs <= 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.windowMs);
  }

  private async flush(): Promise<void> {
    this.running = true;
    const jobs: Array<Job<T, R>> = [];
    let n = 0;
    while (this.queue.length > 0 && (jobs.length === 0 || n + this.queue[0].items.length <= this.options.maxBatch)) {
      const job = this.queue.shift()!;
      this.waiting -= job.items.length;
      // A client that went away before its run costs nothing more.
      if (job.signal?.aborted) {
        job.reject(job.signal.reason);
        continue;
      }
      jobs.push(job);
      n += job.items.length;
    }
    if (jobs.length > 0) {
      try {
        const results = await this.run(jobs.flatMap((j) => j.items));
        this.runSizes.push(n);
        let at = 0;
        for (const j of jobs) {
          j.resolve(results.slice(at, at + j.items.length));
          at += j.items.length;
        }
      } catch (e) {
        for (const j of jobs) j.reject(e);
      }
    }
    this.running = false;
    if (this.queue.length > 0) this.schedule();
    else for (const w of this.idleWaiters.splice(0)) w();
  }
}
