/**
 * The reward model written with stock TensorFlow.js ops only (transposed and batched matMul, autograd
 * gradients, no custom kernels), over the same variables as Encoder + LoraAdapter + ScalarHead.
 * It is the yardstick of bench/train-speed and the reference the fast path is tested against
 * (test/unit/model/fast-path.test.ts): it must stay the textbook formula, not be optimised.
 */
import type { TokenBatch } from './batch';
import type { EncoderConfig } from './config';
import type { Encoder } from './encoder';
import type { ScalarHead } from './heads';
import type { LoraAdapter } from './lora';
import { tf } from './tf';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from './tf';

export interface PlainOptions {
  adapter?: LoraAdapter;
  training?: boolean;
  seed?: number;
}

/** Mean-pooled rewards σ(head(pool(encoder(batch)))) [B], as ScalarHead.forward(Encoder.forward(…).pooled). */
export function plainReward(encoder: Encoder, head: ScalarHead, batch: TokenBatch, options: PlainOptions = {}): Tensor1D {
  const c: EncoderConfig = encoder.config;
  const enc = encoder.named();
  const lora = options.adapter?.named();
  const hw = head.named();
  const P = (name: string): Tensor2D => enc.get(name) as unknown as Tensor2D;
  const { batch: B, seqLen: T } = batch;
  const H = c.hidden;
  const nh = c.heads;
  const hd = H / nh;
  const training = options.training ?? false;
  let site = 0;
  const seed = options.seed ?? 0;
  const drop = <R extends Tensor>(x: R, rate: number): R => (training && rate > 0 ? (tf.dropout(x, rate, undefined, seed * 7919 + site++) as R) : x);
  const dense = (x: Tensor2D, prefix: string): Tensor2D => tf.add(tf.matMul(x, P(`${prefix}.weight`), false, true), P(`${prefix}.bias`));
  const layerNorm = (x: Tensor2D, prefix: string): Tensor2D => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, c.layerNormEps)));
    return tf.add(tf.mul(normed, P(`${prefix}.weight`)), P(`${prefix}.bias`));
  };
  const act = (x: Tensor2D): Tensor2D => {
    if (c.hiddenAct === 'relu') return tf.relu(x);
    if (c.hiddenAct === 'gelu_new')
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  };
  const projection = (x: Tensor2D, i: number, which: string): Tensor2D => {
    const prefix = `encoder.layer.${i}.attention.self.${which}`;
    const base = dense(x, prefix);
    if (!lora) return base;
    const xin = training ? drop(x, options.adapter!.config.dropout) : x;
    const a = lora.get(`${prefix}.lora_A.weight`) as unknown as Tensor2D | undefined;
    const b = lora.get(`${prefix}.lora_B.weight`) as unknown as Tensor2D | undefined;
    if (!a || !b) return base;
    return tf.add(base, tf.mul(tf.matMul(tf.matMul(xin, a, false, true), b, false, true), options.adapter!.scale));
  };
  return tf.tidy(() => {
    const mask = tf.tensor2d(batch.mask, [B, T], 'int32').toFloat();
    const maskAdd = tf.mul(tf.sub(1, mask), -1e9).reshape([B, 1, 1, T]);
    const word = tf.gather(P('embeddings.word_embeddings.weight'), tf.tensor1d(batch.ids, 'int32'));
    const type = tf.gather(P('embeddings.token_type_embeddings.weight'), tf.tensor1d(batch.typeIds, 'int32'));
    const pos = tf.slice(P('embeddings.position_embeddings.weight'), [0, 0], [T, H]);
    let x = drop(layerNorm(tf.add(tf.add(word, type).reshape([B, T, H]), pos).reshape([B * T, H]), 'embeddings.LayerNorm'), c.hiddenDropout);
    for (let i = 0; i < c.layers; i++) {
      const p = `encoder.layer.${i}`;
      const split = (t: Tensor2D): Tensor3D =>
        t
          .reshape([B, T, nh, hd])
          .transpose([0, 2, 1, 3])
          .reshape([B * nh, T, hd]);
      const q = split(tf.mul(projection(x, i, 'query'), 1 / Math.sqrt(hd)));
      const k = split(projection(x, i, 'key'));
      const v = split(projection(x, i, 'value'));
      const scores = tf.add(tf.matMul(q, k, false, true).reshape([B, nh, T, T]), maskAdd);
      const probs = drop(tf.softmax(scores), c.attentionDropout).reshape<Tensor3D>([B * nh, T, T]);
      const ctx = tf
        .matMul(probs, v)
        .reshape([B, nh, T, hd])
        .transpose([0, 2, 1, 3])
        .reshape<Tensor2D>([B * T, H]);
      const attn = layerNorm(tf.add(drop(dense(ctx, `${p}.attention.output.dense`), c.hiddenDropout), x), `${p}.attention.output.LayerNorm`);
      const inter = act(dense(attn, `${p}.intermediate.dense`));
      x = layerNorm(tf.add(drop(dense(inter, `${p}.output.dense`), c.hiddenDropout), attn), `${p}.output.LayerNorm`);
    }
    const hidden = x.reshape([B, T, H]);
    const pooled = tf.div<Tensor2D>(tf.sum(tf.mul(hidden, mask.expandDims(2)), 1), tf.maximum(mask.sum(1, true), 1));
    const w = hw.get('weight') as unknown as Tensor2D;
    return tf.sigmoid(tf.add(tf.matMul(pooled, w, false, true), hw.get('bias') as unknown as Tensor1D)).reshape<Tensor1D>([-1]);
  });
}
