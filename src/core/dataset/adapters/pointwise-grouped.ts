import type { GroupedAdapter, MappedRecord, MappedRow, MapResult } from '../adapter';
import type { Rating, Turn } from '../record';
import { readCategory, readContext } from './context';
import { mergeRows } from './grouping';
import { singleResponseFields } from './response-fields';
import { checkContext, checkResponseText, readTurns } from './turns';
import { done, fail, firstPresent, isFiniteNumber, isObject, kindOf, leftoverFields, notANumber, q, shareOf } from './values';
import type { JsonObject } from './values';

/**
 * Pointwise rows, one response each with per-aspect ratings, grouped by a prompt id: e.g. llmeval2
 * `{question_uuid, dialog_uuid, llm_name, dialog[{role: user|llm, content}], hint, type, stars{}}`.
 * Ratings are tagged `human`: auto-detection cannot tell who rated; a mapping file can say `gpt-4`.
 */
export const pointwiseGroupedAdapter: GroupedAdapter = {
  name: 'pointwise-grouped',
  description: 'one response per row with ratings (stars/ratings/score), grouped by question_uuid/prompt_id/question_id',
  detect: (sample) => shareOf(sample, recognises),
  groupKey,
  mapRow,
  mergeGroup: mergeRows,
};

export const groupKeyFields = ['question_uuid', 'prompt_id', 'question_id', 'qid', 'group_id', 'prompt_uid'] as const;
const dialogFields = ['dialog', 'messages', 'conversation', 'conversations'] as const;
const ratingObjectFields = ['stars', 'ratings', 'scores'] as const;
const ratingNumberFields = ['score', 'rating'] as const;
const modelFields = ['llm_name', 'model', 'model_name', 'generator'] as const;

function recognises(value: unknown): boolean {
  if (!isObject(value) || firstPresent(value, groupKeyFields) === undefined) return false;
  const hasResponse = firstPresent(value, [...dialogFields, ...singleResponseFields]) !== undefined;
  const hasRatings = ratingObjectFields.some((k) => isObject(value[k])) || ratingNumberFields.some((k) => typeof value[k] === 'number');
  return hasResponse && hasRatings;
}

function groupKey(value: unknown): MapResult<string> {
  if (!isObject(value)) return fail(`the row is ${kindOf(value)}, not an object`);
  const key = firstPresent(value, groupKeyFields);
  if (key === undefined) return fail(`no group key (${groupKeyFields.join(', ')})`);
  const id = value[key];
  if (typeof id === 'string' || typeof id === 'number') return done(String(id));
  return fail(`${q(key)} is ${kindOf(id)}, not a string or number`);
}

/** A row's conversation: a dialog whose last turn is the response, or a prompt field plus a response field. */
function readExchange(row: JsonObject, consumed: Set<string>): MapResult<{ context: Turn[]; text: string }> {
  const dialogKey = firstPresent(row, dialogFields);
  if (dialogKey !== undefined) {
    consumed.add(dialogKey);
    const turns = readTurns(row[dialogKey], q(dialogKey));
    if (!turns.ok) return turns;
    const last = turns.value[turns.value.length - 1];
    if (last === undefined || last.role !== 'assistant') return fail(`the last turn of ${q(dialogKey)} is not an assistant turn`);
    return done({ context: turns.value.slice(0, -1), text: last.content });
  }
  const context = readContext(row, consumed);
  if (context === undefined) return fail('no prompt: expected a "dialog", "prompt" or "question" field');
  if (!context.ok) return context;
  const responseKey = firstPresent(row, singleResponseFields);
  if (responseKey === undefined) return fail('no response: expected a "response" or "output" field');
  consumed.add(responseKey);
  const text = row[responseKey];
  if (typeof text !== 'string') return fail(`${q(responseKey)} is ${kindOf(text)}, not a string`);
  return done({ context: context.value, text });
}

/** Reads `{aspect: number}` ratings; a non-numeric value is an error, not a silent zero. */
export function readRatingObject(value: JsonObject, field: string, source: string): MapResult<Rating[]> {
  const ratings: Rating[] = [];
  for (const [aspect, score] of Object.entries(value)) {
    if (!isFiniteNumber(score)) return fail(notANumber(score, `${q(field)} aspect ${q(aspect)}`));
    ratings.push({ aspect, value: score, source });
  }
  return done(ratings);
}

function mapRow(value: unknown): MapResult<MappedRow> {
  if (!isObject(value)) return fail(`the row is ${kindOf(value)}, not an object`);
  const warnings: string[] = [];
  const consumed = new Set<string>();
  // The group key stays in metadata: it is what train/test splits must be made by.

  const exchange = readExchange(value, consumed);
  if (!exchange.ok) return exchange;
  const contextProblem = checkContext(exchange.value.context, warnings);
  if (contextProblem) return fail(contextProblem);
  const emptyProblem = checkResponseText(exchange.value.text, 'the response');
  if (emptyProblem) warnings.push(emptyProblem);

  let ratings: Rating[] = [];
  const objectKey = ratingObjectFields.find((k) => isObject(value[k]));
  const numberKey = ratingNumberFields.find((k) => value[k] !== undefined);
  if (objectKey !== undefined) {
    const read = readRatingObject(value[objectKey] as JsonObject, objectKey, 'human');
    if (!read.ok) return read;
    ratings = read.value;
    consumed.add(objectKey);
  } else if (numberKey !== undefined) {
    if (!isFiniteNumber(value[numberKey])) return fail(notANumber(value[numberKey], q(numberKey)));
    ratings = [{ aspect: 'overall', value: value[numberKey], source: 'human' }];
    consumed.add(numberKey);
  }

  const modelKey = modelFields.find((k) => typeof value[k] === 'string');
  if (modelKey !== undefined) consumed.add(modelKey);
  const response = { text: exchange.value.text, ...(modelKey ? { model: value[modelKey] as string } : {}), ...(ratings.length ? { ratings } : {}) };
  const record: MappedRecord = { context: exchange.value.context, responses: [response] };
  const category = readCategory(value, consumed);
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  const score = ratings.length > 0 ? ratings.reduce((sum, r) => sum + r.value, 0) : undefined;
  return done(score === undefined ? { record } : { record, score }, warnings);
}
