/**
 * Importing Hugging Face checkpoints: a BERT-family encoder folder (config.json + model.safetensors) and a
 * peft LoRA adapter folder (adapter_config.json + adapter_model.safetensors).
 */
import { existsSync, readFileSync } from 'node:fs';
import { FileError } from '../io/file-error';
import { join } from 'node:path';
import type { EncoderConfig, LoraConfig, LoraTarget } from './config';
import { Encoder } from './encoder';
import { LoraAdapter } from './lora';
import type { DecoderFolder } from './decoder';
import { DECODER_TYPES, configNumber, loadDecoderFolder } from './decoder';
import type { NamedArray } from './safetensors';
import { readSafetensors } from './safetensors';

/** Where a loaded weight lies in its folder: the file (relative) and the tensor's name in it. */
export type WeightSources = Map<string, { file: string; tensor: string }>;

export interface BertFolder {
  config: EncoderConfig;
  encoder: Encoder;
  /** Each weight's file and tensor name, for plans that read the base from its folder. */
  sources: WeightSources;
  hasPooler: boolean;
  /** tokenizer.json beside the weights, when there is one. */
  tokenizerFile?: string;
  modelType: string;
}

/** model_type values whose weights follow BertModel's names and maths (post-LN, absolute positions). */
const BERT_TYPES = ['bert'];
const ACTIVATIONS = ['gelu', 'gelu_new', 'relu'] as const;

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new FileError(file, 'not found (a Hugging Face model folder holds config.json and model.safetensors)');
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FileError(file, `cannot read JSON (${(e as Error).message})`);
  }
}

/** Reads config.json of a BertModel into an EncoderConfig. */
export function bertConfigFrom(cfg: Record<string, unknown>, file: string): EncoderConfig {
  const modelType = String(cfg.model_type);
  if (!BERT_TYPES.includes(modelType)) {
    throw new Error(`${file}: field 'model_type' is '${modelType}'; only BERT encoders (model_type 'bert') can be loaded`);
  }
  const act = typeof cfg.hidden_act === 'string' ? cfg.hidden_act : JSON.stringify(cfg.hidden_act ?? 'gelu');
  if (!(ACTIVATIONS as readonly string[]).includes(act)) throw new Error(`${file}: field 'hidden_act' is '${act}'; supported: ${ACTIVATIONS.join(', ')}`);
  const posType = cfg.position_embedding_type ?? 'absolute';
  if (posType !== 'absolute') throw new Error(`${file}: field 'position_embedding_type' is ${JSON.stringify(posType)}; only 'absolute' is supported`);
  return {
    vocabSize: configNumber(cfg, 'vocab_size', file),
    hidden: configNumber(cfg, 'hidden_size', file),
    layers: configNumber(cfg, 'num_hidden_layers', file),
    heads: configNumber(cfg, 'num_attention_heads', file),
    intermediate: configNumber(cfg, 'intermediate_size', file),
    maxPositions: configNumber(cfg, 'max_position_embeddings', file),
    typeVocabSize: configNumber(cfg, 'type_vocab_size', file, 2),
    layerNormEps: configNumber(cfg, 'layer_norm_eps', file, 1e-12),
    hiddenAct: act as EncoderConfig['hiddenAct'],
    hiddenDropout: configNumber(cfg, 'hidden_dropout_prob', file, 0.1),
    attentionDropout: configNumber(cfg, 'attention_probs_dropout_prob', file, 0.1),
  };
}

