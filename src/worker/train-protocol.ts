/**
 * Messages between a training worker (src/worker/train-worker.ts, a `child_process.fork`ed Node process)
 * and its parent (the extension through src/worker/train-client.ts). Imported by both sides.
 *
 * Both sides check the version: a worker left over from another build of RewardLens refuses a request it
 * may misread instead of training with the wrong options, and says why.
 */
import type { EvalResult, TrainEvent, TrainOptions, TrainSummary } from '../core/training/types';

export const PROTOCOL_VERSION = 1;

// parent → worker

/** Train (or resume) a run. The worker answers with `event`s, then `done` or `error`, and exits. */
export interface StartMessage {
  type: 'start';
  version: number;
  options: TrainOptions;
  /** Folders whose node_modules may hold @tensorflow/tfjs-node(-gpu) (the extension's global storage). */
  nativeModulePaths: string[];
}

/** Evaluate a trained run on a test file. The worker answers with `event`s, then `evaluated` or `error`, and exits. */
export interface EvaluateMessage {
  type: 'evaluate';
  version: number;
  run: string;
  testFile: string;
  schemaFile?: string;
  adapter?: string;
  nativeModulePaths?: string[];
  /** Ignore the test file's edits journal (the editor's rewardlens.curation.applyEdits off). */
  noEdits?: boolean;
}

/** Stop at the next step; the recipe keeps its last checkpoint and the worker still sends `done`. */
export interface CancelMessage {
  type: 'cancel';
}

export type ParentMessage = StartMessage | EvaluateMessage | CancelMessage;

// worker → parent

/** Sent once, as soon as the worker listens. */
export interface ReadyMessage {
  type: 'ready';
  version: number;
  pid: number;
}

export interface EventMessage {
  type: 'event';
  event: TrainEvent;
}

export interface DoneMessage {
  type: 'done';
  summary: TrainSummary;
}

export interface EvaluatedMessage {
  type: 'evaluated';
  result: EvalResult;
}

/** The request failed (bad options, unreadable data, a backend that does not load); the worker exits next. */
export interface ErrorMessage {
  type: 'error';
  message: string;
  stack?: string;
  /** The request stopped because it was cancelled (the run keeps its last checkpoint and resumes). */
  cancelled?: boolean;
}

export type WorkerMessage = ReadyMessage | EventMessage | DoneMessage | EvaluatedMessage | ErrorMessage;

function object(msg: unknown): Record<string, unknown> | undefined {
  return typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as Record<string, unknown>) : undefined;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): boolean => object(v) !== undefined;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);

export function isStartMessage(msg: unknown): msg is StartMessage {
  const m = object(msg);
  return m?.type === 'start' && typeof m.version === 'number' && isObject(m.options) && isStrings(m.nativeModulePaths);
}

export function isEvaluateMessage(msg: unknown): msg is EvaluateMessage {
  const m = object(msg);
  return (
    m?.type === 'evaluate' &&
    typeof m.version === 'number' &&
    isString(m.run) &&
    isString(m.testFile) &&
    optional(m.schemaFile, isString) &&
    optional(m.adapter, isString) &&
    optional(m.nativeModulePaths, isStrings) &&
    optional(m.noEdits, (v) => typeof v === 'boolean')
  );
}

export function isCancelMessage(msg: unknown): msg is CancelMessage {
  return object(msg)?.type === 'cancel';
}

export function isReadyMessage(msg: unknown): msg is ReadyMessage {
  const m = object(msg);
  return m?.type === 'ready' && typeof m.version === 'number' && typeof m.pid === 'number';
}

export function isEventMessage(msg: unknown): msg is EventMessage {
  const m = object(msg);
  return m?.type === 'event' && isString(object(m.event)?.type);
}

export function isDoneMessage(msg: unknown): msg is DoneMessage {
  const m = object(msg);
  return m?.type === 'done' && isString(object(m.summary)?.out);
}

export function isEvaluatedMessage(msg: unknown): msg is EvaluatedMessage {
  const m = object(msg);
  return m?.type === 'evaluated' && isObject(object(m.result)?.byCategory);
}

export function isErrorMessage(msg: unknown): msg is ErrorMessage {
  const m = object(msg);
  return m?.type === 'error' && isString(m.message) && optional(m.stack, isString) && optional(m.cancelled, (v) => typeof v === 'boolean');
}

/** Why a versioned message cannot be trusted (another build of RewardLens on the other side), or undefined. */
export function versionProblem(theirs: number, side: 'worker' | 'extension'): string | undefined {
  if (theirs === PROTOCOL_VERSION) return undefined;
  const other = side === 'worker' ? 'the training worker (dist/train-worker.js)' : 'the extension';
  return `${other} speaks training protocol version ${theirs}, this side version ${PROTOCOL_VERSION}: RewardLens was updated while running, reload the window (or rebuild) and start again`;
}
