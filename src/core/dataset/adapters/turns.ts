import type { MapResult } from '../adapter';
import type { Role, Turn } from '../record';
import { done, fail, isObject, kindOf, q } from './values';

/**
 * Role names seen in public chat data (OpenAI/TRL `role`, ShareGPT `from`, llmeval2 `llm`) and the
 * canonical role each stands for. Lower-case keys; lookups lower-case the name first.
 */
export const defaultRoleNames: Readonly<Record<string, Role>> = {
  system: 'system',
  user: 'user',
  human: 'user',
  prompter: 'user',
  assistant: 'assistant',
  gpt: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  llm: 'assistant',
  chatgpt: 'assistant',
};

export function normaliseRole(name: string, roleNames: Readonly<Record<string, Role>> = defaultRoleNames): Role | undefined {
  return roleNames[name] ?? roleNames[name.toLowerCase()] ?? defaultRoleNames[name.toLowerCase()];
}

/** Which fields of a message object hold its role and its text; `auto` accepts role/content and from/value. */
export interface MessageFields {
  role: string;
  content: string;
  roleNames?: Readonly<Record<string, Role>>;
}

export function isMessage(value: unknown): boolean {
  return isObject(value) && ((value.role !== undefined && value.content !== undefined) || (value.from !== undefined && value.value !== undefined));
}

export function isMessageList(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length > 0 && value.every(isMessage);
}

function fieldsOf(message: Record<string, unknown>): MessageFields {
  return message.from !== undefined && message.role === undefined ? { role: 'from', content: 'value' } : { role: 'role', content: 'content' };
}

/** OpenAI-style multimodal content (`[{type: "text", text}]`) reduces to its text parts. */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.length > 0 && content.every((part) => isObject(part) && typeof part.text === 'string')) {
    return content.map((part) => (part as { text: string }).text).join('\n');
  }
  return undefined;
}

/**
 * Reads one message. `where` names the list for reasons (`in "dialog"`), `index` is 0-based and
 * reported 1-based because people count turns from one.
 */
export function readTurn(item: unknown, index: number, where: string, fields?: MessageFields): MapResult<Turn> {
  const at = `turn ${index + 1}${where ? ` in ${where}` : ''}`;
  if (!isObject(item)) return fail(`${at} is ${kindOf(item)}, not a message object`);
  const f = fields ?? fieldsOf(item);
  const rawRole = item[f.role];
  if (typeof rawRole !== 'string') return fail(`${q(f.role)} of ${at} is ${kindOf(rawRole)}, not a string`);
  const role = normaliseRole(rawRole, f.roleNames);
  if (role === undefined) return fail(`${at} has unknown role ${q(rawRole)} (known: ${Object.keys(f.roleNames ?? defaultRoleNames).join(', ')})`);
  const content = textOf(item[f.content]);
  if (content === undefined) return fail(`${q(f.content)} of ${at} is ${kindOf(item[f.content])}, not a string`);
  return done({ role, content });
}

export function readTurns(list: unknown, where: string, fields?: MessageFields): MapResult<Turn[]> {
  if (!Array.isArray(list)) return fail(`${where} is ${kindOf(list)}, not a list of messages`);
  const turns: Turn[] = [];
  for (let i = 0; i < list.length; i++) {
    const turn = readTurn(list[i], i, where, fields);
    if (!turn.ok) return turn;
    turns.push(turn.value);
  }
  return done(turns);
}

export function sameTurn(a: Turn, b: Turn): boolean {
  return a.role === b.role && a.content === b.content;
}

export function commonPrefixLength(a: readonly Turn[], b: readonly Turn[]): number {
  let n = 0;
  while (n < a.length && n < b.length && sameTurn(a[n], b[n])) n++;
  return n;
}

/**
 * Checks a context the way every adapter wants it checked: it must exist and should end with the
 * user turn the responses answer; blank turns are suspicious but harmless.
 */
export function checkContext(context: readonly Turn[], warnings: string[]): string | undefined {
  if (context.length === 0) return 'the context is empty (no prompt or user turn)';
  context.forEach((turn, i) => {
    if (turn.content.trim() === '') {
      warnings.push(i === context.length - 1 ? `the final ${turn.role} turn of the context is empty` : `context turn ${i + 1} (${turn.role}) is empty`);
    }
  });
  const last = context[context.length - 1];
  if (last.role !== 'user') warnings.push(`the context ends with a ${last.role} turn, not a user turn`);
  return undefined;
}

/**
 * An empty response is legal data (refusing to answer can be the preferred, harmless response) but is
 * more often an export bug, so callers report it as a warning and keep the record. `label` is how
 * the warning names the response (`response 2`, `chosen`).
 */
export function checkResponseText(text: string, label: string): string | undefined {
  return text.trim() === '' ? `${label} is empty` : undefined;
}
