import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etaText, recommendedPreset } from '../../../src/core/training/preset-choice';
import { accuracyTicks, stepTicks } from '../../../webview/lib/ticks';

// A first training run on a small machine (issue 13 point 9): the preset, the ETA and the chart's axes.

void describe('first training run', () => {
  void it('recommends tiny on few cores or little data, small with both', () => {
    assert.equal(recommendedPreset(2, 100_000).preset, 'tiny');
    assert.match(recommendedPreset(2, 100_000).reason, /^2 CPU cores/);
    assert.equal(recommendedPreset(16, 1_200).preset, 'tiny');
    assert.match(recommendedPreset(16, 1_200).reason, /1,200 preference pairs: too few/);
    assert.equal(recommendedPreset(16, 50_000).preset, 'small');
    assert.equal(recommendedPreset(16, undefined).preset, 'small');
  });

  void it('ETA from the rate of the steps done, none before the first step', () => {
    assert.equal(etaText(0, 100, 5), undefined);
    assert.equal(etaText(10, undefined, 5), undefined);
    assert.equal(etaText(10, 100, 5), '~45 s left');
    assert.equal(etaText(10, 100, 60), '~9 min left');
    assert.equal(etaText(1, 100, 120), '~3 h 18 min left');
  });

  void it('step ticks are distinct integers covering the range, also for one evaluation at step 1', () => {
    assert.deepEqual(stepTicks(1), [0, 1]);
    assert.deepEqual(stepTicks(3), [0, 1, 2, 3]);
    assert.deepEqual(stepTicks(100), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(stepTicks(130), [0, 50, 100, 150]);
    for (const max of [1, 2, 7, 13, 999, 12_345]) {
      const t = stepTicks(max);
      assert.equal(new Set(t).size, t.length, `${max}: ${t.join(' ')}`);
      assert.ok(t.every(Number.isInteger) && t[t.length - 1] >= max && t.length <= 8, `${max}: ${t.join(' ')}`);
    }
  });

  void it('accuracy ticks are whole percents', () => {
    assert.deepEqual(accuracyTicks(0.4, 1), [0.4, 0.6, 0.8, 1]);
    assert.deepEqual(accuracyTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(accuracyTicks(0.9, 1), [0.9, 0.95, 1]);
  });
});
