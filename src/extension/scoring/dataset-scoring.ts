import * as vscode from 'vscode';
import type { PreferenceRecord } from '../../core/dataset/record';
import type { FileRecordScore } from '../../core/scoring/score-file';
import { scoreFile } from '../../core/scoring/score-file';
import type { OrtScorer } from '../../core/scoring/session';
import type { IndexedDataset } from '../datasets/registry';

/**
 * A whole dataset scored by one or more exported models, as best-of-n and the disagreement explorer
 * need it: the models read the file on disk (scoreFile, in this process), and each score is joined to
 * the record of the index the editor shows, checked by id.
 */

/** Records joined between yields to the event loop, so the window stays responsive and a cancel is seen. */
const JOIN_CHUNK = 4096;

/** One record of the index with each model's score of the same record of the file (undefined: not scored). */
export interface JoinedRecord {
  index: number;
  /** 1-based line of the record in the file. */
  line: number;
  record: PreferenceRecord;
  scores: Array<FileRecordScore | undefined>;
}

export interface DatasetScores<T> {
  file: string;
  /** What the caller made of each joined record, in record order. */
  rows: T[];
  /** Each model's path, method and number of records it scored. */
  models: Array<{ model: string; method: string; scored: number }>;
  /** The dataset's index build the rows belong to. */
  generation: number;
}

/** Why the models cannot score `d` (they read its file: it must be on disk and saved), or undefined when they can. */
export function whyNotScorable(d: IndexedDataset): string | undefined {
  if (d.uri.scheme !== 'file') return vscode.l10n.t('{0} is not a file on disk: the models score the file, so save it first.', d.name);
  if (vscode.workspace.textDocuments.some((doc) => doc.uri.toString() === d.key && doc.isDirty)) {
    return vscode.l10n.t('{0} has unsaved changes: the models score the file on disk, so save it first.', d.name);
  }
  return undefined;
}

export interface ScoreDatasetOptions {
  signal: AbortSignal;
  /** onnxruntime threads of a scorer made for a model given by path. */
  intraOpNumThreads?: number;
  /** Model `model` (0-based) has scored `done` of `total` records; `total` is 0 while it reads and tokenises. */
  onProgress?: (model: number, done: number, total: number) => void;
}

/**
 * Scores `d`'s file with each model in turn (a path, or an open scorer whose session and cache are
 * reused), then calls `join` with every record of the index that has a record: its result, when
 * defined, is one row. Throws when the file and the index disagree on a scored record's id (the file
 * changed after indexing), and with the signal's reason when aborted.
 */
export async function scoreDataset<T>(
  d: IndexedDataset,
  models: ReadonlyArray<string | OrtScorer>,
  options: ScoreDatasetOptions,
  join: (r: JoinedRecord) => T | undefined,
): Promise<DatasetScores<T>> {
  const reason = whyNotScorable(d);
  if (reason !== undefined) throw new Error(reason);
  const file = d.uri.fsPath;
  const byModel: Array<Map<number, FileRecordScore>> = [];
  const scoredBy: DatasetScores<T>['models'] = [];
  for (const [k, source] of models.entries()) {
    options.onProgress?.(k, 0, 0);
    const scorer = typeof source === 'string' ? undefined : source;
    const scored = await scoreFile(scorer?.modelFile ?? (source as string), file, {
      scorer,
      signal: options.signal,
      intraOpNumThreads: options.intraOpNumThreads,
      onProgress: (done, total) => options.onProgress?.(k, done, total),
    });
    byModel.push(new Map(scored.records.map((r) => [r.index, r])));
    scoredBy.push({ model: scored.model, method: scored.method, scored: scored.records.length });
  }
  const rows: T[] = [];
  for (let i = 0; i < d.dataset.size; i++) {
    if (i % JOIN_CHUNK === 0) {
      await new Promise((r) => setImmediate(r));
      options.signal.throwIfAborted();
    }
    const view = d.dataset.read(i);
    const scores = byModel.map((m) => m.get(i));
    // The models read the file; the records come from the index: both must be the same record.
    if (scores.some((s) => s !== undefined && s.id !== view.record?.id))
      throw new Error(`${file}: record ${i + 1} (line ${view.line}) differs from the file on disk; save the file, re-index it and score again`);
    if (view.record === undefined) continue;
    const row = join({ index: i, line: view.line, record: view.record, scores });
    if (row !== undefined) rows.push(row);
  }
  return { file, rows, models: scoredBy, generation: d.generation };
}
