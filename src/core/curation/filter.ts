import { readFileSync } from 'node:fs';
import { Dataset } from '../dataset/dataset';
import { asInputError } from '../io/file-error';
import { mergedLabels, readStore, storeFileFor } from '../labelling/store';
import { indexVerdicts, labelsSideWithLoser, modelDisagrees, pairKey } from '../scoring/disagreements';
import { humanPairs } from '../training/pairs';
import { findPiiInRecord } from '../dataset/pii';
import type { PreferenceRecord } from '../dataset/record';
import { promptKeyHash } from '../dataset/record-id';
import type { CurationMetadata } from './apply';
import { CURATION_METADATA_KEY } from './apply';

/**
 * Record filters as a query string, so that a filter can be shared (pasted in an issue, given to
 * `rewardlens export-dataset --filter`): clauses joined by `&`, all of which must hold, e.g.
 *
 *   category=roleplay&tag=label-noise&edited=1&len.chosen>500&dup-prompt=1&leak=test.jsonl
 *
 * Keys: `category` (one of a comma list), `tag` (the record carries one of a comma list),
 * `edited` (0/1), `responses` (count), `len.prompt`, `len.chosen` (best-ranked response), `len.rejected`
 * (worst-ranked), `len.response` (any response), all in characters, `dup-prompt` (0/1: the prompt
 * occurs more than once in the file), `leak=FILE` (the prompt occurs in FILE), `pii` (1, or a kind:
 * email, phone, idCard), `id` (record id), `label-vs-human` (0/1: the capability labels of the
 * dataset's label store side with the human loser of a pair), `model-vs-human=SCORES` (a reward model
 * ranks the human loser of a pair at least as high as the winner; SCORES is `rewardlens score --json`
 * output), `label-noise=SCORES` (the disagreement explorer's label-noise candidates: on one human pair,
 * the model disagrees and the labels side with the loser too). Numeric keys take `=`, `!=`, `<`, `<=`, `>`, `>=`; the others `=` and `!=`.
 *
 * The disagreement keys use the disagreement explorer's rules (src/core/scoring/disagreements.ts) on
 * the record's human pairs as curated (after flips and re-ranks), and name records by id, which edits
 * do not change: scores and labels made before an edit still apply to the record after it.
 */

export class FilterError extends Error {}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface Clause {
  key: string;
  op: Op;
  value: string;
  /** Position of the clause in the query (1-based characters), for messages. */
  at: number;
}

const NUMERIC = new Set(['responses', 'len.prompt', 'len.chosen', 'len.rejected', 'len.response']);
const FLAGS = new Set(['edited', 'dup-prompt', 'label-vs-human']);
const TEXT = new Set(['category', 'tag', 'leak', 'pii', 'id', 'model-vs-human', 'label-noise']);
/** Keys that read the label store, and keys whose value is a scores file (or `model`). */
const NEEDS_LABELS = new Set(['label-vs-human', 'label-noise']);
const NEEDS_SCORES = new Set(['model-vs-human', 'label-noise']);
export const FILTER_KEYS = [...TEXT, ...FLAGS, ...NUMERIC];

/** Parses a query; throws FilterError naming the clause and what is wrong with it. */
export function parseFilter(query: string): Clause[] {
  const clauses: Clause[] = [];
  let at = 1;
  for (const raw of query.split('&')) {
    const text = raw.trim();
    const here = at;
    at += raw.length + 1;
    if (text === '') continue;
    const m = /^([A-Za-z][\w.-]*)\s*(!=|<=|>=|=|<|>)\s*(.*)$/.exec(text);
    if (!m) throw new FilterError(`filter: "${text}" (at ${here}) is not KEY=VALUE (or KEY>N, KEY<N, …)`);
    const [, key, op, rawValue] = m as unknown as [string, string, Op, string];
    let value = rawValue.trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new FilterError(`filter: "${text}" (at ${here}) has a malformed %-escape`);
    }
    if (!NUMERIC.has(key) && !FLAGS.has(key) && !TEXT.has(key))
      throw new FilterError(`filter: unknown key "${key}" (at ${here}); keys: ${FILTER_KEYS.join(', ')}`);
    if (NUMERIC.has(key)) {
      if (value === '' || !Number.isFinite(Number(value))) throw new FilterError(`filter: ${key} needs a number, not "${value}" (at ${here})`);
    } else {
      if (op !== '=' && op !== '!=') throw new FilterError(`filter: ${key} takes = or !=, not ${op} (at ${here})`);
      if (FLAGS.has(key) && value !== '0' && value !== '1') throw new FilterError(`filter: ${key} is 0 or 1, not "${value}" (at ${here})`);
      if (value === '') throw new FilterError(`filter: ${key} needs a value (at ${here})`);
      if (key === 'pii' && !['1', '0', 'email', 'phone', 'idCard'].includes(value))
        throw new FilterError(`filter: pii is 1, 0, email, phone or idCard, not "${value}" (at ${here})`);
    }
    clauses.push({ key, op, value, at: here });
  }
  return clauses;
}

