/**
 * `rewardlens export`: a trained run (docs/training.md) → one ONNX model (opset 17) that scores the way
 * RunScorer does, with the tokenizer and a manifest beside it (docs/onnx-export.md).
 *
 * Top-1 routing stays sparse inside one graph: the router's argmax selects, per category, the rows routed
 * to it (NonZero + Gather), that category's inner MoE runs on those rows only, and ScatterElements puts
 * the rewards back in place. Running every category on every row and picking afterwards would be simpler
 * but cost a factor of the number of categories (ten in the paper); If nodes would need subgraphs and
 * still run whole batches.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { defaultPointsConfig, findCategory } from '../labelling/points';
import type { CapabilityPoint, PointsConfig } from '../labelling/points';
import { loadCheckpoint } from '../model/checkpoint';
import type { NamedArray } from '../model/safetensors';
import { AtomicFile, writeFileAtomic } from '../io/safe-output';
import { isDecoder } from '../model/config';
import type { TextTokenizer } from '../model/tokenizer';
import type { VocabMap } from '../model/vocab';
import type { RunModel } from '../model/dmoerm';
import { PART, innerPath, scoringPath } from '../model/dmoerm';
import { mergeLoraWeights } from '../model/lora';
import { readRunModel, readRunVocab, runTokenizer } from '../training/run-model';
import { decoderLastToken } from './decoder-graph';
import type { SequenceInputs } from './graph';
import { GraphBuilder, encoderPooled, linear, mlpHead, scalarHead, sequenceInputs, sigmoid } from './graph';
import type { CapabilityColumn, ExportManifest } from './manifest';
import { EXPORT_FORMAT, EXPORT_VERSION, OPSET, manifestFileFor, tokenizerFileFor } from './manifest';
import type { TensorProto } from './proto';
import { DataType, encodeModel } from './proto';

type Parts = Record<string, Map<string, NamedArray>>;

export interface ExportResult {
  model: string;
  manifest: string;
  tokenizer: string;
  bytes: number;
  nodes: number;
  seconds: number;
}

export interface ExportOptions {
  /** Where the capability points' display names come from (the labelling's points config); default the paper's Table 12. */
  points?: PointsConfig;
  /** Weights above this many bytes in all go to OUT.data beside the model (default EXTERNAL_DATA_ABOVE). */
  externalDataAbove?: number;
}

/**
 * One protobuf holds at most 2 GiB: a model whose weights pass this goes out as ONNX external data, the
 * graph in OUT and every large weight in OUT.data, which onnxruntime reads from beside the model.
 */
export const EXTERNAL_DATA_ABOVE = 1 << 30;
/** Smaller weights (biases, norms, constants) stay in the graph. */
const EXTERNAL_MIN_BYTES = 1024;

