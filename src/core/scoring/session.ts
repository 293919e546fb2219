/**
 * Scoring with an exported model (docs/onnx-export.md) through onnxruntime-node: the session is created on
 * first use (loading the native library and the graph costs tens of milliseconds, and most editor sessions
 * never score), records go in batches of whole records, results are cached per record and model, and an
 * AbortSignal stops between batches.
 */
import type * as Ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapabilityColumn, ExportManifest } from '../export/manifest';
import { readManifest } from '../export/manifest';
import type { EncodedRecord } from '../training/features';
import { FileError, asFileError } from '../io/file-error';

export interface OrtScorerOptions {
  /** Threads of one operator (onnxruntime's intraOpNumThreads); default: onnxruntime's choice (all cores). */
  intraOpNumThreads?: number;
  /** Responses per session run; records are never split across runs. */
  batchSize?: number;
  /**
   * Whether onnxruntime's intra-op threads busy-wait for work between operators. Off by default: on an idle
   * 2-core machine it made no measurable difference, but while another process held a core, spinning
   * threads (and each operator's wait for the descheduled one) made a hover 1.6× slower at the median and
   * batch scoring 1.14× slower (bench/README.md, "Scoring"); an editor always shares its cores.
   */
  spinning?: boolean;
  /** Shared between scorers so that reopening a model keeps its scores; default: one per scorer. */
  cache?: ScoreCache;
}

/** What a model says about one record. */
export interface ModelRecordScore {
  id: string;
  /** Reward per response, in the record's order: σ of the logit, in (0, 1) (saturates at 0/1 in float32). */
  rewards: number[];
  /**
   * The pre-σ value per response (the model's reward_logit output; an ensemble aggregates member logits):
   * what RLHF optimises and what views show and compare. Exports without that output get logit(reward).
   */
  logits: number[];
  /** dmoerm: the router's top-1 category and its probabilities per category (manifest.categories). */
  category?: string;
  probabilities?: number[];
  /** The chosen category's Phase-2 heads (all of them for dmoerm-no-outer): one score per response. */
  capabilities?: Array<{ point: string; zh: string; en: string; scores: number[] }>;
  /** Ensembles: each member's reward per response ([member][response]). */
  members?: number[][];
}

const DEFAULT_BATCH = 64;
const DEFAULT_CACHE_ENTRIES = 50_000;

/**
 * Scores keyed by model hash, record id and a fingerprint of the record's tokens: the id alone would
 * serve stale scores after the record is edited in place (its id often survives the edit).
 */
export class ScoreCache {
  private readonly entries = new Map<string, ModelRecordScore>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = DEFAULT_CACHE_ENTRIES) {}

  static key(modelSha256: string, record: EncodedRecord): string {
    return `${modelSha256}\u0000${record.id}\u0000${fingerprint(record)}`;
  }

  get(key: string): ModelRecordScore | undefined {
    const v = this.entries.get(key);
    if (v) {
      this.hits++;
      // Map keeps insertion order: re-inserting makes it the most recently used.
      this.entries.delete(key);
      this.entries.set(key, v);
    } else this.misses++;
    return v;
  }

  set(key: string, value: ModelRecordScore): void {
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** FNV-1a over every token of the record: cheap, and any edit that changes the model's input changes it. */
function fingerprint(r: EncodedRecord): string {
  let h = 0x811c9dc5;
  const mix = (a: Int32Array): void => {
    for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193);
    h = Math.imul(h ^ 0xffff, 0x01000193);
  };
  mix(r.router);
  for (const s of r.responses) {
    mix(s.ids);
    mix(s.typeIds);
  }
  return (h >>> 0).toString(16);
}

/**
 * The model's bytes, checked against the manifest's hash: a corrupt or replaced file would otherwise score,
 * wrongly, under the cache entries of the model it replaced. Read once and handed to onnxruntime as they are.
 */
function checkedModelBytes(file: string, sha256: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw asFileError(file, e);
  }
  if (createHash('sha256').update(bytes).digest('hex') !== sha256)
    throw new FileError(file, 'its SHA-256 is not the one its manifest records: the file is corrupt or was replaced; export the run again');
  return bytes;
}

/** An exported model whose weights give NaN or infinite rewards: no score it gives means anything. */
export class NonFiniteScoreError extends Error {}

