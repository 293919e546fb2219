import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../../src/core/model/backend';
import { ScalarHead } from '../../../src/core/model/heads';
import { pairwiseLoss } from '../../../src/core/model/loss';
import type { Tensor1D } from '../../../src/core/model/tf';
import { tf } from '../../../src/core/model/tf';
import type { FitTask } from '../../../src/core/training/fit';
import { fit } from '../../../src/core/training/fit';
import { Rng } from '../../../src/core/training/rng';

/** Pairs of 16-d feature rows where the winner has the larger first feature; a scalar head learns it. */
function task(head: ScalarHead): FitTask {
  let evaluations = 0;
  const rng = new Rng(5);
  const rows = Array.from({ length: 64 }, () => Float32Array.from({ length: 16 }, () => rng.next() * 2 - 1));
  const pairs = Array.from({ length: 32 }, (_, i) => (rows[2 * i][0] > rows[2 * i + 1][0] ? [2 * i, 2 * i + 1] : [2 * i + 1, 2 * i]));
  const input = (ids: number[]) =>
    tf.tensor2d(
      ids.flatMap((i) => Array.from(rows[i])),
      [ids.length, 16],
    );
  return {
    component: 'head',
    phase: 'base',
    parts: { head },
    epoch: (r) => {
      const order = r.shuffle(pairs.map((_, i) => i));
      return [order.slice(0, 8), order.slice(8, 16), order.slice(16, 24), order.slice(24, 32)];
    },
    step: (batch) => {
      const rw = head.forward(input(batch.map((i) => pairs[i][0])));
      const rl = head.forward(input(batch.map((i) => pairs[i][1])));
      return { loss: pairwiseLoss(rw, rl), correct: tf.cast(tf.greater(rw, rl), 'float32') as Tensor1D };
    },
    // Each evaluation scores better than the last, so the weights kept are the final step's.
    validate: () => ({ accuracy: 0.5 + 0.1 * evaluations++, loss: 0.69 }),
  };
}

void test('micro-batches with summed gradients give the same training as whole batches', async () => {
  await initBackend('wasm');
  const run = async (microBatch: number) => {
    const head = ScalarHead.create(16, 3);
    await fit(task(head), { lr: 0.05, maxSteps: 12, evalEvery: 100, patience: 100, microBatch }, { rng: new Rng(1) });
    return head;
  };
  const whole = await run(8);
  const micro = await run(2);
  const a = whole.named().get('weight')!.dataSync();
  const b = micro.named().get('weight')!.dataSync();
  let diff = 0;
  a.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - b[i]))));
  assert.ok(diff < 1e-5, `max weight difference ${diff}`);
  const initial = ScalarHead.create(16, 3).named().get('weight')!.dataSync();
  assert.ok(a[0] - initial[0] > 0.1, `the head learnt to weigh the first feature (${initial[0]} → ${a[0]})`);
});
