import type { AdapterOptions, MappedRecord, MapResult, RecordAdapter } from '../adapter';
import type { Turn } from '../record';
import { denseRanks, rankProblem } from './ranking';
import { checkContext, checkResponseText } from './turns';
import { done, fail, isFiniteNumber, isObject, kindOf, leftoverFields, notANumber, shareOf } from './values';

/**
 * DMoERM's own format: `{src: string[], tgt: string[], response: string[], rank: number[], label?}`.
 * `src` are the user turns and `tgt` the assistant turns of the history, interleaved src[0], tgt[0],
 * src[1], …, ending with the last `src`; `label` is the category.
 */
export function dmoermAdapter(options: AdapterOptions): RecordAdapter {
  return {
    name: 'dmoerm',
    description: 'DMoERM {src[], tgt[], response[], rank[], label}',
    detect: (sample) => shareOf(sample, recognises),
    map: (value) => map(value, options),
  };
}

function recognises(value: unknown): boolean {
  return isObject(value) && Array.isArray(value.src) && Array.isArray(value.response) && value.rank !== undefined;
}

function stringList(value: unknown, name: string): MapResult<string[]> {
  if (!Array.isArray(value)) return fail(`"${name}" is ${kindOf(value)}, not a list of strings`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') return fail(`"${name}" entry ${i + 1} is ${kindOf(value[i])}, not a string`);
  }
  return done(value as string[]);
}

function map(value: unknown, options: AdapterOptions): MapResult {
  if (!isObject(value)) return fail(`the record is ${kindOf(value)}, not an object`);
  const src = stringList(value.src, 'src');
  if (!src.ok) return src;
  const tgt = stringList(value.tgt ?? [], 'tgt');
  if (!tgt.ok) return tgt;
  const responses = stringList(value.response, 'response');
  if (!responses.ok) return responses;
  if (src.value.length === 0) return fail('"src" is empty: there is no user turn');
  // One assistant turn between each pair of user turns; anything else cannot be interleaved.
  if (tgt.value.length !== src.value.length - 1) {
    return fail(
      `"tgt" has ${tgt.value.length} entries but "src" has ${src.value.length} (expected ${src.value.length - 1} assistant turns between the user turns)`,
    );
  }
  if (responses.value.length === 0) return fail('"response" is empty: there are no responses');

  const warnings: string[] = [];
  const context: Turn[] = [];
  src.value.forEach((text, i) => {
    context.push({ role: 'user', content: text });
    if (i < tgt.value.length) context.push({ role: 'assistant', content: tgt.value[i] });
  });
  const contextProblem = checkContext(context, warnings);
  if (contextProblem) return fail(contextProblem);
  for (let i = 0; i < responses.value.length; i++) {
    const problem = checkResponseText(responses.value[i], `response ${i + 1}`);
    if (problem) warnings.push(problem);
  }

  const rank = value.rank;
  if (!Array.isArray(rank)) return fail(`"rank" is ${kindOf(rank)}, not a list of numbers`);
  if (rank.length !== responses.value.length) {
    return fail(`rank has ${rank.length} entries but there are ${responses.value.length} responses`);
  }
  for (let i = 0; i < rank.length; i++) {
    if (!isFiniteNumber(rank[i])) return fail(notANumber(rank[i], `rank entry ${i + 1}`));
  }
  const rankIssue = rankProblem(rank as number[], 'rank');
  if (rankIssue) return fail(rankIssue);
  const ranking = denseRanks(rank as number[], options.rankDirection === 'lower-is-better' ? 'lower' : 'higher');

  let category: string | undefined;
  if (typeof value.label === 'string' && value.label.trim() !== '') category = value.label;
  else if (value.label !== undefined) warnings.push(`"label" is ${kindOf(value.label)}, not a category name; kept in metadata`);

  const consumed = new Set(['src', 'tgt', 'response', 'rank', ...(category !== undefined ? ['label'] : [])]);
  const record: MappedRecord = {
    context,
    responses: responses.value.map((text) => ({ text })),
    preference: { ranking },
  };
  if (category !== undefined) record.category = category;
  const metadata = leftoverFields(value, consumed);
  if (metadata) record.metadata = metadata;
  return done(record, warnings);
}
