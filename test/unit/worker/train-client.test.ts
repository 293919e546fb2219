import assert from 'node:assert/strict';
import { spawnSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TrainEvent, TrainOptions } from '../../../src/core/training/types';
import { bundleTrainWorker } from '../../support/bundle-worker';
import { WorkerCancelledError, WorkerDiedError, WorkerFailedError, startEvaluation, startTraining } from '../../../src/worker/train-client';
import { PROTOCOL_VERSION, isErrorMessage, isReadyMessage } from '../../../src/worker/train-protocol';

const tmp = mkdtempSync(join(tmpdir(), 'rl-train-client-'));
after(() => spawnSync('rm', ['-rf', tmp]));

/**
 * A stand-in worker that speaks the protocol, plain JS so that it runs without a build. FAKE_MODE picks
 * what it does with a request: answer, fail, train until cancelled, ignore cancel, crash with kill -9.
 */
const FAKE = `
const mode = process.env.FAKE_MODE;
const version = Number(process.env.FAKE_VERSION || ${PROTOCOL_VERSION});
const send = (m) => new Promise((r) => process.send(m, () => r()));
let cancelled = false;
process.on('message', async (msg) => {
  if (msg.type === 'cancel') { cancelled = true; return; }
  if (msg.type === 'evaluate') {
    await send({ type: 'evaluated', result: { method: 'single', overall: 0.75, pairs: 4, byCategory: { chat: { accuracy: 0.75, pairs: 4 } } } });
    process.exit(0);
  }
  const summary = { out: msg.options.out, method: msg.options.method, backend: 'wasm', truncated: false, seconds: 1 };
  if (mode === 'ok') {
    await send({ type: 'event', event: { type: 'phase', phase: 'base', message: 'general RM' } });
    for (let step = 1; step <= 3; step++) await send({ type: 'event', event: { type: 'progress', phase: 'base', step, totalSteps: 3, loss: 1 / step, valAcc: 0.5 + step / 10 } });
    await send({ type: 'done', summary });
    process.exit(0);
  }
  if (mode === 'error') {
    process.stderr.write('Error: ENOENT: no such file, open d.jsonl\\n    at open (fake)\\n');
    await send({ type: 'error', message: 'd.jsonl: no such file', stack: 'Error: d.jsonl: no such file\\n    at open (fake)' });
    process.exit(1);
  }
  if (mode === 'cancel' || mode === 'stubborn') {
    for (let step = 1; ; step++) {
      if (cancelled && mode === 'cancel') break;
      await send({ type: 'event', event: { type: 'progress', phase: 'base', step, totalSteps: 1000, loss: 0.5 } });
      await new Promise((r) => setTimeout(r, 10));
    }
    await send({ type: 'done', summary: { ...summary, truncated: true } });
    process.exit(0);
  }
  if (mode === 'die') {
    process.stderr.write('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\\n');
    await send({ type: 'event', event: { type: 'phase', phase: 'phase1', expert: 'empathy', message: 'expert' } });
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
  }
});
send({ type: 'ready', version, pid: process.pid });
`;
const fakeWorker = join(tmp, 'fake-worker.js');
writeFileSync(fakeWorker, FAKE);

const options = (out: string): TrainOptions => ({
  dataset: join(tmp, 'missing.jsonl'),
  method: 'single',
  out: join(tmp, out),
  preset: 'tiny',
  backend: 'auto',
  seed: 1,
});

function fake(mode: string, extra: Record<string, string> = {}) {
  const events: TrainEvent[] = [];
  const logFile = join(tmp, `${mode}-${Math.random().toString(36).slice(2)}`, 'train.log');
  return {
    events,
    logFile,
    spawn: {
      workerScript: fakeWorker,
      onEvent: (e: TrainEvent) => events.push(e),
      logFile,
      env: { ...process.env, FAKE_MODE: mode, ...extra },
      cancelGraceMs: 500,
    },
  };
}

