import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Dataset } from '../../core/dataset/dataset';
import type { JournalContents, JournalLine, NewRecordEdit, RecordEdit, RecordEditKind } from '../../core/curation/journal';
import { appendToJournal, contentHash, editsByRecord, journalFileFor, readJournal } from '../../core/curation/journal';
import type { IndexedDataset } from '../datasets/registry';

/**
 * The editor's view of each dataset's edits journal (src/core/curation/journal.ts): read on demand
 * and cached by the file's size and mtime, so that CLI edits or another window's show up too.
 */

interface Cached {
  stamp: string;
  contents: JournalContents;
  byRecord: Map<string, RecordEdit[]>;
}

const cache = new Map<string, Cached>();
const changed = new vscode.EventEmitter<string>();

/** Fires with the dataset's uri key after an edit from this window. */
export const onDidChangeEdits = changed.event;

/** The dataset's file on disk; edits are kept beside it, so an untitled buffer cannot have any. */
export function datasetFileOf(d: IndexedDataset): string | undefined {
  return d.uri.scheme === 'file' ? d.uri.fsPath : undefined;
}

function stampOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'none';
  }
}

export function journalOf(d: IndexedDataset): Cached | undefined {
  const file = datasetFileOf(d);
  if (file === undefined) return undefined;
  const journal = journalFileFor(file);
  const stamp = stampOf(journal);
  const hit = cache.get(journal);
  if (hit && hit.stamp === stamp) return hit;
  const contents = readJournal(journal);
  const fresh = { stamp, contents, byRecord: editsByRecord(contents) };
  cache.set(journal, fresh);
  return fresh;
}

export interface RecordEdits {
  /** Edits made on the record's text as it is now: applied. */
  current: RecordEdit[];
  /** Edits made on another version of it: reported, not applied. */
  stale: RecordEdit[];
}

function split(d: IndexedDataset, index: number, edits: readonly RecordEdit[]): RecordEdits {
  const hash = contentHash(d.dataset.raw(index));
  return { current: edits.filter((e) => e.hash === hash), stale: edits.filter((e) => e.hash !== hash) };
}

/** The edits in effect on record `index`, split into those that apply and those made on other content. */
export function recordEdits(d: IndexedDataset, index: number): RecordEdits | undefined {
  const j = journalOf(d);
  if (!j || j.contents.active.length === 0) return undefined;
  const record = d.dataset.read(index).record;
  if (!record) return undefined;
  const edits = j.byRecord.get(record.id);
  return edits ? split(d, index, edits) : undefined;
}

/** Record id → every index holding it (a file can repeat a record), built once per index of a file, only when needed. */
const idIndex = new WeakMap<Dataset, Map<string, number[]>>();

function indicesOfId(dataset: Dataset, id: string): number[] {
  let ids = idIndex.get(dataset);
  if (ids === undefined) {
    ids = new Map();
    for (let i = 0; i < dataset.size; i++) {
      const r = dataset.read(i).record;
      if (!r) continue;
      const at = ids.get(r.id);
      if (at) at.push(i);
      else ids.set(r.id, [i]);
    }
    idIndex.set(dataset, ids);
  }
  return ids.get(id) ?? [];
}

/** Where record `id` is: at the line an edit was made on when it is still there, else by a pass over the file. */
function locate(dataset: Dataset, id: string, edits: readonly RecordEdit[]): number[] {
  // Edits apply to every copy of a repeated record (core/curation/apply.ts), so all copies are marked.
  if (dataset.report.duplicateRecords > 0) return indicesOfId(dataset, id);
  for (const e of edits) {
    const at = dataset.recordAtLine(e.line);
    if (at >= 0 && dataset.read(at).record?.id === id) return [at];
  }
  return indicesOfId(dataset, id);
}

export interface EditedRecord extends RecordEdits {
  index: number;
}

const located = new WeakMap<Dataset, { stamp: string; records: EditedRecord[] }>();

/**
 * The records the journal edits, by index, from the journal's record ids: each edit remembers its
 * record's line, so a file that did not move costs one read per edited record, not a pass over the
 * file (CodeLens and decorations ask on every change). Cached per index build and journal version.
 */
export function editedRecords(d: IndexedDataset): EditedRecord[] {
  const j = journalOf(d);
  if (!j || j.contents.active.length === 0) return [];
  const hit = located.get(d.dataset);
  if (hit?.stamp === j.stamp) return hit.records;
  const records: EditedRecord[] = [];
  for (const [id, edits] of j.byRecord) for (const index of locate(d.dataset, id, edits)) records.push({ index, ...split(d, index, edits) });
  records.sort((a, b) => a.index - b.index);
  located.set(d.dataset, { stamp: j.stamp, records });
  return records;
}

