import { canonicalLine } from '../dataset/canonical-writer';
import type { Dataset } from '../dataset/dataset';
import type { PreferenceRecord } from '../dataset/record';
import { FileError } from '../io/file-error';
import { AtomicFile, assertNotInput, makeDirs } from '../io/safe-output';
import { dirname } from 'node:path';
import { assertNotLabelStore } from '../labelling/store';
import { assertNotEditsJournal } from './journal';
import { humanPairs } from '../training/pairs';
import type { StaleEdit } from './apply';
import { EditApplier } from './apply';

/**
 * `rewardlens export-dataset`: the curated dataset (the file with its edits journal applied) written
 * as a new file. Formats:
 * - `canonical`: one PreferenceRecord per line (docs/record-model.md);
 * - `trl`: TRL's conversational `{prompt, chosen, rejected}`, one line per non-tied human pair;
 * - `dmoerm`: DMoERM's `{src, tgt, response, rank, label}` (rank 1 best, read back lower-is-better);
 * - `same`: the input's own shape, where it can be written back from the record (canonical and dmoerm
 *   files); other shapes are refused with a message that suggests canonical.
 */

export const EXPORT_FORMATS = ['same', 'canonical', 'trl', 'dmoerm'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportDatasetOptions {
  format: ExportFormat;
  /** Apply the edits journal (default true). */
  edits?: boolean;
  /** Keeps a curated record when true (a filter's predicate); default all. */
  keep?: (record: PreferenceRecord, index: number) => boolean;
  signal?: AbortSignal;
}

export interface ExportDatasetResult {
  /** Lines written (TRL: pairs). */
  written: number;
  records: number;
  /** Records the engine could not read. */
  unreadable: number;
  /** Records the chosen format cannot hold (dmoerm: no ranking, or turns that do not alternate). */
  skipped: number;
  dropped: number;
  filteredOut: number;
  edits: { applied: number; stale: StaleEdit[]; unreadableNote?: string } | null;
}

/** Adapters whose shape the record holds everything of, so that `same` can write it back. */
const SAME_WRITERS: Record<string, (r: PreferenceRecord) => string[]> = {
  canonical: (r) => [canonicalLine(r)],
  dmoerm: (r) => dmoermLines(r),
};

function trlLines(r: PreferenceRecord): string[] {
  const prompt = r.context.map((t) => ({ role: t.role, content: t.content }));
  const { pairs } = humanPairs(r, 0, { max: Number.MAX_SAFE_INTEGER, seed: 0 });
  return pairs.map((p) =>
    JSON.stringify({
      prompt,
      chosen: [{ role: 'assistant', content: r.responses[p.winner].text }],
      rejected: [{ role: 'assistant', content: r.responses[p.loser].text }],
    }),
  );
}

function dmoermLines(r: PreferenceRecord): string[] {
  const ranking = r.preference?.ranking;
  // DMoERM's shape has user turns alternating with assistant turns and a rank per response.
  const src: string[] = [];
  const tgt: string[] = [];
  for (const t of r.context) {
    if (t.role === 'user') src.push(t.content);
    else if (t.role === 'assistant') tgt.push(t.content);
  }
  if (!ranking || ranking.length !== r.responses.length || r.context.some((t) => t.role === 'system') || tgt.length !== src.length - 1) return [];
  return [JSON.stringify({ src, tgt, response: r.responses.map((x) => x.text), rank: ranking, ...(r.category !== undefined ? { label: r.category } : {}) })];
}

export function exportDataset(dataset: Dataset, out: string, options: ExportDatasetOptions): ExportDatasetResult {
  assertNotInput(out, [dataset.file]);
  assertNotLabelStore(out);
  assertNotEditsJournal(out);
  let write: (r: PreferenceRecord) => string[];
  if (options.format === 'same') {
    const adapter = dataset.report.adapter;
    const same = SAME_WRITERS[adapter];
    if (!same)
      throw new FileError(dataset.file, `its shape (${adapter}) cannot be written back from the curated records; use --format canonical (or trl, dmoerm)`);
    write = same;
  } else write = options.format === 'canonical' ? SAME_WRITERS.canonical : options.format === 'trl' ? trlLines : dmoermLines;
  const applier = options.edits === false ? undefined : EditApplier.forDataset(dataset.file);
  const result: ExportDatasetResult = { written: 0, records: 0, unreadable: 0, skipped: 0, dropped: 0, filteredOut: 0, edits: null };
  makeDirs(dirname(out));
  const file = new AtomicFile(out);
  try {
    let pending = '';
    for (let i = 0; i < dataset.size; i++) {
      options.signal?.throwIfAborted();
      let record = dataset.read(i).record;
      if (!record) {
        result.unreadable++;
        continue;
      }
      if (applier && !applier.empty) {
        record = applier.apply(record, dataset.raw(i)).record;
        if (!record) {
          result.dropped++;
          continue;
        }
      }
      if (options.keep && !options.keep(record, i)) {
        result.filteredOut++;
        continue;
      }
      const lines = write(record);
      if (lines.length === 0) {
        result.skipped++;
        continue;
      }
      result.records++;
      result.written += lines.length;
      pending += lines.join('\n') + '\n';
      if (pending.length > 4 * 1024 * 1024) {
        file.write(pending);
        pending = '';
      }
    }
    file.write(pending);
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  if (applier) result.edits = { applied: applier.applied, stale: applier.finish(), unreadableNote: applier.unreadableNote };
  return result;
}
