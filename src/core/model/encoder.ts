/**
 * A BERT-family encoder (post-LayerNorm, as Hugging Face's BertModel) over tf.Variable parameters.
 *
 * Parameters are kept under their Hugging Face names and in PyTorch's layout ([out, in] for Linear
 * weights), so `named()`, checkpoints and imports round-trip with PyTorch without reshuffling; `linear`
 * (kernels.ts) multiplies by the transpose with plain 2-D products, which is the fast path on wasm.
 */
import type { TokenBatch } from './batch';
import type { EncoderConfig } from './config';
import { validateEncoderConfig } from './config';
import { filled, normal, subSeed } from './init';
import { attention, dropout, geluErf, linear } from './kernels';
import type { LoraAdapter } from './lora';
import type { NamedArray } from './safetensors';
import { tf, variableOf } from './tf';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from './tf';

export interface EncoderOutput {
  hidden: Tensor3D; // [B, T, H]
  /** Mean of the hidden states over real (mask 1) tokens. */
  pooled: Tensor2D; // [B, H]
  /** Hidden state of the first token ([CLS]). */
  cls: Tensor2D; // [B, H]
}

export interface ForwardOptions {
  adapter?: LoraAdapter;
  /** Dropout is applied only when training. */
  training?: boolean;
  /** Dropout seed for this call; the same seed gives the same dropout masks. */
  seed?: number;
}

/** BERT's initializer_range: weights start as N(0, 0.02). */
const INIT_STD = 0.02;
/** Added to attention scores of padding keys; exp() of it is exactly 0 in float32. */
const MASK_VALUE = -1e9;

/** Hugging Face parameter names of one encoder layer, with their shapes. */
function layerShapes(c: EncoderConfig, i: number): Array<[string, number[]]> {
  const p = `encoder.layer.${i}.`;
  const H = c.hidden;
  const I = c.intermediate;
  return [
    [`${p}attention.self.query.weight`, [H, H]],
    [`${p}attention.self.query.bias`, [H]],
    [`${p}attention.self.key.weight`, [H, H]],
    [`${p}attention.self.key.bias`, [H]],
    [`${p}attention.self.value.weight`, [H, H]],
    [`${p}attention.self.value.bias`, [H]],
    [`${p}attention.output.dense.weight`, [H, H]],
    [`${p}attention.output.dense.bias`, [H]],
    [`${p}attention.output.LayerNorm.weight`, [H]],
    [`${p}attention.output.LayerNorm.bias`, [H]],
    [`${p}intermediate.dense.weight`, [I, H]],
    [`${p}intermediate.dense.bias`, [I]],
    [`${p}output.dense.weight`, [H, I]],
    [`${p}output.dense.bias`, [H]],
    [`${p}output.LayerNorm.weight`, [H]],
    [`${p}output.LayerNorm.bias`, [H]],
  ];
}

/** Every base parameter (without the optional pooler), in Hugging Face's order. */
export function encoderShapes(c: EncoderConfig): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [
    ['embeddings.word_embeddings.weight', [c.vocabSize, c.hidden]],
    ['embeddings.position_embeddings.weight', [c.maxPositions, c.hidden]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, c.hidden]],
    ['embeddings.LayerNorm.weight', [c.hidden]],
    ['embeddings.LayerNorm.bias', [c.hidden]],
  ];
  for (let i = 0; i < c.layers; i++) out.push(...layerShapes(c, i));
  return out;
}

const POOLER: Array<[string, (c: EncoderConfig) => number[]]> = [
  ['pooler.dense.weight', (c) => [c.hidden, c.hidden]],
  ['pooler.dense.bias', (c) => [c.hidden]],
];

function initialValue(name: string, shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (name.endsWith('LayerNorm.weight')) return filled(n, 1);
  if (name.endsWith('.bias')) return filled(n, 0);
  return normal(n, INIT_STD, subSeed(seed, name));
}

export class Encoder {
  private dropoutCalls = 0;

  private constructor(
    readonly config: EncoderConfig,
    private readonly params: Map<string, Variable>,
  ) {}

  /** BERT initialisation: N(0, 0.02) weights and embeddings, LayerNorm 1/0, biases 0; the same seed gives the same weights. */
  static create(config: EncoderConfig, seed: number): Encoder {
    validateEncoderConfig(config, 'encoder config');
    const params = new Map<string, Variable>();
    for (const [name, shape] of encoderShapes(config)) params.set(name, variableOf(initialValue(name, shape, seed), shape));
    return new Encoder({ ...config }, params);
  }

