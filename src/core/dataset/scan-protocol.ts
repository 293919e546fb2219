import type { AdapterSpec } from './entry';
import type { FileFormat } from './offsets';
import type { RangeResult } from './range-scan';

/** Messages between the indexer and its scan workers (worker_threads, same process). */

/** Main → worker, once, as `workerData`. */
export interface ScanJob {
  /** The file to read, or (an editor's unsaved text) the bytes of the range itself. */
  file: string;
  bytes?: Uint8Array;
  format: FileFormat;
  from: number;
  to: number;
  chunkSize?: number;
  adapter: AdapterSpec;
}

/** Worker → main. */
export type ScanMessage = { type: 'progress'; position: number } | { type: 'done'; result: RangeResult } | { type: 'error'; message: string };