/** The query string of clauses (values %-escaped where needed), so a parsed filter can be shared. */
export function formatFilter(clauses: readonly Clause[]): string {
  return clauses.map((c) => `${c.key}${c.op}${encodeURIComponent(c.value).replace(/%2C/g, ',').replace(/%2F/g, '/')}`).join('&');
}

/** What the clauses need beyond the record itself, computed once per file by `prepareFilter`. */
export interface FilterContext {
  /** Prompt hash → occurrences in the file (dup-prompt). */
  promptCounts?: Map<string, number>;
  /** File → prompt hashes of that file (leak). */
  leakPrompts?: Map<string, Set<string>>;
  /** Consistent capability verdicts by record id and pair (label-vs-human, label-noise). */
  verdicts?: ReturnType<typeof indexVerdicts>;
  /** Scores file → reward logits by record id (model-vs-human, label-noise). */
  scores?: Map<string, Map<string, number[]>>;
}

export type RecordPredicate = (record: PreferenceRecord) => boolean;

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function byRank(record: PreferenceRecord, pick: 'best' | 'worst'): number | undefined {
  const r = record.preference?.ranking;
  if (!r || r.length === 0) return undefined;
  let k = 0;
  for (let i = 1; i < r.length; i++) if (pick === 'best' ? r[i] < r[k] : r[i] > r[k]) k = i;
  return k;
}

function curationOf(record: PreferenceRecord): CurationMetadata | undefined {
  return record.metadata?.[CURATION_METADATA_KEY] as CurationMetadata | undefined;
}

function clauseHolds(c: Clause, record: PreferenceRecord, ctx: FilterContext): boolean {
  const list = c.value.split(',').map((v) => v.trim());
  const positive = c.op !== '!=';
  const eq = (hit: boolean): boolean => (positive ? hit : !hit);
  switch (c.key) {
    case 'category':
      return eq(list.includes(record.category ?? 'uncategorised'));
    case 'id':
      return eq(list.includes(record.id));
    case 'tag': {
      const tags = curationOf(record)?.tags ?? [];
      return eq(list.some((t) => tags.includes(t)));
    }
    case 'edited':
      return eq((curationOf(record)?.edits.length ?? 0) > 0 === (c.value === '1'));
    case 'dup-prompt': {
      const n = ctx.promptCounts?.get(promptKeyHash(record.context)) ?? 1;
      return eq(n > 1 === (c.value === '1'));
    }
    case 'leak': {
      const set = ctx.leakPrompts?.get(c.value);
      if (!set) throw new Error(`filter: leak=${c.value} was not prepared`);
      return eq(set.has(promptKeyHash(record.context)));
    }
    case 'label-vs-human': {
      const verdicts = ctx.verdicts;
      if (!verdicts) throw new Error('filter: label-vs-human was not prepared');
      const hit = humanPairs(record, 0).pairs.some((p) => labelsSideWithLoser(verdicts.get(pairKey(record.id, p.winner, p.loser)), p.loser));
      return eq(hit === (c.value === '1'));
    }
    case 'model-vs-human':
    case 'label-noise': {
      const scores = ctx.scores?.get(c.value);
      if (!scores) throw new Error(`filter: ${c.key}=${c.value} was not prepared`);
      const verdicts = ctx.verdicts;
      if (c.key === 'label-noise' && !verdicts) throw new Error('filter: label-noise was not prepared');
      const rewards = scores.get(record.id);
      if (rewards?.length !== record.responses.length) return eq(false);
      return eq(
        humanPairs(record, 0).pairs.some(
          (p) =>
            modelDisagrees(rewards, p.winner, p.loser) &&
            (c.key === 'model-vs-human' || labelsSideWithLoser(verdicts!.get(pairKey(record.id, p.winner, p.loser)), p.loser)),
        ),
      );
    }
    case 'pii': {
      const kinds = findPiiInRecord(record);
      if (c.value === '1' || c.value === '0') return eq(kinds.length > 0 === (c.value === '1'));
      return eq((kinds as string[]).includes(c.value));
    }
    case 'responses':
      return compare(record.responses.length, c.op, Number(c.value));
    case 'len.prompt':
      return compare(
        record.context.reduce((n, t) => n + t.content.length, 0),
        c.op,
        Number(c.value),
      );
    case 'len.response':
      return record.responses.some((r) => compare(r.text.length, c.op, Number(c.value)));
    case 'len.chosen':
    case 'len.rejected': {
      const k = byRank(record, c.key === 'len.chosen' ? 'best' : 'worst');
      return k !== undefined && compare(record.responses[k].text.length, c.op, Number(c.value));
    }
    default:
      return false;
  }
}

/** The predicate of `clauses` given what `prepareFilter` computed. Records are read curated (tags, edits). */
export function predicateOf(clauses: readonly Clause[], ctx: FilterContext = {}): RecordPredicate {
  return (record) => clauses.every((c) => clauseHolds(c, record, ctx));
}

