/**
 * OpenRLHF sends each query as one string: the prompt and the policy's response already rendered in the
 * policy's chat template. A reward model reads a context and a response separately (features.ts), so the
 * string is cut at the last assistant header of the template, and the turns before it are read back as
 * turns. Documented in docs/serve.md.
 */
import type { Role, Turn } from '../dataset/record';

export type TemplateName = 'auto' | 'chatml' | 'llama3' | 'custom';

export interface SplitOptions {
  template: TemplateName;
  /** custom: the text that starts the response (everything before it is the context, as one user turn). */
  marker?: string;
}

export interface SplitQuery {
  context: Turn[];
  response: string;
}

/** A query that cannot be cut into context and response: the request is answered 400 with this message. */
export class SplitError extends Error {}

interface Template {
  name: 'chatml' | 'llama3';
  /** What every turn header starts with. */
  start: string;
  /** Where the policy's answer starts (the assistant header the generation prompt ends with). */
  assistant: string;
  /** One turn: the role name, then its content up to the end-of-turn token. */
  turn: RegExp;
  /** End-of-turn and end-of-text tokens that may follow the response. */
  ends: string[];
}

const CHATML: Template = {
  name: 'chatml',
  start: '<|im_start|>',
  assistant: '<|im_start|>assistant\n',
  turn: /<\|im_start\|>([^\n]*)\n([\s\S]*?)(?:<\|im_end\|>|$)/g,
  ends: ['<|im_end|>', '<|endoftext|>'],
};

const LLAMA3: Template = {
  name: 'llama3',
  start: '<|start_header_id|>',
  assistant: '<|start_header_id|>assistant<|end_header_id|>\n\n',
  turn: /<\|start_header_id\|>([^<]*)<\|end_header_id\|>\n\n([\s\S]*?)(?:<\|eot_id\|>|$)/g,
  ends: ['<|eot_id|>', '<|end_of_text|>'],
};

const TEMPLATES = [CHATML, LLAMA3];

export function isTemplateName(s: string): s is TemplateName {
  return s === 'auto' || s === 'chatml' || s === 'llama3' || s === 'custom';
}

/** The header a template's response starts after, for messages and /info. */
export function splitPoint(options: SplitOptions): string {
  if (options.template === 'custom') return options.marker ?? '';
  if (options.template === 'auto') return `${JSON.stringify(CHATML.assistant)} or ${JSON.stringify(LLAMA3.assistant)}`;
  return JSON.stringify(TEMPLATES.find((t) => t.name === options.template)!.assistant);
}

/**
 * Cuts `query` at the last assistant header. `prompt` (OpenRLHF's `prompts[i]`) is used only when the query
 * has no header but starts with it: a policy without a chat template sends plain prompt + response.
 */
export function splitQuery(query: string, options: SplitOptions, prompt?: string): SplitQuery {
  if (options.template === 'custom') {
    const marker = options.marker;
    if (!marker) throw new SplitError('the custom template needs a marker');
    const at = query.lastIndexOf(marker);
    if (at >= 0) return { context: [{ role: 'user', content: query.slice(0, at).trim() }], response: query.slice(at + marker.length).trim() };
    return byPrompt(query, prompt, options) ?? noSplit(options);
  }
  const candidates = options.template === 'auto' ? TEMPLATES : TEMPLATES.filter((t) => t.name === options.template);
  // auto: the template whose header comes last wins (a ChatML conversation that quotes a Llama-3 header earlier).
  let best: { t: Template; at: number } | undefined;
  for (const t of candidates) {
    const at = query.lastIndexOf(t.assistant);
    if (at >= 0 && (!best || at > best.at)) best = { t, at };
  }
  if (!best) return byPrompt(query, prompt, options) ?? noSplit(options);
  const { t, at } = best;
  return { context: turnsOf(query.slice(0, at), t), response: stripEnds(query.slice(at + t.assistant.length), t.ends) };
}

function byPrompt(query: string, prompt: string | undefined, options: SplitOptions): SplitQuery | undefined {
  if (!prompt || !query.startsWith(prompt)) return undefined;
  const templates = options.template === 'auto' ? TEMPLATES : TEMPLATES.filter((t) => t.name === options.template);
  const t = templates.find((x) => prompt.includes(x.start));
  return { context: t ? turnsOf(prompt, t) : [{ role: 'user', content: prompt.trim() }], response: query.slice(prompt.length).trim() };
}

function noSplit(options: SplitOptions): never {
  throw new SplitError(`no split point: the query has no ${splitPoint(options)} (is --template right for the policy's chat template?)`);
}

const ROLES: Record<string, Role> = { system: 'system', user: 'user', assistant: 'assistant' };

/** The turns of a rendered prompt; text outside any turn (a bare prompt) is one user turn. */
function turnsOf(text: string, t: Template): Turn[] {
  const turns: Turn[] = [];
  for (const m of text.matchAll(t.turn)) {
    // Tool and other roles speak to the assistant as the user does.
    const role = ROLES[m[1].trim()] ?? 'user';
    turns.push({ role, content: m[2].trim() });
  }
  if (turns.length === 0) {
    const bare = text.replace(/<\|[a-z_]+\|>/g, '').trim();
    turns.push({ role: 'user', content: bare });
  }
  return turns;
}

function stripEnds(response: string, ends: string[]): string {
  let cut = response.length;
  for (const e of ends) {
    const at = response.indexOf(e);
    if (at >= 0 && at < cut) cut = at;
  }
  return response.slice(0, cut).trim();
}
