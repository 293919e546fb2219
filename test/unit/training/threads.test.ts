import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTrainArgs } from '../../../src/cli/train';
import { applyOverrides, defaultHyperParams, trainingThreads } from '../../../src/core/training/hparams';

void test('threads: two on wasm with two or more cores by default, one elsewhere; an explicit count is kept on wasm only', () => {
  assert.deepEqual(trainingThreads(undefined, 'wasm', 2), { threads: 2 });
  assert.deepEqual(trainingThreads(0, 'wasm', 8), { threads: 2 });
  assert.deepEqual(trainingThreads(undefined, 'wasm', 1), { threads: 1 });
  assert.deepEqual(trainingThreads(3, 'wasm', 2), { threads: 3 });
  assert.deepEqual(trainingThreads(undefined, 'tensorflow', 8), { threads: 1 });
  const native = trainingThreads(2, 'tensorflow', 8);
  assert.equal(native.threads, 1);
  assert.match(native.note ?? '', /threads=2 ignored: data parallelism runs on the wasm backend/);
});

void test('threads is absent from default settings (old run folders still compare equal) and settable by --set or --threads', () => {
  assert.ok(!('threads' in defaultHyperParams('tiny')));
  assert.equal(applyOverrides(defaultHyperParams('tiny'), { threads: 2 }).threads, 2);
  assert.throws(
    () => applyOverrides(defaultHyperParams('tiny'), { threads: 1.5 }),
    /setting threads: 1.5 is out of range; it must be a whole number \[0, 256\]/,
  );
  assert.throws(() => applyOverrides(defaultHyperParams('tiny'), { threadz: 2 }), /unknown setting 'threadz' \(known: .*threads/);

  const dir = mkdtempSync(join(tmpdir(), 'rl-threads-'));
  try {
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, '');
    const args = (...extra: string[]) => parseTrainArgs([data, '--method', 'single', '--out', join(dir, 'run'), ...extra]);
    const parsed = args('--threads', '2', '--set', 'patience=3');
    assert.ok(!parsed.help && parsed.options.overrides?.threads === 2 && parsed.options.overrides.patience === 3);
    const plain = args();
    assert.ok(!plain.help && plain.options.overrides === undefined);
    assert.throws(() => args('--threads', '0'), /--threads must be a whole number ≥ 1, not "0"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
