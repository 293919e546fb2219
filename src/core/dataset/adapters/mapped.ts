import type { Adapter, AdapterOptions, GroupedAdapter, MappedRecord, MappedRow, MapResult, RecordAdapter } from '../adapter';
import type { Preference, Rating, Response, Turn } from '../record';
import { resolvePath } from './field-path';
import type { FieldPath } from './field-path';
import { mergeRows } from './grouping';
import type { MappingSpec, PromptSpec, RankingSpec, RatingSpec } from './mapping-spec';
import { denseRanks, rankProblem } from './ranking';
import { checkContext, checkResponseText, readTurns } from './turns';
import { done, fail, isFiniteNumber, isObject, kindOf, notANumber, shareOf } from './values';

/** The adapter a mapping file describes: a RecordAdapter, or a GroupedAdapter when it has `groupBy`. */
export function mappedAdapter(spec: MappingSpec, _options: AdapterOptions): Adapter {
  const description = `mapping file ${spec.name}`;
  const detect = (sample: readonly unknown[]): number => shareOf(sample, (value) => fits(spec, value));
  if (spec.groupBy !== undefined) {
    const groupBy = spec.groupBy;
    const grouped: GroupedAdapter = {
      name: spec.name,
      description,
      detect,
      groupKey: (value) => {
        const key = resolvePath(value, groupBy);
        if (!key.found) return fail(key.reason);
        if (typeof key.value === 'string' || typeof key.value === 'number') return done(String(key.value));
        return fail(`"${groupBy.text}" is ${kindOf(key.value)}, not a string or number`);
      },
      mapRow: (value) => mapRow(spec, value),
      mergeGroup: mergeRows,
    };
    return grouped;
  }
  const single: RecordAdapter = { name: spec.name, description, detect, map: (value) => mapRecord(spec, value) };
  return single;
}

/** Detection for a mapping: the paths that every record needs resolve. */
function fits(spec: MappingSpec, value: unknown): boolean {
  const required: FieldPath[] = [];
  if (spec.groupBy) required.push(spec.groupBy);
  required.push(spec.prompt.kind === 'text' ? spec.prompt.paths[0] : spec.prompt.path);
  if (spec.response) required.push(spec.response.text);
  if (spec.responses) required.push(...(spec.responses.kind === 'paths' ? spec.responses.paths : [spec.responses.path]));
  return required.every((path) => resolvePath(value, path).found);
}

function stringAt(value: unknown, path: FieldPath): MapResult<string> {
  const found = resolvePath(value, path);
  if (!found.found) return fail(found.reason);
  if (typeof found.value !== 'string') return fail(`"${path.text}" is ${kindOf(found.value)}, not a string`);
  return done(found.value);
}

function readPrompt(spec: PromptSpec, system: FieldPath | undefined, value: unknown): MapResult<Turn[]> {
  const turns: Turn[] = [];
  if (system) {
    const found = resolvePath(value, system);
    if (found.found) {
      if (typeof found.value !== 'string') return fail(`"${system.text}" is ${kindOf(found.value)}, not a string`);
      if (found.value.trim() !== '') turns.push({ role: 'system', content: found.value });
    }
  }
  if (spec.kind === 'text') {
    const parts: string[] = [];
    for (const [i, path] of spec.paths.entries()) {
      const found = resolvePath(value, path);
      // Only the first part is required: later ones (an Alpaca `input`) are often absent or empty.
      if (!found.found && i > 0) continue;
      const text = stringAt(value, path);
      if (!text.ok) return text;
      if (text.value.trim() !== '' || spec.paths.length === 1) parts.push(text.value);
    }
    turns.push({ role: 'user', content: parts.join('\n\n') });
    return done(turns);
  }
  const list = resolvePath(value, spec.path);
  if (!list.found) return fail(list.reason);
  const read = readTurns(list.value, `"${spec.path.text}"`, { role: spec.role, content: spec.content, roleNames: spec.roles });
  if (!read.ok) return read;
  return done([...turns, ...read.value]);
}

