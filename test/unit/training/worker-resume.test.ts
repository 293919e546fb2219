import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainEvent, TrainOptions } from '../../../src/core/training/types';
import { WorkerDiedError, startTraining } from '../../../src/worker/train-client';
import { bundleTrainWorker } from '../../support/bundle-worker';
import { repoRoot } from '../../support/repo-root';
import { writeLabelledSyntheticPreferences } from '../../support/synthetic-prefs';

const root = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'rl-worker-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The real worker over the real recipe, killed with SIGKILL in the middle of Phase 1, then started again:
// what was finished is not trained again and the run completes.
void test('a training worker killed with SIGKILL resumes from its run folder', async () => {
  // Bundled inside the repository so that it finds models/ and tfjs-backend-wasm's .wasm files as dist/ does.
  const script = join(root, '.test-tmp', 'worker-resume', 'train-worker.js');
  await bundleTrainWorker(script);
  const data = join(dir, 'train.jsonl');
  const labels = join(dir, 'train.labels.jsonl');
  await writeLabelledSyntheticPreferences(data, labels, 160, 5);
  const options: TrainOptions = {
    dataset: data,
    labels,
    method: 'dmoerm-no-outer',
    out: join(dir, 'run'),
    preset: 'tiny',
    backend: 'wasm',
    seed: 9,
    overrides: { 'maxSteps.base': 40, 'maxSteps.phase1': 60, 'maxSteps.phase2': 20, evalEvery: 10, patience: 3, minPairs: 8 },
  };

  const first = startTraining(options, [], {
    workerScript: script,
    logFile: join(options.out, 'train.log'),
    onEvent: (e) => {
      if (e.type === 'checkpoint' && e.phase === 'phase1') first.kill();
    },
  });
  const died = await first.done.then(
    () => assert.fail('the killed worker resolved'),
    (e: unknown) => e,
  );
  assert.ok(died instanceof WorkerDiedError, String(died));
  assert.equal(died.signal, 'SIGKILL');
  const state = JSON.parse(readFileSync(join(options.out, 'state.json'), 'utf8')) as { completed: string[]; current?: { component: string } };
  assert.deepEqual(state.completed, ['base']);
  assert.equal(state.current?.component, 'phase1-all');

  const events: TrainEvent[] = [];
  const summary = await startTraining(options, [], { workerScript: script, onEvent: (e) => events.push(e) }).done;
  assert.equal(summary.method, 'dmoerm-no-outer');
  assert.ok(!events.some((e) => e.type === 'progress' && e.phase === 'base'), 'the finished base is not trained again');
  const resumedAt = events.find((e) => e.type === 'progress' && e.phase === 'phase1');
  assert.ok(resumedAt && resumedAt.type === 'progress' && resumedAt.step > 10, 'Phase 1 continues after its checkpoint');
  const finished = JSON.parse(readFileSync(join(options.out, 'state.json'), 'utf8')) as { finished?: boolean };
  assert.equal(finished.finished, true);
});
