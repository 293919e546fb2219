/**
 * Model configuration: the encoder's shape, LoRA settings and the two built-in presets.
 * Names follow Hugging Face's BertConfig where one exists (hidden_size → hidden, …).
 */

export interface EncoderConfig {
  vocabSize: number;
  /** Width of every token vector (BERT hidden_size). */
  hidden: number;
  layers: number;
  /** Attention heads; hidden must be a multiple of it. */
  heads: number;
  /** Width of the feed-forward layer (BERT intermediate_size). */
  intermediate: number;
  /** Longest sequence the position table holds (BERT max_position_embeddings). */
  maxPositions: number;
  /** Segment kinds (2: context and response). */
  typeVocabSize: number;
  layerNormEps: number;
  /** 'gelu' is BERT's exact erf GELU, 'gelu_new' the tanh approximation. */
  hiddenAct: 'gelu' | 'gelu_new' | 'relu';
  hiddenDropout: number;
  attentionDropout: number;
}

/**
 * A decoder LM of the Qwen2/Llama family (the paper's base family): pre-RMSNorm blocks, rotary positions,
 * grouped-query attention, SwiGLU feed-forward. Names follow Hugging Face's Qwen2Config/LlamaConfig. The
 * reward model reads the hidden state of the last real token (the sequence is causal: only that one has
 * seen the whole input).
 */
export interface DecoderConfig {
  /** model_type: qwen2 has biases on q/k/v, llama none (unless attention_bias). */
  architecture: 'qwen2' | 'llama';
  vocabSize: number;
  hidden: number;
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (grouped-query attention): heads is a multiple of it. */
  kvHeads: number;
  /** Width of one head (hidden / heads unless the config says otherwise). */
  headDim: number;
  intermediate: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Biases on the q, k and v projections. */
  attentionBias: boolean;
}

/** What a run's base is: a BERT-family encoder (presets, imported BERTs) or a decoder LM. */
export type BaseConfig = EncoderConfig | DecoderConfig;

export function isDecoder(c: BaseConfig): c is DecoderConfig {
  return 'architecture' in c;
}

/** The BERT configuration of a base the TensorFlow.js engine runs, or why it cannot run this one. */
export function encoderOnly(c: BaseConfig, what: string): EncoderConfig {
  if (isDecoder(c))
    throw new Error(
      `${what}: the base is a ${c.architecture} decoder, which the TensorFlow.js engine does not run; train it with --backend torch and score it through its ONNX export (rewardlens export)`,
    );
  return c;
}

export type LoraTarget = 'query' | 'key' | 'value';

export interface LoraConfig {
  r: number;
  alpha: number;
  /** Dropout on the LoRA branch's input, as peft's lora_dropout. */
  dropout: number;
  targets: LoraTarget[];
}

/** The paper's LoRA settings (DMoERM Table 5): rank 32, alpha 32, dropout 0.05 on query and value. */
export const DEFAULT_LORA: LoraConfig = { r: 32, alpha: 32, dropout: 0.05, targets: ['query', 'value'] };

export const PRESET_NAMES = ['tiny', 'small'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  /** The vocabulary comes from the tokenizer (and may be compacted to the dataset's tokens). */
  encoder: Omit<EncoderConfig, 'vocabSize'>;
  /** Tokens of (context, response) fed to the reward experts. */
  maxLen: number;
  /** Tokens fed to the router, which only needs the query to pick a category. */
  routerMaxLen: number;
  lora: LoraConfig;
}

export const PRESETS: Record<PresetName, Preset> = {
  // For tests and CI: trains in seconds on two CPU cores; the same shape as the reference tiny BERT.
  tiny: {
    encoder: {
      hidden: 64,
      layers: 2,
      heads: 4, // head width 16
      intermediate: 128, // 2× hidden: enough to learn toy preferences, half BERT's 4× to stay fast
      maxPositions: 128, // = maxLen: no position rows that are never trained
      typeVocabSize: 2, // context / response
      layerNormEps: 1e-12, // BERT's value, so imported weights behave as in PyTorch
      hiddenAct: 'gelu', // BERT's exact GELU
      hiddenDropout: 0.1, // BERT's defaults
      attentionDropout: 0.1,
    },
    maxLen: 128,
    routerMaxLen: 64, // queries are short; the router runs on every example and must be cheap
    lora: { r: 8, alpha: 8, dropout: 0.05, targets: ['query', 'value'] }, // rank 8 suffices at width 64; scale 1 as the paper's 32/32
  },
  // Real use on a laptop CPU (wasm): a BERT-mini-sized encoder (≈ 3M parameters besides embeddings).
  small: {
    encoder: {
      hidden: 256,
      layers: 4,
      heads: 4, // head width 64, as BERT
      intermediate: 1024, // BERT's 4× hidden
      maxPositions: 512, // BERT's table size, so pre-trained BERT-mini/small weights load unchanged
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenAct: 'gelu',
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    },
    maxLen: 256, // most (context, response) pairs of chat preference data fit; cost grows with T²
    routerMaxLen: 128,
    lora: { ...DEFAULT_LORA }, // the paper's Table 5
  },
};

/** Checks a configuration before tensors are made from it; `where` names its source in the message. */
export function validateEncoderConfig(c: EncoderConfig, where: string): void {
  const positive: Array<keyof EncoderConfig> = ['vocabSize', 'hidden', 'layers', 'heads', 'intermediate', 'maxPositions', 'typeVocabSize'];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${k} must be a positive integer, got ${String(v)}`);
  }
  if (c.hidden % c.heads !== 0) throw new Error(`${where}: hidden (${c.hidden}) is not a multiple of heads (${c.heads})`);
  if (!['gelu', 'gelu_new', 'relu'].includes(c.hiddenAct)) throw new Error(`${where}: hiddenAct '${c.hiddenAct}' is not gelu, gelu_new or relu`);
  for (const k of ['hiddenDropout', 'attentionDropout'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) throw new Error(`${where}: ${k} must be in [0, 1), got ${c[k]}`);
  }
}