/** Writes OUT (.onnx), OUT's manifest and tokenizer beside it; returns where and how big. */
export function exportRun(runDir: string, out: string, options: ExportOptions = {}): ExportResult {
  const started = Date.now();
  const { run, model } = readRunModel(runDir);
  const tokenizerSrc = run.file('tokenizer');
  const tokenizer = runTokenizer(run, model);
  const vocab = readRunVocab(run);
  const cache = new Map<string, Parts>();
  const parts = (component: string): Parts => {
    let p = cache.get(component);
    if (!p) cache.set(component, (p = loadCheckpoint(run.checkpointPath(component)).parts));
    return p;
  };
  const built = buildRunGraph(model, parts, compactLookup(tokenizer, vocab), options.points ?? defaultPointsConfig());
  const dataFile = externalData(built.g, out, options.externalDataAbove ?? EXTERNAL_DATA_ABOVE);
  const bytes = encodeModel({
    irVersion: 8,
    opset: OPSET,
    producerName: 'rewardlens',
    producerVersion: '0.1.0',
    docString: `RewardLens ${model.method} reward model exported from ${basename(run.dir)}`,
    graph: built.g.graph(`rewardlens_${model.method.replace(/-/g, '_')}`),
    metadata: { method: model.method },
  });
  writeFileAtomic(out, bytes);
  const tokenizerOut = tokenizerFileFor(out);
  writeFileAtomic(tokenizerOut, readFileSync(tokenizerSrc));
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    opset: OPSET,
    method: model.method,
    model: basename(out),
    ...(dataFile ? { data: basename(dataFile.file) } : {}),
    modelSha256: (dataFile ? createHash('sha256').update(bytes).update(dataFile.sha256) : createHash('sha256').update(bytes)).digest('hex'),
    tokenizer: basename(tokenizerOut),
    maxLen: model.maxLen,
    routerMaxLen: model.routerMaxLen,
    ...(tokenizer.style === 'decoder' ? { style: tokenizer.style } : {}),
    special: { ...tokenizer.special },
    categories: built.categories,
    capabilities: built.capabilities,
    ...(model.ensemble ? { ensemble: { members: model.ensemble.members, aggregation: model.ensemble.aggregation, lambda: model.ensemble.lambda } } : {}),
    inputs: built.g.inputs.map((i) => i.name),
    outputs: built.g.outputs.map((o) => o.name),
    training: {
      run: run.dir,
      dataset: stringOrNull(run.config.dataset),
      datasetSha256: stringOrNull(run.config.datasetSha256),
      labelsSha256: stringOrNull(run.config.labelsSha256),
      preset: stringOrNull(run.config.preset),
      seed: typeof run.config.seed === 'number' ? run.config.seed : null,
    },
    createdAt: new Date().toISOString(),
  };
  const manifestOut = manifestFileFor(out);
  writeFileAtomic(manifestOut, JSON.stringify(manifest, null, 2) + '\n');
  return {
    model: out,
    manifest: manifestOut,
    tokenizer: tokenizerOut,
    bytes: bytes.length,
    nodes: built.g.nodes.length,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Moves the large initializers of `g` into OUT.data (written atomically) when they pass `above` bytes in all;
 * returns the file and its SHA-256, or undefined when the model fits in one protobuf.
 */
function externalData(g: GraphBuilder, out: string, above: number): { file: string; sha256: string } | undefined {
  const large = g.initializers.filter((t) => t.raw.length >= EXTERNAL_MIN_BYTES);
  if (large.reduce((n, t) => n + t.raw.length, 0) <= above) return undefined;
  const file = `${out}.data`;
  const data = new AtomicFile(file);
  const hash = createHash('sha256');
  let offset = 0;
  for (const t of large) {
    data.write(t.raw);
    hash.update(t.raw);
    t.external = { location: basename(file), offset, length: t.raw.length };
    offset += t.raw.length;
  }
  data.commit();
  return { file, sha256: hash.digest('hex') };
}

/** Tokenizer id → compact embedding row, so the model takes the tokenizer's ids as they come. */
function compactLookup(tokenizer: TextTokenizer, vocab: VocabMap): BigInt64Array {
  const ids = new Int32Array(tokenizer.vocabSize);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  return BigInt64Array.from(vocab.toCompact(ids), (v) => BigInt(v));
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Display names of a point: the points config's, the id where it has none. */
function pointNames(config: PointsConfig, category: string, point: string): { zh: string; en: string } {
  const inCategory = findCategory(config, category)?.points.find((p) => p.id === point);
  const anywhere: CapabilityPoint | undefined = inCategory ?? config.categories.flatMap((c) => c.points).find((p) => p.id === point);
  return anywhere ? { zh: anywhere.zh, en: anywhere.en } : { zh: point, en: point };
}

export interface BuiltGraph {
  g: GraphBuilder;
  /** The router's classes in output order (dmoerm), else the single inner model's name or none. */
  categories: string[];
  capabilities: CapabilityColumn[];
}

/**
 * The whole run as one graph. Inputs: input_ids, token_type_ids, attention_mask [batch, sequence] int64
 * (tokenizer ids of `[CLS] context [SEP] response [SEP]`, or a decoder's `context \n response <eos>`, whose
 * token types it ignores); with a router also router_input_ids,
 * router_attention_mask [records, router_sequence] and response_record [batch] (the router row of each
 * response). Outputs: reward [batch] and reward_logit [batch] (its pre-σ value; for an ensemble the same
 * aggregation over member logits); category_probs [records, C] and category [records] (router);
 * capability_scores [batch, P] (Phase-2 heads); member_rewards [batch, k] (ensembles).
 */
export function buildRunGraph(model: RunModel, parts: (component: string) => Parts, lookupTable: BigInt64Array, points: PointsConfig): BuiltGraph {
  const g = new GraphBuilder();
  const c = model.encoder;
  const lookup = g.int64(lookupTable, [lookupTable.length], 'vocab_lookup');
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const types = g.input('token_type_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const seq = sequenceInputs(g, lookup, ids, mask, types);
  const part = (component: string, name: string): Map<string, NamedArray> => {
    const p = parts(component)[name];
    if (!p) throw new Error(`checkpoint ${component}: no part '${name}' (has ${Object.keys(parts(component)).join(', ')})`);
    return p;
  };
  const scale = model.lora.alpha / model.lora.r;
  /** Pooled embeddings of one component's encoder over one set of rows (`on.tag`), built once. */
  const pooledCache = new Map<string, string>();
  const pooled = (component: string, weights: () => Map<string, NamedArray>, on: Rows): string => {
    const key = `${component}${on.tag}`;
    let z = pooledCache.get(key);
    if (!z) {
      const where = `checkpoint ${component}`;
      z = isDecoder(c) ? decoderLastToken(g, c, weights(), on.seq, key, where) : encoderPooled(g, c, weights(), on.seq, key, where);
      pooledCache.set(key, z);
    }
    return z;
  };
  const baseLogit = (on: Rows): string =>
    scalarHead(
      g,
      pooled(model.base, () => part(model.base, PART.encoder), on),
      part(model.base, PART.head),
      `${model.base}${on.tag}`,
      `checkpoint ${model.base}`,
    );
  const all: Rows = { seq, tag: '' };
  const capabilities: CapabilityColumn[] = [];

  /** A category's inner MoE over some rows: its reward logit [n] and each expert's capability score [n, 1]. */
  const innerModel = (category: string, on: Rows): { logit: string; caps: string[] } => {
    const path = innerPath(model, category);
    if (path.kind === 'base') return { logit: baseLogit(on), caps: [] };
    const { inner } = path;
    const phase1 = (): Map<string, NamedArray> => part(inner.phase1, PART.encoder);
    const caps: string[] = [];
    const zs = inner.experts.map((e) => {
      const z = pooled(e.component, () => mergeLoraWeights(phase1(), part(e.component, PART.lora), scale, `checkpoint ${e.component}`), on);
      capabilities.push({ category, point: e.point, ...pointNames(points, category, e.point) });
      const capLogit = scalarHead(g, z, part(e.component, PART.head), e.component, `checkpoint ${e.component}`);
      caps.push(g.op('Unsqueeze', [sigmoid(g, capLogit, e.component), g.int64([1])], {}, `${e.component}.col`));
      return z;
    });
    if (path.kind === 'phase1')
      return { logit: scalarHead(g, pooled(inner.phase1, phase1, on), part(inner.phase1, PART.head), inner.phase1, `checkpoint ${inner.phase1}`), caps };
    const z = zs.length === 1 ? zs[0] : g.op('Concat', zs, { axis: 1 }, `${path.phase3}.z`); // [n, k·H], experts in order
    return { logit: mlpHead(g, z, part(path.phase3, PART.mlp), path.phase3, `checkpoint ${path.phase3}`), caps };
  };
  const stack = (cols: string[], hint: string): string => (cols.length === 1 ? cols[0] : g.op('Concat', cols, { axis: 1 }, hint));

  let logit: string;
  let reward: string | undefined;
  let categories: string[] = [];
  let capabilityScores: string | undefined;
  const path = scoringPath(model);
  if (path.kind === 'ensemble') {
    const { ensemble } = path;
    const members = ensemble.members.map((m) => {
      const z = pooled(m, () => mergeLoraWeights(part(model.base, PART.encoder), part(m, PART.lora), scale, `checkpoint ${m}`), all);
      return g.op('Unsqueeze', [scalarHead(g, z, part(m, PART.head), m, `checkpoint ${m}`), g.int64([1])], {}, `${m}.col`);
    });
    const stackedLogits = stack(members, 'member_logit_stack'); // [batch, k]
    const stacked = g.op('Sigmoid', [stackedLogits], {}, 'member_stack');
    reward = aggregate(g, stacked, ensemble.aggregation, ensemble.lambda, 'reward');
    logit = aggregate(g, stackedLogits, ensemble.aggregation, ensemble.lambda, 'logit');
    g.output('member_rewards', stacked, DataType.FLOAT, ['batch', ensemble.members.length]);
  } else if (path.kind === 'routed') {
    const { router } = path;
    categories = router.categories;
    const rIds = g.input('router_input_ids', DataType.INT64, ['records', 'router_sequence']);
    const rMask = g.input('router_attention_mask', DataType.INT64, ['records', 'router_sequence']);
    const responseRecord = g.input('response_record', DataType.INT64, ['batch']);
    let probs: string;
    let chosen: string;
    if (router.component) {
      const rz = pooled(model.base, () => part(model.base, PART.encoder), { seq: sequenceInputs(g, lookup, rIds, rMask), tag: '.router' });
      const cls = part(router.component, PART.classifier);
      const logits = linear(g, rz, cls.get('weight')!, cls.get('bias')!, 'router.logits');
      probs = g.op('Softmax', [logits], { axis: -1 }, 'router.probs');
      chosen = g.op('ArgMax', [probs], { axis: 1, keepdims: 0 }, 'router.chosen');
    } else {
      // One category in the training data: no classifier was trained, everything goes to it.
      const shape = g.op('Concat', [g.op('Shape', [rIds], { start: 0, end: 1 }, 'records_n'), g.int64([1])], { axis: 0 }, 'probs_shape');
      probs = g.op('ConstantOfShape', [shape], { value: constant('one', Float32Array.of(1)) }, 'router.probs');
      chosen = g.op(
        'Squeeze',
        [g.op('ConstantOfShape', [shape], { value: constant('zero', BigInt64Array.of(0n)) }, 'router.zeros'), g.int64([1])],
        {},
        'router.chosen',
      );
    }
    const perResponse = g.op('Gather', [chosen, responseRecord], { axis: 0 }, 'response_category'); // [batch]
    const batchShape = g.op('Shape', [responseRecord], {}, 'batch_shape');
    // Top-1 routing: each category's inner MoE runs on the rows routed to it only (possibly none), and
    // its rewards are scattered back into place, so a response costs what it costs in the training engine.
    logit = g.op('ConstantOfShape', [batchShape], { value: constant('zero_f', Float32Array.of(0)) }, 'logit_init');
    const capColumns: string[] = [];
    categories.forEach((category, k) => {
      const tag = `.c${k}`;
      const rows = g.op(
        'Squeeze',
        [g.op('NonZero', [g.op('Equal', [perResponse, g.int64([k], [], `category_${k}`)], {}, `routed${tag}`)], {}, `rows${tag}_2d`), g.int64([0])],
        {},
        `rows${tag}`,
      ); // [n]
      const pick = (x: string): string => g.op('Gather', [x, rows], { axis: 0 }, `${x}${tag}`);
      const sub: Rows = { seq: sequenceInputs(g, lookup, pick(ids), pick(mask), pick(types)), tag };
      const out = innerModel(category, sub);
      logit = g.op('ScatterElements', [logit, rows, out.logit], { axis: 0 }, `logit${tag}`);
      if (out.caps.length) {
        // Columns of the categories a response was not routed to stay 0: those experts never ran on it.
        const shape = g.op('Concat', [batchShape, g.int64([out.caps.length])], { axis: 0 }, `caps_shape${tag}`);
        const zeros = g.op('ConstantOfShape', [shape], { value: constant('zero_f', Float32Array.of(0)) }, `caps_init${tag}`);
        const at = g.op('Unsqueeze', [rows, g.int64([1])], {}, `rows${tag}_col`);
        capColumns.push(g.op('ScatterND', [zeros, at, stack(out.caps, `caps${tag}_stack`)], {}, `caps${tag}`));
      }
    });
    if (capColumns.length) capabilityScores = stack(capColumns, 'capability_stack');
    g.output('category_probs', probs, DataType.FLOAT, ['records', categories.length]);
    g.output('category', chosen, DataType.INT64, ['records']);
  } else if (path.kind === 'inner') {
    categories = Object.keys(model.inner ?? {}).includes(path.category) ? [path.category] : [];
    const out = innerModel(path.category, all);
    logit = out.logit;
    if (out.caps.length) capabilityScores = stack(out.caps, 'capability_stack');
  } else {
    logit = baseLogit(all);
  }
  g.output('reward', reward ?? sigmoid(g, logit, 'model'), DataType.FLOAT, ['batch']);
  g.output('reward_logit', logit, DataType.FLOAT, ['batch']);
  if (capabilityScores) g.output('capability_scores', capabilityScores, DataType.FLOAT, ['batch', capabilities.length]);
  return { g, categories, capabilities };
}

/** The rows of the batch one set of encoders runs on: all of them, or those routed to one category. */
interface Rows {
  seq: SequenceInputs;
  /** Distinguishes the same encoder on other rows ('' for the whole batch). */
  tag: string;
}

function constant(name: string, value: Float32Array | BigInt64Array): TensorProto {
  return {
    name,
    dims: [1],
    dataType: value instanceof Float32Array ? DataType.FLOAT : DataType.INT64,
    raw: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
  };
}

/** The ensemble's aggregation over members [batch, k] → [batch], as aggregateRows computes it. */
function aggregate(g: GraphBuilder, members: string, how: 'mean' | 'wco' | 'uwo', lambda: number, of: string): string {
  const axes = g.int64([1]);
  // ReduceMin/ReduceMean take their axes as an attribute until opset 18 (ReduceSum moved in 13).
  if (how === 'wco') return g.op('ReduceMin', [members], { axes: [1], keepdims: 0 }, `${of}_reward_wco`);
  const mean = g.op('ReduceMean', [members], { axes: [1], keepdims: 1 }, `${of}_member_mean`); // [batch, 1]
  if (how === 'mean') return g.op('Squeeze', [mean, axes], {}, `${of}_reward_mean`);
  const dev = g.op('Sub', [members, mean], {}, `${of}_member_dev`);
  const variance = g.op('ReduceMean', [g.op('Mul', [dev, dev], {}, `${of}_member_dev2`)], { axes: [1], keepdims: 1 }, `${of}_member_var`);
  const penalised = g.op('Sub', [mean, g.op('Mul', [variance, g.scalar(lambda, `${of}_uwo_lambda`)], {}, `${of}_member_penalty`)], {}, `${of}_reward_uwo_col`);
  return g.op('Squeeze', [penalised, axes], {}, `${of}_reward_uwo`);
}