  /** Builds an encoder from Hugging Face names and layout (without "bert."); a pooler is taken when present. */
  static fromNamed(config: EncoderConfig, named: Map<string, NamedArray>, where = 'encoder weights'): Encoder {
    validateEncoderConfig(config, where);
    const wanted: Array<[string, number[]]> = encoderShapes(config);
    if (named.has('pooler.dense.weight') || named.has('pooler.dense.bias')) wanted.push(...POOLER.map(([n, s]): [string, number[]] => [n, s(config)]));
    for (const [name, shape] of wanted) {
      const t = named.get(name);
      if (!t) throw new Error(`${where}: missing parameter '${name}'`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`${where}: parameter '${name}' has shape ${JSON.stringify(t.shape)}, the config needs ${JSON.stringify(shape)}`);
      }
    }
    const params = new Map<string, Variable>();
    for (const [name, shape] of wanted) params.set(name, variableOf(named.get(name)!.data, shape));
    return new Encoder({ ...config }, params);
  }

  get hasPooler(): boolean {
    return this.params.has('pooler.dense.weight');
  }

  /** Hugging Face BertModel names without "bert." (e.g. encoder.layer.0.attention.self.query.weight) → variable. */
  named(): Map<string, Variable> {
    return new Map(this.params);
  }

  get parameters(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  variables(): Variable[] {
    return [...this.params.values()];
  }

  /**
   * Marks the base parameters trainable or frozen. Frozen weights (LoRA training) skip their weight-gradient
   * products; an optimiser must then not be asked for their gradients.
   */
  setTrainable(trainable: boolean): void {
    for (const v of this.params.values()) v.trainable = trainable;
  }

  forward(batch: TokenBatch, options: ForwardOptions = {}): EncoderOutput {
    checkBatch(batch, this.config);
    const { batch: B, seqLen: T } = batch;
    const c = this.config;
    const training = options.training ?? false;
    const seed = options.seed ?? this.dropoutCalls++;
    let site = 0;
    const dropSeed = (): number => seed * 7919 + site++;
    // Same masks as tf.dropout(x, rate, undefined, dropSeed()); kernels.ts says why it is not tf.dropout.
    const drop = <R extends Tensor>(x: R, rate: number): R => (training && rate > 0 ? dropout(x, rate, dropSeed()) : x);
    return tf.tidy(() => {
      const ids = tf.tensor1d(batch.ids, 'int32');
      const types = tf.tensor1d(batch.typeIds, 'int32');
      const mask = tf.tensor2d(batch.mask, [B, T], 'int32').toFloat(); // [B, T]
      // [B, 1, 1, T]: padding keys get MASK_VALUE, broadcast over heads and queries
      const maskAdd = tf.mul(tf.sub(1, mask), MASK_VALUE).reshape([B, 1, 1, T]);

      const word = tf.gather(this.p('embeddings.word_embeddings.weight'), ids); // [B*T, H]
      const type = tf.gather(this.p('embeddings.token_type_embeddings.weight'), types); // [B*T, H]
      const pos = tf.slice(this.p('embeddings.position_embeddings.weight'), [0, 0], [T, c.hidden]); // [T, H]
      const emb = tf.add(tf.add(word, type).reshape([B, T, c.hidden]), pos).reshape<Tensor2D>([B * T, c.hidden]);
      let x = drop(this.layerNorm(emb, 'embeddings.LayerNorm'), c.hiddenDropout); // [B*T, H]

      // A scope per layer: its temporaries go when it ends, not when the whole forward pass does (the tape keeps
      // what the gradient needs), which bounds the wasm heap by one layer's scratch rather than all of them.
      const pass: LayerPass = { maskAdd, batch: B, seqLen: T, adapter: options.adapter, training, drop, dropSeed };
      for (let i = 0; i < c.layers; i++) x = tf.tidy(() => this.layer(i, x, pass));

      const hidden = x.reshape<Tensor3D>([B, T, c.hidden]);
      const counts = tf.maximum(mask.sum(1, true), 1); // [B, 1]: an empty row pools to zeros, not NaN
      const pooled = tf.div<Tensor2D>(tf.sum(tf.mul(hidden, mask.expandDims(2)), 1), counts); // [B, H]
      const cls = tf.slice(hidden, [0, 0, 0], [B, 1, c.hidden]).reshape<Tensor2D>([B, c.hidden]);
      return { hidden, pooled, cls };
    });
  }

  /** BERT's pooler, tanh(dense(cls)); only for weights that carry one (imported BERT checkpoints). */
  pooler(cls: Tensor2D): Tensor2D {
    if (!this.hasPooler) throw new Error('this encoder has no pooler weights (only imported BERT checkpoints with pooler.dense.* have one)');
    return tf.tidy(() => tf.tanh(tf.add(linear(cls, this.p('pooler.dense.weight')), this.p('pooler.dense.bias'))) as Tensor2D);
  }

  /** A new encoder whose word-embedding row j is this encoder's row keep[j] (a vocabulary compacted to the data's tokens). */
  restrictVocab(keep: Int32Array): Encoder {
    for (const id of keep) {
      if (!(id >= 0 && id < this.config.vocabSize)) throw new Error(`restrictVocab: token id ${id} is outside the vocabulary (size ${this.config.vocabSize})`);
    }
    const params = new Map<string, Variable>();
    for (const [name, v] of this.params) {
      const value = name === 'embeddings.word_embeddings.weight' ? tf.gather(v, tf.tensor1d(keep, 'int32')) : v.clone();
      params.set(name, tf.variable(value, v.trainable));
      value.dispose();
    }
    return new Encoder({ ...this.config, vocabSize: keep.length }, params);
  }

  clone(): Encoder {
    return new Encoder({ ...this.config }, cloneVariables(this.params));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  private p<R extends Tensor = Tensor2D>(name: string): R {
    const v = this.params.get(name);
    if (!v) throw new Error(`encoder has no parameter '${name}' (disposed?)`);
    return v as unknown as R;
  }

  private dense(x: Tensor2D, prefix: string): Tensor2D {
    return tf.add<Tensor2D>(linear(x, this.p(`${prefix}.weight`)), this.p<Tensor1D>(`${prefix}.bias`));
  }

  private layerNorm(x: Tensor2D, prefix: string): Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true); // [N, 1]
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.config.layerNormEps)));
    return tf.add<Tensor2D>(tf.mul(normed, this.p<Tensor1D>(`${prefix}.weight`)), this.p<Tensor1D>(`${prefix}.bias`));
  }

  private activation(x: Tensor2D): Tensor2D {
    switch (this.config.hiddenAct) {
      case 'relu':
        return tf.relu(x);
      case 'gelu_new': {
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      case 'gelu':
        return geluErf(x);
    }
  }

  /** A query/key/value projection, plus the adapter's low-rank update when it targets this projection. */
  private projection(x: Tensor2D, i: number, which: 'query' | 'key' | 'value', adapter: LoraAdapter | undefined, training: boolean, drop: Dropout): Tensor2D {
    const base = this.dense(x, `encoder.layer.${i}.attention.self.${which}`);
    const delta = adapter?.delta(i, which, training ? drop(x, adapter.config.dropout) : x);
    return delta ? tf.add(base, delta) : base;
  }

  /** Transformer block i (post-LN): self-attention, then the feed-forward network, each with a residual. x [B*T, H]. */
  private layer(i: number, x: Tensor2D, pass: LayerPass): Tensor2D {
    const { maskAdd, batch: B, seqLen: T, adapter, training, drop, dropSeed } = pass;
    const c = this.config;
    const nh = c.heads;
    const hd = c.hidden / nh;
    const p = `encoder.layer.${i}`;
    const q = tf.mul<Tensor2D>(this.projection(x, i, 'query', adapter, training, drop), 1 / Math.sqrt(hd));
    const k = this.projection(x, i, 'key', adapter, training, drop);
    const v = this.projection(x, i, 'value', adapter, training, drop);
    // The attention dropout takes the next site, as drop(softmax(…)) would.
    const keep = training && c.attentionDropout > 0 ? { rate: c.attentionDropout, seed: dropSeed() } : undefined;
    const ctx = attention(q, k, v, maskAdd, { batch: B, seqLen: T, heads: nh }, keep); // [B*T, H]
    const attn = this.layerNorm(tf.add(drop(this.dense(ctx, `${p}.attention.output.dense`), c.hiddenDropout), x), `${p}.attention.output.LayerNorm`);
    const inter = this.activation(this.dense(attn, `${p}.intermediate.dense`)); // [B*T, I]
    return this.layerNorm(tf.add(drop(this.dense(inter, `${p}.output.dense`), c.hiddenDropout), attn), `${p}.output.LayerNorm`);
  }
}

