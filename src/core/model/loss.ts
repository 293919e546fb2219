/** Training objectives and the pairwise agreement metric. */
import { tf } from './tf';
import type { Scalar, Tensor1D, Tensor2D } from './tf';

/**
 * The paper's ranking loss (eq. 7): −mean log σ(r_w − r_l), written as mean softplus(r_l − r_w), which
 * neither overflows nor loses precision for large margins.
 */
export function pairwiseLoss(rw: Tensor1D /* [P] */, rl: Tensor1D /* [P] */): Scalar {
  return tf.tidy(() => tf.mean<Scalar>(tf.softplus(tf.sub(rl, rw))));
}

/** Mean softmax cross-entropy of integer labels (the router's objective). */
export function crossEntropy(logits: Tensor2D /* [B, C] */, labels: Int32Array): Scalar {
  const [B, C] = logits.shape;
  if (labels.length !== B) throw new Error(`crossEntropy: ${labels.length} labels for ${B} rows of logits`);
  for (const l of labels) if (!(l >= 0 && l < C)) throw new Error(`crossEntropy: label ${l} is outside 0..${C - 1}`);
  return tf.tidy(() => {
    const picked = tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.tensor1d(labels, 'int32'), C)).sum(1); // [B]
    return tf.neg(tf.mean(picked)) as Scalar;
  });
}

/**
 * Fraction of pairs whose winner scores strictly higher. A tie counts as wrong: a model that gives every
 * response the same reward must score 0, not 0.5. NaN when there are no pairs.
 */
export function pairAccuracy(rw: Float32Array, rl: Float32Array): number {
  if (rw.length !== rl.length) throw new Error(`pairAccuracy: ${rw.length} winner rewards but ${rl.length} loser rewards`);
  if (!rw.length) return NaN;
  let right = 0;
  for (let i = 0; i < rw.length; i++) if (rw[i] > rl[i]) right++;
  return right / rw.length;
}
