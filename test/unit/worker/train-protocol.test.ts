import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrainOptions } from '../../../src/core/training/types';
import {
  PROTOCOL_VERSION,
  isCancelMessage,
  isDoneMessage,
  isErrorMessage,
  isEvaluateMessage,
  isEvaluatedMessage,
  isEventMessage,
  isReadyMessage,
  isStartMessage,
  versionProblem,
} from '../../../src/worker/train-protocol';

const options: TrainOptions = { dataset: 'd.jsonl', method: 'single', out: 'run', preset: 'tiny', backend: 'auto', seed: 1 };

void describe('training worker protocol', () => {
  void it('accepts well-formed parent messages and rejects malformed ones', () => {
    assert.ok(isStartMessage({ type: 'start', version: PROTOCOL_VERSION, options, nativeModulePaths: [] }));
    assert.ok(!isStartMessage({ type: 'start', version: PROTOCOL_VERSION, options }), 'nativeModulePaths is required');
    assert.ok(!isStartMessage({ type: 'start', version: '1', options, nativeModulePaths: [] }));
    assert.ok(!isStartMessage({ type: 'start', version: 1, options: null, nativeModulePaths: [] }));
    assert.ok(!isStartMessage({ type: 'start', version: 1, options, nativeModulePaths: [3] }));
    assert.ok(isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r', testFile: 't.jsonl' }));
    assert.ok(isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r', testFile: 't.jsonl', schemaFile: 'm.jsonc', adapter: 'hh-rlhf' }));
    assert.ok(!isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r' }));
    assert.ok(!isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r', testFile: 't', adapter: 4 }));
    assert.ok(isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r', testFile: 't.jsonl', noEdits: true }));
    assert.ok(!isEvaluateMessage({ type: 'evaluate', version: 1, run: 'r', testFile: 't.jsonl', noEdits: 'yes' }));
    assert.ok(isCancelMessage({ type: 'cancel' }));
    for (const bad of [null, undefined, 'cancel', [], { type: 'stop' }]) {
      assert.ok(!isCancelMessage(bad) && !isStartMessage(bad) && !isEvaluateMessage(bad), JSON.stringify(bad));
    }
  });

  void it('accepts well-formed worker messages and rejects malformed ones', () => {
    assert.ok(isReadyMessage({ type: 'ready', version: 1, pid: 12 }));
    assert.ok(!isReadyMessage({ type: 'ready', version: 1 }));
    assert.ok(isEventMessage({ type: 'event', event: { type: 'log', level: 'info', message: 'x' } }));
    assert.ok(!isEventMessage({ type: 'event', event: 'log' }));
    assert.ok(!isEventMessage({ type: 'event' }));
    assert.ok(isDoneMessage({ type: 'done', summary: { out: 'run', method: 'single', backend: 'wasm', truncated: false, seconds: 3 } }));
    assert.ok(!isDoneMessage({ type: 'done', summary: {} }));
    assert.ok(isEvaluatedMessage({ type: 'evaluated', result: { method: 'single', overall: 0.5, pairs: 2, byCategory: {} } }));
    assert.ok(!isEvaluatedMessage({ type: 'evaluated', result: { method: 'single' } }));
    assert.ok(isErrorMessage({ type: 'error', message: 'no such file', stack: 'Error: …' }));
    assert.ok(isErrorMessage({ type: 'error', message: 'no such file' }));
    assert.ok(isErrorMessage({ type: 'error', message: 'cancelled', cancelled: true }));
    assert.ok(!isErrorMessage({ type: 'error', message: 'x', stack: 1 }));
    assert.ok(!isErrorMessage({ type: 'error', message: 'x', cancelled: 'yes' }));
    assert.ok(!isErrorMessage({ type: 'error' }));
  });

  void it('a version mismatch is a readable error naming both versions and what to do', () => {
    assert.equal(versionProblem(PROTOCOL_VERSION, 'worker'), undefined);
    const problem = versionProblem(PROTOCOL_VERSION + 1, 'worker');
    assert.ok(problem);
    assert.match(problem, /training worker/);
    assert.match(problem, new RegExp(`version ${PROTOCOL_VERSION + 1}.*version ${PROTOCOL_VERSION}`));
    assert.match(problem, /reload the window/);
    assert.match(versionProblem(0, 'extension') ?? '', /^the extension speaks/);
  });
});
