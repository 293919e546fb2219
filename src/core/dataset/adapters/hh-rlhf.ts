import type { MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { Turn } from '../record';
import { hasContextField } from './context';
import { splitAtDivergence } from './divergence';
import { checkContext, checkResponseText } from './turns';
import { done, fail, isObject, kindOf, leftoverFields, shareOf } from './values';

/**
 * Anthropic HH-RLHF: `{chosen, rejected}`, each a whole "\n\nHuman: …\n\nAssistant: …" transcript.
 * The transcripts share the conversation and differ in the last Assistant turn.
 */
export const hhRlhfAdapter: RecordAdapter = {
  name: 'hh-rlhf',
  description: 'Anthropic HH-RLHF {chosen, rejected} "\\n\\nHuman: … \\n\\nAssistant: …" transcripts',
  detect: (sample) => shareOf(sample, looksLikeHHPair),
  map,
};

interface Marker {
  index: number;
  length: number;
  human: boolean;
}

/**
 * The "\n\nHuman:" / "\n\nAssistant:" markers (or one at the very start), found with indexOf: a
 * regex matchAll over every transcript was a third of the indexing time of an HH-RLHF file.
 */
function findMarkers(text: string): Marker[] {
  const markers: Marker[] = [];
  const at = (start: number, index: number): void => {
    const human = text.startsWith('Human:', start);
    if (!human && !text.startsWith('Assistant:', start)) return;
    let end = start + (human ? 6 : 10);
    if (text[end] === ' ' || text[end] === '\t') end++;
    markers.push({ index, length: end - index, human });
  };
  at(0, 0);
  for (let i = text.indexOf('\n\n'); i >= 0; i = text.indexOf('\n\n', i + 1)) {
    const before = markers.length;
    at(i + 2, i);
    // A marker consumes its line break; "\n\n\nHuman:" still has its marker at the last pair.
    if (markers.length > before) i = markers[markers.length - 1].index + markers[markers.length - 1].length - 1;
  }
  return markers;
}

function isTranscript(value: unknown): value is string {
  return typeof value === 'string' && /(?:^|\n\n)Human:/.test(value) && /\n\nAssistant:/.test(value);
}

/** Both sides are transcripts and nothing else holds a prompt: the conversation is in the strings. */
export function looksLikeHHPair(value: unknown): boolean {
  return isObject(value) && isTranscript(value.chosen) && isTranscript(value.rejected) && !hasContextField(value);
}

/**
 * Splits a transcript at its "\n\nHuman:" / "\n\nAssistant:" markers (a transcript may also start
 * with "Human:" when someone stripped it). Turn text is trimmed: the markers' surrounding spaces are
 * separators, not content. Text before the first marker is kept as a system turn, with a warning.
 */
export function parseTranscript(text: string, name: string, warnings: string[]): Turn[] {
  const turns: Turn[] = [];
  const matches = findMarkers(text);
  const lead = text.slice(0, matches.length > 0 ? matches[0].index : text.length).trim();
  if (lead !== '') {
    warnings.push(`${name} has text before its first Human turn; kept as a system turn`);
    turns.push({ role: 'system', content: lead });
  }
  matches.forEach((match, i) => {
    const start = match.index + match.length;
    const end = i + 1 < matches.length ? matches[i + 1].index : text.length;
    turns.push({ role: match.human ? 'user' : 'assistant', content: text.slice(start, end).trim() });
  });
  for (let i = 1; i < turns.length; i++) {
    if (turns[i].role === turns[i - 1].role && turns[i].role === 'user') {
      warnings.push(`${name} has two Human turns in a row (turns ${i} and ${i + 1})`);
      break;
    }
  }
  return turns;
}

function map(value: unknown): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  for (const name of ['chosen', 'rejected'] as const) {
    if (value[name] === undefined) return fail(`no field "${name}"`);
    if (typeof value[name] !== 'string') return fail(`"${name}" is ${kindOf(value[name])}, not a transcript string`);
  }
  const warnings: string[] = [];
  const chosen = parseTranscript(value.chosen as string, 'chosen', warnings);
  const rejected = parseTranscript(value.rejected as string, 'rejected', warnings);
  for (const [name, turns] of [['chosen', chosen], ['rejected', rejected]] as const) {
    if (!turns.some((t) => t.role === 'user')) return fail(`${name} has no "\\n\\nHuman:" turn`);
    if (turns[turns.length - 1].role !== 'assistant') return fail(`${name} does not end with an Assistant turn`);
  }
  const split = splitAtDivergence(chosen, rejected, ['chosen', 'rejected'], warnings, { system: 'System', user: 'Human', assistant: 'Assistant' });
  if (!split.ok) return split;
  const { context, texts } = split.value;
  const contextProblem = checkContext(context, warnings);
  if (contextProblem) return fail(contextProblem);
  for (const [i, name] of (['chosen', 'rejected'] as const).entries()) {
    const problem = checkResponseText(texts[i], `response ${i + 1} (${name})`);
    if (problem) warnings.push(`${problem}: the transcript ends with an empty Assistant turn`);
  }
  const record: MappedRecord = {
    context,
    responses: texts.map((text) => ({ text })),
    preference: { ranking: [1, 2] },
  };
  const metadata = leftoverFields(value, new Set(['chosen', 'rejected']));
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}
