/**
 * LoRA adapters (Hu et al. 2021) on the encoder's attention projections, named and laid out as peft saves
 * them: W x + scale · B A x, with A [r, in], B [out, r] and scale = alpha / r.
 */
import type { EncoderConfig, LoraConfig, LoraTarget } from './config';
import { Encoder, cloneVariables } from './encoder';
import { subSeed, uniform } from './init';
import { linear } from './kernels';
import type { NamedArray } from './safetensors';
import { need } from './safetensors';
import { tf, variableOf } from './tf';
import type { Tensor2D, Variable } from './tf';

const TARGETS: readonly LoraTarget[] = ['query', 'key', 'value'];

function loraName(layer: number, target: LoraTarget, ab: 'A' | 'B'): string {
  return `encoder.layer.${layer}.attention.self.${target}.lora_${ab}.weight`;
}

function checkLoraConfig(c: LoraConfig, where: string): void {
  if (!(Number.isInteger(c.r) && c.r > 0)) throw new Error(`${where}: LoRA rank r must be a positive integer, got ${c.r}`);
  if (!(c.alpha > 0)) throw new Error(`${where}: LoRA alpha must be positive, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`${where}: LoRA dropout must be in [0, 1), got ${c.dropout}`);
  if (!c.targets.length || c.targets.some((t) => !TARGETS.includes(t))) {
    throw new Error(`${where}: LoRA targets must be a non-empty subset of query, key, value, got ${JSON.stringify(c.targets)}`);
  }
}

export class LoraAdapter {
  readonly scale: number;

  private constructor(
    readonly config: LoraConfig,
    private readonly layers: number,
    private readonly params: Map<string, Variable>,
  ) {
    this.scale = config.alpha / config.r;
  }

  /** A as peft initialises it (kaiming-uniform with a = √5, i.e. U(±1/√in)), B = 0: the adapter starts as a no-op. */
  static create(encoder: EncoderConfig, config: LoraConfig, seed: number): LoraAdapter {
    checkLoraConfig(config, 'LoRA config');
    const params = new Map<string, Variable>();
    const H = encoder.hidden;
    for (let i = 0; i < encoder.layers; i++) {
      for (const t of config.targets) {
        const a = loraName(i, t, 'A');
        params.set(a, variableOf(uniform(config.r * H, 1 / Math.sqrt(H), subSeed(seed, a)), [config.r, H]));
        params.set(loraName(i, t, 'B'), variableOf(new Float32Array(H * config.r), [H, config.r]));
      }
    }
    return new LoraAdapter({ ...config, targets: [...config.targets] }, encoder.layers, params);
  }

  /** From peft names without "base_model.model." (encoder.layer.{i}.attention.self.{target}.lora_A.weight …). */
  static fromNamed(encoder: EncoderConfig, config: LoraConfig, named: Map<string, NamedArray>, where = 'LoRA weights'): LoraAdapter {
    checkLoraConfig(config, where);
    const H = encoder.hidden;
    const wanted: Array<[string, number[]]> = [];
    for (let i = 0; i < encoder.layers; i++) {
      for (const t of config.targets) wanted.push([loraName(i, t, 'A'), [config.r, H]], [loraName(i, t, 'B'), [H, config.r]]);
    }
    for (const [name, shape] of wanted) {
      const t = named.get(name);
      if (!t) throw new Error(`${where}: missing parameter '${name}'`);
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
        throw new Error(`${where}: parameter '${name}' has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)} (r ${config.r}, hidden ${H})`);
      }
    }
    const params = new Map<string, Variable>();
    for (const [name, shape] of wanted) params.set(name, variableOf(named.get(name)!.data, shape));
    return new LoraAdapter({ ...config, targets: [...config.targets] }, encoder.layers, params);
  }

  /** peft names without "base_model.model.": lora_A.weight [r, in], lora_B.weight [out, r]. */
  named(): Map<string, Variable> {
    return new Map(this.params);
  }

  variables(): Variable[] {
    return [...this.params.values()];
  }

  /** scale · x Aᵀ Bᵀ for one projection, or undefined when the adapter does not target it. */
  delta(layer: number, target: LoraTarget, x: Tensor2D /* [N, in] */): Tensor2D | undefined {
    const a = this.params.get(loraName(layer, target, 'A'));
    const b = this.params.get(loraName(layer, target, 'B'));
    if (!a || !b) return undefined;
    return tf.mul<Tensor2D>(linear(linear(x, a as unknown as Tensor2D), b as unknown as Tensor2D), this.scale); // [N, out]
  }

  /** A new encoder whose targeted weights are W + scale · B A: the same outputs with no adapter (export, tests). */
  merge(encoder: Encoder): Encoder {
    if (encoder.config.layers !== this.layers) throw new Error(`LoRA merge: the adapter has ${this.layers} layers, the encoder ${encoder.config.layers}`);
    const named = (vs: Map<string, Variable>): Map<string, NamedArray> =>
      new Map([...vs].map(([name, v]) => [name, { shape: v.shape, data: v.dataSync() as Float32Array }]));
    return Encoder.fromNamed(encoder.config, mergeLoraWeights(named(encoder.named()), named(this.params), this.scale, 'LoRA merge'), 'LoRA merge');
  }

  clone(): LoraAdapter {
    return new LoraAdapter({ ...this.config, targets: [...this.config.targets] }, this.layers, cloneVariables(this.params));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/**
 * The LoRA merge, W + scale · B A for every adapted projection of either family (BERT's attention
 * projections or a decoder's q/k/v): the same outputs with no adapter. Untouched weights stay the same
 * arrays, so an export stores them once. The one merge: `LoraAdapter.merge` and the ONNX export use it.
 */
export function mergeLoraWeights(encoder: Map<string, NamedArray>, lora: Map<string, NamedArray>, scale: number, where: string): Map<string, NamedArray> {
  const out = new Map(encoder);
  for (const [name, a] of lora) {
    // BERT's attention projections, or a decoder's (Qwen2/Llama).
    const m = /^(encoder\.layer\.\d+\.attention\.self\.(?:query|key|value)|layers\.\d+\.self_attn\.[qkv]_proj)\.lora_A\.weight$/.exec(name);
    if (!m) continue;
    const b = need(lora, `${m[1]}.lora_B.weight`, where);
    const w = need(encoder, `${m[1]}.weight`, where);
    const [outDim, inDim] = w.shape;
    const r = a.shape[0];
    if (a.shape[1] !== inDim || b.shape[0] !== outDim || b.shape[1] !== r)
      throw new Error(`${where}: LoRA ${m[1]} has A ${JSON.stringify(a.shape)} and B ${JSON.stringify(b.shape)}, the weight is ${JSON.stringify(w.shape)}`);
    const merged = new Float32Array(w.data);
    for (let o = 0; o < outDim; o++) {
      for (let i = 0; i < inDim; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b.data[o * r + k] * a.data[k * inDim + i];
        merged[o * inDim + i] += scale * s;
      }
    }
    out.set(`${m[1]}.weight`, { shape: w.shape, data: merged });
  }
  return out;
}
