/**
 * A small builder of ONNX graphs (opset 17) and the pieces a RewardLens model is made of: a BERT encoder
 * (post-LN, masked-mean pooling, as src/core/model/encoder.ts computes it), the scalar value head, the
 * Phase-3 MLP and the router's classifier. Weights come as checkpoint arrays in PyTorch's [out, in]
 * layout and are transposed once for MatMul; the same array given twice becomes one initializer, so
 * encoders that share weights (a LoRA-merged expert keeps its Phase-1 key, FFN and embeddings) are
 * stored once.
 */
import type { EncoderConfig } from '../model/config';
import type { NamedArray } from '../model/safetensors';
import { need } from '../model/safetensors';
import type { AttributeValue, Dim, GraphProto, NodeProto, TensorProto, ValueInfo } from './proto';
import { AttrType, DataType } from './proto';

export type Attrs = Record<string, number | number[] | string | TensorProto | { float: number }>;

/** Added to attention scores of padding keys, as the training engine does (exp of it is 0 in float32). */
const MASK_VALUE = -1e9;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly byData = new WeakMap<object, Map<string, string>>();
  private readonly transposed = new WeakMap<Float32Array, Float32Array>();

  /** A fresh value name from a readable hint. */
  name(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./-]+/g, '_');
    let n = base;
    for (let k = 1; this.used.has(n); k++) n = `${base}_${k}`;
    this.used.add(n);
    return n;
  }

  input(name: string, elemType: DataType, shape: Dim[]): string {
    this.used.add(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` a graph output named `name` (through an Identity, so any value can be one). */
  output(name: string, value: string, elemType: DataType, shape: Dim[]): void {
    this.used.add(name);
    this.nodes.push({ name: `out_${name}`, opType: 'Identity', inputs: [value], outputs: [name], attributes: {} });
    this.outputs.push({ name, elemType, shape });
  }

  op(opType: string, inputs: string[], attrs: Attrs = {}, hint = opType): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0];
  }

  opN(opType: string, inputs: string[], outputs: number, attrs: Attrs = {}, hint = opType): string[] {
    const outs = Array.from({ length: outputs }, (_, k) => this.name(outputs === 1 ? hint : `${hint}_${k}`));
    const attributes: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = attribute(v);
    this.nodes.push({ name: this.name(`n_${hint}`), opType, inputs, outputs: outs, attributes });
    return outs;
  }

  /** A float32 initializer; the same array with the same shape is stored once. */
  weight(data: Float32Array, shape: number[], hint: string): string {
    return this.tensor(data, shape, DataType.FLOAT, hint);
  }

  /** An [out, in] Linear weight as the [in, out] matrix MatMul wants. */
  weightT(w: NamedArray, hint: string): string {
    const [rows, cols] = w.shape;
    let t = this.transposed.get(w.data);
    if (!t) {
      t = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w.data[r * cols + c];
      this.transposed.set(w.data, t);
    }
    return this.weight(t, [cols, rows], hint);
  }

  int64(values: number[] | BigInt64Array, shape: number[] = [values.length], hint = 'const_i64'): string {
    const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
    return this.tensor(data, shape, DataType.INT64, hint);
  }

  scalar(value: number, hint = 'const_f'): string {
    return this.tensor(Float32Array.of(value), [], DataType.FLOAT, hint);
  }

  private tensor(data: Float32Array | BigInt64Array, shape: number[], dataType: DataType, hint: string): string {
    const key = `${dataType}:${shape.join('x')}`;
    let names = this.byData.get(data);
    const known = names?.get(key);
    if (known) return known;
    const name = this.name(hint);
    this.initializers.push({ name, dims: shape, dataType, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    if (!names) this.byData.set(data, (names = new Map<string, string>()));
    names.set(key, name);
    return name;
  }

  graph(name: string): GraphProto {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}

function attribute(v: Attrs[string]): AttributeValue {
  if (typeof v === 'number') return { type: AttrType.INT, i: v };
  if (typeof v === 'string') return { type: AttrType.STRING, s: v };
  if (Array.isArray(v)) return { type: AttrType.INTS, ints: v };
  if ('float' in v) return { type: AttrType.FLOAT, f: v.float };
  return { type: AttrType.TENSOR, t: v };
}

/** What every encoder over one batch of sequences shares: compact ids, token types and the mask forms. */
export interface SequenceInputs {
  /** [B, T] int64, compact vocabulary ids. */
  ids: string;
  /** [B, T] int64, or undefined for all-zero types (router inputs). */
  types?: string;
  /** [B, T] int64 attention mask as given (1 token, 0 padding). */
  mask: string;
  /** [B, 1, 1, T] float: 0 for tokens, MASK_VALUE for padding. */
  maskAdd: string;
  /** [B, T, 1] float 0/1. */
  mask3: string;
  /** [B, 1] float: real tokens per row, at least 1 (an empty row pools to zeros, as in training). */
  counts: string;
  /** [B, T] int64: 0 … T-1 in every row. */
  positions: string;
}

/** Maps tokenizer ids to the run's compact embedding rows and derives the masks from attention_mask. */
export function sequenceInputs(g: GraphBuilder, lookup: string, ids: string, mask: string, types?: string): SequenceInputs {
  const cids = g.op('Gather', [lookup, ids], { axis: 0 }, `${ids}_compact`);
  const maskF = g.op('Cast', [mask], { to: DataType.FLOAT }, `${mask}_f`);
  const inv = g.op('Sub', [g.scalar(1, 'one'), maskF], {}, `${mask}_inv`);
  const add = g.op('Mul', [inv, g.scalar(MASK_VALUE, 'mask_value')], {}, `${mask}_add`);
  const maskAdd = g.op('Unsqueeze', [add, g.int64([1, 2])], {}, `${mask}_add4`);
  const mask3 = g.op('Unsqueeze', [maskF, g.int64([2])], {}, `${mask}_3d`);
  const sum = g.op('ReduceSum', [maskF, g.int64([1])], { keepdims: 1 }, `${mask}_sum`);
  const counts = g.op('Max', [sum, g.scalar(1, 'one')], {}, `${mask}_counts`);
  // Position ids 0..T-1 per row, computed from ids so their shape is the ids' own symbolic [B, T]: with a
  // Slice of the table the sequence dimension goes unknown and onnxruntime's SkipLayerNorm fusion is lost.
  const ones = g.op('Add', [g.op('Mul', [ids, g.int64([0], [], 'zero_i64')], {}, `${ids}_zeros`), g.int64([1], [], 'one_i64')], {}, `${ids}_ones`);
  const positions = g.op('Sub', [g.op('CumSum', [ones, g.int64([1], [], 'axis_1')], {}, `${ids}_cumsum`), g.int64([1], [], 'one_i64')], {}, `${ids}_positions`);
  return { ids: cids, types, mask, maskAdd, mask3, counts, positions };
}

/** y = x Wᵀ + b for a PyTorch Linear stored as `${prefix}.weight` / `${prefix}.bias`. */
export function linear(g: GraphBuilder, x: string, w: NamedArray, b: NamedArray, hint: string): string {
  const y = g.op('MatMul', [x, g.weightT(w, `${hint}.wT`)], {}, `${hint}_mm`);
  return g.op('Add', [y, g.weight(b.data, b.shape, `${hint}.b`)], {}, hint);
}

/**
 * The encoder's masked-mean pooled embedding [B, H] of one batch, op for op the computation of
 * Encoder.forward at inference (no dropout); `weights` are Hugging Face names without "bert.".
 */
export function encoderPooled(g: GraphBuilder, c: EncoderConfig, weights: Map<string, NamedArray>, seq: SequenceInputs, tag: string, where: string): string {
  const w = (n: string): NamedArray => need(weights, n, where);
  const vec = (n: string): string => g.weight(w(n).data, w(n).shape, `${tag}.${n}`);
  const H = c.hidden;
  const nh = c.heads;
  const hd = H / nh;
  const layerNorm = (x: string, prefix: string): string =>
    g.op('LayerNormalization', [x, vec(`${prefix}.weight`), vec(`${prefix}.bias`)], { axis: -1, epsilon: { float: c.layerNormEps } }, `${tag}.${prefix}`);
  const dense = (x: string, prefix: string): string => linear(g, x, w(`${prefix}.weight`), w(`${prefix}.bias`), `${tag}.${prefix}`);

  const word = g.op('Gather', [vec('embeddings.word_embeddings.weight'), seq.ids], { axis: 0 }, `${tag}.word`); // [B, T, H]
  const typeIndex = seq.types ?? g.int64([0], [], 'type_zero');
  const type = g.op('Gather', [vec('embeddings.token_type_embeddings.weight'), typeIndex], { axis: 0 }, `${tag}.type`); // [B, T, H] or [H]
  const pos = g.op('Gather', [vec('embeddings.position_embeddings.weight'), seq.positions], { axis: 0 }, `${tag}.pos`); // [B, T, H]
  const emb = g.op('Add', [g.op('Add', [word, type], {}, `${tag}.wt`), pos], {}, `${tag}.emb`);
  let x = layerNorm(emb, 'embeddings.LayerNorm'); // [B, T, H]

  const headsShape = g.int64([0, 0, nh, hd], [4], 'heads_shape');
  const mergedShape = g.int64([0, 0, H], [3], 'merged_shape');
  const scale = g.scalar(1 / Math.sqrt(hd), `scale_${hd}`);
  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.layer.${i}`;
    const split = (t: string, perm: number[], name: string): string =>
      g.op('Transpose', [g.op('Reshape', [t, headsShape], {}, `${tag}.${p}.${name}_r`)], { perm }, `${tag}.${p}.${name}_h`);
    const q = split(g.op('Mul', [dense(x, `${p}.attention.self.query`), scale], {}, `${tag}.${p}.q_scaled`), [0, 2, 1, 3], 'q'); // [B, nh, T, hd]
    const k = split(dense(x, `${p}.attention.self.key`), [0, 2, 3, 1], 'k'); // [B, nh, hd, T]
    const v = split(dense(x, `${p}.attention.self.value`), [0, 2, 1, 3], 'v'); // [B, nh, T, hd]
    const scores = g.op('Add', [g.op('MatMul', [q, k], {}, `${tag}.${p}.qk`), seq.maskAdd], {}, `${tag}.${p}.scores`); // [B, nh, T, T]
    const probs = g.op('Softmax', [scores], { axis: -1 }, `${tag}.${p}.probs`);
    const ctx4 = g.op('Transpose', [g.op('MatMul', [probs, v], {}, `${tag}.${p}.ctx_h`)], { perm: [0, 2, 1, 3] }, `${tag}.${p}.ctx_t`);
    const ctx = g.op('Reshape', [ctx4, mergedShape], {}, `${tag}.${p}.ctx`); // [B, T, H]
    const attn = layerNorm(g.op('Add', [dense(ctx, `${p}.attention.output.dense`), x], {}, `${tag}.${p}.attn_res`), `${p}.attention.output.LayerNorm`);
    const inter = activation(g, dense(attn, `${p}.intermediate.dense`), c.hiddenAct, `${tag}.${p}.act`);
    x = layerNorm(g.op('Add', [dense(inter, `${p}.output.dense`), attn], {}, `${tag}.${p}.out_res`), `${p}.output.LayerNorm`);
  }
  const summed = g.op('ReduceSum', [g.op('Mul', [x, seq.mask3], {}, `${tag}.masked`), g.int64([1])], { keepdims: 0 }, `${tag}.sum`); // [B, H]
  return g.op('Div', [summed, seq.counts], {}, `${tag}.pooled`);
}

