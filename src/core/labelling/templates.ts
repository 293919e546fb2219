import { readFileSync } from 'node:fs';
import type { Turn } from '../dataset/record';
import type { ConfigError } from '../jsonc';
import { Diagnostics, objectKeys, parseJsonc, stringValue } from '../jsonc';

/**
 * Prompt templates of the judge. The defaults are the paper's (DMoERM, Tables 13/14): the query, two
 * responses and one capability point, no conversation history. Templates are versioned: the version
 * is stored with every call and label, so labels from different wordings are never mixed up.
 */

export type Lang = 'zh' | 'en';

export interface PromptTemplates {
  /** Stored with every call; a user template must name its own. */
  version: string;
  lang: Lang;
  /** Pairwise comparison. Placeholders: {point} {query} {response1} {response2}, and {history}. */
  pairwise: string;
  /** What {history} becomes when history is attached: {turns}. Empty when it is not. */
  history: string;
  /** One history turn: {role} {content}. */
  historyTurn: string;
  /** Category classification (router labels): {categories} {query}. */
  classify: string;
}

export const DEFAULT_TEMPLATES: Record<Lang, PromptTemplates> = {
  zh: {
    version: 'dmoerm-zh-1',
    lang: 'zh',
    pairwise: '给定提问和两个回复，判断回复1和回复2在【{point}】方面哪个更好。\n{history}【提问】：{query}\n【回复1】：{response1}\n【回复2】：{response2}',
    history: '【对话历史】：\n{turns}\n',
    historyTurn: '{role}：{content}',
    classify: '给定提问，判断它属于以下哪个类别：{categories}。只回答类别名称。\n【提问】：{query}',
  },
  en: {
    version: 'dmoerm-en-1',
    lang: 'en',
    pairwise:
      'Given a query and two responses, determine which of response 1 and response 2 is better in terms of [{point}].\n{history}[Query]: {query}\n[Response 1]: {response1}\n[Response 2]: {response2}',
    history: '[History]:\n{turns}\n',
    historyTurn: '{role}: {content}',
    classify: 'Given a query, determine which of the following categories it belongs to: {categories}. Answer with the category name only.\n[Query]: {query}',
  },
};

const roleNames: Record<Lang, Record<Turn['role'], string>> = {
  zh: { system: '系统', user: '用户', assistant: '助手' },
  en: { system: 'System', user: 'User', assistant: 'Assistant' },
};

/**
 * Fills `{name}` placeholders in one pass, so text that itself contains `{query}` (a response about
 * templates, say) is inserted literally and never expanded again. Unknown placeholders stay as they are.
 */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole));
}

export interface PairwisePromptInput {
  point: string;
  query: string;
  response1: string;
  response2: string;
  /** Turns before the final user turn; attached only when given (the paper attaches none). */
  history?: readonly Turn[];
}

export function renderPairwise(t: PromptTemplates, input: PairwisePromptInput): string {
  return fill(t.pairwise, {
    point: input.point,
    query: input.query,
    response1: input.response1,
    response2: input.response2,
    history: renderHistory(t, input.history),
  });
}

export function renderClassify(t: PromptTemplates, categories: readonly string[], query: string): string {
  return fill(t.classify, { categories: categories.join(t.lang === 'zh' ? '、' : ', '), query });
}

function renderHistory(t: PromptTemplates, history: readonly Turn[] | undefined): string {
  if (!history || history.length === 0) return '';
  const turns = history.map((turn) => fill(t.historyTurn, { role: roleNames[t.lang][turn.role], content: turn.content })).join('\n');
  return fill(t.history, { turns });
}

/** The final user turn (the paper's query, `src[-1]`) and the turns before it. */
export function splitContext(context: readonly Turn[]): { query: string; history: Turn[] } {
  let last = context.length - 1;
  while (last >= 0 && context[last].role !== 'user') last--;
  if (last < 0) return { query: context.map((t) => t.content).join('\n'), history: [] };
  return { query: context[last].content, history: context.slice(0, last) };
}

const required: Record<'pairwise' | 'classify' | 'history' | 'historyTurn', string[]> = {
  pairwise: ['point', 'query', 'response1', 'response2'],
  classify: ['categories', 'query'],
  history: ['turns'],
  historyTurn: ['role', 'content'],
};

export type TemplatesResult = { ok: true; templates: PromptTemplates; warnings: ConfigError[] } | { ok: false; errors: ConfigError[] };

/**
 * A user template file (JSONC): `{version, lang, pairwise?, history?, historyTurn?, classify?}`; what it
 * leaves out comes from the default of its language. `version` is required, so edited wording is
 * never stored under the paper's version.
 */
export function compileTemplates(text: string): TemplatesResult {
  const d = new Diagnostics(text);
  const root = parseJsonc(text, d);
  if (root === undefined) return { ok: false, errors: d.errors };
  const keys = objectKeys(d, root, 'the template file', ['$schema', 'version', 'lang', 'pairwise', 'history', 'historyTurn', 'classify', 'description']);
  if (keys === undefined) return { ok: false, errors: d.errors };
  const versionNode = keys.get('version');
  const version = versionNode
    ? stringValue(d, versionNode, '"version"')
    : (d.at(root, 'missing required key "version" (stored with every label; change it whenever the wording changes)'), undefined);
  let lang: Lang = 'zh';
  const langNode = keys.get('lang');
  if (langNode) {
    const value = stringValue(d, langNode, '"lang"');
    if (value === 'zh' || value === 'en') lang = value;
    else if (value !== undefined) d.at(langNode, `"lang" must be "zh" or "en", not "${value}"`);
  }
  if (version !== undefined && Object.values(DEFAULT_TEMPLATES).some((t) => t.version === version)) {
    d.at(versionNode!, `"${version}" is the version of a built-in template: give edited templates their own version`);
  }
  const templates: PromptTemplates = { ...DEFAULT_TEMPLATES[lang], version: version ?? '' };
  const warnings = new Diagnostics(text);
  for (const field of ['pairwise', 'history', 'historyTurn', 'classify'] as const) {
    const node = keys.get(field);
    if (!node) continue;
    const value = stringValue(d, node, `"${field}"`, field !== 'history');
    if (value === undefined) continue;
    const missing = required[field].filter((p) => !value.includes(`{${p}}`));
    if (missing.length > 0) d.at(node, `"${field}" must contain ${missing.map((p) => `{${p}}`).join(', ')}`);
    if (field === 'pairwise' && !value.includes('{history}')) warnings.at(node, '"pairwise" has no {history}: conversation history cannot be attached');
    templates[field] = value;
  }
  if (d.errors.length > 0) return { ok: false, errors: d.errors };
  return { ok: true, templates, warnings: warnings.errors };
}

export function loadTemplatesFile(path: string): TemplatesResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [{ line: 1, column: 1, message: `cannot read the template file: ${(e as Error).message}` }] };
  }
  return compileTemplates(text);
}
