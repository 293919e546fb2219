/**
 * The training engine's public vocabulary: what a run is asked to do, what it reports while it runs, and
 * what its evaluation returns. Shared by the recipe, the worker protocol, the CLI and the extension.
 */

/** The paper's methods (Table 3): DMoERM, its ablation without the outer router, and the baselines. */
export const METHODS = ['dmoerm', 'dmoerm-no-outer', 'single', 'mean', 'wco', 'uwo'] as const;
export type Method = (typeof METHODS)[number];

/** Methods whose capability experts train on capability labels (`--labels`). */
export const METHODS_NEEDING_LABELS: readonly Method[] = ['dmoerm', 'dmoerm-no-outer'];

import type { BackendName } from '../model/backend';
import { BACKENDS } from '../model/backend';
import type { PresetName } from '../model/config';

/** What computes a run: a TensorFlow.js backend ('auto': the best that loads), or the PyTorch trainer (docs/torch-trainer.md). */
export type TrainBackend = BackendName | 'auto' | 'torch';
export const TRAIN_BACKENDS: readonly TrainBackend[] = ['auto', ...BACKENDS, 'torch'];

/** Phases of a run, in the order they run. `base` is the general RM every method starts from. */
export type Phase = 'base' | 'router' | 'phase1' | 'phase2' | 'phase3' | 'ensemble' | 'eval';

export interface TrainOptions {
  /** Training dataset (any format the dataset engine reads). */
  dataset: string;
  /**
   * Held-out records from another file (same format options): the run trains on all of `dataset` and is
   * evaluated on these, instead of on a `testFraction` of `dataset`.
   */
  testFile?: string;
  /** Label store (`.labels.jsonl`) with capability labels; needed by dmoerm and dmoerm-no-outer. */
  labels?: string;
  method: Method;
  /** Run folder; created, or resumed when it holds a run of the same configuration. */
  out: string;
  preset: PresetName;
  /** Folder of a pre-trained base (config.json, model.safetensors, tokenizer.json): a BERT encoder, or a Qwen2/Llama decoder (torch backend). */
  base?: string;
  /**
   * A run of the same dataset, preset, base and seed whose general RM (`base`) this run starts from
   * instead of training its own: the methods then differ only in what they add to one general RM.
   */
  baseRun?: string;
  /** 'auto': the best TensorFlow.js backend that loads (tfjs-node-gpu, tfjs-node, wasm, cpu); 'torch': the PyTorch trainer. */
  backend: TrainBackend;
  /** torch: the Python interpreter with trainer/requirements.txt (default: REWARDLENS_PYTHON, else python3). */
  python?: string;
  /** torch: auto (CUDA when available), cpu, cuda or cuda:N. */
  device?: string;
  /** torch: processes sharing each token-level step through torchrun (one per GPU; gloo processes with device cpu). */
  gpus?: number;
  /** Wall-clock budget; phases share it and stop early (keeping their best weights) when it runs out. */
  maxMinutes?: number;
  seed: number;
  /** Dataset reading options, as for `rewardlens index`. */
  schemaFile?: string;
  adapter?: string;
  /** Ignore the dataset's edits journal (.rewardlens/<file>.edits.jsonl), which is applied by default. */
  noEdits?: boolean;
  /** Expert settings (learning rates, batch size, patience, …) over the preset's defaults. */
  overrides?: Record<string, number | string | boolean>;
}

export type TrainEvent =
  | { type: 'backend'; backend: BackendName | 'torch'; tfBackend: string; note?: string }
  | { type: 'phase'; phase: Phase; expert?: string; message: string }
  | {
      type: 'progress';
      phase: Phase;
      expert?: string;
      step: number;
      totalSteps: number;
      loss: number;
      trainAcc?: number;
      valAcc?: number;
    }
  | { type: 'checkpoint'; phase: Phase; expert?: string; step: number; path: string }
  | { type: 'evaluation'; result: EvalResult }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

/** Agreement of one method's rewards with the human preferences of a test set (paper Table 3). */
export interface EvalResult {
  method: Method;
  /** Fraction of non-tied human pairs the model orders the same way; null when there are no pairs. */
  overall: number | null;
  pairs: number;
  byCategory: Record<string, { accuracy: number | null; pairs: number }>;
}

export interface TrainSummary {
  out: string;
  method: Method;
  backend: BackendName | 'torch';
  /** torch: where it trained (`cuda:0 · bf16 · NVIDIA H200`, `cpu · fp32 · 2 threads`). */
  device?: string;
  /** True when a phase stopped because the time budget ran out. */
  truncated: boolean;
  seconds: number;
  /** Evaluation on the held-out part of the training file, when one was made. */
  evaluation?: EvalResult;
}
