/**
 * Messages of the record browser webview (all records of a dataset, paged and virtually scrolled).
 * Imported by the host (src/extension/webviews/records) and the webview script (webview/records.ts).
 */
import type { Problem, Rating, Turn } from '../src/core/dataset/record';
import { messageType } from './lib/ipc';

export const recordsViewType = 'rewardlens.records';

/** Rows the host sends per page request. */
export const PAGE_SIZE = 100;

export interface RecordsState {
  uri: string;
  selected?: number;
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isRecordsState(state: unknown): state is RecordsState {
  const s = state as RecordsState | null;
  return typeof s === 'object' && s !== null && typeof s.uri === 'string' && (s.selected === undefined || (Number.isInteger(s.selected) && s.selected >= 0));
}

/** One row of the list. */
export interface RecordRow {
  index: number;
  line: number;
  /** Category, `undefined` when the record has none or could not be read. */
  category?: string;
  responses: number;
  /** The human preference in words: `#1 ≻ #2`, `unlabelled`, … */
  preference: string;
  /** The start of the first user turn (or the problem when the record is malformed). */
  snippet: string;
  problems: number;
  /** The worst problem of the record. */
  severity?: Problem['severity'];
}

export interface ResponseDetail {
  /** 0-based. */
  index: number;
  text: string;
  model?: string;
  /** Human rank (1 = best), when ranked. */
  rank?: number;
  ratings: Rating[];
}

/** Everything about one record, for the detail pane. */
export interface RecordDetail {
  index: number;
  line: number;
  lines: number[];
  id?: string;
  category?: string;
  context: Turn[];
  responses: ResponseDetail[];
  preference: string;
  /** Pairwise verdicts in words (`#2 ≻ #1 — annotator1`). */
  verdicts: string[];
  problems: Problem[];
  metadata?: Record<string, unknown>;
  /** The entry's text, when it could not be mapped to a record (truncated to a few KB). */
  raw?: string;
}

export interface DatasetHeader {
  uri: string;
  name: string;
  /** Addressable records (malformed included). */
  size: number;
  records: number;
  malformed: number;
  origin: 'document' | 'file';
  /** Changes on every re-index: pages of an older index are dropped. */
  generation: number;
}

// host → webview

/** The dataset to browse (or why there is none); `focus` selects a record. */
export const InitRecords = messageType<{ header?: DatasetHeader; message?: string; focus?: number }>('records/init', {
  header: 'object?',
  message: 'string?',
  focus: 'number?',
});
/** Rows `start …` in answer to `RequestPage`. `generation` ties the page to the header it belongs to. */
export const RecordsPage = messageType<{ generation: number; start: number; rows: RecordRow[] }>('records/page', {
  generation: 'number',
  start: 'number',
  rows: 'object',
});
export const ShowDetail = messageType<{ detail: RecordDetail }>('records/detail', { detail: 'object' });
/** Select and scroll to a record (e.g. a CodeLens was clicked). */
export const FocusRecord = messageType<{ index: number }>('records/focus', { index: 'number' });

// webview → host

export const RecordsReady = messageType<Record<string, never>>('records/ready', {});
export const RequestPage = messageType<{ generation: number; start: number; count: number }>('records/requestPage', {
  generation: 'number',
  start: 'number',
  count: 'number',
});
export const SelectRecord = messageType<{ index: number }>('records/select', { index: 'number' });
/** Open the record as a read-only JSON document. */
export const OpenRecordJson = messageType<{ index: number }>('records/openJson', { index: 'number' });
/** Reveal the record's line in the dataset file. */
export const RevealRecord = messageType<{ index: number }>('records/reveal', { index: 'number' });
/** Curation edits of the record in the detail pane (kept in the dataset's edits journal). */
export const RECORD_EDITS = ['flip', 'tie', 'rerank', 'drop', 'tag', 'note', 'undo'] as const;
export type RecordEditAction = (typeof RECORD_EDITS)[number];
export const EditRecord = messageType<{ index: number; action: RecordEditAction }>('records/edit', { index: 'number', action: 'string' });
