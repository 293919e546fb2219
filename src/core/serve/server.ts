/**
 * An OpenRLHF-compatible reward server (docs/serve.md): `POST /get_reward` answers `{rewards, scores,
 * extra_logs}` as OpenRLHF's serve_rm does, scored by the same OrtScorer and the same record encoding as
 * `rewardlens score`, so a reward over HTTP equals the reward of the same texts in a file.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { basename } from 'node:path';
import type { PreferenceRecord } from '../dataset/record';
import { recordId } from '../dataset/record-id';
import { manifestTokenizer } from '../export/manifest';
import type { TextTokenizer } from '../model/tokenizer';
import type { EncodedRecord } from '../training/features';
import { encodeRecord } from '../training/features';
import type { ModelRecordScore } from '../scoring/session';
import { OrtScorer } from '../scoring/session';
import { Batcher, QueueFullError } from './batcher';
import type { RequestLog } from './request-log';
import type { SplitOptions, SplitQuery } from './split-query';
import { SplitError, splitPoint, splitQuery } from './split-query';
import { errorMessage } from '../error-message';

export interface ServeOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  maxBatch: number;
  /** Queries waiting at most; also the most one request may carry. */
  maxQueue: number;
  windowMs: number;
  maxBodyBytes: number;
  /** Reward-model input length, at most the manifest's. */
  maxLen?: number;
  split: SplitOptions;
  /** Bearer token every route but /health asks for (from the environment, never the command line). */
  token?: string;
  log?: RequestLog;
  /** A request that has not arrived whole by then is answered 408 by Node. */
  requestTimeoutMs: number;
  intraOpNumThreads?: number;
  version: string;
  /** Whatever the server has to say (a run that failed); default: nothing. */
  onError?: (e: unknown) => void;
}

export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 5000, maxBatch: 64, windowMs: 5, maxBodyBytes: 8 * 1024 * 1024, requestTimeoutMs: 60_000 } as const;

/** A request the server refuses, with its status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class RewardServer {
  private readonly http: Server;
  private readonly batcher: Batcher<EncodedRecord, ModelRecordScore>;
  private readonly tokenizer: TextTokenizer;
  private readonly limits: { maxLen: number; routerMaxLen: number };
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;
  /** Requests answered so far, by status (tests and the log read them). */
  readonly answered = new Map<number, number>();

  private constructor(
    readonly scorer: OrtScorer,
    private readonly options: ServeOptions,
  ) {
    const m = scorer.manifest;
    if (options.maxLen !== undefined && (options.maxLen < 4 || options.maxLen > m.maxLen))
      throw new RangeError(`--max-len must be from 4 to the model's ${m.maxLen} tokens, not ${options.maxLen}`);
    this.limits = { maxLen: options.maxLen ?? m.maxLen, routerMaxLen: m.routerMaxLen };
    this.tokenizer = manifestTokenizer(m);
    this.batcher = new Batcher((recs) => this.scorer.score(recs), options);
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.requestTimeout = options.requestTimeoutMs;
    this.http.headersTimeout = Math.min(options.requestTimeoutMs, 60_000);
    this.http.keepAliveTimeout = 5_000;
  }

  /** Loads the model (so the first request does not pay for it) and listens. */
  static async start(model: string, options: ServeOptions): Promise<RewardServer> {
    const scorer = new OrtScorer(model, { batchSize: options.maxBatch, intraOpNumThreads: options.intraOpNumThreads });
    try {
      const server = new RewardServer(scorer, options);
      await server.warm();
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port, options.host, () => {
          server.http.off('error', reject);
          resolve();
        });
      });
      return server;
    } catch (e) {
      // A port in use or a bad --max-len: the native session is released before the error reaches the user.
      await scorer.dispose();
      throw e;
    }
  }

  private async warm(): Promise<void> {
    // One real record loads the graph (an empty list returns before opening the session).
    const rec = this.encode({ context: [{ role: 'user', content: 'warm-up' }], response: 'ok' });
    await this.scorer.score([rec]);
    this.scorer.cache.clear();
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Batcher statistics (tests). */
  get runSizes(): readonly number[] {
    return this.batcher.runSizes;
  }

  /**
   * Stops taking connections, answers what is in flight, then releases the model. Requests that arrive
   * on open keep-alive connections meanwhile get 503.
   */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    if (this.inFlight > 0) await new Promise<void>((r) => (this.drained = r));
    await this.batcher.idle();
    this.http.closeIdleConnections();
    await closed;
    await this.scorer.dispose();
  }

  info(): Record<string, unknown> {
    const m = this.scorer.manifest;
    return {
      model: basename(this.scorer.modelFile),
      method: m.method,
      categories: m.categories,
      capabilities: m.capabilities.map((c) => ({ category: c.category, point: c.point, en: c.en, zh: c.zh })),
      maxLen: this.limits.maxLen,
      maxBatch: this.options.maxBatch,
      template: this.options.split.template,
      splitAt: splitPoint(this.options.split),
      version: this.options.version,
    };
  }

  private encode(q: SplitQuery): EncodedRecord {
    const responses = [{ text: q.response }];
    const record: PreferenceRecord = { id: recordId({ context: q.context, responses }), context: q.context, responses };
    return encodeRecord(record, 0, this.tokenizer, this.limits);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'));
    });
    try {
      if (this.draining) throw new HttpError(503, 'the server is shutting down', { 'Retry-After': '5', Connection: 'close' });
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/health') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET', { Allow: 'GET' });
        return this.send(res, 200, { status: 'ok' });
      }
      this.authorize(req);
      if (path === '/info') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET', { Allow: 'GET' });
        return this.send(res, 200, this.info());
      }
      if (path === '/get_reward') {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST', { Allow: 'POST' });
        return this.send(res, 200, await this.getReward(req, gone.signal));
      }
      throw new HttpError(404, `no route ${path}; the routes are POST /get_reward, GET /info, GET /health`);
    } catch (e) {
      if (e instanceof HttpError) return this.send(res, e.status, { error: e.message }, e.headers);
      if (gone.signal.aborted) return;
      this.options.onError?.(e);
      this.send(res, 500, { error: errorMessage(e).split('\n')[0] });
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  private authorize(req: IncomingMessage): void {
    const token = this.options.token;
    if (!token) return;
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new HttpError(401, 'a bearer token is required (Authorization: Bearer …, the value of REWARDLENS_SERVE_TOKEN)', { 'WWW-Authenticate': 'Bearer' });
  }

  private async getReward(req: IncomingMessage, signal: AbortSignal): Promise<Record<string, unknown>> {
    const body = await this.readBody(req);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new HttpError(400, `the body is not JSON (${(e as Error).message})`);
    }
    const { query, prompts } = checkRequest(parsed, this.options.maxQueue);
    const splits = query.map((q, i) => {
      try {
        return splitQuery(q, this.options.split, prompts?.[i]);
      } catch (e) {
        if (e instanceof SplitError) throw new HttpError(400, `query ${i}: ${e.message}`);
        throw e;
      }
    });
    const records = splits.map((s) => this.encode(s));
    let scores: ModelRecordScore[];
    try {
      scores = await this.batcher.submit(records, signal);
    } catch (e) {
      if (e instanceof QueueFullError) throw new HttpError(503, e.message, { 'Retry-After': '1' });
      throw e;
    }
    this.options.log?.append(splits.map((s, i) => ({ ...s, score: scores[i] })));
    return rewardResponse(scores, this.scorer.manifest.categories, this.scorer.manifest.capabilities);
  }

  private readBody(req: IncomingMessage): Promise<string> {
    const limit = this.options.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.removeAllListeners('data');
          req.resume();
          reject(tooLarge(limit));
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
      req.on('close', () => {
        if (!req.complete) reject(new Error('the client went away'));
      });
    });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.answered.set(status, (this.answered.get(status) ?? 0) + 1);
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...(this.draining ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  }
}