/** Ratings of one response; `value` is the row (grouped) or the response element (record mode). */
function readRatings(specs: readonly RatingSpec[], value: unknown): MapResult<Rating[]> {
  const ratings: Rating[] = [];
  for (const spec of specs) {
    const found = resolvePath(value, spec.path);
    if (!found.found) continue;
    if (spec.aspect !== undefined) {
      if (!isFiniteNumber(found.value)) return fail(notANumber(found.value, `"${spec.path.text}"`));
      ratings.push({ aspect: spec.aspect, value: found.value, source: spec.source });
      continue;
    }
    if (!isObject(found.value)) return fail(`"${spec.path.text}" is ${kindOf(found.value)}, not an object of aspect scores`);
    for (const [aspect, score] of Object.entries(found.value)) {
      if (!isFiniteNumber(score)) return fail(notANumber(score, `"${spec.path.text}" aspect "${aspect}"`));
      ratings.push({ aspect, value: score, source: spec.source });
    }
  }
  return done(ratings);
}

/** One response's score: a number, or an object of aspect scores reduced by `aggregate`. */
function scoreOf(value: unknown, where: string, aggregate: 'sum' | 'mean' | undefined): MapResult<number> {
  if (isFiniteNumber(value)) return done(value);
  if (isObject(value) && aggregate !== undefined) {
    const numbers = Object.entries(value);
    if (numbers.length === 0) return fail(`${where} has no aspect scores`);
    let sum = 0;
    for (const [aspect, score] of numbers) {
      if (!isFiniteNumber(score)) return fail(notANumber(score, `${where} aspect "${aspect}"`));
      sum += score;
    }
    return done(aggregate === 'sum' ? sum : sum / numbers.length);
  }
  return fail(`${notANumber(value, where)}${aggregate === undefined && isObject(value) ? ' (add "aggregate": "sum" or "mean")' : ''}`);
}

function readCategory(spec: MappingSpec, value: unknown): string | undefined {
  if (!spec.category) return undefined;
  const found = resolvePath(value, spec.category.path);
  if (!found.found || (typeof found.value !== 'string' && typeof found.value !== 'number')) return undefined;
  const raw = String(found.value);
  return spec.category.values?.[raw] ?? raw;
}

function readMetadata(spec: MappingSpec, value: unknown, warnings: string[]): Record<string, unknown> | undefined {
  const metadata: Record<string, unknown> = {};
  for (const entry of spec.metadata) {
    const found = resolvePath(value, entry.path);
    if (!found.found) continue;
    if (entry.match === undefined) {
      metadata[entry.name] = found.value;
      continue;
    }
    const match = typeof found.value === 'string' ? entry.match.exec(found.value) : null;
    if (match === null) warnings.push(`metadata "${entry.name}": "${entry.path.text}" (${JSON.stringify(found.value)}) does not match /${entry.match.source}/`);
    else metadata[entry.name] = match[1] ?? match[0];
  }
  return Object.keys(metadata).length > 0 ? metadata : undefined;
}

function readContext(spec: MappingSpec, value: unknown, warnings: string[]): MapResult<Turn[]> {
  const context = readPrompt(spec.prompt, spec.system, value);
  if (!context.ok) return context;
  const problem = checkContext(context.value, warnings);
  return problem ? fail(problem) : context;
}

function mapRecord(spec: MappingSpec, value: unknown): MapResult {
  const warnings: string[] = [];
  const context = readContext(spec, value, warnings);
  if (!context.ok) return context;
  const responses: Response[] = [];
  const source = spec.responses;
  if (source === undefined) return fail('the mapping has no "responses"');
  if (source.kind === 'paths') {
    for (const path of source.paths) {
      const text = stringAt(value, path);
      if (!text.ok) return text;
      responses.push({ text: text.value });
    }
  } else {
    const list = resolvePath(value, source.path);
    if (!list.found) return fail(list.reason);
    if (!Array.isArray(list.value)) return fail(`"${source.path.text}" is ${kindOf(list.value)}, not a list`);
    const items: unknown[] = list.value;
    for (const [i, element] of items.entries()) {
      const where = `response ${i + 1} in "${source.path.text}"`;
      const text = source.text ? resolvePath(element, source.text) : { found: true as const, value: element };
      if (!text.found) return fail(`${where}: ${text.reason}`);
      if (typeof text.value !== 'string') return fail(`${where} is ${kindOf(text.value)}, not a string`);
      const response: Response = { text: text.value };
      if (source.model) {
        const model = resolvePath(element, source.model);
        if (model.found && typeof model.value === 'string') response.model = model.value;
      }
      const ratings = readRatings(spec.ratings, element);
      if (!ratings.ok) return fail(`${where}: ${ratings.reason}`);
      if (ratings.value.length > 0) response.ratings = ratings.value;
      responses.push(response);
    }
  }
  if (responses.length === 0) return fail('there are no responses');
  for (const [i, response] of responses.entries()) {
    const problem = checkResponseText(response.text, `response ${i + 1}`);
    if (problem) warnings.push(problem);
  }
  const record: MappedRecord = { context: context.value, responses };
  if (spec.ranking) {
    const preference = recordPreference(spec.ranking, value, responses.length);
    if (!preference.ok) return preference;
    record.preference = preference.value;
  }
  const category = readCategory(spec, value);
  if (category !== undefined) record.category = category;
  const metadata = readMetadata(spec, value, warnings);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}