function activation(g: GraphBuilder, x: string, kind: EncoderConfig['hiddenAct'], hint: string): string {
  switch (kind) {
    case 'relu':
      return g.op('Relu', [x], {}, hint);
    case 'gelu': {
      // opset 17 has no Gelu op (it arrives in 20): 0.5 x (1 + erf(x / √2)), the training engine's order.
      const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2, 'sqrt_two')], {}, `${hint}_s`)], {}, `${hint}_erf`);
      const xp = g.op('Mul', [x, g.op('Add', [erf, g.scalar(1, 'one')], {}, `${hint}_1p`)], {}, `${hint}_x1p`);
      return g.op('Mul', [xp, g.scalar(0.5, 'half')], {}, hint);
    }
    case 'gelu_new': {
      const cube = g.op('Mul', [g.scalar(0.044715, 'gelu_c'), g.op('Pow', [x, g.scalar(3, 'three')], {}, `${hint}_x3`)], {}, `${hint}_c`);
      const inner = g.op('Mul', [g.scalar(Math.sqrt(2 / Math.PI), 'gelu_k'), g.op('Add', [x, cube], {}, `${hint}_sum`)], {}, `${hint}_in`);
      const t = g.op('Add', [g.scalar(1, 'one'), g.op('Tanh', [inner], {}, `${hint}_tanh`)], {}, `${hint}_1p`);
      return g.op('Mul', [g.op('Mul', [g.scalar(0.5, 'half'), x], {}, `${hint}_h`), t], {}, hint);
    }
  }
}

