import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local OpenAI-compatible judge for tests and benchmarks: `POST /v1/chat/completions` on
 * 127.0.0.1 (loopback only), deterministic verdicts, every request recorded, faults injected by
 * request number or prompt.
 *
 * Verdicts. The server reads the pair out of the prompt (zh or en default templates) and decides it
 * by a hash of (point, response text): the same pair and point always get the same winner, whichever
 * order it is asked in — so a consistent judge. `biasShare` of the pairs are answered "1" in both
 * orders (position bias → inconsistent); `invalidShare` are answered with no digit at all (invalid).
 * The choice of pair is a hash too, so runs are reproducible.
 */

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Never answers (the client's timeout fires). */
  | { kind: 'hang' }
  /** Destroys the connection without a reply. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** 200, JSON without choices. */
  | { kind: 'no-content' }
  /** 200 with an empty message (a content filter, a reasoning model out of tokens). */
  | { kind: 'empty' };

export interface FakeRequest {
  /** 1-based, in arrival order. */
  n: number;
  prompt: string;
  model: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
  fault?: Fault['kind'];
  /** The reply text, when answered. */
  reply?: string;
}

export interface FakeJudgeOptions {
  /** Delay before each answer. */
  latencyMs?: number;
  biasShare?: number;
  invalidShare?: number;
  faults?: (request: { n: number; prompt: string }) => Fault | undefined;
  /** Report `usage` (default true). */
  usage?: boolean;
  /** Reply to classification prompts; default: a category named in the prompt, chosen by hash. */
  classify?: (prompt: string) => string;
}

export function unit(...parts: string[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0) / 2 ** 32;
}

interface ParsedPair {
  point: string;
  response1: string;
  response2: string;
  lang: 'zh' | 'en';
}

export function parsePairPrompt(prompt: string): ParsedPair | undefined {
  const zh = /在【(.+?)】方面哪个更好。[\s\S]*?\n【回复1】：([\s\S]*)\n【回复2】：([\s\S]*)$/.exec(prompt);
  if (zh) return { point: zh[1], response1: zh[2], response2: zh[3], lang: 'zh' };
  const en = /in terms of \[(.+?)\]\.[\s\S]*?\n\[Response 1\]: ([\s\S]*)\n\[Response 2\]: ([\s\S]*)$/.exec(prompt);
  if (en) return { point: en[1], response1: en[2], response2: en[3], lang: 'en' };
  return undefined;
}

/** The judge's behaviour for a (point, unordered pair): which text wins, or a biased / invalid judge. */
export function judgeOf(
  point: string,
  t1: string,
  t2: string,
  biasShare = 0,
  invalidShare = 0,
): { kind: 'winner'; text: string } | { kind: 'bias' } | { kind: 'invalid' } {
  const [x, y] = t1 < t2 ? [t1, t2] : [t2, t1];
  if (unit('invalid', point, x, y) < invalidShare) return { kind: 'invalid' };
  if (unit('bias', point, x, y) < biasShare) return { kind: 'bias' };
  return { kind: 'winner', text: unit('win', point, x) >= unit('win', point, y) ? x : y };
}

export function replyFor(prompt: string, options: FakeJudgeOptions = {}): string {
  const pair = parsePairPrompt(prompt);
  if (!pair) {
    if (options.classify) return options.classify(prompt);
    const m = /类别：(.+?)。|belongs to: (.+?)\. Answer/.exec(prompt);
    const names = (m?.[1] ?? m?.[2])?.split(/、|, /) ?? ['?'];
    return names[Math.floor(unit('category', prompt) * names.length)];
  }
  const j = judgeOf(pair.point, pair.response1, pair.response2, options.biasShare, options.invalidShare);
  if (j.kind === 'invalid') return pair.lang === 'zh' ? '两个回复不相上下，无法判断。' : 'Both responses are equally good; hard to say.';
  const w = j.kind === 'bias' ? 1 : j.text === pair.response1 ? 1 : 2;
  return pair.lang === 'zh' ? `回复${w}更好。` : `Response ${w} is better.`;
}

export class FakeJudgeServer {
  readonly requests: FakeRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private closed = false;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly options: FakeJudgeOptions,
  ) {}

  static async start(options: FakeJudgeOptions = {}): Promise<FakeJudgeServer> {
    const server = createServer();
    const self = new FakeJudgeServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void self.handle(req, res));
    server.on('connection', (s: Socket) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL to give the client: `http://127.0.0.1:PORT/v1`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Requests that got a 200 reply with a verdict. */
  answered(): FakeRequest[] {
    return this.requests.filter((r) => r.reply !== undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400).end('{"error":{"message":"bad json"}}');
      return;
    }
    const messages = body.messages as { role: string; content: string }[];
    const prompt = messages?.[messages.length - 1]?.content ?? '';
    const record: FakeRequest = { n: this.requests.length + 1, prompt, model: String(body.model), authorization: req.headers.authorization, body };
    this.requests.push(record);
    const fault = this.options.faults?.({ n: record.n, prompt });
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    if (this.closed) return;
    if (fault) {
      record.fault = fault.kind;
      switch (fault.kind) {
        case 'status': {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
          res.writeHead(fault.status, headers).end(fault.body ?? `{"error":{"message":"injected ${fault.status}"}}`);
          return;
        }
        case 'hang':
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [{"message": {"content": "回复');
          return;
        case 'no-content':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"chat.completion"}');
          return;
        case 'empty':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"message":{"role":"assistant","content":""}}]}');
          return;
      }
    }
    const reply = replyFor(prompt, this.options);
    record.reply = reply;
    const payload: Record<string, unknown> = {
      id: `fake-${record.n}`,
      object: 'chat.completion',
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
    };
    if (this.options.usage !== false)
      payload.usage = { prompt_tokens: prompt.length, completion_tokens: reply.length, total_tokens: prompt.length + reply.length };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
