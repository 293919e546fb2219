import { statSync } from 'node:fs';
import * as vscode from 'vscode';
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

/** The edits in effect on record `index`, split into those that apply and those made on other content. */
/** Whether the dataset's journal holds any edit in force. */
export function hasEdits(d: IndexedDataset): boolean {
  const j = journalOf(d);
  return j !== undefined && j.contents.active.length > 0;
}

export function recordEdits(d: IndexedDataset, index: number): { current: RecordEdit[]; stale: RecordEdit[] } | undefined {
  const j = journalOf(d);
  if (!j || j.contents.active.length === 0) return undefined;
  const record = d.dataset.read(index).record;
  if (!record) return undefined;
  const edits = j.byRecord.get(record.id);
  if (!edits) return undefined;
  const hash = contentHash(d.dataset.raw(index));
  return { current: edits.filter((e) => e.hash === hash), stale: edits.filter((e) => e.hash !== hash) };
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
export function editSummary(edits: { current: RecordEdit[]; stale: RecordEdit[] }): string {
  const parts: string[] = [];
  for (const e of edits.current) {
    const word = e.kind === 'tag' ? `#${e.tag ?? ''}` : editWord(e.kind);
    if (!parts.includes(word)) parts.push(word);
  }
  if (edits.stale.length > 0) parts.push(vscode.l10n.t('{0} stale', edits.stale.length));
  return `✎ ${parts.join(' · ')}`;
}

/** Appends one edit of record `index` (or an undo/redo) and tells the views. */
export function appendEdit(d: IndexedDataset, entry: Omit<NewRecordEdit, 'record' | 'hash' | 'line'> & { index: number } | { kind: 'undo' | 'redo' }): JournalLine[] {
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
    if (view.record) lines.push({ kind, record: view.record.id, hash: contentHash(d.dataset.raw(index)), line: view.line, ...(tag !== undefined ? { tag } : {}) });
  }
  const written = appendToJournal(journalFileFor(file), lines);
  changed.fire(d.key);
  return written;
}

export function disposeEdits(): void {
  changed.dispose();
  cache.clear();
}
