import type { MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { Turn } from '../record';
import { readCategory, readContext } from './context';
import { splitAtDivergence } from './divergence';
import { looksLikeHHPair } from './hh-rlhf';
import { checkContext, checkResponseText, isMessage, readTurn, readTurns } from './turns';
import { done, fail, has, isObject, kindOf, leftoverFields, q, shareOf } from './values';

/**
 * Two responses named chosen and rejected: TRL/OpenRLHF (`prompt` + `chosen`/`rejected` strings or
 * message lists, possibly whole conversations), LLaMA-Factory / MedicalGPT (`conversations` in
 * ShareGPT form + `chosen`/`rejected` strings or `{from, value}`), MedicalGPT reward data
 * (`question`, `response_chosen`, `response_rejected`).
 */
export const chosenRejectedAdapter: RecordAdapter = {
  name: 'chosen-rejected',
  description: '{prompt|question|instruction|conversations, chosen, rejected} (strings, messages or ShareGPT)',
  detect: (sample) => shareOf(sample, recognises),
  map,
};

const keyPairs = [
  ['chosen', 'rejected'],
  ['response_chosen', 'response_rejected'],
] as const;

function pairKeys(obj: Record<string, unknown>): readonly [string, string] | undefined {
  return keyPairs.find(([c, r]) => has(obj, c) || has(obj, r));
}

function recognises(value: unknown): boolean {
  if (!isObject(value) || looksLikeHHPair(value)) return false;
  return keyPairs.some(([c, r]) => has(value, c) && has(value, r));
}

/** A side as turns: a plain string is one assistant turn; a message or message list is read as such. */
function sideTurns(value: unknown, name: string): MapResult<Turn[]> {
  if (typeof value === 'string') return done([{ role: 'assistant', content: value }]);
  if (isMessage(value)) {
    const turn = readTurn(value, 0, q(name));
    return turn.ok ? done([turn.value]) : turn;
  }
  if (Array.isArray(value)) return readTurns(value, q(name));
  return fail(`${q(name)} is ${kindOf(value)}, not a string, a message or a list of messages`);
}

function map(value: unknown): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  const keys = pairKeys(value);
  if (keys === undefined) return fail('no field "chosen"');
  for (const key of keys) if (!has(value, key)) return fail(`no field ${q(key)}`);
  const consumed = new Set<string>(keys);
  const warnings: string[] = [];

  const prompt = readContext(value, consumed);
  if (prompt !== undefined && !prompt.ok) return prompt;
  const sides: Turn[][] = [];
  for (const key of keys) {
    const turns = sideTurns(value[key], key);
    if (!turns.ok) return turns;
    sides.push(turns.value);
  }
  const split = splitAtDivergence(sides[0], sides[1], keys, warnings);
  if (!split.ok) return split;
  const context = joinContext(prompt?.value ?? [], split.value.context);
  if (context.length === 0) {
    return fail('no prompt: expected a "prompt", "question", "instruction" or "conversations" field, or conversations in chosen/rejected');
  }
  const contextProblem = checkContext(context, warnings);
  if (contextProblem) return fail(contextProblem);
  for (const [i, key] of keys.entries()) {
    const problem = checkResponseText(split.value.texts[i], `response ${i + 1} (${key})`);
    if (problem) warnings.push(problem);
  }

  const record: MappedRecord = {
    context,
    responses: split.value.texts.map((text) => ({ text })),
    preference: { ranking: [1, 2] },
  };
  const category = readCategory(value, consumed);
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}

/** A prompt field and conversations in chosen/rejected may both hold the opening turns: keep them once. */
function joinContext(prompt: readonly Turn[], shared: readonly Turn[]): Turn[] {
  const repeats = prompt.length <= shared.length && prompt.every((turn, i) => turn.role === shared[i].role && turn.content === shared[i].content);
  return repeats ? [...shared] : [...prompt, ...shared];
}