function tooLarge(limit: number): HttpError {
  // The rest of the body is not read: the connection closes after the answer.
  return new HttpError(413, `the body is larger than ${limit} bytes`, { Connection: 'close' });
}

/** OpenRLHF's request: `query` (non-empty, strings), optional `prompts` (strings, one per query), `labels`. */
function checkRequest(v: unknown, maxQueries: number): { query: string[]; prompts?: string[] } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object {"query": [string, …]}');
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.query)) throw new HttpError(400, `"query" must be a list of strings, not ${kind(o.query)}`);
  if (o.query.length === 0) throw new HttpError(400, '"query" is empty');
  if (o.query.length > maxQueries) throw new HttpError(413, `"query" has ${o.query.length} entries; at most ${maxQueries} per request`);
  const bad = o.query.findIndex((q) => typeof q !== 'string');
  if (bad >= 0) throw new HttpError(400, `query ${bad} is ${kind(o.query[bad])}, not a string`);
  let prompts: string[] | undefined;
  if (o.prompts !== undefined && o.prompts !== null) {
    if (!Array.isArray(o.prompts) || o.prompts.some((p) => typeof p !== 'string')) throw new HttpError(400, '"prompts" must be a list of strings');
    if (o.prompts.length !== o.query.length) throw new HttpError(400, `"prompts" has ${o.prompts.length} entries but "query" has ${o.query.length}`);
    prompts = o.prompts as string[];
  }
  if (o.labels !== undefined && o.labels !== null && !Array.isArray(o.labels)) throw new HttpError(400, '"labels" must be a list');
  return { query: o.query as string[], prompts };
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The answer, in input order. extra_logs holds numbers only (OpenRLHF turns each list into a tensor):
 * the router's category index and its probability, and each capability expert's score, null for queries the
 * router sent to another category; `categories` names each query's category.
 */
export function rewardResponse(
  scores: readonly ModelRecordScore[],
  categories: readonly string[],
  capabilities: ReadonlyArray<{ category: string; point: string }>,
): Record<string, unknown> {
  const rewards = scores.map((s) => s.logits[0]);
  const extra: Record<string, Array<number | null>> = {};
  const routed = scores.some((s) => s.probabilities);
  if (routed) {
    extra.category_id = scores.map((s) => (s.category === undefined ? null : categories.indexOf(s.category)));
    extra.category_prob = scores.map((s) => (s.probabilities && s.category !== undefined ? s.probabilities[categories.indexOf(s.category)] : null));
  }
  for (const c of capabilities) {
    const key = `${c.category}/${c.point}`;
    extra[key] = scores.map(
      (s) => s.capabilities?.find((x) => x.point === c.point && (s.category === undefined || s.category === c.category))?.scores[0] ?? null,
    );
  }
  scores[0]?.members?.forEach((_, j) => (extra[`member_${j}`] = scores.map((s) => s.members![j][0])));
  const out: Record<string, unknown> = { rewards, scores: rewards, extra_logs: extra };
  if (routed) out.categories = scores.map((s) => s.category ?? null);
  return out;
}
