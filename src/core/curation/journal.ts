import { createHash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { endTornLine } from '../io/append';
import { basename, dirname, join } from 'node:path';
import { acquireLock } from '../lock';
import { FileError } from '../io/file-error';
import { firstJsonValue } from '../io/input-file';
import { makeDirs } from '../io/safe-output';

/**
 * The edits journal: the curation a user made to one dataset, kept beside it (never in it) as an
 * append-only JSONL file, `.rewardlens/<dataset file name>.edits.jsonl`. Undo and redo are lines too,
 * so that the history (and what undo would take back next) survives a restart.
 *
 * Each record edit names the record by its id (a hash of context and responses, stable across
 * shapes) and by the hash of its raw text in the file: an edit made on an older version of the file,
 * whose record has changed since (or is gone), is reported as stale rather than applied to what is
 * now there. Durability follows the label store (src/core/labelling/store.ts): one `write(2)` per line
 * on an O_APPEND descriptor, fdatasync before close, a torn last line ignored by readers and ended by
 * the next writer, and a lock file so that two writers never interleave.
 */

export const RECORD_EDIT_KINDS = ['flip', 'tie', 'rerank', 'drop', 'tag', 'note'] as const;
export type RecordEditKind = (typeof RECORD_EDIT_KINDS)[number];

/** Tags offered by the editor; any other non-empty tag is accepted too. */
export const KNOWN_TAGS = ['label-noise', 'harmful', 'duplicate', 'leak'] as const;

export interface RecordEdit {
  kind: RecordEditKind;
  /** Position in the journal, from 1: what undo and redo lines point at. */
  seq: number;
  /** Record id (PreferenceRecord.id). */
  record: string;
  /** contentHash of the record's raw text when the edit was made. */
  hash: string;
  /** 1-based line of the record when the edit was made (for messages only). */
  line: number;
  /** flip/tie: the two responses (indices); absent: the best against the worst, or all for tie. */
  a?: number;
  b?: number;
  /** rerank: the new ranking, 1 best, one rank per response. */
  ranking?: number[];
  tag?: string;
  note?: string;
  ts: string;
}

export interface HistoryEdit {
  kind: 'undo' | 'redo';
  seq: number;
  /** The seq of the record edit undone or redone. */
  target: number;
  ts: string;
}

export type JournalLine = RecordEdit | HistoryEdit;

export interface JournalContents {
  file: string;
  lines: JournalLine[];
  /** Record edits in effect (not undone), in journal order. */
  active: RecordEdit[];
  /** What undo would take back next, last first. */
  undoStack: RecordEdit[];
  /** What redo would restore next, last first. */
  redoStack: RecordEdit[];
  /** Lines torn by a crash or that do not parse; ignored. */
  ignoredLines: number;
}

/** `<dir>/<dataset name>.edits.jsonl`; dir defaults to `.rewardlens/` beside the dataset. */
export function journalFileFor(datasetFile: string, dir?: string): string {
  return join(dir ?? join(dirname(datasetFile), '.rewardlens'), `${basename(datasetFile)}.edits.jsonl`);
}

/** Refuses `out` as an output when it is an edits journal (by its name, or a first line that is a journal line): the curation in it is the user's work. */
export function assertNotEditsJournal(out: string): void {
  if ((out.endsWith('.edits.jsonl') && existsSync(out)) || isLine(firstJsonValue(out)))
    throw new FileError(out, "is an edits journal (a dataset's curation): choose another output file");
}

/** The hash of a record's raw text that edits are checked against (16 hex digits of sha256). */
export function contentHash(raw: string): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function isRecordEdit(v: JournalLine): v is RecordEdit {
  return (RECORD_EDIT_KINDS as readonly string[]).includes(v.kind);
}

function isLine(v: unknown): v is JournalLine {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || typeof o.seq !== 'number') return false;
  if (o.kind === 'undo' || o.kind === 'redo') return typeof o.target === 'number';
  return (RECORD_EDIT_KINDS as readonly unknown[]).includes(o.kind) && typeof o.record === 'string' && typeof o.hash === 'string';
}

