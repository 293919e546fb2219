/**
 * `rewardlens export`: a trained run (docs/training.md) → one ONNX model (opset 17) that scores the way
 * RunScorer does, with the tokenizer and a manifest beside it (docs/onnx-export.md).
 *
 * Top-1 routing is dense: every category's inner MoE runs on every response and the router's argmax picks
 * one reward per response with GatherElements. For the small encoders RewardLens trains this costs less
 * than the control flow an If/Loop per record would need, keeps batches rectangular, and gives every
 * category's capability scores for free; a large many-category model would want a graph per category.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultPointsConfig, findCategory } from '../labelling/points';
import type { CapabilityPoint } from '../labelling/points';
import { loadCheckpoint } from '../model/checkpoint';
import type { NamedArray } from '../model/safetensors';
import { writeFileAtomic } from '../model/safetensors';
import { TextTokenizer } from '../model/tokenizer';
import type { VocabMapJson } from '../model/vocab';
import { VocabMap } from '../model/vocab';
import type { RunModel } from '../training/networks';
import { RunFolder } from '../training/run-folder';
import type { SequenceInputs } from './graph';
import { GraphBuilder, encoderPooled, linear, mergeLora, mlpHead, scalarHead, sequenceInputs } from './graph';
import type { CapabilityColumn, ExportManifest } from './manifest';
import { EXPORT_FORMAT, EXPORT_VERSION, OPSET, manifestFileFor, tokenizerFileFor } from './manifest';
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

/** Reads a finished run's model.json, or says why it cannot. */
export function readRunModel(runDir: string): { run: RunFolder; model: RunModel } {
  const run = RunFolder.open(runDir);
  const file = join(run.dir, 'model.json');
  if (!existsSync(file)) throw new Error(`${runDir}: the run has not finished training (no model.json); resume it first`);
  let model: RunModel;
  try {
    model = JSON.parse(readFileSync(file, 'utf8')) as RunModel;
  } catch (e) {
    throw new Error(`${file}: cannot read JSON (${(e as Error).message})`);
  }
  if (model.format !== 'rewardlens-model' || model.version !== 1) throw new Error(`${file}: not a RewardLens run model (format ${JSON.stringify(model.format)}, version ${JSON.stringify(model.version)})`);
  return { run, model };
}