/** The value head's logit z wᵀ + b → [B] (what RLHF optimises; σ of it is the `reward` output). */
export function scalarHead(g: GraphBuilder, z: string, head: Map<string, NamedArray>, tag: string, where: string): string {
  const y = linear(g, z, need(head, 'weight', where), need(head, 'bias', where), `${tag}.head`); // [B, 1]
  return g.op('Squeeze', [y, g.int64([1])], {}, `${tag}.logit`);
}

/** Phase 3's logit W1 PReLU(W0 z + b0) + b1 → [B]. */
export function mlpHead(g: GraphBuilder, z: string, mlp: Map<string, NamedArray>, tag: string, where: string): string {
  const w = (n: string): NamedArray => need(mlp, n, where);
  const h = linear(g, z, w('w0'), w('b0'), `${tag}.mlp0`);
  const act = g.op('PRelu', [h, g.weight(w('prelu').data, w('prelu').shape, `${tag}.prelu`)], {}, `${tag}.prelu_out`);
  const y = linear(g, act, w('w1'), w('b1'), `${tag}.mlp1`);
  return g.op('Squeeze', [y, g.int64([1])], {}, `${tag}.mlp_logit`);
}

/** σ of a head's logit: the reward in (0, 1) the heads were trained to output. */
export function sigmoid(g: GraphBuilder, logit: string, tag: string): string {
  return g.op('Sigmoid', [logit], {}, `${tag}.reward`);
}
