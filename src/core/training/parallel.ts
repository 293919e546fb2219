/**
 * One set of data-parallel gradient threads (src/core/model/data-parallel.ts) for a whole run: started when
 * the first token-level component trains, loaded with each component's network in turn, closed when the
 * recipe ends however it ends (finished, cancelled, failed).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RewardParts } from '../model/data-parallel';
import { DataParallel } from '../model/data-parallel';

/**
 * The script the worker threads run: $REWARDLENS_GRADIENT_WORKER, or dist/train-worker.js beside (or one
 * folder above) the running bundle. That bundle's worker-thread branch serves gradients, so the CLI
 * (dist/cli.js) and the training process (dist/train-worker.js) need no bundle of their own.
 */
export function gradientWorkerScript(): string | undefined {
  const env = process.env.REWARDLENS_GRADIENT_WORKER;
  if (env) return env;
  return [join(__dirname, 'train-worker.js'), join(__dirname, '..', 'train-worker.js')].find((f) => existsSync(f));
}

export class RunThreads {
  private dp?: DataParallel;
  private disabled = false;

  /**
   * `threads` counts the main thread. With `fallback` (the count was chosen automatically) threads that cannot
   * start leave the run on one thread, with a warning; otherwise that is an error.
   */
  constructor(
    readonly threads: number,
    private readonly script: string | undefined,
    private readonly fallback: boolean,
    private readonly log: (message: string, level: 'info' | 'warn') => void,
  ) {}

  /** The threads, loaded with `parts`; undefined when the run trains on one thread. */
  async load(parts: RewardParts): Promise<DataParallel | undefined> {
    if (this.threads < 2 || this.disabled) return undefined;
    try {
      if (!this.script) throw new Error('no worker script (dist/train-worker.js) beside this bundle; set REWARDLENS_GRADIENT_WORKER or rebuild');
      const started = this.dp === undefined;
      this.dp ??= DataParallel.spawn(this.script, this.threads - 1);
      await this.dp.load(parts);
      if (started) this.log(`data parallelism: each token-level step's pairs split over ${this.threads} threads`, 'info');
      return this.dp;
    } catch (e) {
      await this.close();
      if (!this.fallback) throw new Error(`data parallelism over ${this.threads} threads: ${(e as Error).message} (threads=1 trains without worker threads)`);
      this.disabled = true;
      this.log(`data parallelism off, training on one thread: ${(e as Error).message}`, 'warn');
      return undefined;
    }
  }

  async close(): Promise<void> {
    const dp = this.dp;
    this.dp = undefined;
    await dp?.close();
  }
}