/** Replays undo/redo lines: an undo takes back the last edit in effect, a redo the last one undone. */
function replay(file: string, lines: JournalLine[], ignoredLines: number): JournalContents {
  const bySeq = new Map<number, RecordEdit>();
  const undoStack: RecordEdit[] = [];
  let redoStack: RecordEdit[] = [];
  for (const line of lines) {
    if (isRecordEdit(line)) {
      bySeq.set(line.seq, line);
      undoStack.push(line);
      // A new edit ends the redo history, as in any editor.
      redoStack = [];
    } else if (line.kind === 'undo') {
      const i = undoStack.findIndex((e) => e.seq === line.target);
      if (i >= 0) redoStack.push(...undoStack.splice(i, 1));
    } else {
      const i = redoStack.findIndex((e) => e.seq === line.target);
      if (i >= 0) undoStack.push(...redoStack.splice(i, 1));
    }
  }
  const activeSeqs = new Set(undoStack.map((e) => e.seq));
  const active = [...bySeq.values()].filter((e) => activeSeqs.has(e.seq));
  return { file, lines, active, undoStack: undoStack.slice().reverse(), redoStack: redoStack.slice().reverse(), ignoredLines };
}

/** Reads a journal without locking it. A missing file is an empty journal. */
export function readJournal(file: string): JournalContents {
  const lines: JournalLine[] = [];
  let ignored = 0;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      if (end < 0) {
        // No final newline: the write of this line was cut short.
        if (text.slice(start).trim() !== '') ignored++;
        break;
      }
      const raw = text.slice(start, end).trim();
      start = end + 1;
      if (raw === '') continue;
      try {
        const value: unknown = JSON.parse(raw);
        if (isLine(value)) lines.push(value);
        else ignored++;
      } catch {
        ignored++;
      }
    }
  }
  return replay(file, lines, ignored);
}

/** The sha256 of the journal file (all of it), or null when there is none: recorded in run.json. */
export function journalSha256(file: string): string | null {
  if (!existsSync(file)) return null;
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export type NewRecordEdit = Omit<RecordEdit, 'seq' | 'ts'>;

/**
 * Appends under the journal's lock and returns the lines written. Undo/redo are resolved here, under
 * the lock, against the journal as it is on disk (another window may have appended meanwhile).
 * `{undo: true}` with nothing to undo writes nothing and returns [].
 */
export function appendToJournal(
  file: string,
  entries: readonly (NewRecordEdit | { kind: 'undo' } | { kind: 'redo' })[],
  now: () => Date = () => new Date(),
): JournalLine[] {
  makeDirs(dirname(file));
  const lock = acquireLock(`${file}.lock`, 'the edits journal');
  try {
    let contents = readJournal(file);
    const fd = openSync(file, 'a');
    try {
      endTornLine(file, fd);
      let seq = contents.lines.reduce((m, l) => Math.max(m, l.seq), 0);
      const written: JournalLine[] = [];
      for (const entry of entries) {
        const ts = now().toISOString();
        let line: JournalLine;
        if (entry.kind === 'undo' || entry.kind === 'redo') {
          const target = (entry.kind === 'undo' ? contents.undoStack : contents.redoStack)[0];
          if (!target) continue;
          line = { kind: entry.kind, seq: ++seq, target: target.seq, ts };
        } else {
          line = { ...entry, seq: ++seq, ts };
        }
        writeSync(fd, `${JSON.stringify(line)}\n`);
        written.push(line);
        contents = replay(file, [...contents.lines, line], contents.ignoredLines);
      }
      fdatasyncSync(fd);
      return written;
    } finally {
      closeSync(fd);
    }
  } finally {
    lock.release();
  }
}

/** Edits in effect grouped by record id. */
export function editsByRecord(contents: JournalContents): Map<string, RecordEdit[]> {
  const out = new Map<string, RecordEdit[]>();
  for (const e of contents.active) {
    const list = out.get(e.record);
    if (list) list.push(e);
    else out.set(e.record, [e]);
  }
  return out;
}

/** Counts of edits in effect by kind (the overview). */
export function countByKind(contents: JournalContents): Record<RecordEditKind, number> {
  const out = Object.fromEntries(RECORD_EDIT_KINDS.map((k) => [k, 0])) as Record<RecordEditKind, number>;
  for (const e of contents.active) out[e.kind]++;
  return out;
}
