import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type * as TF from '@tensorflow/tfjs';
import type { TokenBatch } from '../model/batch';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint';
import type { BaseConfig, LoraConfig } from '../model/config';
import { isDecoder } from '../model/config';
import { TextTokenizer } from '../model/tokenizer';
import type { Encoder } from '../model/encoder';
import type { ScalarHead } from '../model/heads';
import type { LoraAdapter } from '../model/lora';
import { tf } from '../model/tf';
import type { VocabMapJson } from '../model/vocab';
import { VocabMap } from '../model/vocab';
import type { NamedParams } from './fit';
import type { Aggregation } from './aggregate';
import { RunFolder } from './run-folder';
import type { Method } from './types';
import { FileError } from '../io/file-error';

/**
 * The structure of a trained run (`model.json`): which checkpoint holds which part and how the parts
 * combine into a reward. Written when training ends; read by evaluation, scoring and export.
 */
export interface RunModel {
  format: 'rewardlens-model';
  version: 1;
  method: Method;
  /** The base's configuration: a BERT-family encoder, or a decoder LM (then only the PyTorch trainer and the ONNX export run it). */
  encoder: BaseConfig;
  lora: LoraConfig;
  maxLen: number;
  routerMaxLen: number;
  mlpHidden: number;
  /** The general RM every method starts from; `single` scores with it alone. */
  base: string;
  /** dmoerm: the router's classes (task categories) and its checkpoint. */
  router?: { component: string; categories: string[] };
  /** Inner MoE per category (dmoerm), or one named 'all' (dmoerm-no-outer). */
  inner?: Record<string, InnerModel>;
  /** Ensemble members and their aggregation (mean, wco, uwo). */
  ensemble?: { members: string[]; aggregation: Aggregation; lambda: number };
}

export interface InnerModel {
  phase1: string;
  experts: Array<{ point: string; component: string }>;
  /** Absent when the category had too little data for Phase 3: Phase 1's head then scores it. */
  phase3?: string;
}

/** Reads a finished run's model.json, or says why it cannot. */
export function readRunModel(runDir: string): { run: RunFolder; model: RunModel } {
  const run = RunFolder.open(runDir);
  const file = run.file('model');
  if (!existsSync(file)) throw new FileError(runDir, `the run has not finished training (no model.json); resume it first`);
  let model: RunModel;
  try {
    model = JSON.parse(readFileSync(file, 'utf8')) as RunModel;
  } catch (e) {
    throw new FileError(file, `cannot read JSON (${(e as Error).message})`);
  }
  if (model.format !== 'rewardlens-model' || model.version !== 1) throw new FileError(file, `not a RewardLens run model (format ${JSON.stringify(model.format)}, version ${JSON.stringify(model.version)})`);
  return { run, model };
}

/** The tokenizer a run trained with, reading sequences as its base's family does. */
export function runTokenizer(run: RunFolder, model: Pick<RunModel, 'encoder'>): TextTokenizer {
  return TextTokenizer.fromFile(run.file('tokenizer'), isDecoder(model.encoder) ? 'decoder' : 'bert');
}

/** The compact vocabulary a run's checkpoints were trained with (`vocab.json`). */
export function readRunVocab(run: RunFolder): VocabMap {
  return VocabMap.fromJSON(JSON.parse(readFileSync(run.file('vocab'), 'utf8')) as VocabMapJson);
}

/** A token-level reward network: encoder (optionally with one LoRA expert) → pooled z → scalar head. */
export class RewardNet {
  constructor(
    readonly encoder: Encoder,
    readonly head: ScalarHead,
    readonly adapter?: LoraAdapter,
  ) {}

  reward(batch: TokenBatch, training: boolean, seed: number): TF.Tensor1D {
    return this.head.forward(this.embed(batch, training, seed));
  }

  embed(batch: TokenBatch, training = false, seed = 0): TF.Tensor2D {
    return this.encoder.forward(batch, { adapter: this.adapter, training, seed }).pooled; // [B, H]
  }
}

/** File-system-safe component names that stay unique for any category or point name. */
export function componentName(...parts: string[]): string {
  const slug = parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40)).join('-');
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 6);
  return /^[A-Za-z0-9_-]+$/.test(parts.join('')) ? parts.join('-') : `${slug}-${digest}`;
}

export function saveParts(file: string, parts: Record<string, NamedParams>, manifest: Record<string, unknown>): void {
  saveCheckpoint(file, parts, manifest);
}

/** Loads a checkpoint's tensors into existing parameters, checking names and shapes. */
export function loadParts(file: string, parts: Record<string, NamedParams>): Record<string, unknown> {
  const loaded = loadCheckpoint(file);
  for (const [part, params] of Object.entries(parts)) {
    const stored = loaded.parts[part];
    if (!stored) throw new FileError(file, `checkpoint has no part '${part}' (has ${Object.keys(loaded.parts).join(', ')})`);
    for (const [name, variable] of params.named()) {
      const t = stored.get(name);
      if (!t) throw new FileError(file, `part '${part}' has no tensor '${name}'`);
      if (t.shape.join('x') !== variable.shape.join('x')) {
        throw new FileError(file, `${part}/${name} has shape [${t.shape.join(', ')}], the model expects [${variable.shape.join(', ')}]`);
      }
      tf.tidy(() => variable.assign(tf.tensor(t.data, t.shape)));
    }
  }
  return loaded.manifest;
}
