import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileError } from '../../../src/core/io/file-error';
import { runTorchTrainer } from '../../../src/core/training/torch-trainer';
import type { PythonReport } from '../../../src/core/training/python-env';
import { firstReadyPython, probePython } from '../../../src/core/training/python-env';

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

void test('a Python without torch: the trainer says so on one line and runTorchTrainer refuses naming the interpreter (exit 2 in the CLI)', async (t) => {
  if (spawnSync('python3', ['--version']).status !== 0) return t.skip('no python3 here');
  // A `torch` that cannot be imported shadows any installed one: the Python of a user who has not set up training.
  const fake = mkdtempSync(join(tmpdir(), 'rl-no-torch-'));
  mkdirSync(join(fake, 'torch'));
  writeFileSync(join(fake, 'torch', '__init__.py'), "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n");
  const run = join(fake, 'run');
  mkdirSync(run);
  const lines: string[] = [];
  const saved = process.env.PYTHONPATH;
  process.env.PYTHONPATH = fake;
  try {
    await assert.rejects(
      runTorchTrainer(run, { python: 'python3', onStderr: (l) => lines.push(l) }),
      (e: unknown) => e instanceof FileError && /^python3: has no torch: install the trainer's requirements/.test(e.message),
    );
  } finally {
    process.env.PYTHONPATH = saved;
    rmSync(fake, { recursive: true, force: true });
  }
  assert.deepEqual(
    lines.map((l) => l.replace(/: \S*python\S*: /, ': PYTHON: ')),
    ["rewardlens-trainer: PYTHON: No module named 'torch' (pip install -r trainer/requirements.txt)"],
  );
});

void test('doctor on a file that is not an interpreter says what it is, not an empty reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-not-python-'));
  try {
    const data = join(dir, 'data.jsonl');
    writeFileSync(data, '{}\n');
    assert.equal((await probePython(data)).error, 'not executable (give the path of a Python interpreter)');
    assert.equal((await probePython(join(dir, 'missing'))).error, 'not found');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
