/**
 * A Qwen2/Llama decoder in ONNX (opset 17), op for op Hugging Face's Qwen2Model/LlamaModel at inference:
 * pre-RMSNorm blocks, rotary positions, grouped-query attention under a causal and a padding mask, SwiGLU
 * feed-forward, a final RMSNorm; the reward model reads the hidden state of each row's last real token
 * (right padding, positions 0…T-1 as the trainer feeds them). Weights are the checkpoint's Hugging Face
 * names without `model.`.
 */
import type { DecoderConfig } from '../model/config';
import type { NamedArray } from '../model/safetensors';
import { need } from '../model/safetensors';
import type { GraphBuilder, SequenceInputs } from './graph';
import { linear } from './graph';
import { DataType } from './proto';

/** Added to the scores of keys a query may not see (exp of it is 0 in float32), as the padding mask. */
const MASK_VALUE = -1e9;

/** The last real token's hidden state [B, H] of a decoder over one batch of rows. */
export function decoderLastToken(g: GraphBuilder, c: DecoderConfig, weights: Map<string, NamedArray>, seq: SequenceInputs, tag: string, where: string): string {
  const w = (n: string): NamedArray => need(weights, n, where);
  const vec = (n: string): string => g.weight(w(n).data, w(n).shape, `${tag}.${n}`);
  const proj = (x: string, prefix: string, bias: boolean): string =>
    bias
      ? linear(g, x, w(`${prefix}.weight`), w(`${prefix}.bias`), `${tag}.${prefix}`)
      : g.op('MatMul', [x, g.weightT(w(`${prefix}.weight`), `${tag}.${prefix}.wT`)], {}, `${tag}.${prefix}`);
  const rmsNorm = (x: string, name: string): string => {
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x], {}, `${tag}.${name}_sq`)], { axes: [-1], keepdims: 1 }, `${tag}.${name}_ms`);
    const rms = g.op(
      'Sqrt',
      [g.op('Add', [meanSquare, g.scalar(c.rmsNormEps, `rms_eps_${c.rmsNormEps}`)], {}, `${tag}.${name}_eps`)],
      {},
      `${tag}.${name}_rms`,
    );
    return g.op('Mul', [g.op('Div', [x, rms], {}, `${tag}.${name}_n`), vec(`${name}.weight`)], {}, `${tag}.${name}`);
  };
  const hd = c.headDim;
  const nRep = c.heads / c.kvHeads;
  const { cos, sin, mask } = shared(g, c, seq);
  const scale = g.scalar(1 / Math.sqrt(hd), `scale_${hd}`);
  const heads = (x: string, n: number, name: string): string =>
    g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, n, hd], [4], `heads_${n}x${hd}`)], {}, `${name}_r`)], { perm: [0, 2, 1, 3] }, `${name}_h`); // [B, n, T, hd]
  const rotate = (x: string, name: string): string => {
    // x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁] over the two halves of the head.
    const [x1, x2] = g.opN('Split', [x], 2, { axis: -1 }, `${name}_halves`);
    const half = g.op('Concat', [g.op('Neg', [x2], {}, `${name}_neg`), x1], { axis: -1 }, `${name}_rot`);
    return g.op('Add', [g.op('Mul', [x, cos], {}, `${name}_cos`), g.op('Mul', [half, sin], {}, `${name}_sin`)], {}, `${name}_rope`);
  };
  const repeatKv = (x: string, name: string): string => {
    if (nRep === 1) return x;
    // Query head i reads key/value head ⌊i / nRep⌋, as transformers' repeat_kv.
    const x5 = g.op('Unsqueeze', [x, g.int64([2])], {}, `${name}_5d`); // [B, kv, 1, T, hd]
    const copies = g.op(
      'Concat',
      Array.from({ length: nRep }, () => x5),
      { axis: 2 },
      `${name}_rep`,
    ); // [B, kv, nRep, T, hd]
    return g.op('Reshape', [copies, g.int64([0, c.heads, -1, hd], [4], `rep_shape_${c.heads}x${hd}`)], {}, `${name}_gqa`); // [B, heads, T, hd]
  };

  let x = g.op('Gather', [vec('embed_tokens.weight'), seq.ids], { axis: 0 }, `${tag}.embed`); // [B, T, H]
  for (let i = 0; i < c.layers; i++) {
    const p = `layers.${i}`;
    const t = `${tag}.${p}`;
    const h = rmsNorm(x, `${p}.input_layernorm`);
    const q = rotate(heads(proj(h, `${p}.self_attn.q_proj`, c.attentionBias), c.heads, `${t}.q`), `${t}.q`);
    const k = repeatKv(rotate(heads(proj(h, `${p}.self_attn.k_proj`, c.attentionBias), c.kvHeads, `${t}.k`), `${t}.k`), `${t}.k`);
    const v = repeatKv(heads(proj(h, `${p}.self_attn.v_proj`, c.attentionBias), c.kvHeads, `${t}.v`), `${t}.v`);
    const kT = g.op('Transpose', [k], { perm: [0, 1, 3, 2] }, `${t}.kT`);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT], {}, `${t}.qk`), scale], {}, `${t}.qk_scaled`), mask], {}, `${t}.scores`); // [B, heads, T, T]
    const probs = g.op('Softmax', [scores], { axis: -1 }, `${t}.probs`);
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, v], {}, `${t}.ctx_h`)], { perm: [0, 2, 1, 3] }, `${t}.ctx_t`);
    const merged = g.op('Reshape', [ctx, g.int64([0, 0, c.heads * hd], [3], `merged_${c.heads * hd}`)], {}, `${t}.ctx`); // [B, T, heads·hd]
    x = g.op('Add', [x, proj(merged, `${p}.self_attn.o_proj`, false)], {}, `${t}.attn_res`);
    const m = rmsNorm(x, `${p}.post_attention_layernorm`);
    const gate = proj(m, `${p}.mlp.gate_proj`, false);
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], {}, `${t}.gate_sig`)], {}, `${t}.silu`);
    const ffn = proj(g.op('Mul', [silu, proj(m, `${p}.mlp.up_proj`, false)], {}, `${t}.swiglu`), `${p}.mlp.down_proj`, false);
    x = g.op('Add', [x, ffn], {}, `${t}.ffn_res`);
  }
  const out = rmsNorm(x, 'norm'); // [B, T, H]
  return g.op('GatherND', [out, lastIndex(g, seq)], { batch_dims: 1 }, `${tag}.last`); // [B, H]
}