/** Writes OUT (.onnx), OUT's manifest and tokenizer beside it; returns where and how big. */
export function exportRun(runDir: string, out: string): ExportResult {
  const started = Date.now();
  const { run, model } = readRunModel(runDir);
  const tokenizerSrc = run.file('tokenizer');
  const tokenizer = TextTokenizer.fromFile(tokenizerSrc);
  const vocab = VocabMap.fromJSON(JSON.parse(readFileSync(run.file('vocab'), 'utf8')) as VocabMapJson);
  const cache = new Map<string, Parts>();
  const parts = (component: string): Parts => {
    let p = cache.get(component);
    if (!p) cache.set(component, (p = loadCheckpoint(run.checkpointPath(component)).parts));
    return p;
  };
  const built = buildRunGraph(model, parts, compactLookup(tokenizer, vocab));
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
  copyFileSync(tokenizerSrc, tokenizerOut);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    opset: OPSET,
    method: model.method,
    model: basename(out),
    modelSha256: createHash('sha256').update(bytes).digest('hex'),
    tokenizer: basename(tokenizerOut),
    maxLen: model.maxLen,
    routerMaxLen: model.routerMaxLen,
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
  writeFileSync(manifestOut, JSON.stringify(manifest, null, 2) + '\n');
  return { model: out, manifest: manifestOut, tokenizer: tokenizerOut, bytes: bytes.length, nodes: built.g.nodes.length, seconds: (Date.now() - started) / 1000 };
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

/** Display names of a point: the default points config's (Table 12), the id where it has none. */
function pointNames(category: string, point: string): { zh: string; en: string } {
  const config = defaultPointsConfig();
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
 * (tokenizer ids of `[CLS] context [SEP] response [SEP]`); with a router also router_input_ids,
 * router_attention_mask [records, router_sequence] and response_record [batch] (the router row of each
 * response). Outputs: reward [batch]; category_probs [records, C] and category [records] (router);
 * capability_scores [batch, P] (Phase-2 heads); member_rewards [batch, k] (ensembles).
 */
export function buildRunGraph(model: RunModel, parts: (component: string) => Parts, lookupTable: BigInt64Array): BuiltGraph {
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
  const pooledCache = new Map<string, string>();
  const pooled = (key: string, weights: Map<string, NamedArray>, on: SequenceInputs = seq): string => {
    let z = pooledCache.get(key);
    if (!z) pooledCache.set(key, (z = encoderPooled(g, c, weights, on, key, `checkpoint ${key}`)));
    return z;
  };
  const scale = model.lora.alpha / model.lora.r;
  let baseRewardName: string | undefined;
  const baseReward = (): string =>
    (baseRewardName ??= scalarHead(g, pooled(model.base, part(model.base, 'encoder')), part(model.base, 'head'), model.base, `checkpoint ${model.base}`));
  const capabilities: CapabilityColumn[] = [];
  const capabilityOutputs: string[] = [];

  let reward: string;
  let categories: string[] = [];
  if (model.ensemble) {
    const base = part(model.base, 'encoder');
    const members = model.ensemble.members.map((m) => {
      const z = pooled(m, mergeLora(base, part(m, 'lora'), scale, `checkpoint ${m}`));
      return g.op('Unsqueeze', [scalarHead(g, z, part(m, 'head'), m, `checkpoint ${m}`), g.int64([1])], {}, `${m}.col`);
    });
    const stacked = members.length === 1 ? members[0] : g.op('Concat', members, { axis: 1 }, 'member_stack'); // [batch, k]
    reward = aggregate(g, stacked, model.ensemble.aggregation, model.ensemble.lambda);
    g.output('member_rewards', stacked, DataType.FLOAT, ['batch', model.ensemble.members.length]);
  } else if (model.method !== 'single' && model.inner) {
    const innerReward = (category: string): string => {
      const inner = model.inner?.[category];
      if (!inner) return baseReward();
      const phase1 = part(inner.phase1, 'encoder');
      const zs = inner.experts.map((e) => {
        const z = pooled(e.component, mergeLora(phase1, part(e.component, 'lora'), scale, `checkpoint ${e.component}`));
        capabilities.push({ category, point: e.point, ...pointNames(category, e.point) });
        capabilityOutputs.push(g.op('Unsqueeze', [scalarHead(g, z, part(e.component, 'head'), e.component, `checkpoint ${e.component}`), g.int64([1])], {}, `${e.component}.col`));
        return z;
      });
      if (!inner.phase3 || zs.length === 0) return scalarHead(g, pooled(inner.phase1, phase1), part(inner.phase1, 'head'), inner.phase1, `checkpoint ${inner.phase1}`);
      const z = zs.length === 1 ? zs[0] : g.op('Concat', zs, { axis: 1 }, `${inner.phase3}.z`); // [batch, k·H], experts in order
      return mlpHead(g, z, part(inner.phase3, 'mlp'), inner.phase3, `checkpoint ${inner.phase3}`);
    };
    if (model.router) {
      categories = model.router.categories;
      const rIds = g.input('router_input_ids', DataType.INT64, ['records', 'router_sequence']);
      const rMask = g.input('router_attention_mask', DataType.INT64, ['records', 'router_sequence']);
      const responseRecord = g.input('response_record', DataType.INT64, ['batch']);
      let probs: string;
      let chosen: string;
      if (model.router.component) {
        const rz = pooled(`${model.base}.router`, part(model.base, 'encoder'), sequenceInputs(g, lookup, rIds, rMask));
        const cls = part(model.router.component, 'classifier');
        const logits = linear(g, rz, cls.get('weight')!, cls.get('bias')!, 'router.logits');
        probs = g.op('Softmax', [logits], { axis: -1 }, 'router.probs');
        chosen = g.op('ArgMax', [probs], { axis: 1, keepdims: 0 }, 'router.chosen');
      } else {
        // One category in the training data: no classifier was trained, everything goes to it.
        const shape = g.op('Concat', [g.op('Shape', [rIds], { start: 0, end: 1 }, 'records_n'), g.int64([1])], { axis: 0 }, 'probs_shape');
        probs = g.op('ConstantOfShape', [shape], { value: { name: 'one', dims: [1], dataType: DataType.FLOAT, raw: new Uint8Array(Float32Array.of(1).buffer) } }, 'router.probs');
        const zeros = g.op('ConstantOfShape', [shape], { value: { name: 'zero', dims: [1], dataType: DataType.INT64, raw: new Uint8Array(BigInt64Array.of(0n).buffer) } }, 'router.zeros');
        chosen = g.op('Squeeze', [zeros, g.int64([1])], {}, 'router.chosen');
      }
      const rewards = categories.map((cat) => g.op('Unsqueeze', [innerReward(cat), g.int64([1])], {}, `reward_col`));
      const table = rewards.length === 1 ? rewards[0] : g.op('Concat', rewards, { axis: 1 }, 'category_rewards'); // [batch, C]
      const perResponse = g.op('Gather', [chosen, responseRecord], { axis: 0 }, 'response_category'); // [batch]
      const picked = g.op('GatherElements', [table, g.op('Unsqueeze', [perResponse, g.int64([1])], {}, 'response_category_col')], { axis: 1 }, 'picked');
      reward = g.op('Squeeze', [picked, g.int64([1])], {}, 'reward_routed');
      g.output('category_probs', probs, DataType.FLOAT, ['records', categories.length]);
      g.output('category', chosen, DataType.INT64, ['records']);
    } else {
      categories = Object.keys(model.inner).includes('all') ? ['all'] : [];
      reward = innerReward('all');
    }
  } else {
    reward = baseReward();
  }
  g.output('reward', reward, DataType.FLOAT, ['batch']);
  if (capabilityOutputs.length) {
    const scores = capabilityOutputs.length === 1 ? capabilityOutputs[0] : g.op('Concat', capabilityOutputs, { axis: 1 }, 'capability_stack');
    g.output('capability_scores', scores, DataType.FLOAT, ['batch', capabilityOutputs.length]);
  }
  return { g, categories, capabilities };
}

/** The ensemble's aggregation over members [batch, k] → [batch], as aggregateRows computes it. */
function aggregate(g: GraphBuilder, members: string, how: 'mean' | 'wco' | 'uwo', lambda: number): string {
  const axes = g.int64([1]);
  // ReduceMin/ReduceMean take their axes as an attribute until opset 18 (ReduceSum moved in 13).
  if (how === 'wco') return g.op('ReduceMin', [members], { axes: [1], keepdims: 0 }, 'reward_wco');
  const mean = g.op('ReduceMean', [members], { axes: [1], keepdims: 1 }, 'member_mean'); // [batch, 1]
  if (how === 'mean') return g.op('Squeeze', [mean, axes], {}, 'reward_mean');
  const dev = g.op('Sub', [members, mean], {}, 'member_dev');
  const variance = g.op('ReduceMean', [g.op('Mul', [dev, dev], {}, 'member_dev2')], { axes: [1], keepdims: 1 }, 'member_var');
  const penalised = g.op('Sub', [mean, g.op('Mul', [variance, g.scalar(lambda, 'uwo_lambda')], {}, 'member_penalty')], {}, 'reward_uwo_col');
  return g.op('Squeeze', [penalised, axes], {}, 'reward_uwo');
}
