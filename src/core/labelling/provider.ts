/**
 * A judge: anything that answers a prompt. The OpenAI-compatible HTTP provider is in
 * openai-provider.ts; the VS Code Language Model API adapter lives in src/extension and implements
 * the same interface.
 */

export interface JudgeReply {
  text: string;
  /** As reported by the server; estimated (estimate.ts) when absent. */
  promptTokens?: number;
  completionTokens?: number;
}

export interface JudgeProvider {
  /** Provider kind, stored with every call (`openai-compatible`, `vscode-lm`, …). Never a secret. */
  readonly id: string;
  /** Model name, stored with every call and part of every task key. */
  readonly model: string;
  /** One chat completion of a single user message. Throws JudgeError; honours `signal`. */
  complete(prompt: string, options: { signal?: AbortSignal }): Promise<JudgeReply>;
}

export type JudgeErrorKind = 'http' | 'timeout' | 'network' | 'malformed' | 'cancelled';

/** A failed call, typed so the retry loop can decide. Messages never contain the API key. */
export class JudgeError extends Error {
  constructor(
    message: string,
    readonly kind: JudgeErrorKind,
    /** Worth trying again (429, 5xx, timeouts, resets, malformed replies). */
    readonly retryable: boolean,
    /** No point going on with the job at all (401/403/404: wrong key, model or URL). */
    readonly fatal = false,
    readonly status?: number,
    /** From `Retry-After` (seconds or HTTP date) or `retry-after-ms`. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'JudgeError';
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof JudgeError ? e.kind === 'cancelled' : (e as Error | undefined)?.name === 'AbortError';
}

/**
 * The most of a reply read off the wire (bytes for HTTP, characters for streamed text). A verdict is a
 * few tokens; a judge that sends megabytes (no `max_tokens`, a runaway model, a hostile endpoint) would
 * otherwise cost that much memory per call in flight.
 */
export const MAX_REPLY_BYTES = 64 * 1024;

/** Not retried: at temperature 0 the same prompt brings the same runaway reply. */
export function replyTooLarge(limit: number): JudgeError {
  return new JudgeError(`the reply is larger than ${limit} bytes; stopped reading it (set max tokens for the judge)`, 'malformed', false);
}
