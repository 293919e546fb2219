/**
 * Decoder LM bases of the Qwen2/Llama family, as weights only: the TypeScript side reads their config and
 * safetensors, compacts the vocabulary and writes initial weights into a training plan; the PyTorch trainer
 * runs them (Hugging Face's Qwen2Model/LlamaModel) and the ONNX exporter rebuilds their forward pass
 * (export/decoder-graph.ts). Names are Hugging Face's without the `model.` prefix of *ForCausalLM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../io/file-error';
import type { CheckpointPart, StoredTensor } from './checkpoint';
import type { DecoderConfig, LoraConfig, LoraTarget } from './config';
import { subSeed, uniform } from './init';
import type { WeightSources } from './hf-import';
import type { NamedArray } from './safetensors';
import { readSafetensors } from './safetensors';

export const DECODER_TYPES = ['qwen2', 'llama'] as const;

/** peft's module names for the LoRA targets, which are named after BERT's (query, key, value). */
export const DECODER_LORA_MODULE: Record<LoraTarget, string> = { query: 'q_proj', key: 'k_proj', value: 'v_proj' };

/** A number field of a Hugging Face config.json (or its fallback), or an error naming the file and field. */
export function configNumber(cfg: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FileError(file, `field '${key}' must be a number, got ${JSON.stringify(cfg[key])}`);
  return v;
}

/** Reads config.json of a Qwen2 or Llama model; what this build cannot compute exactly is refused by name. */
export function decoderConfigFrom(cfg: Record<string, unknown>, file: string): DecoderConfig {
  const type = String(cfg.model_type);
  if (!(DECODER_TYPES as readonly string[]).includes(type))
    throw new FileError(file, `field 'model_type' is '${type}'; decoder bases must be ${DECODER_TYPES.join(' or ')}`);
  const act = cfg.hidden_act ?? 'silu';
  if (act !== 'silu') throw new FileError(file, `field 'hidden_act' is ${JSON.stringify(act)}; only 'silu' (SwiGLU) is supported`);
  // transformers 5 writes rope_parameters; 4.x rope_theta and rope_scaling.
  const rope = (typeof cfg.rope_parameters === 'object' && cfg.rope_parameters !== null ? cfg.rope_parameters : {}) as Record<string, unknown>;
  const scaling = (cfg.rope_scaling ?? null) as Record<string, unknown> | null;
  const ropeType = rope.rope_type ?? scaling?.rope_type ?? scaling?.type ?? 'default';
  if (ropeType !== 'default') throw new FileError(file, `rotary scaling ${JSON.stringify(ropeType)} is not supported (only plain rotary positions)`);
  if (cfg.use_sliding_window === true) throw new FileError(file, `field 'use_sliding_window' is true; only full attention is supported`);
  if (cfg.mlp_bias === true) throw new FileError(file, `field 'mlp_bias' is true; only bias-free feed-forward layers are supported`);
  const hidden = configNumber(cfg, 'hidden_size', file);
  const heads = configNumber(cfg, 'num_attention_heads', file);
  const kvHeads = configNumber(cfg, 'num_key_value_heads', file, heads);
  if (heads % kvHeads !== 0) throw new FileError(file, `num_attention_heads (${heads}) is not a multiple of num_key_value_heads (${kvHeads})`);
  const headDim = configNumber(cfg, 'head_dim', file, hidden / heads);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new FileError(file, `head width ${headDim} must be an even integer (rotary positions rotate pairs)`);
  return {
    architecture: type as DecoderConfig['architecture'],
    vocabSize: configNumber(cfg, 'vocab_size', file),
    hidden,
    layers: configNumber(cfg, 'num_hidden_layers', file),
    heads,
    kvHeads,
    headDim,
    intermediate: configNumber(cfg, 'intermediate_size', file),
    maxPositions: configNumber(cfg, 'max_position_embeddings', file),
    rmsNormEps: configNumber(cfg, 'rms_norm_eps', file, 1e-6),
    ropeTheta: configNumber(rope, 'rope_theta', file, typeof cfg.rope_theta === 'number' ? cfg.rope_theta : 10000),
    attentionBias: type === 'qwen2' ? true : cfg.attention_bias === true,
  };
}

/** Every parameter of the decoder's body (no LM head: a reward model reads hidden states) and its shape. */
export function decoderShapes(c: DecoderConfig): Map<string, number[]> {
  const H = c.hidden;
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const out = new Map<string, number[]>([['embed_tokens.weight', [c.vocabSize, H]]]);
  for (let i = 0; i < c.layers; i++) {
    const p = `layers.${i}`;
    out.set(`${p}.input_layernorm.weight`, [H]);
    for (const [name, width] of [
      ['q_proj', q],
      ['k_proj', kv],
      ['v_proj', kv],
    ] as const) {
      out.set(`${p}.self_attn.${name}.weight`, [width, H]);
      if (c.attentionBias) out.set(`${p}.self_attn.${name}.bias`, [width]);
    }
    out.set(`${p}.self_attn.o_proj.weight`, [H, q]);
    out.set(`${p}.post_attention_layernorm.weight`, [H]);
    out.set(`${p}.mlp.gate_proj.weight`, [c.intermediate, H]);
    out.set(`${p}.mlp.up_proj.weight`, [c.intermediate, H]);
    out.set(`${p}.mlp.down_proj.weight`, [H, c.intermediate]);
  }
  out.set('norm.weight', [H]);
  return out;
}