async function promptHashes(file: string, signal?: AbortSignal): Promise<Set<string>> {
  const d = await Dataset.open(file, { signal }).catch((e: unknown) => {
    throw asInputError(file, e);
  });
  try {
    const out = new Set<string>();
    for (let i = 0; i < d.size; i++) {
      const r = d.read(i).record;
      if (r) out.add(promptKeyHash(r.context));
    }
    return out;
  } finally {
    d.close();
  }
}

/**
 * Computes what the clauses need over the whole of `dataset` (prompt counts for dup-prompt, the other
 * file's prompts for leak; a leak file is resolved by the caller against its working folder).
 */
export async function prepareFilter(
  clauses: readonly Clause[],
  dataset: Dataset,
  options: {
    resolve?: (file: string) => string;
    signal?: AbortSignal;
    /** label-vs-human's label store (store.ts storeFileFor). */
    labelStore?: string;
    /** model-vs-human=model: the dataset's rewards by the editor's reward model, by record id. */
    modelScores?: () => Promise<Map<string, number[]>>;
  } = {},
): Promise<FilterContext> {
  const resolve = options.resolve ?? ((f: string) => f);
  const ctx: FilterContext = {};
  if (clauses.some((c) => c.key === 'dup-prompt')) {
    ctx.promptCounts = new Map();
    for (let i = 0; i < dataset.size; i++) {
      const r = dataset.read(i).record;
      if (!r) continue;
      const h = promptKeyHash(r.context);
      ctx.promptCounts.set(h, (ctx.promptCounts.get(h) ?? 0) + 1);
    }
  }
  for (const c of clauses) {
    if (c.key !== 'leak') continue;
    ctx.leakPrompts ??= new Map();
    if (!ctx.leakPrompts.has(c.value)) ctx.leakPrompts.set(c.value, await promptHashes(resolve(c.value), options.signal));
  }
  const labelled = clauses.find((c) => NEEDS_LABELS.has(c.key));
  if (labelled) {
    const store = options.labelStore ?? storeFileFor(dataset.file);
    const labels = mergedLabels(readStore(store));
    if (labels.length === 0)
      throw new FilterError(`filter: ${labelled.key} needs capability labels, and ${store} has none (rewardlens label, or Label Capability Points…)`);
    ctx.verdicts = indexVerdicts(labels);
  }
  for (const c of clauses) {
    if (!NEEDS_SCORES.has(c.key)) continue;
    ctx.scores ??= new Map();
    if (ctx.scores.has(c.value)) continue;
    if (c.value === MODEL_SCORES) {
      if (!options.modelScores)
        throw new FilterError(
          `filter: ${c.key}=${MODEL_SCORES} scores with the editor's reward model; here, give a scores file (rewardlens score MODEL FILE --json > scores.json)`,
        );
      ctx.scores.set(c.value, await options.modelScores());
    } else {
      const scores = readScores(resolve(c.value), `${c.key}=${c.value}`);
      checkCoverage(scores, `${c.key}=${c.value}`, dataset);
      ctx.scores.set(c.value, scores);
    }
  }
  return ctx;
}

/**
 * A scores file must score this dataset as it is: one of another file, or of an older version of this
 * one, would silently leave its unscored records out of the filter's result.
 */
function checkCoverage(scores: Map<string, number[]>, clause: string, dataset: Dataset): void {
  for (let i = 0; i < dataset.size; i++) {
    const view = dataset.read(i);
    const record = view.record;
    if (!record) continue;
    const rewards = scores.get(record.id);
    if (rewards?.length === record.responses.length) continue;
    const why = rewards ? `scores ${rewards.length} responses of it, the file has ${record.responses.length}` : 'has no scores for it';
    throw new FilterError(
      `filter: ${clause} ${why} (${dataset.file} line ${view.line}, record ${record.id}): scores of another file or an older version? ` +
        `Score this one: rewardlens score MODEL ${dataset.file} --json > scores.json`,
    );
  }
}

/** The value of model-vs-human and label-noise that asks the editor's reward model rather than naming a scores file. */
export const MODEL_SCORES = 'model';

/** Reward logits by record id from `rewardlens score --json` output (src/core/scoring/score-file.ts FileScore). */
function readScores(file: string, clause: string): Map<string, number[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw asInputError(file, e);
  }
  let records: unknown;
  try {
    records = (JSON.parse(text) as { records?: unknown } | null)?.records;
  } catch {
    records = undefined;
  }
  if (!Array.isArray(records)) throw new FilterError(`filter: ${clause} is not the output of rewardlens score --json (one JSON object with a "records" list)`);
  const out = new Map<string, number[]>();
  for (const r of records as Array<{ id?: unknown; logits?: unknown }>) {
    // JSON writes a NaN reward as null; NaN disagrees with every pair, as in the explorer.
    if (typeof r.id === 'string' && Array.isArray(r.logits))
      out.set(
        r.id,
        (r.logits as unknown[]).map((v) => (v === null ? NaN : Number(v))),
      );
  }
  return out;
}
