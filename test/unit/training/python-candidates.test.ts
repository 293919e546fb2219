import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PythonReport } from '../../../src/core/training/python-env';
import { firstReadyPython } from '../../../src/core/training/python-env';

const report = (python: string, ready: boolean): PythonReport => ({ python, missing: ready ? [] : ['torch'], errors: {}, ready });

void test('the first interpreter that can run the trainer wins; later ones are not started', async () => {
  const asked: string[] = [];
  const probe = (python: string): Promise<PythonReport> => {
    asked.push(python);
    return Promise.resolve(report(python, python !== '/usr/bin/python3'));
  };
  const { ready, tried } = await firstReadyPython(
    [
      { python: '/usr/bin/python3', source: "the Python extension's interpreter" },
      { python: '/storage/torch-venv/bin/python', source: 'Set Up PyTorch Training' },
      { python: '/never', source: 'unused' },
    ],
    probe,
  );
  assert.equal(ready?.python, '/storage/torch-venv/bin/python');
  assert.equal(ready?.source, 'Set Up PyTorch Training');
  assert.deepEqual(asked, ['/usr/bin/python3', '/storage/torch-venv/bin/python']);
  assert.deepEqual(
    tried.map((t) => t.report.ready),
    [false, true],
  );
});

void test('none ready: every report comes back for the message', async () => {
  const { ready, tried } = await firstReadyPython(
    [
      { python: 'a', source: 'x' },
      { python: 'b', source: 'y' },
    ],
    (p) => Promise.resolve(report(p, false)),
  );
  assert.equal(ready, undefined);
  assert.deepEqual(
    tried.map((t) => t.python),
    ['a', 'b'],
  );
});