/** What every decoder over the same rows shares (the experts of a category): built once per rows and head width. */
const perRows = new WeakMap<SequenceInputs, Map<string, { cos: string; sin: string; mask: string }>>();

function shared(g: GraphBuilder, c: DecoderConfig, seq: SequenceInputs): { cos: string; sin: string; mask: string } {
  let byShape = perRows.get(seq);
  if (!byShape) perRows.set(seq, (byShape = new Map<string, { cos: string; sin: string; mask: string }>()));
  const key = `${c.headDim}/${c.ropeTheta}`;
  let s = byShape.get(key);
  if (!s) byShape.set(key, (s = { ...rotary(g, c, seq), mask: causalMask(g, seq) }));
  return s;
}

/** Each row's last real token [B, 1] (0 for an empty row, as the trainer clamps it). */
function lastIndex(g: GraphBuilder, seq: SequenceInputs): string {
  const count = g.op('ReduceSum', [seq.mask, g.int64([1])], { keepdims: 1 }, `${seq.mask}_count`);
  return g.op('Max', [g.op('Sub', [count, g.int64([1], [], 'one_i64')], {}, `${seq.mask}_last`), g.int64([0], [], 'zero_i64')], {}, `${seq.mask}_last0`);
}

/** cos and sin [B, 1, T, hd] of the rotary angles position · θ^(−2j/hd), computed in float32 as transformers does. */
function rotary(g: GraphBuilder, c: DecoderConfig, seq: SequenceInputs): { cos: string; sin: string } {
  const half = c.headDim / 2;
  const invFreq = new Float32Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / Math.pow(c.ropeTheta, (2 * j) / c.headDim);
  const pos = g.op('Unsqueeze', [g.op('Cast', [seq.positions], { to: DataType.FLOAT }, `${seq.positions}_f`), g.int64([2])], {}, `${seq.positions}_f3`); // [B, T, 1]
  const freqs = g.op('Mul', [pos, g.weight(invFreq, [half], `rope_inv_freq_${c.headDim}_${c.ropeTheta}`)], {}, `${seq.positions}_freqs`); // [B, T, hd/2]
  const emb = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }, `${seq.positions}_angles`), g.int64([1])], {}, `${seq.positions}_angles4`); // [B, 1, T, hd]
  return { cos: g.op('Cos', [emb], {}, `${seq.positions}_cos`), sin: g.op('Sin', [emb], {}, `${seq.positions}_sin`) };
}

/** The padding mask plus the causal one: [B, 1, T, T], 0 where a query may read a key. */
function causalMask(g: GraphBuilder, seq: SequenceInputs): string {
  const t = g.op('Shape', [seq.ids], { start: 1, end: 2 }, `${seq.ids}_T`);
  const ones = g.op(
    'ConstantOfShape',
    [g.op('Concat', [t, t], { axis: 0 }, `${seq.ids}_TT`)],
    { value: { name: 'one', dims: [1], dataType: DataType.FLOAT, raw: new Uint8Array(Float32Array.of(1).buffer) } },
    `${seq.ids}_ones`,
  );
  const lower = g.op('Trilu', [ones], { upper: 0 }, `${seq.ids}_lower`); // 1 on and below the diagonal
  const causal = g.op(
    'Mul',
    [g.op('Sub', [g.scalar(1, 'one'), lower], {}, `${seq.ids}_upper`), g.scalar(MASK_VALUE, 'causal_mask_value')],
    {},
    `${seq.ids}_causal`,
  ); // [T, T]
  return g.op('Add', [seq.maskAdd, causal], {}, `${seq.ids}_mask`);
}
