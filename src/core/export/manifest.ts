/**
 * The manifest written beside an exported model (MODEL.manifest.json): what the graph computes and from
 * what, so a scorer (ours, or Python with onnxruntime) needs nothing from the run folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Aggregation } from '../training/aggregate';
import type { Method } from '../training/types';
import { FileError } from '../io/file-error';
import { checkInput } from '../io/input-file';
import type { SequenceStyle, SpecialIds } from '../model/tokenizer';
import { TextTokenizer } from '../model/tokenizer';

export const EXPORT_FORMAT = 'rewardlens-onnx';
export const EXPORT_VERSION = 1;
/** LayerNormalization needs 17; Gelu (20) is spelled out with Erf so that ORT builds from 2022 load it. */
export const OPSET = 17;

/** One column of the capability_scores output: a Phase-2 expert's own head, σ(w_i z_i + b_i). */
export interface CapabilityColumn {
  category: string;
  point: string;
  zh: string;
  en: string;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  opset: number;
  method: Method;
  /** File names, relative to the manifest's folder. */
  model: string;
  /** The model's external data file (large models), relative to the manifest's folder. */
  data?: string;
  /**
   * SHA-256 of the .onnx bytes (followed, with external data, by the data file's SHA-256 as text): the
   * scoring cache's key, and a check that the pair belongs together.
   */
  modelSha256: string;
  tokenizer: string;
  /** Token budgets the inputs were truncated to in training (the scorer encodes records the same way). */
  maxLen: number;
  routerMaxLen: number;
  /** How inputs are laid out (TextTokenizer): absent for BERT-family models, 'decoder' for Qwen2/Llama bases. */
  style?: SequenceStyle;
  /** Special token ids; -1 for one a decoder's tokenizer lacks, eos where a decoder appends one. */
  special: SpecialIds;
  /** Columns of category_probs (dmoerm); ['all'] for dmoerm-no-outer; [] otherwise. */
  categories: string[];
  /** Columns of capability_scores, in order. */
  capabilities: CapabilityColumn[];
  ensemble?: { members: string[]; aggregation: Aggregation; lambda: number };
  inputs: string[];
  outputs: string[];
  training: {
    run: string;
    dataset: string | null;
    datasetSha256: string | null;
    labelsSha256: string | null;
    preset: string | null;
    seed: number | null;
  };
  createdAt: string;
}

/** MODEL.onnx → MODEL.manifest.json */
export function manifestFileFor(model: string): string {
  return model.replace(/\.onnx$/i, '') + '.manifest.json';
}

/** MODEL.onnx → MODEL.tokenizer.json */
export function tokenizerFileFor(model: string): string {
  return model.replace(/\.onnx$/i, '') + '.tokenizer.json';
}

/** Reads and checks the manifest beside MODEL.onnx; errors name the file and what is wrong. */
export function readManifest(model: string): ExportManifest & { dir: string } {
  const file = manifestFileFor(model);
  if (!existsSync(file)) throw new FileError(file, `manifest not found (export the model with 'rewardlens export', which writes it beside ${model})`);
  checkInput(file);
  let m: ExportManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ExportManifest;
  } catch (e) {
    throw new FileError(file, `cannot read JSON (${(e as Error).message})`);
  }
  const { format, version } = m as { format: unknown; version: unknown };
  if (format !== EXPORT_FORMAT) throw new FileError(file, `field 'format' is ${JSON.stringify(format)}, not '${EXPORT_FORMAT}'`);
  if (version !== EXPORT_VERSION)
    throw new FileError(file, `manifest version ${JSON.stringify(version)} is not supported (this build reads ${EXPORT_VERSION})`);
  for (const k of ['model', 'tokenizer', 'modelSha256'] as const) if (typeof m[k] !== 'string') throw new FileError(file, `field '${k}' is missing`);
  // Beside a renamed model, the manifest would load the file it names (an older model, or none).
  if (m.model !== basename(model))
    throw new FileError(model, `its manifest ${basename(file)} describes ${m.model}, not this file: export the run again to this name, or give ${m.model}`);
  return { ...m, dir: dirname(file) };
}

export function tokenizerPath(m: ExportManifest & { dir: string }): string {
  return join(m.dir, m.tokenizer);
}

/** The tokenizer beside an exported model, laying out inputs as the model was trained on them. */
export function manifestTokenizer(m: ExportManifest & { dir: string }): TextTokenizer {
  return TextTokenizer.fromFile(tokenizerPath(m), m.style ?? 'bert', m.special);
}
