/**
 * Messages of the disagreement explorer: human pairs the reward model orders the other way
 * (src/core/scoring/disagreements.ts). The host keeps the whole list and sends one page at a time, so
 * a 100k-record dataset never crosses the webview boundary at once. Imported by the host
 * (src/extension/webviews/disagreements/panel.ts) and the webview script (webview/disagreements.ts).
 */
import type { DisagreementRow } from '../src/core/scoring/disagreements';
import { messageType } from './lib/ipc';

export const disagreementsViewType = 'rewardlens.disagreements';

/** Rows per page. */
export const PAGE_SIZE = 100;

export interface DisagreementsSummary {
  uri: string;
  /** Dataset file name, the title. */
  name: string;
  /** The reward model's file and method. */
  model: string;
  method: string;
  records: number;
  /** Human pairs scored, and how many the model orders the other way. */
  pairs: number;
  disagreements: number;
  labelNoise: number;
  /** The label store read for capability verdicts, and how many consistent labels matched a listed pair. */
  labelStore?: string;
  labelledPairs: number;
  /** Record categories, and the router's (empty for models without a router), for the filters. */
  categories: string[];
  routerCategories: string[];
  /** The dataset was re-indexed after scoring: lines and texts may have moved. */
  stale: boolean;
  seconds: number;
}

/** A listed pair with the first words of its two responses (dataset text: rendered as text only). */
export interface DisagreementView extends DisagreementRow {
  winnerText: string;
  loserText: string;
}

export interface PageQuery {
  offset: number;
  category?: string;
  routerCategory?: string;
  labelNoiseOnly: boolean;
}

// host → webview

/** The scored list's summary (the first page follows), or why there is none. */
export const UpdateDisagreements = messageType<{ data?: DisagreementsSummary; message?: string }>('disagreements/update', {
  data: 'object?',
  message: 'string?',
});
/** Scoring progress; `text` undefined: done. */
export const DisagreementsProgress = messageType<{ text?: string }>('disagreements/progress', { text: 'string?' });
/** Rows `[offset, offset + rows.length)` of the filtered list of `total`. */
export const DisagreementsPage = messageType<{ query: PageQuery; total: number; rows: DisagreementView[] }>('disagreements/page', {
  query: 'object',
  total: 'number',
  rows: 'object',
});

// webview → host

export const DisagreementsReady = messageType<Record<string, never>>('disagreements/ready', {});
export const RequestPage = messageType<PageQuery>('disagreements/requestPage', {
  offset: 'number',
  category: 'string?',
  routerCategory: 'string?',
  labelNoiseOnly: 'boolean',
});
/** Show record `index` at `line` in the editor. */
export const RevealRecord = messageType<{ index: number; line: number }>('disagreements/reveal', { index: 'number', line: 'number' });
/** Write the filtered list as JSONL to a file the user chooses. */
export const ExportDisagreements = messageType<Omit<PageQuery, 'offset'>>('disagreements/export', {
  category: 'string?',
  routerCategory: 'string?',
  labelNoiseOnly: 'boolean',
});
/** Score the dataset again (after a change of model, data or labels). */
export const Rescore = messageType<Record<string, never>>('disagreements/rescore', {});
/** Curation of a row's record: flip the human preference of its pair, or tag it as label noise (docs/curation.md). */
export const EditDisagreement = messageType<{ index: number; a: number; b: number; action: 'flip' | 'tag-noise' }>('disagreements/edit', {
  index: 'number',
  a: 'number',
  b: 'number',
  action: 'string',
});
