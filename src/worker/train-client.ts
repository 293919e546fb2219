/**
 * The parent side of the training worker: forks dist/train-worker.js, sends it one request, forwards its
 * events, keeps its output in a log file and turns every way it can end into a settled promise. Used by
 * the extension; no `vscode` here, so it is tested with plain Node.
 */
import { spawnSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from '../core/io/safe-output';
import type { EvalResult, TrainEvent, TrainOptions, TrainSummary } from '../core/training/types';
import type { EvaluateMessage, ParentMessage, StartMessage } from './train-protocol';
import { PROTOCOL_VERSION, isDoneMessage, isErrorMessage, isEvaluatedMessage, isEventMessage, isReadyMessage, versionProblem } from './train-protocol';
import { errorMessage } from '../core/error-message';

export interface TrainingProcessOptions {
  /** Path of dist/train-worker.js. */
  workerScript: string;
  onEvent?: (event: TrainEvent) => void;
  /** Every line the process writes (stdout and stderr), e.g. for an output channel. */
  onOutput?: (text: string) => void;
  /** The process's stdout and stderr are appended here (created with its folder). */
  logFile?: string;
  /** Node flags of the worker; default none (an inherited `--inspect` would clash with the parent's port). */
  execArgv?: string[];
  /** How long `cancel()` waits for the recipe to stop at a step before killing the process tree (default 30 s). */
  cancelGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface TrainingProcess<T> {
  readonly pid: number | undefined;
  /**
   * Resolves with the worker's answer (after `cancel()`, what was done, when the recipe returns it);
   * rejects with WorkerCancelledError, WorkerFailedError, WorkerDiedError or a protocol error.
   */
  readonly done: Promise<T>;
  /** Asks the recipe to stop at its next step (it keeps its checkpoint); kills the process tree after the grace period. */
  cancel(): void;
  /** Kills the process tree now. */
  kill(): void;
}

/** The worker reported an error (bad options, unreadable data, a backend that does not load). */
export class WorkerFailedError extends Error {
  constructor(
    message: string,
    readonly workerStack: string | undefined,
  ) {
    super(message);
    this.name = 'WorkerFailedError';
  }
}

/** The request stopped because it was cancelled; the run folder keeps its last checkpoint and resumes. */
export class WorkerCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCancelledError';
  }
}

/** The process ended without an answer: a crash, out of memory, `kill -9`, or killed after a cancel that did not stop in time. */
export class WorkerDiedError extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the process wrote (stderr and stdout), where a crash says why. */
    readonly logTail: string,
    /** True when the process was killed because it did not stop within the grace period after `cancel()`. */
    readonly cancelled: boolean,
  ) {
    super(
      `Training process exited unexpectedly (${signal !== null ? `signal ${signal}` : `exit code ${String(code)}`})${cancelled ? ' after it did not stop when cancelled' : ''}`,
    );
    this.name = 'WorkerDiedError';
  }
}

/** Trains (or resumes) `options.out` in a new worker process. */
export function startTraining(options: TrainOptions, nativeModulePaths: string[], spawn: TrainingProcessOptions): TrainingProcess<TrainSummary> {
  const request: StartMessage = { type: 'start', version: PROTOCOL_VERSION, options, nativeModulePaths };
  return launch(request, spawn, (msg) => (isDoneMessage(msg) ? { value: msg.summary } : undefined));
}

/** Evaluates the run folder `run` on `testFile` in a new worker process. */
export function startEvaluation(request: Omit<EvaluateMessage, 'type' | 'version'>, spawn: TrainingProcessOptions): TrainingProcess<EvalResult> {
  return launch({ type: 'evaluate', version: PROTOCOL_VERSION, ...request }, spawn, (msg) => (isEvaluatedMessage(msg) ? { value: msg.result } : undefined));
}

const TAIL_CHARS = 4000;

function launch<T>(
  request: StartMessage | EvaluateMessage,
  options: TrainingProcessOptions,
  answer: (msg: unknown) => { value: T } | undefined,
): TrainingProcess<T> {
  if (options.logFile) makeDirs(dirname(options.logFile));
  const log = (text: string): void => {
    if (options.logFile) {
      try {
        appendFileSync(options.logFile, text);
      } catch {
        // A log that cannot be written must not stop the run; the output callback still sees it.
      }
    }
    options.onOutput?.(text);
  };
  const child = fork(options.workerScript, [], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group on POSIX, so that the whole tree can be killed at once.
    detached: process.platform !== 'win32',
    // In VS Code desktop process.execPath is Electron: run it as Node.
    env: { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
  });
  let tail = '';
  const output = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-TAIL_CHARS);
    log(text);
  };
  child.stdout?.on('data', output);
  child.stderr?.on('data', output);
  log(
    `[${new Date().toISOString()}] ${request.type === 'start' ? `training ${request.options.method} into ${request.options.out}` : `evaluating ${request.run} on ${request.testFile}`} (worker pid ${String(child.pid)})\n`,
  );

  let settled = false;
  let cancelled = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let outcome: { value: T } | { error: Error } | undefined;
  const done = new Promise<T>((resolve, reject) => {
    const settle = (result: { value: T } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      if ('value' in result) resolve(result.value);
      else reject(result.error);
    };
    child.on('message', (msg: unknown) => {
      if (isReadyMessage(msg)) {
        const problem = versionProblem(msg.version, 'worker');
        if (problem !== undefined) {
          outcome = { error: new Error(problem) };
          killTree(child);
          return;
        }
        sendTo(child, request);
        if (cancelled) sendTo(child, { type: 'cancel' });
        return;
      }
      if (isEventMessage(msg)) {
        try {
          options.onEvent?.(msg.event);
        } catch (e) {
          log(`event handler failed: ${errorMessage(e)}\n`);
        }
        return;
      }
      if (isErrorMessage(msg)) {
        outcome ??= { error: msg.cancelled ? new WorkerCancelledError(msg.message) : new WorkerFailedError(msg.message, msg.stack) };
        return;
      }
      const a = answer(msg);
      if (a !== undefined) outcome ??= a;
      else log(`unexpected message from the training worker: ${JSON.stringify(msg)?.slice(0, 200)}\n`);
    });
    child.on('error', (err) => {
      // fork itself failed (no such script, no node): nothing will run.
      log(`cannot run the training worker: ${err.message}\n`);
      settle({ error: new Error(`cannot run the training worker ${options.workerScript}: ${err.message}`) });
    });
    // 'close' comes after the IPC channel and the pipes are drained: every message has arrived by then.
    child.on('close', (code, signal) => {
      log(`[${new Date().toISOString()}] worker exited (${signal !== null ? `signal ${signal}` : `code ${String(code)}`})\n`);
      settle(outcome ?? { error: new WorkerDiedError(code, signal, tail, cancelled) });
    });
  });

  return {
    pid: child.pid,
    done,
    cancel(): void {
      if (settled || cancelled) return;
      cancelled = true;
      sendTo(child, { type: 'cancel' });
      graceTimer = setTimeout(() => killTree(child), options.cancelGraceMs ?? 30_000);
    },
    kill(): void {
      if (!settled) killTree(child);
    },
  };
}

function sendTo(child: ChildProcess, msg: ParentMessage): void {
  if (child.connected) child.send(msg, () => undefined);
}

/** Kills the worker and anything it started (its process group on POSIX, `taskkill /T` on Windows). */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (process.platform === 'win32') spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore' });
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
