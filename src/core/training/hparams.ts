import { availableParallelism } from 'node:os';
import type { Phase } from './types';
import type { PresetName } from '../model/config';

/** Phases that run an optimiser (evaluation does not). */
export type TrainedPhase = Exclude<Phase, 'eval'>;

/**
 * Everything a run's outcome depends on besides data, seed and model shape. Defaults per preset; any
 * field can be overridden by name (`--set lr.phase2=0.0005`, `--set patience=10`).
 */
export interface HyperParams {
  /** Preference pairs per optimiser step (two sequences each). 8 keeps the wasm heap safe at seq 256. */
  batchPairs: number;
  /** Pairs per forward/backward pass (gradients summed over a step's micro-batches); bounds memory. */
  microBatchPairs: number;
  /**
   * Threads computing the token-level steps (base, Phase 1, Phase 2, ensemble members), each on its own share
   * of a step's pairs (data parallelism, wasm only). Absent or 0: automatic (`trainingThreads`). Absent by
   * default, so run folders written before the setting existed keep resuming (run.json is compared).
   */
  threads?: number;
  /** Evaluate on the validation split every N steps (paper Appendix B.1: 100). */
  evalEvery: number;
  /** Stop after P evaluations without a better validation accuracy (paper: 20). */
  patience: number;
  /** Upper bound on steps per component; early stopping usually ends sooner. */
  maxSteps: Record<TrainedPhase, number>;
  /** Adam learning rates. Full fine-tuning wants a small rate, LoRA and the small heads a larger one. */
  lr: Record<TrainedPhase, number>;
  /** Share of each component's training records kept apart for early stopping. */
  valFraction: number;
  /** Share of the training file held out for the final evaluation when no test file is given. */
  testFraction: number;
  /** Share of each category's records for Phases 1 and 2; the rest trains Phase 3 (paper §4: 60/40). */
  phase12Fraction: number;
  /** Ensemble size for the mean / WCO / UWO baselines. */
  ensembleSize: number;
  /** UWO's variance weight: reward = mean − λ·variance. */
  uwoLambda: number;
  /** Width of Phase 3's aggregation MLP. */
  mlpHidden: number;
  /** Categories (and capability points) with fewer training pairs than this get no model of their own. */
  minPairs: number;
  /** Validation pairs scored per evaluation at most (a fixed random subset), to bound evaluation time. */
  maxValPairs: number;
  /** Sequences per forward pass when scoring without gradients (evaluation, embedding caches). */
  scoreBatch: number;
  /**
   * Preference pairs one record contributes at most (a deterministic sample, seeded by the run's seed);
   * a record with 10,000 responses has 50 million pairs. Absent in run folders written before it existed,
   * which keep resuming (run.json is compared); absent means the default.
   */
  maxPairsPerRecord?: number;
}

/**
 * Large enough that real ranked data keeps every pair (llmeval2's 20 ranked answers give 190; 45 answers give
 * 990), small enough that a pathological record (10,000 responses) cannot exhaust memory.
 */
export const DEFAULT_MAX_PAIRS_PER_RECORD = 1000;

/** Settings a run has only when asked for them (`applyOverrides` accepts them although defaults lack them). */
const OPTIONAL_SETTINGS = ['threads', 'maxPairsPerRecord'];

const PAPER_PHASES: TrainedPhase[] = ['base', 'router', 'phase1', 'phase2', 'phase3', 'ensemble'];

function perPhase(values: Partial<Record<TrainedPhase, number>>, fallback: number): Record<TrainedPhase, number> {
  return Object.fromEntries(PAPER_PHASES.map((p) => [p, values[p] ?? fallback])) as Record<TrainedPhase, number>;
}

/**
 * Defaults chosen on the tiny and small presets (docs/training.md has the measurements): from-scratch
 * encoders need a larger rate than the paper's 1e-5 for a 1.8B model; the MLP and router heads train on
 * cached embeddings, so their steps are cheap and they get more of them.
 */
export function defaultHyperParams(preset: PresetName, pretrained = false): HyperParams {
  const tiny = preset === 'tiny';
  const h: HyperParams = {
    batchPairs: 8,
    microBatchPairs: 8,
    evalEvery: tiny ? 20 : 50,
    patience: tiny ? 4 : 8,
    maxSteps: perPhase(
      { base: tiny ? 200 : 2000, router: 400, phase1: tiny ? 100 : 1000, phase2: tiny ? 60 : 600, phase3: 400, ensemble: tiny ? 60 : 600 },
      200,
    ),
    lr: perPhase(
      { base: tiny ? 1e-3 : 2e-4, router: 3e-3, phase1: tiny ? 5e-4 : 1e-4, phase2: tiny ? 2e-3 : 5e-4, phase3: 3e-3, ensemble: tiny ? 2e-3 : 5e-4 },
      1e-3,
    ),
    valFraction: 0.1,
    testFraction: 0.2,
    phase12Fraction: 0.6,
    ensembleSize: 3,
    uwoLambda: 0.5,
    mlpHidden: 64,
    minPairs: 16,
    maxValPairs: 256,
    scoreBatch: 32,
  };
  if (pretrained) {
    // Fine-tuning a pre-trained encoder: BERT's usual 2e-5..5e-5 keeps what it learnt; LoRA and heads as above.
    h.lr.base = 3e-5;
    h.lr.phase1 = 2e-5;
    // A BERT-base-sized encoder's activations for 16 sequences of 256 tokens do not fit the wasm heap.
    h.microBatchPairs = 2;
  }
  return h;
}

