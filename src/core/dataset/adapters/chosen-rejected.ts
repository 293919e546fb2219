import type { MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { Turn } from '../record';
import { readCategory, readContext } from './context';
import { splitAtDivergence } from './divergence';
import { looksLikeHHPair } from './hh-rlhf';
import { checkContext, checkResponseText, isMessage, readTurn, readTurns } from './turns';
import { done, fail, has, isObject, kindOf, leftoverFields, q, shareOf } from './values';
import type { JsonObject } from './values';

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
  if (keys.some((key) => isStringList(value[key]))) return mapAlternatives(value, keys, prompt?.value ?? [], consumed);
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

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');
}

/**
 * `chosen`/`rejected` as lists of alternative answers to one prompt: every chosen answer beats every
 * rejected one (k × m pairs), answers on the same side tie. The lists are sets of accepted and
 * refused answers, not aligned pairs — nothing in the data says the i-th chosen was judged against
 * the i-th rejected, and the sides often differ in length.
 */
function mapAlternatives(value: JsonObject, keys: readonly [string, string], context: Turn[], consumed: Set<string>): MapResult {
  if (context.length === 0) return fail('no prompt: expected a "prompt", "question", "instruction" or "conversations" field beside the lists of answers');
  const warnings: string[] = [];
  const contextProblem = checkContext(context, warnings);
  if (contextProblem) return fail(contextProblem);
  const sides: string[][] = [];
  for (const key of keys) {
    const side = value[key];
    if (typeof side === 'string') sides.push([side]);
    else if (isStringList(side)) sides.push(side);
    else
      return fail(
        `${q(key)} is ${Array.isArray(side) && side.length === 0 ? 'an empty list' : kindOf(side)}, not a string or a list of strings like ${q(keys.find((k) => k !== key)!)}`,
      );
  }
  const texts = [...sides[0], ...sides[1]];
  texts.forEach((text, i) => {
    const problem = checkResponseText(text, `response ${i + 1} (${i < sides[0].length ? keys[0] : keys[1]})`);
    if (problem) warnings.push(problem);
  });
  const record: MappedRecord = {
    context,
    responses: texts.map((text) => ({ text })),
    preference: { ranking: texts.map((_, i) => (i < sides[0].length ? 1 : 2)) },
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