export class OrtScorer {
  readonly manifest: ExportManifest & { dir: string };
  readonly cache: ScoreCache;
  private session?: Promise<Ort.InferenceSession>;
  private ort?: typeof Ort;
  /** Session runs so far (tests and the benchmark read it). */
  runs = 0;

  constructor(
    readonly modelFile: string,
    private readonly options: OrtScorerOptions = {},
  ) {
    this.manifest = readManifest(modelFile);
    this.cache = options.cache ?? new ScoreCache();
    const b = options.batchSize ?? DEFAULT_BATCH;
    if (!(Number.isInteger(b) && b >= 1)) throw new Error(`batch size must be a positive integer, got ${b}`);
    const t = options.intraOpNumThreads;
    if (t !== undefined && !(Number.isInteger(t) && t >= 0))
      throw new Error(`intra-op threads must be a non-negative integer (0: onnxruntime's default), got ${t}`);
  }

  /** Whether the session has been created (it is, on the first record that misses the cache). */
  get loaded(): boolean {
    return this.session !== undefined;
  }

  private open(): Promise<Ort.InferenceSession> {
    this.session ??= (async () => {
      try {
        this.ort = await import('onnxruntime-node');
      } catch (e) {
        throw new Error(`onnxruntime-node cannot be loaded (${(e as Error).message.split('\n')[0]}); reinstall RewardLens or run npm install`);
      }
      const file = join(this.manifest.dir, this.manifest.model);
      const options: Ort.InferenceSession.SessionOptions = {
        intraOpNumThreads: this.options.intraOpNumThreads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: this.options.spinning ? '1' : '0' } } },
      };
      // A model with external data loads by path (onnxruntime reads the data beside it) and is not hashed:
      // that would read gigabytes again at every load.
      const bytes = this.manifest.data === undefined ? checkedModelBytes(file, this.manifest.modelSha256) : undefined;
      try {
        return await (bytes ? this.ort.InferenceSession.create(bytes, options) : this.ort.InferenceSession.create(file, options));
      } catch (e) {
        throw new FileError(file, `onnxruntime cannot load the model (${(e as Error).message.split('\n')[0]})`);
      }
    })();
    // A failed load is not cached, so a fixed install can be retried without restarting.
    this.session.catch(() => (this.session = undefined));
    return this.session;
  }

  /**
   * Scores records (one result per record, in order). The signal stops between batches with its reason;
   * batches already run stay cached. `onBatch` hears how many of the records missing from the cache are done.
   */
  async score(records: readonly EncodedRecord[], signal?: AbortSignal, onBatch?: (done: number, total: number) => void): Promise<ModelRecordScore[]> {
    signal?.throwIfAborted();
    const out = new Array<ModelRecordScore>(records.length);
    const keys = records.map((r) => ScoreCache.key(this.manifest.modelSha256, r));
    const todo: number[] = [];
    records.forEach((_, i) => {
      const hit = this.cache.get(keys[i]);
      if (hit) out[i] = hit;
      else todo.push(i);
    });
    if (todo.length === 0) return out;
    const session = await this.open();
    let done = 0;
    for (const batch of packBatches(todo, records, this.options.batchSize ?? DEFAULT_BATCH)) {
      signal?.throwIfAborted();
      const scores = await this.run(
        session,
        batch.map((i) => records[i]),
      );
      batch.forEach((i, k) => {
        out[i] = scores[k];
        this.cache.set(keys[i], scores[k]);
      });
      done += batch.length;
      onBatch?.(done, todo.length);
    }
    signal?.throwIfAborted();
    return out;
  }

  private async run(session: Ort.InferenceSession, recs: EncodedRecord[]): Promise<ModelRecordScore[]> {
    const ort = this.ort!;
    const m = this.manifest;
    const seqs = recs.flatMap((r) => r.responses);
    const owner = recs.flatMap((r, k) => r.responses.map(() => k));
    const feeds: Record<string, Ort.Tensor> = {};
    const main = padded(
      seqs.map((s) => s.ids),
      seqs.map((s) => s.typeIds),
      m.special.pad,
    );
    feeds.input_ids = new ort.Tensor('int64', main.ids, [seqs.length, main.len]);
    feeds.token_type_ids = new ort.Tensor('int64', main.types, [seqs.length, main.len]);
    feeds.attention_mask = new ort.Tensor('int64', main.mask, [seqs.length, main.len]);
    if (m.inputs.includes('router_input_ids')) {
      const router = padded(
        recs.map((r) => r.router),
        undefined,
        m.special.pad,
      );
      feeds.router_input_ids = new ort.Tensor('int64', router.ids, [recs.length, router.len]);
      feeds.router_attention_mask = new ort.Tensor('int64', router.mask, [recs.length, router.len]);
      feeds.response_record = new ort.Tensor(
        'int64',
        BigInt64Array.from(owner, (k) => BigInt(k)),
        [seqs.length],
      );
    }
    const result = await session.run(feeds);
    this.runs++;
    const reward = result.reward.data as Float32Array;
    const bad = reward.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      const k = owner[bad];
      throw new NonFiniteScoreError(
        `${join(m.dir, m.model)}: the model's reward for record ${recs[k].id} is ${reward[bad]}: its weights are not finite (exported from a diverged run, or the file is corrupt); export a finite run again`,
      );
    }
    const probs = result.category_probs?.data as Float32Array | undefined;
    const chosen = result.category?.data as BigInt64Array | undefined;
    const caps = result.capability_scores?.data as Float32Array | undefined;
    const members = result.member_rewards?.data as Float32Array | undefined;
    const logit = result.reward_logit?.data as Float32Array | undefined;
    const C = m.categories.length;
    const P = m.capabilities.length;
    const K = m.ensemble?.members.length ?? 0;
    let row = 0;
    return recs.map((r, k) => {
      const n = r.responses.length;
      const rows = Array.from({ length: n }, (_, j) => row + j);
      row += n;
      const s: ModelRecordScore = { id: r.id, rewards: rows.map((i) => reward[i]), logits: rows.map((i) => (logit ? logit[i] : inverseSigmoid(reward[i]))) };
      let category: string | undefined = m.categories.length === 1 && !chosen ? m.categories[0] : undefined;
      if (probs && chosen) {
        category = m.categories[Number(chosen[k])];
        s.category = category;
        s.probabilities = Array.from(probs.subarray(k * C, (k + 1) * C));
      }
      if (caps) {
        s.capabilities = m.capabilities
          .map((col, p): [CapabilityColumn, number] => [col, p])
          .filter(([col]) => category === undefined || col.category === category)
          .map(([col, p]) => ({ point: col.point, zh: col.zh, en: col.en, scores: rows.map((i) => caps[i * P + p]) }));
      }
      if (members) s.members = Array.from({ length: K }, (_, j) => rows.map((i) => members[i * K + j]));
      return s;
    });
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await (await s.catch(() => undefined))?.release();
  }
}

