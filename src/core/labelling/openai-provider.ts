import type { JudgeProvider, JudgeReply } from './provider';
import { JudgeError, MAX_REPLY_BYTES, replyTooLarge } from './provider';

/**
 * Any OpenAI-compatible chat-completions endpoint: OpenAI, Ernie/Qwen/DeepSeek compatible modes,
 * vLLM, Ollama (`http://localhost:11434/v1`), … `POST ${baseUrl}/chat/completions` with one user
 * message. The API key is sent as `Authorization: Bearer` only when given, kept in a private field (so
 * serialising the provider cannot leak it) and never put into an error message.
 */

/** Whether `url` can be an endpoint's base URL (http or https): checked before a job, not after its first calls fail. */
export function validBaseUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export interface OpenAIProviderOptions {
  /** e.g. `https://api.deepseek.com/v1`, `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Default 0 (the most repeatable verdicts); omitted from the request when null. */
  temperature?: number | null;
  /** `max_tokens`; omitted when undefined. */
  maxTokens?: number;
  /** Per request, headers to body; default 60 s. */
  timeoutMs?: number;
  /** Bytes of a reply read at most; a longer one fails the call. Default MAX_REPLY_BYTES. */
  maxReplyBytes?: number;
  /** For tests. */
  fetch?: typeof fetch;
}

interface ChatCompletion {
  choices?: { message?: { content?: unknown } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export class OpenAIProvider implements JudgeProvider {
  readonly id = 'openai-compatible';
  readonly model: string;
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #options: OpenAIProviderOptions;

  constructor(options: OpenAIProviderOptions) {
    this.model = options.model;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey || undefined;
    this.#options = { ...options, apiKey: undefined };
  }

  async complete(prompt: string, { signal }: { signal?: AbortSignal } = {}): Promise<JudgeReply> {
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    // One controller for both the timeout and the caller's signal: AbortSignal.timeout + .any cost
    // three signals per call, a measurable share of a job's overhead at hundreds of calls per second.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    const body: Record<string, unknown> = { model: this.model, messages: [{ role: 'user', content: prompt }], stream: false };
    const temperature = this.#options.temperature === undefined ? 0 : this.#options.temperature;
    if (temperature !== null) body.temperature = temperature;
    if (this.#options.maxTokens !== undefined) body.max_tokens = this.#options.maxTokens;
    const doFetch = this.#options.fetch ?? fetch;
    const maxBytes = this.#options.maxReplyBytes ?? MAX_REPLY_BYTES;
    let response: Response;
    let text: string;
    let complete: boolean;
    try {
      response = await doFetch(`${this.baseUrl}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal });
      ({ text, complete } = await readAtMost(response, maxBytes));
    } catch (e) {
      if (signal?.aborted) throw new JudgeError('cancelled', 'cancelled', false);
      if (timedOut) throw new JudgeError(`no reply within ${timeoutMs} ms`, 'timeout', true);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new JudgeError(`network error: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 'network', true);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (!response.ok) {
      const status = response.status;
      const retryable = status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
      const fatal = status === 401 || status === 403 || status === 404;
      const hint = status === 401 || status === 403 ? ' (check the API key)' : status === 404 ? ` (check the base URL and the model "${this.model}")` : '';
      throw new JudgeError(`HTTP ${status}${hint}: ${snippet(text)}`, 'http', retryable, fatal, status, retryAfterMs(response.headers));
    }
    if (!complete) throw replyTooLarge(maxBytes);
    let parsed: ChatCompletion;
    try {
      parsed = JSON.parse(text) as ChatCompletion;
    } catch {
      throw new JudgeError(`malformed JSON in the reply: ${snippet(text)}`, 'malformed', true);
    }
    const content = parsed?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new JudgeError(`the reply has no choices[0].message.content: ${snippet(text)}`, 'malformed', true);
    return { text: content, promptTokens: parsed.usage?.prompt_tokens, completionTokens: parsed.usage?.completion_tokens };
  }
}

/** The body up to `maxBytes`; the rest is not read (the connection is dropped). */
async function readAtMost(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (!response.body) return { text: '', complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - bytes;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      await reader.cancel();
      return { text: new TextDecoder().decode(Buffer.concat(chunks)), complete: false };
    }
    chunks.push(value);
    bytes += value.byteLength;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), complete: true };
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(empty body)';
}

/** `Retry-After: 7` or an HTTP date, or `retry-after-ms: 700` (OpenAI), in milliseconds. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
