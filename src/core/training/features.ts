/**
 * Preference records → token sequences: one `[CLS] context [SEP] response [SEP]` per response for the
 * reward model, and `[CLS] user turns [SEP]` for the router (decoder bases: without [CLS]/[SEP], see
 * TextTokenizer) (paper §3.1: the router classifies the
 * input, not the answers). Ids are in the tokenizer's full vocabulary; `VocabMap` compacts them later.
 */
import type { PreferenceRecord, Role } from '../dataset/record';
import type { TextTokenizer } from '../model/tokenizer';

/** Original vocabulary ids. */
export interface EncodedResponse {
  ids: Int32Array;
  typeIds: Int32Array;
}

export interface EncodedRecord {
  /** Record number in its dataset. */
  index: number;
  id: string;
  category?: string;
  /** `[CLS] user turns [SEP]`, token types all 0. */
  router: Int32Array;
  /** One sequence per response, in the record's order. */
  responses: EncodedResponse[];
}

export interface FeatureLimits {
  /** Longest reward-model input, specials included. */
  maxLen: number;
  /** Longest router input, specials included. */
  routerMaxLen: number;
}

/**
 * Plain English role names, for Chinese and English data alike: the tokenizer spells them in a few
 * wordpieces, and a fixed marker is all the model needs to tell the speakers apart.
 */
const ROLE_MARKER: Record<Role, string> = { system: 'System', user: 'User', assistant: 'Assistant' };

/**
 * The conversation as one text. A single user turn is its content alone (most data, and what a
 * `[query, response]` reward model is trained on); a multi-turn context is one `Role: content` line per
 * turn, in order, so the final user turn comes last and survives truncation from the front.
 */
export function contextText(record: PreferenceRecord): string {
  const turns = record.context;
  if (turns.length === 1 && turns[0].role === 'user') return turns[0].content;
  return turns.map((t) => `${ROLE_MARKER[t.role]}: ${t.content}`).join('\n');
}

/**
 * What the user said, turn after turn, the most recent last: the router classifies the task from the
 * input alone. A context without user turns (a mapping problem) falls back to the whole context.
 */
export function routerText(record: PreferenceRecord): string {
  const user = record.context.filter((t) => t.role === 'user');
  return user.length > 0 ? user.map((t) => t.content).join('\n') : contextText(record);
}

export function encodeRecord(record: PreferenceRecord, index: number, tokenizer: TextTokenizer, limits: FeatureLimits): EncodedRecord {
  const { maxLen, routerMaxLen } = checkLimits(limits);
  const ctx = contextText(record);
  const pairBudget = maxLen - tokenizer.pairOverhead;
  const routerBudget = routerMaxLen - tokenizer.singleOverhead;
  // The context is tokenized once for all responses; only its end can be used.
  const ctxIds = tokenizer.tokenizeTail(ctx, pairBudget);
  const routerSource = routerText(record);
  // Single-turn records read the same text for both; its tail tokens are then usually at hand already.
  const reuse = routerSource === ctx && (routerBudget <= pairBudget || ctxIds.length < pairBudget);
  const routerIds = reuse ? ctxIds.slice(-routerBudget) : tokenizer.tokenizeTail(routerSource, routerBudget);
  const encoded: EncodedRecord = {
    index,
    id: record.id,
    router: tokenizer.encodeSingleIds(routerIds, routerMaxLen).ids,
    responses: record.responses.map((r) => tokenizer.encodePairIds(ctxIds, tokenizer.tokenizeHead(r.text, pairBudget), maxLen)),
  };
  if (record.category !== undefined) encoded.category = record.category;
  return encoded;
}

function checkLimits(limits: FeatureLimits): FeatureLimits {
  const { maxLen, routerMaxLen } = limits;
  if (!Number.isInteger(maxLen) || maxLen < 4) throw new RangeError(`maxLen must be an integer of at least 4 ([CLS] [SEP] [SEP] and one token); got ${maxLen}`);
  if (!Number.isInteger(routerMaxLen) || routerMaxLen < 3)
    throw new RangeError(`routerMaxLen must be an integer of at least 3 ([CLS] [SEP] and one token); got ${routerMaxLen}`);
  return limits;
}
