/**
 * Token counts and cost before a job starts. No tokenizer of the judges (Ernie, Qwen, DeepSeek, GPT)
 * ships offline, so counts use a documented approximation, good to about ±25% on mixed text:
 *
 * - every CJK character (ideographs, kana, Hangul, full-width forms and CJK punctuation) is 1 token;
 * - every other run of characters is 1 token per 4 characters (rounded up), the usual rule for
 *   English BPE vocabularies.
 *
 * Servers report real counts (`usage`), which the store keeps; the estimate is only for the prompt
 * before paying.
 */

function isCjk(c: number): boolean {
  return (
    (c >= 0x2e80 && c <= 0x9fff) || // radicals, CJK punctuation, kana, bopomofo, ideographs
    (c >= 0xac00 && c <= 0xd7af) || // Hangul syllables
    (c >= 0xf900 && c <= 0xfaff) || // compatibility ideographs
    (c >= 0xfe30 && c <= 0xfe4f) || // compatibility forms
    (c >= 0xff00 && c <= 0xffef) || // full-width forms
    (c >= 0xd840 && c <= 0xd87f) // high surrogates of ideograph extensions B–H (the low one is skipped)
  );
}

export function approxTokens(text: string): number {
  let cjk = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isCjk(c)) {
      cjk++;
      if (c >= 0xd840 && c <= 0xd87f) i++;
    } else other++;
  }
  return cjk + Math.ceil(other / 4);
}

export interface Pricing {
  /** Price per 1,000 prompt tokens (any currency); undefined = unknown, no cost shown. */
  promptPer1k?: number;
  /** Price per 1,000 completion tokens; defaults to the prompt price. */
  completionPer1k?: number;
  /** Completion tokens assumed per call (the verdict is short). Default 16. */
  completionTokensPerCall?: number;
}

export interface CostEstimate {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Undefined when no price is configured. */
  cost?: number;
}

export function emptyEstimate(): CostEstimate {
  return { calls: 0, promptTokens: 0, completionTokens: 0 };
}

export function addCalls(e: CostEstimate, calls: number, promptTokens: number, pricing: Pricing): void {
  e.calls += calls;
  e.promptTokens += promptTokens;
  e.completionTokens += calls * (pricing.completionTokensPerCall ?? 16);
}

export function priced(e: CostEstimate, pricing: Pricing): CostEstimate {
  if (pricing.promptPer1k === undefined) return { ...e, cost: undefined };
  const completion = pricing.completionPer1k ?? pricing.promptPer1k;
  return { ...e, cost: (e.promptTokens / 1000) * pricing.promptPer1k + (e.completionTokens / 1000) * completion };
}