/** A function, not a table of strings: l10n.t needs literal messages to extract them. */
function editWord(kind: RecordEditKind): string {
  switch (kind) {
    case 'flip':
      return vscode.l10n.t('flipped');
    case 'tie':
      return vscode.l10n.t('tied');
    case 'rerank':
      return vscode.l10n.t('re-ranked');
    case 'drop':
      return vscode.l10n.t('dropped');
    case 'tag':
      return vscode.l10n.t('tagged');
    case 'note':
      return vscode.l10n.t('note');
  }
}

/** `✎ flipped · #label-noise · note`: what the CodeLens shows of a record's edits. */
export function editSummary(edits: RecordEdits): string {
  const parts: string[] = [];
  for (const e of edits.current) {
    const word = e.kind === 'tag' ? `#${e.tag ?? ''}` : editWord(e.kind);
    if (!parts.includes(word)) parts.push(word);
  }
  if (edits.stale.length > 0) parts.push(vscode.l10n.t('{0} stale', edits.stale.length));
  return `✎ ${parts.join(' · ')}`;
}

/** `#3 flipped`, `#4 #harmful`, `#5 note: "…"`: one edit, as the decoration's hover lists it. */
export function describeEdit(e: RecordEdit): string {
  const what =
    e.kind === 'tag'
      ? `#${e.tag ?? ''}`
      : e.kind === 'note'
        ? `${editWord('note')}: "${e.note ?? ''}"`
        : e.kind === 'rerank' && e.ranking
          ? `${editWord('rerank')} [${e.ranking.join(', ')}]`
          : editWord(e.kind);
  return vscode.l10n.t('edit #{0}: {1}', e.seq, what);
}

/** Appends one edit of record `index` (or an undo/redo) and tells the views. */
export function appendEdit(
  d: IndexedDataset,
  entry: (Omit<NewRecordEdit, 'record' | 'hash' | 'line'> & { index: number }) | { kind: 'undo' | 'redo' },
): JournalLine[] {
  const file = datasetFileOf(d);
  if (file === undefined) throw new Error(vscode.l10n.t('save the dataset to a file first: edits are kept beside it'));
  let line: NewRecordEdit | { kind: 'undo' | 'redo' };
  if ('index' in entry) {
    const { index, ...edit } = entry;
    const view = d.dataset.read(index);
    if (!view.record) throw new Error(vscode.l10n.t('record {0} cannot be read, so it cannot be edited', index + 1));
    line = { ...edit, record: view.record.id, hash: contentHash(d.dataset.raw(index)), line: view.line };
  } else line = entry;
  const written = appendToJournal(journalFileFor(file), [line]);
  changed.fire(d.key);
  return written;
}

/** One journal append for many records (bulk tag or drop of a filter's result). */
export function appendBulk(d: IndexedDataset, kind: 'tag' | 'drop', indices: readonly number[], tag?: string): JournalLine[] {
  const file = datasetFileOf(d);
  if (file === undefined) throw new Error(vscode.l10n.t('save the dataset to a file first: edits are kept beside it'));
  const lines: NewRecordEdit[] = [];
  for (const index of indices) {
    const view = d.dataset.read(index);
    if (view.record)
      lines.push({ kind, record: view.record.id, hash: contentHash(d.dataset.raw(index)), line: view.line, ...(tag !== undefined ? { tag } : {}) });
  }
  const written = appendToJournal(journalFileFor(file), lines);
  changed.fire(d.key);
  return written;
}

/**
 * Tells the views when a journal changes outside this window (the CLI, another window): the edit's
 * dataset is the journal's name less `.edits.jsonl`, one folder up from `.rewardlens/`.
 */
export function watchJournals(): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/.rewardlens/*.edits.jsonl');
  const fire = (journal: vscode.Uri): void => {
    const name = path.basename(journal.fsPath).slice(0, -'.edits.jsonl'.length);
    changed.fire(vscode.Uri.file(path.join(path.dirname(path.dirname(journal.fsPath)), name)).toString());
  };
  return vscode.Disposable.from(watcher, watcher.onDidChange(fire), watcher.onDidCreate(fire), watcher.onDidDelete(fire));
}

export function disposeEdits(): void {
  changed.dispose();
  cache.clear();
}
