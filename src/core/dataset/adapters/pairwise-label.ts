import type { MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { PairJudgement, Response } from '../record';
import { readCategory, readContext } from './context';
import { majorityWinner, rankingFromWinner } from './ranking';
import { checkContext, checkResponseText } from './turns';
import { describeEncoding, readVerdict } from './verdicts';
import type { VerdictEncoding } from './verdicts';
import { done, fail, has, isObject, kindOf, leftoverFields, q, shareOf } from './values';
import type { JsonObject } from './values';

/**
 * Two responses and a verdict saying which is better: AutoJ (`response 1`/`response 2` + `label`),
 * PandaLM (`response1`/`response2` + `annotator1..3`), Chatbot-Arena-like (`response_a`/`response_b`
 * + `winner`), LLMBar (`input`, `output_1`/`output_2` + `label`).
 */
export const pairwiseLabelAdapter: RecordAdapter = {
  name: 'pairwise-label',
  description: 'two responses (response 1/2, response_a/b, output_1/2) with a label, winner or annotator verdicts',
  detect: (sample) => shareOf(sample, recognises),
  map,
};

export const responsePairKeys = [
  ['response 1', 'response 2'],
  ['response_1', 'response_2'],
  ['response1', 'response2'],
  ['response_a', 'response_b'],
  ['output_1', 'output_2'],
  ['output 1', 'output 2'],
  ['output1', 'output2'],
] as const;

const modelPairKeys = [
  ['model_a', 'model_b'],
  ['model_1', 'model_2'],
  ['model1', 'model2'],
] as const;

const labelFields = ['label', 'gt_label', 'winner'] as const;

/**
 * AutoJ's 0-based `label`/`gt_label` (0 = response 1, 2 = tie) comes with its own `response 1`/
 * `response 2` fields; with any other pair (LLMBar `{input, output_1, output_2, label}`) a label
 * names the better response by its number, as `winner` and annotators do, 0 being a tie. Reading
 * LLMBar's 1/2 the AutoJ way would silently swap or tie every pair.
 */
function labelEncoding(key: string, pair: readonly [string, string]): VerdictEncoding {
  return key !== 'winner' && pair[0] === 'response 1' ? 'autoj' : 'numbered';
}

const annotatorKey = /^annotator[ _]?\d+$/;

export function findResponsePair(obj: JsonObject): readonly [string, string] | undefined {
  return responsePairKeys.find(([a, b]) => has(obj, a) && has(obj, b));
}

function annotatorKeys(obj: JsonObject): string[] {
  return Object.keys(obj).filter((key) => annotatorKey.test(key) && obj[key] !== undefined);
}

function recognises(value: unknown): boolean {
  if (!isObject(value) || findResponsePair(value) === undefined) return false;
  return labelFields.some((key) => has(value, key)) || annotatorKeys(value).length > 0;
}

function map(value: unknown): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  const keys = findResponsePair(value);
  if (keys === undefined) return fail('no pair of response fields ("response 1"/"response 2", "response1"/"response2", "response_a"/"response_b", …)');
  const consumed = new Set<string>(keys);
  const warnings: string[] = [];

  const context = readContext(value, consumed);
  if (context === undefined) return fail('no prompt: expected a "prompt", "question", "instruction" or "conversations" field');
  if (!context.ok) return context;
  const contextProblem = checkContext(context.value, warnings);
  if (contextProblem) return fail(contextProblem);

  const responses: Response[] = [];
  for (const [i, key] of keys.entries()) {
    const text = value[key];
    if (typeof text !== 'string') return fail(`${q(key)} is ${kindOf(text)}, not a string`);
    const problem = checkResponseText(text, `response ${i + 1}`);
    if (problem) warnings.push(problem);
    responses.push({ text });
  }
  const models = modelPairKeys.find(([a, b]) => typeof value[a] === 'string' && typeof value[b] === 'string');
  if (models) {
    models.forEach((key, i) => {
      responses[i].model = value[key] as string;
      consumed.add(key);
    });
  }

  const pairs: PairJudgement[] = [];
  for (const key of annotatorKeys(value)) {
    const winner = readVerdict(value[key], 'numbered');
    if (winner === undefined) return fail(`${q(key)} is ${JSON.stringify(value[key])}, not a verdict (${describeEncoding('numbered')})`);
    pairs.push({ a: 0, b: 1, winner, annotator: key });
    consumed.add(key);
  }
  let ranking: number[] | undefined;
  const label = labelFields.find((key) => has(value, key));
  if (label) {
    const encoding = labelEncoding(label, keys);
    const winner = readVerdict(value[label], encoding);
    if (winner === undefined) {
      return fail(`${q(label)} is ${JSON.stringify(value[label])}, not a verdict (${describeEncoding(encoding)}, or "response 1", "response 2", "tie")`);
    }
    consumed.add(label);
    ranking = rankingFromWinner(winner);
  } else if (pairs.length > 0) {
    ranking = rankingFromWinner(majorityWinner(pairs.map((p) => p.winner)));
  } else {
    return fail('no verdict: expected a "label", "gt_label", "winner" or "annotatorN" field');
  }

  const record: MappedRecord = { context: context.value, responses, preference: pairs.length > 0 ? { ranking, pairs } : { ranking } };
  const category = readCategory(value, consumed);
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}
