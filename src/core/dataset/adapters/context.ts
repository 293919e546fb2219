import type { MapResult } from '../adapter';
import type { Turn } from '../record';
import { readTurns } from './turns';
import { done, fail, firstPresent, kindOf, q } from './values';
import type { JsonObject } from './values';

/** Where auto-detected records keep the conversation before the responses, in order of precedence. */
export const conversationFields = ['conversations', 'messages', 'conversation'] as const;
/** `input` comes last: next to `instruction` it is the instruction's input (Alpaca), alone it is the prompt (LLMBar). */
export const promptFields = ['prompt', 'question', 'instruction', 'query', 'input'] as const;
export const contextFields: readonly string[] = [...conversationFields, ...promptFields];

export function hasContextField(obj: JsonObject): boolean {
  return firstPresent(obj, contextFields) !== undefined;
}

/**
 * Reads the context of a record from its prompt-like fields, marking the fields it used in
 * `consumed`. `instruction` + non-blank `input` become one user turn (Alpaca convention: the input
 * follows the instruction after a blank line); a string `system` field becomes a leading system turn.
 * Returns `undefined` when the record has no such field at all.
 */
export function readContext(obj: JsonObject, consumed: Set<string>): MapResult<Turn[]> | undefined {
  const key = firstPresent(obj, contextFields);
  if (key === undefined) return undefined;
  consumed.add(key);
  const value = obj[key];
  let turns: Turn[];
  if ((conversationFields as readonly string[]).includes(key) || Array.isArray(value)) {
    const read = readTurns(value, q(key));
    if (!read.ok) return read;
    turns = read.value;
  } else if (typeof value === 'string') {
    let text = value;
    if (key === 'instruction' && obj.input !== undefined) {
      consumed.add('input');
      if (typeof obj.input !== 'string') return fail(`"input" is ${kindOf(obj.input)}, not a string`);
      if (obj.input.trim() !== '') text = value.trim() === '' ? obj.input : `${value}\n\n${obj.input}`;
    }
    turns = [{ role: 'user', content: text }];
  } else {
    return fail(`${q(key)} is ${kindOf(value)}, not a string or a list of messages`);
  }
  if (typeof obj.system === 'string' && !turns.some((t) => t.role === 'system')) {
    consumed.add('system');
    turns = [{ role: 'system', content: obj.system }, ...turns];
  }
  return done(turns);
}

/** Fields that name a record's category (task, scenario, app), in order of precedence. */
export const categoryFields = ['category', 'scenario', 'motivation_app', 'task_category', 'domain', 'task', 'type'] as const;

/** The first string category field, marked consumed; non-string values stay in metadata. */
export function readCategory(obj: JsonObject, consumed: Set<string>, fields: readonly string[] = categoryFields): string | undefined {
  for (const key of fields) {
    const value = obj[key];
    if (typeof value === 'string' && value.trim() !== '') {
      consumed.add(key);
      return value;
    }
  }
  return undefined;
}