/** Applies `key=value` overrides (dotted keys for per-phase values); unknown keys are an error. */
export function applyOverrides(h: HyperParams, overrides: Record<string, number | string | boolean> = {}): HyperParams {
  const out: HyperParams = structuredClone(h);
  for (const [key, raw] of Object.entries(overrides)) {
    const value = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isFinite(value)) throw new HyperParamError(`setting ${key}: '${String(raw)}' is not a number`);
    const [head, sub] = key.split('.', 2);
    const table = out as unknown as Record<string, unknown>;
    if (!(head in table) && !OPTIONAL_SETTINGS.includes(head))
      throw new HyperParamError(`unknown setting '${key}' (known: ${[...Object.keys(out), ...OPTIONAL_SETTINGS].join(', ')})`);
    const current = table[head];
    if ((typeof current === 'number' || (current === undefined && OPTIONAL_SETTINGS.includes(head))) && sub === undefined) {
      table[head] = value;
    } else if (typeof current === 'object' && current !== null && sub !== undefined && sub in current) {
      (current as Record<string, number>)[sub] = value;
    } else if (typeof current === 'object' && current !== null && sub === undefined) {
      for (const k of Object.keys(current)) (current as Record<string, number>)[k] = value;
    } else {
      throw new HyperParamError(`unknown setting '${key}'`);
    }
  }
  validateHyperParams(out);
  return out;
}

/** A setting out of its range; the CLI prints it and exits 2. */
export class HyperParamError extends Error {}

interface Range {
  min: number;
  max: number;
  /** The minimum itself is not allowed (a learning rate of 0 trains nothing). */
  minExclusive?: boolean;
  integer?: boolean;
}

/**
 * What a setting may be. Far wider than useful values; the point is to refuse what cannot train (0 or
 * negative steps, batches or rates) or trains to NaN (a learning rate of 1e30) before a run starts.
 */
export const HYPER_PARAM_RANGES: Record<string, Range> = {
  batchPairs: { min: 1, max: 4096, integer: true },
  microBatchPairs: { min: 1, max: 4096, integer: true },
  threads: { min: 0, max: 256, integer: true },
  evalEvery: { min: 1, max: 1e6, integer: true },
  patience: { min: 1, max: 1e6, integer: true },
  maxSteps: { min: 1, max: 1e7, integer: true },
  lr: { min: 0, max: 1, minExclusive: true },
  valFraction: { min: 0, max: 0.5 },
  testFraction: { min: 0, max: 0.5 },
  phase12Fraction: { min: 0.05, max: 0.95 },
  ensembleSize: { min: 1, max: 64, integer: true },
  uwoLambda: { min: 0, max: 100 },
  mlpHidden: { min: 1, max: 4096, integer: true },
  minPairs: { min: 1, max: 1e9, integer: true },
  maxValPairs: { min: 1, max: 1e7, integer: true },
  scoreBatch: { min: 1, max: 4096, integer: true },
  maxPairsPerRecord: { min: 1, max: 1e6, integer: true },
};

export function describeRange(r: Range): string {
  return `${r.integer ? 'a whole number ' : ''}${r.minExclusive ? '(' : '['}${r.min}, ${r.max}]`;
}

/** Throws a HyperParamError naming every setting out of range, with its value and its range. */
export function validateHyperParams(h: HyperParams): void {
  const problems: string[] = [];
  const check = (key: string, value: unknown, r: Range): void => {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (r.minExclusive ? value > r.min : value >= r.min) &&
      value <= r.max &&
      (!r.integer || Number.isInteger(value));
    if (!ok) problems.push(`setting ${key}: ${String(value)} is out of range; it must be ${describeRange(r)}`);
  };
  const table = h as unknown as Record<string, unknown>;
  for (const [key, range] of Object.entries(HYPER_PARAM_RANGES)) {
    const value = table[key];
    if (value === undefined && OPTIONAL_SETTINGS.includes(key)) continue;
    if (typeof value === 'object' && value !== null) for (const [sub, v] of Object.entries(value)) check(`${key}.${sub}`, v, range);
    else check(key, value, range);
  }
  if (problems.length > 0) throw new HyperParamError(problems.join('; '));
}

/**
 * How many threads compute a token-level step: `requested` on wasm, or when it is absent or 0 two when there are
 * two cores (the measured gain, bench/README.md; every thread holds its own wasm heap and copy of the
 * weights); always one on other backends, with a note when more were asked for.
 */
export function trainingThreads(requested: number | undefined, tfBackend: string, cores = availableParallelism()): { threads: number; note?: string } {
  if (requested === undefined || requested === 0) return { threads: tfBackend === 'wasm' ? Math.max(1, Math.min(2, cores)) : 1 };
  if (tfBackend !== 'wasm') {
    return {
      threads: 1,
      note: requested > 1 ? `threads=${requested} ignored: data parallelism runs on the wasm backend ('${tfBackend}' uses its own threads)` : undefined,
    };
  }
  return { threads: requested };
}
