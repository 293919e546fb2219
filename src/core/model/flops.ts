/**
 * Matmul FLOPs of one training step of Encoder + LoraAdapter + ScalarHead (the part of the work that
 * dominates; element-wise ops are left out), so a measured step time converts into achieved GFLOP/s.
 * Counts only the products a minimal autograd needs, as PyTorch would run them.
 */
import type { EncoderConfig, LoraConfig } from './config';

export interface StepFlops {
  forward: number;
  backward: number;
  total: number;
}

/**
 * `lora` undefined: full fine-tuning (every weight gets its gradient). With LoRA the base is frozen: the
 * backward pass needs input gradients down to the first layer's adapted projections and no base weight
 * gradients.
 */
export function rewardStepFlops(c: EncoderConfig, lora: LoraConfig | undefined, sequences: number, seqLen: number): StepFlops {
  const N = sequences * seqLen;
  const H = c.hidden;
  const I = c.intermediate;
  const lin = (inDim: number, out: number): number => 2 * N * inDim * out; // one [N, in]·[in, out] product
  const attnMatmul = 2 * sequences * seqLen * seqLen * H; // QKᵀ or P·V over all heads
  const targets = lora?.targets.length ?? 0;
  const r = lora?.r ?? 0;
  const loraFwd = targets * (lin(H, r) + lin(r, H));
  let forward = 0;
  let backward = 0;
  for (let i = 0; i < c.layers; i++) {
    const layerFwd = 4 * lin(H, H) + lin(H, I) + lin(I, H) + 2 * attnMatmul + loraFwd;
    forward += layerFwd;
    if (!lora) {
      // dx and dW of every product; the first layer's dx of the projections is still needed for the embeddings.
      backward += 2 * layerFwd;
      continue;
    }
    const first = i === 0;
    backward += lin(H, H) + lin(H, I) + lin(I, H); // dx of output dense, FFN in, FFN out
    backward += first ? 3 * attnMatmul : 4 * attnMatmul; // dP, dV, dQ (+ dK when the layer's input carries gradient)
    backward += targets * (lin(H, r) + lin(r, H)); // dA, dB
    if (!first) backward += 3 * lin(H, H) + loraFwd; // dx of the projections and adapters, down to the layer below
  }
  forward += 2 * sequences * H;
  backward += 2 * sequences * H;
  return { forward, backward, total: forward + backward };
}