function stored(a: NamedArray): StoredTensor {
  return { shape: a.shape, dataSync: () => a.data };
}

/** A decoder's weights as plain arrays, checked against its configuration. */
export class DecoderWeights implements CheckpointPart {
  constructor(
    readonly config: DecoderConfig,
    readonly arrays: Map<string, NamedArray>,
  ) {}

  /** Picks the body's parameters out of `named` (names without `model.`), refusing missing or misshapen ones. */
  static fromNamed(config: DecoderConfig, named: Map<string, NamedArray>, where: string): DecoderWeights {
    const arrays = new Map<string, NamedArray>();
    for (const [name, shape] of decoderShapes(config)) {
      const t = named.get(name);
      if (!t) throw new FileError(where, `missing parameter '${name}'`);
      if (t.shape.join('x') !== shape.join('x'))
        throw new FileError(where, `parameter '${name}' has shape ${JSON.stringify(t.shape)}, the config says ${JSON.stringify(shape)}`);
      arrays.set(name, t);
    }
    return new DecoderWeights(config, arrays);
  }

  named(): Map<string, StoredTensor> {
    return new Map([...this.arrays].map(([n, a]) => [n, stored(a)]));
  }

  get parameters(): number {
    let n = 0;
    for (const a of this.arrays.values()) n += a.data.length;
    return n;
  }

  /** Only the embedding rows of `keep` (tokenizer ids), in that order: row i is compact id i. */
  restrictVocab(keep: Int32Array): DecoderWeights {
    const emb = this.arrays.get('embed_tokens.weight')!;
    const H = this.config.hidden;
    const rows = new Float32Array(keep.length * H);
    keep.forEach((id, i) => {
      if (!(id >= 0 && id < this.config.vocabSize)) throw new Error(`restrictVocab: token id ${id} is outside the vocabulary (size ${this.config.vocabSize})`);
      rows.set(emb.data.subarray(id * H, (id + 1) * H), i * H);
    });
    const arrays = new Map(this.arrays);
    arrays.set('embed_tokens.weight', { shape: [keep.length, H], data: rows });
    return new DecoderWeights({ ...this.config, vocabSize: keep.length }, arrays);
  }
}

/** A plain-array checkpoint part (initial LoRA weights of a decoder). */
class ArrayPart implements CheckpointPart {
  constructor(private readonly arrays: Map<string, NamedArray>) {}
  named(): Map<string, StoredTensor> {
    return new Map([...this.arrays].map(([n, a]) => [n, stored(a)]));
  }
}

/** A LoRA adapter on a decoder's attention projections as peft initialises it (A ~ U(±1/√in), B = 0), in peft's names. */
export function createDecoderLora(c: DecoderConfig, lora: LoraConfig, seed: number): CheckpointPart {
  const arrays = new Map<string, NamedArray>();
  const H = c.hidden;
  for (let i = 0; i < c.layers; i++) {
    for (const t of lora.targets) {
      const module = `layers.${i}.self_attn.${DECODER_LORA_MODULE[t]}`;
      const out = (t === 'query' ? c.heads : c.kvHeads) * c.headDim;
      const a = `${module}.lora_A.weight`;
      arrays.set(a, { shape: [lora.r, H], data: uniform(lora.r * H, 1 / Math.sqrt(H), subSeed(seed, a)) });
      arrays.set(`${module}.lora_B.weight`, { shape: [out, lora.r], data: new Float32Array(out * lora.r) });
    }
  }
  return new ArrayPart(arrays);
}

export interface DecoderFolder {
  config: DecoderConfig;
  weights: DecoderWeights;
  sources: WeightSources;
  tokenizerFile?: string;
  modelType: string;
}

/** Loads a Hugging Face Qwen2/Llama folder: config.json and model.safetensors (or its sharded index). */
export function loadDecoderFolder(dir: string, cfg: Record<string, unknown>): DecoderFolder {
  const configFile = join(dir, 'config.json');
  const config = decoderConfigFrom(cfg, configFile);
  const named = new Map<string, NamedArray>();
  const sources: WeightSources = new Map();
  for (const file of weightFiles(dir)) {
    for (const [name, t] of readSafetensors(file).tensors) {
      if (name.startsWith('lm_head.')) continue;
      const bare = name.startsWith('model.') ? name.slice(6) : name;
      named.set(bare, t);
      sources.set(bare, { file: basename(file), tensor: name });
    }
  }
  const weights = DecoderWeights.fromNamed(config, named, join(dir, 'model.safetensors'));
  const tokenizerFile = join(dir, 'tokenizer.json');
  return { config, weights, sources, tokenizerFile: existsSync(tokenizerFile) ? tokenizerFile : undefined, modelType: config.architecture };
}

function weightFiles(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let map: unknown;
    try {
      map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new FileError(index, `cannot read JSON (${(e as Error).message})`);
    }
    if (typeof map !== 'object' || map === null) throw new FileError(index, `field 'weight_map' is missing`);
    return [...new Set(Object.values(map).map(String))].sort().map((f) => join(dirname(index), f));
  }
  const hint = existsSync(join(dir, 'pytorch_model.bin')) ? ' (only pytorch_model.bin is there: re-save it with save_pretrained(safe_serialization=True))' : '';
  throw new FileError(single, `not found${hint}`);
}
