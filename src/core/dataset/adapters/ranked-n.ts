import type { AdapterOptions, MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { PairJudgement, Preference } from '../record';
import { readCategory, readContext } from './context';
import { denseRanks, rankingFromPairs, rankProblem } from './ranking';
import { numberedResponseKeys, readResponses, responseListField } from './response-fields';
import { checkContext } from './turns';
import { readVerdict } from './verdicts';
import { done, fail, isFiniteNumber, isObject, kindOf, leftoverFields, notANumber, shareOf } from './values';
import type { JsonObject } from './values';

/**
 * n responses with a ranking, scores or pairwise verdicts: `responses` + `ranks`/`scores`, or
 * numbered fields (`prediction 1..4`) + `preference`, the FineGrainedRLHF QA-Feedback list of
 * verdicts over every pair in order 1v2, 1v3, …, (n-1)vn (1 = first better, 2 = second, 0 = none).
 */
export function rankedNAdapter(options: AdapterOptions): RecordAdapter {
  return {
    name: 'ranked-n',
    description: 'n responses (responses[] or "prediction 1..n") with ranks, scores or a list of pairwise verdicts',
    detect: (sample) => shareOf(sample, recognises),
    map: (value) => map(value, options),
  };
}

const rankFields = ['ranking', 'ranks', 'rank'] as const;
const scoreFields = ['scores', 'rewards'] as const;
const pairListFields = ['preference', 'preferences'] as const;

function recognises(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (responseListField(value) === undefined && numberedResponseKeys(value) === undefined) return false;
  return [...rankFields, ...scoreFields, ...pairListFields].some((key) => Array.isArray(value[key]));
}

function numbers(value: unknown[], key: string): MapResult<number[]> {
  for (let i = 0; i < value.length; i++) {
    if (!isFiniteNumber(value[i])) return fail(notANumber(value[i], `${key} entry ${i + 1}`));
  }
  return done(value as number[]);
}

/** Pairs in the fixed order (0,1), (0,2), …, (n-2,n-1) that a flat verdict list refers to. */
export function pairOrder(count: number): [number, number][] {
  const order: [number, number][] = [];
  for (let a = 0; a < count; a++) for (let b = a + 1; b < count; b++) order.push([a, b]);
  return order;
}

function preferenceOf(obj: JsonObject, count: number, options: AdapterOptions, consumed: Set<string>, warnings: string[]): MapResult<Preference> {
  const rankKey = rankFields.find((key) => obj[key] !== undefined);
  const scoreKey = scoreFields.find((key) => obj[key] !== undefined);
  const pairKey = pairListFields.find((key) => obj[key] !== undefined);
  const key = rankKey ?? scoreKey ?? pairKey;
  if (key === undefined) return fail('no ranking: expected "ranking", "ranks", "scores" or "preference"');
  const raw = obj[key];
  if (!Array.isArray(raw)) return fail(`"${key}" is ${kindOf(raw)}, not a list`);
  consumed.add(key);

  if (key === pairKey) {
    const order = pairOrder(count);
    if (raw.length !== order.length) {
      return fail(`${key} has ${raw.length} verdicts but ${count} responses have ${order.length} pairs`);
    }
    const pairs: PairJudgement[] = [];
    for (let i = 0; i < raw.length; i++) {
      const [a, b] = order[i];
      const verdict = readVerdict(raw[i], 'numbered');
      if (verdict === undefined) return fail(`${key} entry ${i + 1} is ${JSON.stringify(raw[i])}, not a verdict (0 = none, 1 = first, 2 = second)`);
      pairs.push({ a, b, winner: verdict === null ? null : verdict === 0 ? a : b });
    }
    const derived = rankingFromPairs(count, pairs);
    if ('problem' in derived) {
      warnings.push(`${derived.problem}; kept the pairs without a ranking`);
      return done({ pairs });
    }
    return done({ ranking: derived.ranking, pairs });
  }

  if (raw.length !== count) return fail(`${key} has ${raw.length} entries but there are ${count} responses`);
  const values = numbers(raw, key);
  if (!values.ok) return values;
  if (key === rankKey) {
    const problem = rankProblem(values.value, key);
    if (problem) return fail(problem);
  }
  const better = key === scoreKey ? 'higher' : options.rankDirection === 'lower-is-better' ? 'lower' : 'higher';
  return done({ ranking: denseRanks(values.value, better) });
}

function map(value: unknown, options: AdapterOptions): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  const warnings: string[] = [];
  const consumed = new Set<string>();
  const listKey = responseListField(value);
  const numbered = listKey === undefined ? numberedResponseKeys(value) : undefined;
  if (listKey === undefined && numbered === undefined) {
    return fail('no responses: expected a "responses" list or numbered fields ("prediction 1", "response 1", …)');
  }
  const responses = readResponses(value, listKey !== undefined ? { listKey } : { keys: numbered ?? [] });
  if (!responses.ok) return responses;
  warnings.push(...(responses.warnings ?? []));
  for (const key of numbered ?? [listKey ?? '']) consumed.add(key);

  const context = readContext(value, consumed);
  if (context === undefined) return fail('no prompt: expected a "prompt", "question", "instruction" or "conversations" field');
  if (!context.ok) return context;
  const contextProblem = checkContext(context.value, warnings);
  if (contextProblem) return fail(contextProblem);

  const preference = preferenceOf(value, responses.value.length, options, consumed, warnings);
  if (!preference.ok) return preference;

  const record: MappedRecord = { context: context.value, responses: responses.value, preference: preference.value };
  const category = readCategory(value, consumed);
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}
