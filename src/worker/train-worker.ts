/**
 * The training process (dist/train-worker.js), started by src/worker/train-client.ts with
 * `child_process.fork`. It runs one request (train or evaluate), forwards the recipe's events and exits:
 * a separate process, so that a backend that runs out of memory or crashes in native code takes down
 * this process and not the extension host, and so that the extension can always kill it.
 *
 * The same bundle is also the script of the data-parallel gradient threads (src/core/training/parallel.ts),
 * of this process and of the CLI's: in a worker thread it only serves gradients.
 */
import { isMainThread } from 'node:worker_threads';
import { runGradientWorker } from '../core/model/data-parallel';
import { evaluateRun, train } from '../core/training/train';
import type { TrainEvent } from '../core/training/types';
import type { EvaluateMessage, StartMessage, WorkerMessage } from './train-protocol';
import { PROTOCOL_VERSION, isCancelMessage, isEvaluateMessage, isStartMessage, versionProblem } from './train-protocol';

/** After the parent went away: how long the recipe gets to stop at a step boundary before the process exits anyway. */
const ORPHAN_GRACE_MS = 10_000;

const controller = new AbortController();
let busy = false;

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) {
      resolve();
      return;
    }
    process.send(msg, (err: Error | null) => {
      if (err) process.stderr.write(`train-worker: cannot send ${msg.type}: ${err.message}\n`);
      resolve();
    });
  });
}

async function finish(msg: WorkerMessage, code: number): Promise<void> {
  await send(msg);
  process.exit(code);
}

async function handle(msg: StartMessage | EvaluateMessage): Promise<void> {
  const onEvent = (event: TrainEvent): void => void send({ type: 'event', event });
  if (msg.type === 'start') {
    const summary = await train(msg.options, { signal: controller.signal, onEvent, nativeModulePaths: msg.nativeModulePaths });
    await finish({ type: 'done', summary }, 0);
  } else {
    const result = await evaluateRun(msg.run, msg.testFile, {
      signal: controller.signal,
      onEvent,
      schemaFile: msg.schemaFile,
      adapter: msg.adapter,
      nativeModulePaths: msg.nativeModulePaths,
      noEdits: msg.noEdits,
    });
    await finish({ type: 'evaluated', result }, 0);
  }
}

function fail(e: unknown): Promise<void> {
  const err = e instanceof Error ? e : new Error(String(e));
  // A recipe may end a cancelled run by throwing: that is a stop, not a failure.
  if (controller.signal.aborted) return finish({ type: 'error', message: err.message, cancelled: true }, 0);
  // The stack also goes to stderr, which the client keeps in the run's log.
  process.stderr.write(`train-worker: ${err.stack ?? err.message}\n`);
  return finish({ type: 'error', message: err.message, stack: err.stack }, 1);
}

function serveParent(): void {
  process.on('message', (msg: unknown) => {
    if (isCancelMessage(msg)) {
      controller.abort();
      return;
    }
    if (!isStartMessage(msg) && !isEvaluateMessage(msg)) {
      process.stderr.write(`train-worker: ignoring an unknown message ${JSON.stringify(msg)?.slice(0, 200)}\n`);
      return;
    }
    const problem = versionProblem(msg.version, 'extension');
    if (problem !== undefined) {
      void fail(new Error(problem));
      return;
    }
    if (busy) {
      void fail(new Error(`the training worker runs one request; it got a second "${msg.type}"`));
      return;
    }
    busy = true;
    handle(msg).catch(fail);
  });

  // No orphan keeps training: when the parent goes, stop at the next step (the checkpoint stays) and exit.
  process.on('disconnect', () => {
    controller.abort();
    if (!busy) process.exit(0);
    setTimeout(() => process.exit(1), ORPHAN_GRACE_MS);
  });

  if (process.send === undefined) {
    process.stderr.write('train-worker: start me with child_process.fork (I take requests over IPC)\n');
    process.exit(2);
  }
  void send({ type: 'ready', version: PROTOCOL_VERSION, pid: process.pid });
}

if (isMainThread) serveParent();
else void runGradientWorker();
