import type { MappedRecord, MapResult, RecordAdapter } from '../adapter';
import { hasContextField, readCategory, readContext } from './context';
import { findResponsePair } from './pairwise-label';
import { numberedResponseKeys, readResponse, readResponses, responseListField, singleResponseFields } from './response-fields';
import { checkContext } from './turns';
import { done, fail, firstPresent, isObject, kindOf, leftoverFields, q, shareOf } from './values';
import type { JsonObject } from './values';

/**
 * A prompt with one or more responses and no preference at all (e.g. AutoJ's
 * zh_testdata_critique.jsonl: scenario, prompt, response): valid records without `preference`,
 * waiting to be labelled.
 */
export const promptResponseAdapter: RecordAdapter = {
  name: 'prompt-response',
  description: 'unlabelled: {prompt|question|instruction, response|output|responses[]} without any preference',
  detect: (sample) => shareOf(sample, recognises),
  map,
};

/** Any of these means the record carries a preference or a rating and belongs to another adapter. */
const preferenceFields = [
  'chosen',
  'rejected',
  'response_chosen',
  'response_rejected',
  'label',
  'gt_label',
  'winner',
  'preference',
  'preferences',
  'ranking',
  'ranks',
  'rank',
  'scores',
  'rewards',
  'score',
  'stars',
  'ratings',
  'rating',
  'src',
  'tgt',
] as const;

type ResponseSource = { single: string } | { listKey: string } | { keys: readonly string[] };

function responseSource(obj: JsonObject): ResponseSource | undefined {
  const single = singleResponseFields.find((key) => typeof obj[key] === 'string' || (obj[key] !== undefined && !Array.isArray(obj[key])));
  if (single !== undefined) return { single };
  const listKey = responseListField(obj) ?? (Array.isArray(obj.response) ? 'response' : undefined);
  if (listKey !== undefined) return { listKey };
  const keys = numberedResponseKeys(obj) ?? findResponsePair(obj);
  return keys ? { keys } : undefined;
}

function recognises(value: unknown): boolean {
  if (!isObject(value) || !hasContextField(value) || responseSource(value) === undefined) return false;
  return firstPresent(value, preferenceFields) === undefined && !Object.keys(value).some((key) => /^annotator[ _]?\d+$/.test(key));
}

function map(value: unknown): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  const warnings: string[] = [];
  const consumed = new Set<string>();
  const context = readContext(value, consumed);
  if (context === undefined) return fail('no prompt: expected a "prompt", "question", "instruction" or "conversations" field');
  if (!context.ok) return context;
  const contextProblem = checkContext(context.value, warnings);
  if (contextProblem) return fail(contextProblem);

  const source = responseSource(value);
  if (source === undefined) return fail('no response: expected a "response", "output", "responses" or numbered response fields');
  const responses = 'single' in source ? readResponse(value[source.single], 0, q(source.single)) : readResponses(value, source);
  if (!responses.ok) return responses;
  warnings.push(...(responses.warnings ?? []));
  if ('single' in source) consumed.add(source.single);
  else for (const key of 'keys' in source ? source.keys : [source.listKey]) consumed.add(key);

  const record: MappedRecord = { context: context.value, responses: Array.isArray(responses.value) ? responses.value : [responses.value] };
  const category = readCategory(value, consumed);
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}
