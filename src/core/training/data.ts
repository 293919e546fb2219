import { Dataset } from '../dataset/dataset';
import type { IndexReport } from '../dataset/dataset';
import type { TextTokenizer } from '../model/tokenizer';
import type { EncodedRecord } from './features';
import { encodeRecord } from './features';
import type { PairSample, PrefPair } from './pairs';
import { DEFAULT_PAIR_SAMPLE, humanPairs } from './pairs';
import { promptGroup } from './split';
import { asInputError } from '../io/file-error';
import { EditApplier } from '../curation/apply';
import type { StaleEdit } from '../curation/apply';

/** Records of one file, encoded, with their human preference pairs (paper eq. 7: all non-tied pairs). */
export interface PreferenceData {
  file: string;
  records: EncodedRecord[];
  /** Human pairs of `records[i]`, with `record` = i. */
  pairs: PrefPair[][];
  /** Prompt group of each record (same context → same group), so splits never share a prompt. */
  groups: string[];
  /** Category of each record; records without one are 'uncategorised'. */
  categories: string[];
  ties: number;
  /** Records of the file the dataset engine could not read (reported, not trained on). */
  malformed: number;
  /** What to tell the user about them (file, first line and reason), when there are any. */
  malformedNote?: string;
  /** Records with more pairs than `maxPairsPerRecord`, and the pairs the sampling left out of them. */
  sampled: { records: number; pairsLeftOut: number; maxPairsPerRecord: number };
  /** The edits journal as applied (absent when edits were ignored or there are none). */
  edits?: { applied: number; dropped: number; stale: StaleEdit[] };
  /** The journal's unreadable lines (EditApplier.unreadableNote), when any. */
  journalNote?: string;
}

/**
 * Pairs a run holds at most, all records together (about 50 bytes each in V8): past it the load fails
 * with what to change, instead of the process dying in an out-of-memory abort.
 */
export const MAX_PAIRS_IN_MEMORY = 5_000_000;

export const UNCATEGORISED = 'uncategorised';

/** `FILE: 2 malformed records left out (line 19: …)`: said wherever a file is trained on, evaluated or scored, so that none is dropped in silence. */
function malformedNote(file: string, report: IndexReport): string | undefined {
  if (report.malformed === 0) return undefined;
  const first = report.problems.find((p) => p.severity === 'error');
  return (
    `${file}: ${report.malformed} malformed record${report.malformed === 1 ? '' : 's'} left out` +
    `${first ? ` (line ${first.line}: ${first.reason}${report.malformed > 1 ? '; …' : ''})` : ''}; \`rewardlens index ${file}\` lists them`
  );
}

export interface LoadOptions {
  schemaFile?: string;
  adapter?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Default DEFAULT_PAIR_SAMPLE; training passes `maxPairsPerRecord` and the run's seed. */
  pairSample?: PairSample;
  /** Default MAX_PAIRS_IN_MEMORY. */
  maxPairs?: number;
  /** Apply the dataset's edits journal (.rewardlens/<file>.edits.jsonl); default true. */
  edits?: boolean;
}

export async function loadPreferenceData(
  file: string,
  tokenizer: TextTokenizer,
  limits: { maxLen: number; routerMaxLen: number },
  options: LoadOptions = {},
): Promise<PreferenceData> {
  const dataset = await Dataset.open(file, { schemaFile: options.schemaFile, adapter: options.adapter, signal: options.signal }).catch((e: unknown) => {
    throw asInputError(file, e);
  });
  try {
    const sample = options.pairSample ?? DEFAULT_PAIR_SAMPLE;
    const maxPairs = options.maxPairs ?? MAX_PAIRS_IN_MEMORY;
    const data: PreferenceData = {
      file,
      records: [],
      pairs: [],
      groups: [],
      categories: [],
      ties: 0,
      malformed: dataset.report.malformed,
      malformedNote: malformedNote(file, dataset.report),
      sampled: { records: 0, pairsLeftOut: 0, maxPairsPerRecord: sample.max },
    };
    const applier = options.edits === false ? undefined : EditApplier.forDataset(file);
    const curate = applier && !applier.empty ? applier : undefined;
    let total = 0;
    for (let i = 0; i < dataset.size; i++) {
      if (i % 256 === 0) {
        options.signal?.throwIfAborted();
        options.onProgress?.(i, dataset.size);
        // Let cancellation and progress messages through on long files.
        await new Promise((r) => setImmediate(r));
      }
      let record = dataset.read(i).record;
      if (record && curate) record = curate.apply(record, dataset.raw(i)).record;
      if (!record || record.responses.length === 0) continue;
      const position = data.records.length;
      const { pairs, ties, available } = humanPairs(record, position, sample);
      total += pairs.length;
      if (total > maxPairs) {
        throw new Error(
          `${file}: more than ${maxPairs.toLocaleString('en-US')} preference pairs by record ${i + 1} of ${dataset.size}, more than training holds in memory; lower maxPairsPerRecord (now ${sample.max}) or train on part of the file`,
        );
      }
      if (available > pairs.length) {
        data.sampled.records++;
        data.sampled.pairsLeftOut += available - pairs.length;
      }
      data.records.push(encodeRecord(record, i, tokenizer, limits));
      data.pairs.push(pairs);
      data.groups.push(promptGroup(record));
      data.categories.push(record.category ?? UNCATEGORISED);
      data.ties += ties;
    }
    options.onProgress?.(dataset.size, dataset.size);
    if (curate) data.edits = { applied: curate.applied, dropped: curate.dropped, stale: curate.finish() };
    data.journalNote = applier?.unreadableNote;
    return data;
  } finally {
    dataset.close();
  }
}

/** Record positions grouped by category, categories sorted by name. */
export function positionsByCategory(data: PreferenceData, positions: number[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of positions) {
    const c = data.categories[p];
    const list = out.get(c);
    if (list) list.push(p);
    else out.set(c, [p]);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Appends another file's records (held-out test records) after `data`'s, their pairs renumbered to their
 * new positions; `data`'s counts (ties, malformed, sampling) keep describing its own file. Returns how many
 * of the appended records share their prompt with one of `data`'s.
 */
export function appendRecords(data: PreferenceData, other: PreferenceData): number {
  const offset = data.records.length;
  const groups = new Set(data.groups);
  let shared = 0;
  other.records.forEach((r, i) => {
    data.records.push(r);
    data.pairs.push(other.pairs[i].map((p) => ({ ...p, record: p.record + offset })));
    data.groups.push(other.groups[i]);
    data.categories.push(other.categories[i]);
    if (groups.has(other.groups[i])) shared++;
  });
  return shared;
}

export function pairsOf(data: PreferenceData, positions: number[]): PrefPair[] {
  return positions.flatMap((p) => data.pairs[p]);
}
