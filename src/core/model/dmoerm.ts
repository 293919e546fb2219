/**
 * The DMoERM reward model (Quan 2024, "DMoERM: Recipes of Mixture-of-Experts for Effective Reward
 * Modeling") in one place: its components, their shapes, and the forward plan every engine follows.
 *
 *   response ──► router (dmoerm) ──top-1 category c──► inner MoE of c ──► reward logit ──σ──► reward
 *
 * - base: the general RM, an encoder (BERT-family, or a decoder LM in the PyTorch trainer) pooled to
 *   z [B, H] and a scalar head [1, H]. Every method starts from it; `single` scores with it alone.
 * - router (outer MoE): a linear classifier [C, H] over the frozen base's embedding of the user turns
 *   (`routerMaxLen` tokens); top-1 routing, so one inner MoE runs per response.
 * - inner MoE, one per category:
 *   - Phase 1: a copy of the base fully fine-tuned on the category (encoder + head);
 *   - Phase 2: one LoRA expert per capability point on the frozen Phase-1 encoder, A [r, H], B [H, r],
 *     each with its own scalar head (its capability score);
 *   - Phase 3: an MLP over the experts' concatenated embeddings z = ⊕ z_i [B, k·H]:
 *     W1 PReLU(W0 z + b0) + b1, W0 [mlpHidden, k·H], W1 [1, mlpHidden].
 * - ensembles (mean / wco / uwo baselines): LoRA members on the frozen base, aggregated.
 *
 * The TensorFlow.js scorer (training/scorer.ts) and the ONNX graph (export/export.ts) walk `scoringPath`
 * and `innerPath`; the trainers (training/recipe.ts, training/plan.ts) create components with the seeds
 * in `INIT_SEED` and name them with `componentName`. `model.json` (RunModel) records which checkpoint
 * holds which part.
 */
import { createHash } from 'node:crypto';
import type { Aggregation } from '../training/aggregate';
import type { Method } from '../training/types';
import type { TokenBatch } from './batch';
import type { BaseConfig, LoraConfig } from './config';
import type { Encoder } from './encoder';
import type { ScalarHead } from './heads';
import type { LoraAdapter } from './lora';
import type { Tensor1D, Tensor2D } from './tf';

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

/**
 * The parts a component's checkpoint holds. base and Phase 1: encoder + head; Phase-2 experts and
 * ensemble members: lora + head (their encoder is Phase 1's or the base's); router: classifier; Phase 3: mlp.
 */
export const PART = { encoder: 'encoder', head: 'head', lora: 'lora', classifier: 'classifier', mlp: 'mlp' } as const;

/**
 * Offsets from the run's seed for each component's initial weights, so that every engine starts from the
 * same weights (the PyTorch trainer reads them from init.safetensors, written with these).
 */
export const INIT_SEED = {
  router: 7,
  phase3: 300,
  /** The k-th expert of a category (k counts the experts created so far in it). */
  expert: (k: number): number => 100 + k,
  /** Ensemble member i: members differ by seed (their LoRA initialisation) and by data order. */
  member: (i: number): number => 1000 + i,
} as const;

/** Phase 3's input width: the k experts' pooled embeddings side by side, in the experts' order. */
export function phase3Input(hidden: number, experts: number): number {
  return hidden * experts;
}

/** File-system-safe component names that stay unique for any category or point name. */
export function componentName(...parts: string[]): string {
  const slug = parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40)).join('-');
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 6);
  return /^[A-Za-z0-9_-]+$/.test(parts.join('')) ? parts.join('-') : `${slug}-${digest}`;
}

/** How a run scores a response (the outer level of the forward plan). */
export type ScoringPath =
  /** `single`, or a run with nothing else: the general RM. */
  | { kind: 'base' }
  /** mean / wco / uwo: every member scores, the aggregation combines. */
  | { kind: 'ensemble'; ensemble: NonNullable<RunModel['ensemble']> }
  /** dmoerm: the router's top-1 category picks the inner MoE (`innerPath`). */
  | { kind: 'routed'; router: NonNullable<RunModel['router']> }
  /** dmoerm-no-outer: one inner MoE, 'all', for everything. */
  | { kind: 'inner'; category: 'all' };

export function scoringPath(model: RunModel): ScoringPath {
  if (model.method === 'single' || (!model.ensemble && !model.inner)) return { kind: 'base' };
  if (model.ensemble) return { kind: 'ensemble', ensemble: model.ensemble };
  if (model.router) return { kind: 'routed', router: model.router };
  return { kind: 'inner', category: 'all' };
}

/** How one category's inner MoE scores a response (the inner level of the forward plan). */
export type InnerPath =
  /** The category had too little data for an inner model: the general RM scores it. */
  | { kind: 'base' }
  /** No Phase 3 (no expert, or too little data or time): Phase 1's head scores it; experts still give capability scores. */
  | { kind: 'phase1'; inner: InnerModel }
  /** Phase 3's MLP over the experts' concatenated embeddings. */
  | { kind: 'mixture'; inner: InnerModel; phase3: string };

export function innerPath(model: RunModel, category: string): InnerPath {
  const inner = model.inner?.[category];
  if (!inner) return { kind: 'base' };
  if (!inner.phase3 || inner.experts.length === 0) return { kind: 'phase1', inner };
  return { kind: 'mixture', inner, phase3: inner.phase3 };
}

/** A token-level reward network: encoder (optionally with one LoRA expert) → pooled z → scalar head. */
export class RewardNet {
  constructor(
    readonly encoder: Encoder,
    readonly head: ScalarHead,
    readonly adapter?: LoraAdapter,
  ) {}

  reward(batch: TokenBatch, training: boolean, seed: number): Tensor1D {
    return this.head.forward(this.embed(batch, training, seed));
  }

  embed(batch: TokenBatch, training = false, seed = 0): Tensor2D {
    return this.encoder.forward(batch, { adapter: this.adapter, training, seed }).pooled; // [B, H]
  }
}