function recordPreference(spec: RankingSpec, value: unknown, count: number): MapResult<Preference> {
  if (spec.kind === 'order') return done({ ranking: Array.from({ length: count }, (_, i) => i + 1) });
  const found = resolvePath(value, spec.path);
  if (!found.found) return fail(found.reason);
  if (spec.kind === 'label') {
    const key = typeof found.value === 'string' || typeof found.value === 'number' || typeof found.value === 'boolean' ? String(found.value) : undefined;
    const verdict = key === undefined ? undefined : spec.values[key];
    if (verdict === undefined) {
      return fail(`"${spec.path.text}" is ${JSON.stringify(found.value)}, which is not one of the mapped labels (${Object.keys(spec.values).join(', ')})`);
    }
    if (verdict === 'tie') return done({ ranking: new Array<number>(count).fill(1) });
    if (verdict > count) return fail(`label ${key} names response ${verdict}, but there are ${count} responses`);
    return done({ ranking: Array.from({ length: count }, (_, i) => (i === verdict - 1 ? 1 : 2)) });
  }
  if (!Array.isArray(found.value)) return fail(`"${spec.path.text}" is ${kindOf(found.value)}, not a list with one entry per response`);
  if (found.value.length !== count) return fail(`${spec.path.text} has ${found.value.length} entries but there are ${count} responses`);
  const values: number[] = [];
  for (const [i, entry] of found.value.entries()) {
    const score = scoreOf(entry, `${spec.path.text} entry ${i + 1}`, spec.kind === 'scores' ? spec.aggregate : undefined);
    if (!score.ok) return score;
    values.push(score.value);
  }
  if (spec.kind === 'ranks') {
    const problem = rankProblem(values, spec.path.text);
    if (problem) return fail(problem);
  }
  const better = spec.kind === 'scores' || spec.direction === 'higher-is-better' ? 'higher' : 'lower';
  return done({ ranking: denseRanks(values, better) });
}

function mapRow(spec: MappingSpec, value: unknown): MapResult<MappedRow> {
  const warnings: string[] = [];
  const context = readContext(spec, value, warnings);
  if (!context.ok) return context;
  const rowSpec = spec.response;
  if (rowSpec === undefined) return fail('the mapping has no "response"');
  const text = stringAt(value, rowSpec.text);
  if (!text.ok) return text;
  const problem = checkResponseText(text.value, 'the response');
  if (problem) warnings.push(problem);
  const response: Response = { text: text.value };
  if (rowSpec.model) {
    const model = resolvePath(value, rowSpec.model);
    if (model.found && typeof model.value === 'string') response.model = model.value;
  }
  const ratings = readRatings(spec.ratings, value);
  if (!ratings.ok) return ratings;
  if (ratings.value.length > 0) response.ratings = ratings.value;

  let score: number | undefined;
  if (spec.ranking && spec.ranking.kind !== 'label' && spec.ranking.kind !== 'order') {
    const found = resolvePath(value, spec.ranking.path);
    if (!found.found) return fail(found.reason);
    const read = scoreOf(found.value, `"${spec.ranking.path.text}"`, spec.ranking.kind === 'scores' ? spec.ranking.aggregate : undefined);
    if (!read.ok) return read;
    // The group's size is not known per row, so only the lower bound of a rank can be checked here.
    if (spec.ranking.kind === 'ranks' && !(Number.isInteger(read.value) && read.value >= 1)) {
      return fail(`"${spec.ranking.path.text}" is ${read.value}: a rank is a whole number from 1`);
    }
    // Rows are ranked higher-is-better; a lower-is-better rank becomes a score by negation.
    score = spec.ranking.kind === 'ranks' && spec.ranking.direction === 'lower-is-better' ? -read.value : read.value;
  }
  const record: MappedRecord = { context: context.value, responses: [response] };
  const category = readCategory(spec, value);
  if (category !== undefined) record.category = category;
  const metadata = readMetadata(spec, value, warnings);
  if (metadata) record.metadata = metadata;
  return done(score === undefined ? { record } : { record, score }, warnings);
}
