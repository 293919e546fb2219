/**
 * Which engine computed an agreement figure, said in the view that shows it. The evaluation report
 * (`rewardlens eval`, training) scores a run's checkpoints in the training engine on σ rewards; the
 * disagreement explorer, `rewardlens score` and the editor score the exported ONNX model in onnxruntime on
 * reward logits. Both count every non-tied human pair of every record (sampled only past
 * maxPairsPerRecord, 1,000 by default, on both sides) and count equal
 * rewards as a disagreement; they differ where σ saturates: two float32 σ rewards near 1 that the other
 * engine orders apart by 1e-7 become a tie (the demo model: 57.7% vs 56.6% on demo.test.jsonl).
 */
import { pct } from '../training/format';

export type AgreementEngine = 'onnx' | 'training';

const ENGINE_TEXT: Record<AgreementEngine, string> = {
  onnx: 'onnxruntime, exported model, pairs compared on reward logits',
  training: 'training engine (TF.js), run checkpoints, pairs compared on σ rewards',
};

/** `57.7% of 698 human pairs (onnxruntime, …; every non-tied pair, a tie in reward counts against)`. */
export function agreementProvenance(engine: AgreementEngine, agree: number, pairs: number): string {
  return `agreement ${pct(pairs > 0 ? agree / pairs : null)} of ${pairs.toLocaleString('en-US')} human pairs (${ENGINE_TEXT[engine]}; every non-tied pair of every record, equal rewards count as disagreement)`;
}

/** What the other engine's figure may differ by, and why: shown next to either figure. */
export function engineDifferenceNote(engine: AgreementEngine): string {
  return engine === 'onnx'
    ? 'The evaluation report scores the run’s checkpoints in the training engine on σ rewards; where σ saturates, pairs tie there and it can differ from this by a point.'
    : 'The disagreement explorer and rewardlens score use the exported ONNX model on reward logits; where σ saturates, pairs tie here and they can differ from this by a point.';
}