type Dropout = <R extends Tensor>(x: R, rate: number) => R;

/** What every layer of one forward pass shares. */
interface LayerPass {
  /** [B, 1, 1, T]: 0 for tokens, MASK_VALUE for padding keys. */
  maskAdd: Tensor;
  batch: number;
  seqLen: number;
  adapter: LoraAdapter | undefined;
  training: boolean;
  drop: Dropout;
  /** The next dropout site's seed, in the order the sites are visited. */
  dropSeed: () => number;
}

export function cloneVariables(params: Map<string, Variable>): Map<string, Variable> {
  const out = new Map<string, Variable>();
  for (const [name, v] of params) {
    const copy = v.clone();
    out.set(name, tf.variable(copy, v.trainable));
    copy.dispose();
  }
  return out;
}

function checkBatch(b: TokenBatch, c: EncoderConfig): void {
  const n = b.batch * b.seqLen;
  if (b.ids.length !== n || b.typeIds.length !== n || b.mask.length !== n) {
    throw new Error(`token batch: ids/typeIds/mask must each hold batch × seqLen = ${n} values (got ${b.ids.length}/${b.typeIds.length}/${b.mask.length})`);
  }
  if (b.seqLen > c.maxPositions) throw new Error(`token batch: ${b.seqLen} tokens per row exceed the encoder's ${c.maxPositions} positions`);
  for (let i = 0; i < n; i++) {
    // tf.gather does not check indices on every backend: an out-of-range id would read garbage.
    if (!(b.ids[i] >= 0 && b.ids[i] < c.vocabSize))
      throw new Error(`token batch: id ${b.ids[i]} at position ${i} is outside the vocabulary (size ${c.vocabSize})`);
    if (!(b.typeIds[i] >= 0 && b.typeIds[i] < c.typeVocabSize))
      throw new Error(`token batch: type id ${b.typeIds[i]} at position ${i} is outside 0..${c.typeVocabSize - 1}`);
  }
}