/** Groups records (longest response last) into runs of about `size` responses, whole records only. */
function packBatches(todo: number[], records: readonly EncodedRecord[], size: number): number[][] {
  const longest = (i: number): number => Math.max(0, ...records[i].responses.map((s) => s.ids.length));
  const sorted = [...todo].sort((a, b) => longest(a) - longest(b));
  const out: number[][] = [];
  let cur: number[] = [];
  let n = 0;
  for (const i of sorted) {
    const k = records[i].responses.length;
    if (cur.length > 0 && n + k > size) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(i);
    n += k;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Right-padded int64 rows, as makeBatch pads them for the training engine. */
function padded(
  rows: Int32Array[],
  types: Int32Array[] | undefined,
  pad: number,
): { ids: BigInt64Array; types: BigInt64Array; mask: BigInt64Array; len: number } {
  const len = Math.max(1, ...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * len).fill(BigInt(pad));
  const typeIds = new BigInt64Array(rows.length * len);
  const mask = new BigInt64Array(rows.length * len);
  rows.forEach((r, b) => {
    for (let t = 0; t < r.length; t++) {
      ids[b * len + t] = BigInt(r[t]);
      mask[b * len + t] = 1n;
      if (types) typeIds[b * len + t] = BigInt(types[b][t]);
    }
  });
  return { ids, types: typeIds, mask, len };
}

/** logit(p) for exports made before reward_logit existed; p is clamped off 0 and 1 so it stays finite. */
export function inverseSigmoid(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}
