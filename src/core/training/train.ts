import type { EvalResult, TrainEvent, TrainOptions, TrainSummary } from './types';

/** How a caller (CLI, worker) hears from and steers a run. */
export interface TrainIO {
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  /** Folders whose node_modules may hold @tensorflow/tfjs-node(-gpu) (the extension's global storage). */
  nativeModulePaths?: string[];
}

/**
 * Trains `options.method` into the run folder `options.out`, resuming what an earlier, interrupted run of
 * the same configuration left there. Cancellation (the signal) stops at the next step, keeps the last
 * checkpoint and resolves with what was done.
 */
export function train(options: TrainOptions, io: TrainIO = {}): Promise<TrainSummary> {
  void options;
  void io;
  return Promise.reject(new Error('the training recipe is being written (issue 4)'));
}

export interface EvalOptions {
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  schemaFile?: string;
  adapter?: string;
  nativeModulePaths?: string[];
}

/** Agreement of a trained run with the human preferences of `testFile` (paper Table 3). */
export function evaluateRun(runDir: string, testFile: string, options: EvalOptions = {}): Promise<EvalResult> {
  void runDir;
  void testFile;
  void options;
  return Promise.reject(new Error('the training recipe is being written (issue 4)'));
}