/** Loads a Hugging Face BERT folder; weight names may carry the "bert." prefix of BertFor* models or not. */
export function loadBertFolder(dir: string): BertFolder {
  const configFile = join(dir, 'config.json');
  const cfg = readJson(configFile);
  const config = bertConfigFrom(cfg, configFile);
  const weightsFile = join(dir, 'model.safetensors');
  if (!existsSync(weightsFile)) {
    const hint = existsSync(join(dir, 'pytorch_model.bin'))
      ? ' (only pytorch_model.bin is there: re-save it with save_pretrained(safe_serialization=True))'
      : '';
    throw new FileError(weightsFile, `not found${hint}`);
  }
  const { tensors } = readSafetensors(weightsFile);
  const named = new Map<string, NamedArray>();
  const sources: WeightSources = new Map();
  for (const [name, t] of tensors) {
    const bare = name.startsWith('bert.') ? name.slice(5) : name;
    named.set(bare, t);
    sources.set(bare, { file: 'model.safetensors', tensor: name });
  }
  const encoder = Encoder.fromNamed(config, named, weightsFile);
  const tokenizerFile = join(dir, 'tokenizer.json');
  return {
    config,
    encoder,
    hasPooler: encoder.hasPooler,
    sources,
    tokenizerFile: existsSync(tokenizerFile) ? tokenizerFile : undefined,
    modelType: String(cfg.model_type),
  };
}

/** A base folder of either family, told apart by config.json's model_type. */
export type BaseFolder = ({ kind: 'bert' } & BertFolder) | ({ kind: 'decoder' } & DecoderFolder);

export function loadBaseFolder(dir: string): BaseFolder {
  const cfg = readJson(join(dir, 'config.json'));
  if ((DECODER_TYPES as readonly string[]).includes(String(cfg.model_type))) return { kind: 'decoder', ...loadDecoderFolder(dir, cfg) };
  if (!BERT_TYPES.includes(String(cfg.model_type))) {
    throw new Error(
      `${join(dir, 'config.json')}: field 'model_type' is '${String(cfg.model_type)}'; bases must be BERT encoders (bert) or decoders (${DECODER_TYPES.join(', ')})`,
    );
  }
  return { kind: 'bert', ...loadBertFolder(dir) };
}

/** Loads a peft LoRA adapter folder for an encoder of the given shape. */
export function loadPeftAdapter(dir: string, encoder: EncoderConfig): LoraAdapter {
  const configFile = join(dir, 'adapter_config.json');
  const cfg = readJson(configFile);
  if (cfg.peft_type !== undefined && cfg.peft_type !== 'LORA')
    throw new Error(`${configFile}: field 'peft_type' is ${JSON.stringify(cfg.peft_type)}; only LORA adapters can be loaded`);
  for (const flag of ['use_rslora', 'use_dora', 'fan_in_fan_out'] as const) {
    if (cfg[flag] === true)
      throw new Error(`${configFile}: field '${flag}' is true; only plain LoRA (use_rslora, use_dora and fan_in_fan_out false) is supported`);
  }
  for (const pattern of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = cfg[pattern];
    if (v && typeof v === 'object' && Object.keys(v).length)
      throw new Error(`${configFile}: field '${pattern}' is set; per-module ranks or alphas are not supported`);
  }
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw new Error(`${configFile}: field 'bias' is ${JSON.stringify(cfg.bias)}; only 'none' is supported`);
  const rawTargets = cfg.target_modules;
  const targets = Array.isArray(rawTargets) ? rawTargets.map(String) : typeof rawTargets === 'string' ? [rawTargets] : [];
  if (!targets.length || targets.some((t) => !['query', 'key', 'value'].includes(t))) {
    throw new Error(`${configFile}: field 'target_modules' is ${JSON.stringify(rawTargets)}; it must be a non-empty subset of query, key, value`);
  }
  const config: LoraConfig = {
    r: configNumber(cfg, 'r', configFile),
    alpha: configNumber(cfg, 'lora_alpha', configFile),
    dropout: configNumber(cfg, 'lora_dropout', configFile, 0),
    targets: (['query', 'key', 'value'] as LoraTarget[]).filter((t) => targets.includes(t)),
  };
  const weightsFile = join(dir, 'adapter_model.safetensors');
  if (!existsSync(weightsFile)) throw new FileError(weightsFile, 'not found');
  const { tensors } = readSafetensors(weightsFile);
  const named = new Map<string, NamedArray>();
  for (const [name, t] of tensors) {
    // peft saves "base_model.model.<module>.lora_A.weight" (older versions also a ".default" adapter name)
    const bare = name
      .replace(/^base_model\.model\./, '')
      .replace(/^bert\./, '')
      .replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
    named.set(bare, t);
  }
  return LoraAdapter.fromNamed(encoder, config, named, weightsFile);
}
