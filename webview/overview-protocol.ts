/**
 * Messages of the Dataset Overview webview. Imported by the host (src/extension/webviews/overview)
 * and the webview script (webview/overview.ts).
 */
import type { IndexReport } from '../src/core/dataset/dataset';
import { messageType } from './lib/ipc';

export const overviewViewType = 'rewardlens.overview';

export interface OverviewData {
  uri: string;
  /** File name shown as the title. */
  name: string;
  /** `document`: indexed from the editor's text; `file`: indexed from disk (large files). */
  origin: 'document' | 'file';
  report: IndexReport;
  /** Milliseconds the index took. */
  indexMs: number;
  /** Edits in effect from the dataset's edits journal, by kind (flip, tie, rerank, drop, tag, note); absent without a journal. */
  edits?: Record<string, number>;
}

// host → webview

/** The dataset to show, or why there is none. */
export const UpdateOverview = messageType<{ data?: OverviewData; message?: string }>('overview/update', { data: 'object?', message: 'string?' });
/** Indexing started (fraction unknown: undefined) or progressed, or finished (`busy: false`). */
export const IndexingState = messageType<{ busy: boolean; fraction?: number }>('overview/indexing', { busy: 'boolean', fraction: 'number?' });

// webview → host

export const OverviewReady = messageType<Record<string, never>>('overview/ready', {});
/** Reveal a 1-based line of the dataset in an editor. */
export const RevealLine = messageType<{ line: number }>('overview/revealLine', { line: 'number' });
/** Open the record browser, at the record on `line` when given. */
export const BrowseRecords = messageType<{ line?: number }>('overview/browse', { line: 'number?' });
export const ReindexDataset = messageType<Record<string, never>>('overview/reindex', {});