/** The repository root (this bundle runs from .test-tmp/unit or dist/test/unit/worker). */
void describe('training worker client', () => {
  void it('forwards events in order and resolves with the summary', async () => {
    const f = fake('ok');
    const p = startTraining(options('ok'), [], f.spawn);
    assert.equal(typeof p.pid, 'number');
    const summary = await p.done;
    assert.equal(summary.out, join(tmp, 'ok'));
    assert.deepEqual(
      f.events.map((e) => (e.type === 'progress' ? `${e.type}:${e.step}` : e.type)),
      ['phase', 'progress:1', 'progress:2', 'progress:3'],
    );
    const log = readFileSync(f.logFile, 'utf8');
    assert.match(log, /training single into/);
    assert.match(log, /worker exited \(code 0\)/);
  });

  void it('resolves an evaluation with its result', async () => {
    const f = fake('ok');
    const result = await startEvaluation({ run: join(tmp, 'ok'), testFile: 't.jsonl' }, f.spawn).done;
    assert.equal(result.overall, 0.75);
    assert.deepEqual(result.byCategory, { chat: { accuracy: 0.75, pairs: 4 } });
  });

  void it("rejects with the worker's error message, keeping its stack and stderr in the log", async () => {
    const f = fake('error');
    const err = await startTraining(options('error'), [], f.spawn).done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerFailedError, String(err));
    assert.equal(err.message, 'd.jsonl: no such file');
    assert.match(err.workerStack ?? '', /at open/);
    assert.match(readFileSync(f.logFile, 'utf8'), /ENOENT/);
  });

  void it('cancel stops the worker at its next step and still resolves with what was done', async () => {
    const f = fake('cancel');
    const p = startTraining(options('cancel'), [], f.spawn);
    while (f.events.length < 3) await new Promise((r) => setTimeout(r, 10));
    p.cancel();
    const summary = await p.done;
    assert.equal(summary.truncated, true);
  });

  void it('a worker that ignores cancel is killed after the grace period: WorkerDiedError, cancelled', async () => {
    const f = fake('stubborn');
    const p = startTraining(options('stubborn'), [], f.spawn);
    while (f.events.length < 2) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    p.cancel();
    const err = await p.done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerDiedError, String(err));
    assert.equal(err.signal, 'SIGKILL');
    assert.equal(err.cancelled, true);
    assert.ok(Date.now() - started >= 450, 'killed before the grace period');
  });

  void it('a worker killed with -9 rejects with WorkerDiedError carrying the signal and the tail of its output', async () => {
    const f = fake('die');
    const err = await startTraining(options('die'), [], f.spawn).done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerDiedError, String(err));
    assert.equal(err.signal, 'SIGKILL');
    assert.equal(err.code, null);
    assert.equal(err.cancelled, false);
    assert.equal(err.message, 'Training process exited unexpectedly (signal SIGKILL)');
    assert.match(err.logTail, /heap out of memory/);
    assert.equal(f.events.length, 1, 'the event before the crash arrived');
    assert.match(readFileSync(f.logFile, 'utf8'), /worker exited \(signal SIGKILL\)/);
  });

  void it('refuses a worker of another protocol version, saying so', async () => {
    const f = fake('ok', { FAKE_VERSION: String(PROTOCOL_VERSION + 1) });
    const err = await startTraining(options('version'), [], f.spawn).done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error && !(err instanceof WorkerDiedError), String(err));
    assert.match(err.message, /protocol version 2, this side version 1.*reload the window/);
  });

  void it('a missing worker script rejects instead of hanging', async () => {
    const err = await startTraining(options('missing'), [], { workerScript: join(tmp, 'nope.js'), cancelGraceMs: 100 }).done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    assert.match(err.message, /exited unexpectedly \(exit code 1\)|cannot run the training worker/);
  });

  void describe('the real worker (src/worker/train-worker.ts, bundled here over a stand-in recipe)', () => {
    const script = join(tmp, 'train-worker.js');
    const recipe = join(tmp, 'fake-recipe.js');
    // The worker's own logic, not the recipe's: train() fails on a dataset named "fail", else reports
    // steps until it is aborted.
    writeFileSync(
      recipe,
      `exports.train = async (options, io) => {
        if (options.dataset === 'fail') throw new Error('fail: no such file');
        if (options.dataset === 'throw-on-cancel') {
          while (!io.signal.aborted) await new Promise((r) => setTimeout(r, 10));
          throw Object.assign(new Error('cancelled at step 3; resume with the same options'), { name: 'CancelledError' });
        }
        for (let step = 1; !io.signal.aborted; step++) {
          io.onEvent({ type: 'progress', phase: 'base', step, totalSteps: 100, loss: 1 });
          await new Promise((r) => setTimeout(r, 10));
        }
        return { out: options.out, method: options.method, backend: 'cpu', truncated: true, seconds: 0 };
      };
      exports.evaluateRun = async () => ({ method: 'single', overall: null, pairs: 0, byCategory: {} });`,
    );
    const bundled = bundleTrainWorker(script, recipe);

    void it('bundles', async () => {
      await bundled;
    });

    void it('reports a request it cannot run as an error and exits', async () => {
      await bundled;
      const err = await startTraining({ ...options('real'), dataset: 'fail' }, [], { workerScript: script }).done.then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkerFailedError, String(err));
      assert.equal(err.message, 'fail: no such file');
    });

    void it("forwards the recipe's events and stops it on cancel", async () => {
      await bundled;
      const events: TrainEvent[] = [];
      const p = startTraining(options('real-cancel'), [], { workerScript: script, onEvent: (e) => events.push(e) });
      while (events.length < 3) await new Promise((r) => setTimeout(r, 10));
      p.cancel();
      const summary = await p.done;
      assert.equal(summary.truncated, true);
      assert.ok(events.every((e) => e.type === 'progress'));
    });

    void it('a recipe that throws when cancelled ends in WorkerCancelledError, not a failure', async () => {
      await bundled;
      const p = startTraining({ ...options('real-throw'), dataset: 'throw-on-cancel' }, [], { workerScript: script });
      await new Promise((r) => setTimeout(r, 300));
      p.cancel();
      const err = await p.done.then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkerCancelledError, String(err));
      assert.match(err.message, /resume/);
    });

    void it('refuses a request of another protocol version with a readable error', async () => {
      await bundled;
      const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      const messages: unknown[] = [];
      child.on('message', (m) => {
        messages.push(m);
        if (isReadyMessage(m)) child.send({ type: 'start', version: PROTOCOL_VERSION + 1, options: options('v'), nativeModulePaths: [] });
      });
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      assert.equal(code, 1);
      const error = messages.find(isErrorMessage);
      assert.ok(error, JSON.stringify(messages));
      assert.match(error.message, /the extension speaks training protocol version 2/);
    });

    void it('exits when its parent disconnects mid-run (no orphan keeps training)', async () => {
      await bundled;
      const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      let progress = 0;
      const exit = new Promise<boolean>((r) => child.on('exit', () => r(true)));
      child.on('message', (m) => {
        if (isReadyMessage(m)) child.send({ type: 'start', version: PROTOCOL_VERSION, options: options('orphan'), nativeModulePaths: [] });
        else if (++progress === 2) child.disconnect();
      });
      const exited = await Promise.race([exit, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!exited) child.kill('SIGKILL');
      assert.ok(exited, 'still running 5 s after the parent disconnected');
    });
  });
});
