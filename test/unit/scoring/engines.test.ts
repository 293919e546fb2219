import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agreementProvenance, engineDifferenceNote } from '../../../src/core/scoring/engines';

// Every agreement figure names its engine and the pairs it counts (issue 13 point 6: the evaluation report
// and the disagreement explorer showed 57.7% and 56.6% for one model and file without saying why).

void describe('agreement provenance', () => {
  void it('names the share, the pairs counted and the engine', () => {
    const onnx = agreementProvenance('onnx', 395, 698);
    assert.match(
      onnx,
      /^agreement 56\.6% of 698 human pairs \(onnxruntime, exported model, pairs compared on reward logits; every non-tied pair of every record, equal rewards count as disagreement\)$/,
    );
    assert.match(
      agreementProvenance('training', 403, 698),
      /^agreement 57\.7% of 698 human pairs \(training engine \(TF\.js\), run checkpoints, pairs compared on σ rewards;/,
    );
    assert.match(agreementProvenance('onnx', 0, 0), /^agreement – of 0 human pairs/);
  });

  void it('each view points at the other engine and why they can differ', () => {
    assert.match(engineDifferenceNote('onnx'), /evaluation report .* training engine .* σ saturates/);
    assert.match(engineDifferenceNote('training'), /disagreement explorer and rewardlens score .* ONNX model on reward logits/);
  });
});
