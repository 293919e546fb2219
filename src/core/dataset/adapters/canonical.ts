import type { MappedRecord, RecordAdapter } from '../adapter';
import type { PairJudgement, Preference, Rating, Response, Role, Turn } from '../record';
import { recordId } from '../record-id';
import { checkResponseText } from './turns';
import { rankProblem } from './ranking';
import { done, fail, isFiniteNumber, isObject, kindOf, shareOf } from './values';

/**
 * RewardLens's own canonical JSONL (what `rewardlens convert` writes, docs/record-model.md), read
 * back strictly: every field is checked, since these files feed training directly.
 */

const ROLES: ReadonlySet<string> = new Set<Role>(['system', 'user', 'assistant']);

function looksCanonical(value: unknown): boolean {
  return isObject(value) && typeof value.id === 'string' && Array.isArray(value.context) && Array.isArray(value.responses);
}

function readTurns(value: unknown[]): Turn[] | string {
  const turns: Turn[] = [];
  for (let i = 0; i < value.length; i++) {
    const t = value[i];
    if (!isObject(t)) return `context turn ${i + 1} is ${kindOf(t)}, not an object`;
    if (typeof t.role !== 'string' || !ROLES.has(t.role)) return `context turn ${i + 1} has role ${JSON.stringify(t.role)}; expected system, user or assistant`;
    if (typeof t.content !== 'string') return `"content" of context turn ${i + 1} is ${kindOf(t.content)}, not a string`;
    turns.push({ role: t.role as Role, content: t.content });
  }
  return turns;
}

function readRatings(value: unknown, where: string): Rating[] | string {
  if (!Array.isArray(value)) return `${where} ratings are ${kindOf(value)}, not an array`;
  const ratings: Rating[] = [];
  for (const r of value) {
    if (!isObject(r) || typeof r.aspect !== 'string' || !isFiniteNumber(r.value) || typeof r.source !== 'string')
      return `${where} has a rating that is not {aspect: string, value: number, source: string}`;
    ratings.push({ aspect: r.aspect, value: r.value, source: r.source });
  }
  return ratings;
}

function readResponses(value: unknown[], warnings: string[]): Response[] | string {
  const responses: Response[] = [];
  for (let i = 0; i < value.length; i++) {
    const r = value[i];
    const where = `response ${i + 1}`;
    if (!isObject(r)) return `${where} is ${kindOf(r)}, not an object`;
    if (typeof r.text !== 'string') return `"text" of ${where} is ${kindOf(r.text)}, not a string`;
    const empty = checkResponseText(r.text, where);
    if (empty) warnings.push(empty);
    const response: Response = { text: r.text };
    if (typeof r.model === 'string') response.model = r.model;
    if (r.ratings !== undefined) {
      const ratings = readRatings(r.ratings, where);
      if (typeof ratings === 'string') return ratings;
      response.ratings = ratings;
    }
    responses.push(response);
  }
  return responses;
}

function readPreference(value: unknown, n: number): Preference | string {
  if (!isObject(value)) return `"preference" is ${kindOf(value)}, not an object`;
  const preference: Preference = {};
  if (value.ranking !== undefined) {
    const ranking = value.ranking;
    if (!Array.isArray(ranking) || !ranking.every((r) => Number.isInteger(r))) return '"ranking" must be a list of whole numbers';
    if (ranking.length !== n) return `ranking has ${ranking.length} entries but there are ${n} responses`;
    const problem = rankProblem(ranking as number[], 'ranking');
    if (problem) return problem;
    preference.ranking = ranking as number[];
  }
  if (value.pairs !== undefined) {
    if (!Array.isArray(value.pairs)) return '"pairs" must be a list';
    const pairs: PairJudgement[] = [];
    for (const p of value.pairs) {
      const ok = isObject(p) && Number.isInteger(p.a) && Number.isInteger(p.b) && (p.winner === null || p.winner === p.a || p.winner === p.b);
      if (!ok) return 'a pair judgement is not {a, b, winner: a | b | null}';
      const { a, b } = p as { a: number; b: number };
      if (a < 0 || b < 0 || a >= n || b >= n || a === b) return `pair judgement ${a}–${b} does not name two of the ${n} responses`;
      const judgement: PairJudgement = { a, b, winner: p.winner as number | null };
      if (typeof p.annotator === 'string') judgement.annotator = p.annotator;
      pairs.push(judgement);
    }
    preference.pairs = pairs;
  }
  return preference;
}

export const canonicalAdapter: RecordAdapter = {
  name: 'canonical',
  description: 'RewardLens canonical records ({id, category, context, responses, preference, metadata}), as written by `rewardlens convert`',
  detect: (sample) => shareOf(sample, looksCanonical),
  map(value) {
    if (!looksCanonical(value)) return fail('not a canonical record: needs "id", "context" and "responses"');
    const v = value as Record<string, unknown>;
    const context = readTurns(v.context as unknown[]);
    if (typeof context === 'string') return fail(context);
    if (context.at(-1)?.role !== 'user') return fail('the context must end with a user turn');
    const warnings: string[] = [];
    const responses = readResponses(v.responses as unknown[], warnings);
    if (typeof responses === 'string') return fail(responses);
    if (responses.length === 0) return fail('no responses');
    const record: MappedRecord = { context, responses };
    if (v.category !== undefined) {
      if (typeof v.category !== 'string') return fail(`"category" is ${kindOf(v.category)}, not a string`);
      record.category = v.category;
    }
    if (v.preference !== undefined) {
      const preference = readPreference(v.preference, responses.length);
      if (typeof preference === 'string') return fail(preference);
      record.preference = preference;
    }
    if (v.metadata !== undefined) {
      if (!isObject(v.metadata)) return fail(`"metadata" is ${kindOf(v.metadata)}, not an object`);
      record.metadata = v.metadata;
    }
    if (recordId(record) !== v.id) warnings.push(`"id" ${String(v.id)} does not match the content (edited after conversion?); the content hash is used`);
    return done(record, warnings);
  },
};
