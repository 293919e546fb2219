import type { MapResult } from '../adapter';
import type { Response } from '../record';
import { checkResponseText } from './turns';
import { done, fail, has, isObject, kindOf, q } from './values';
import type { JsonObject } from './values';

/** Where auto-detected records keep several responses, and what a response object calls its text. */
export const responseListFields = ['responses', 'completions', 'candidates', 'outputs', 'answers'] as const;
export const singleResponseFields = ['response', 'output', 'answer', 'completion'] as const;
const textFields = ['text', 'response', 'content', 'output', 'completion', 'answer'] as const;
const modelFields = ['model', 'model_name', 'llm_name', 'generator'] as const;
const numberedStems = ['prediction', 'response', 'output', 'completion', 'answer', 'candidate'] as const;

/** `prediction 1`, `prediction 2`, … (also `response_1`, `output1`): the keys, in order, when there are two or more. */
export function numberedResponseKeys(obj: JsonObject): string[] | undefined {
  for (const stem of numberedStems) {
    for (const sep of [' ', '_', '']) {
      const keys: string[] = [];
      while (has(obj, `${stem}${sep}${keys.length + 1}`)) keys.push(`${stem}${sep}${keys.length + 1}`);
      if (keys.length >= 2) return keys;
    }
  }
  return undefined;
}

export function responseListField(obj: JsonObject): string | undefined {
  return responseListFields.find((key) => Array.isArray(obj[key]));
}

/**
 * A response given as a string, or as an object with a text field and maybe a model name.
 * `where` names it in reasons: its own field (`"prediction 2"`) or its place in a list.
 */
export function readResponse(value: unknown, index: number, where: string): MapResult<Response> {
  const label = `response ${index + 1}`;
  let text: unknown = value;
  let model: string | undefined;
  if (isObject(value)) {
    const textKey = textFields.find((key) => has(value, key));
    if (textKey === undefined) return fail(`${where} is an object without a text field (${textFields.join(', ')})`);
    text = value[textKey];
    const modelKey = modelFields.find((key) => typeof value[key] === 'string');
    if (modelKey) model = value[modelKey] as string;
  }
  if (typeof text !== 'string') return fail(`${where} is ${kindOf(text)}, not a string`);
  const empty = checkResponseText(text, label);
  return done(model === undefined ? { text } : { text, model }, empty ? [empty] : []);
}

/** Reads the responses named by `keys` (numbered fields) or the elements of the list at `listKey`. */
export function readResponses(obj: JsonObject, source: { keys: readonly string[] } | { listKey: string }): MapResult<Response[]> {
  const values = 'keys' in source ? source.keys.map((key) => obj[key]) : (obj[source.listKey] as unknown[]);
  if (values.length === 0) return fail(`${'listKey' in source ? q(source.listKey) : 'the record'} has no responses`);
  const responses: Response[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const where = 'keys' in source ? q(source.keys[i]) : `response ${i + 1} in ${q(source.listKey)}`;
    const response = readResponse(values[i], i, where);
    if (!response.ok) return response;
    responses.push(response.value);
    warnings.push(...(response.warnings ?? []));
  }
  return done(responses, warnings);
}
