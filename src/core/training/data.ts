import { Dataset } from '../dataset/dataset';
import type { TextTokenizer } from '../model/tokenizer';
import type { EncodedRecord } from './features';
import { encodeRecord } from './features';
import type { PrefPair } from './pairs';
import { humanPairs } from './pairs';
import { promptGroup } from './split';
import { asInputError } from '../io/file-error';

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
}

export const UNCATEGORISED = 'uncategorised';

export interface LoadOptions {
  schemaFile?: string;
  adapter?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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
    const data: PreferenceData = { file, records: [], pairs: [], groups: [], categories: [], ties: 0, malformed: dataset.report.malformed };
    for (let i = 0; i < dataset.size; i++) {
      if (i % 256 === 0) {
        options.signal?.throwIfAborted();
        options.onProgress?.(i, dataset.size);
        // Let cancellation and progress messages through on long files.
        await new Promise((r) => setImmediate(r));
      }
      const record = dataset.read(i).record;
      if (!record || record.responses.length === 0) continue;
      const position = data.records.length;
      const { pairs, ties } = humanPairs(record, position);
      data.records.push(encodeRecord(record, i, tokenizer, limits));
      data.pairs.push(pairs);
      data.groups.push(promptGroup(record));
      data.categories.push(record.category ?? UNCATEGORISED);
      data.ties += ties;
    }
    options.onProgress?.(dataset.size, dataset.size);
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

export function pairsOf(data: PreferenceData, positions: number[]): PrefPair[] {
  return positions.flatMap((p) => data.pairs[p]);
}
