/**
 * Messages of the best-of-n webview: for every record of a dataset with n ≥ 2 responses, the response
 * each reward model would pick against the human's best, with a summary per model and per n (KL_bon).
 * Imported by the host (src/extension/webviews/best-of-n/panel.ts) and the webview script
 * (webview/best-of-n.ts).
 */
import type { BonFilter, BonSummary } from '../src/core/scoring/best-of-n';
import { messageType } from './lib/ipc';

export const bestOfNViewType = 'rewardlens.bestOfN';

/** Rows per page of the record table. */
export const BON_PAGE_SIZE = 100;

/** What the webview keeps with `setState`, so that a restored panel knows its dataset and models. */
export interface BestOfNState {
  uri: string;
  models: string[];
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isBestOfNState(state: unknown): state is BestOfNState {
  const s = state as BestOfNState | null;
  return typeof s === 'object' && s !== null && typeof s.uri === 'string' && Array.isArray(s.models) && s.models.every((m) => typeof m === 'string');
}

export interface BonModel {
  /** Short name (file name, or folder/model.onnx). */
  name: string;
  file: string;
  method?: string;
}

/** `idle`: a restored panel (scores live in memory only), waiting for Run. */
export type BonRunState = 'idle' | 'scoring' | 'done' | 'cancelled' | 'failed';

export interface BonHeader {
  uri: string;
  dataset: string;
  models: BonModel[];
  state: BonRunState;
  /** Scoring progress in words and as a fraction of all models' work. */
  progress?: { text: string; fraction: number };
  /** Why the run stopped (`cancelled`, `failed`) or what to know about the result. */
  message?: string;
  summary?: BonSummary;
  /** Records with n ≥ 2 responses / all records of the dataset. */
  eligible?: number;
  records?: number;
  filter: BonFilter;
  /** Rows that pass the filter. */
  rows: number;
  /** Changes with every new result or filter: pages of an older one are dropped. */
  generation: number;
}

/** One model's choice on a record. */
export interface BonPick {
  /** 0-based response; undefined when the model has no usable reward. */
  pick?: number;
  /** Human rank of the pick. */
  rank?: number;
  /** The pick is one of the human's best; undefined when the record has no human best. */
  hit?: boolean;
}

export interface BonRow {
  index: number;
  line: number;
  n: number;
  /** The human's best responses (0-based); empty when the record has none. */
  humanBest: number[];
  picks: BonPick[];
  /** The start of the first user turn (dataset text: rendered as text only). */
  snippet: string;
}

// host → webview

/** The run's state (with the summary once done), or why there is none. */
export const UpdateBestOfN = messageType<{ header?: BonHeader; message?: string }>('bon/update', { header: 'object?', message: 'string?' });
/** Rows `start …` of the filtered table, in answer to `RequestBonPage`. */
export const BonPage = messageType<{ generation: number; start: number; rows: BonRow[] }>('bon/page', {
  generation: 'number',
  start: 'number',
  rows: 'object',
});

// webview → host

export const BestOfNReady = messageType<Record<string, never>>('bon/ready', {});
export const RequestBonPage = messageType<{ generation: number; start: number }>('bon/requestPage', { generation: 'number', start: 'number' });
/** `all`, `missed` or `disagree` (anything else is ignored). */
export const SetBonFilter = messageType<{ filter: string }>('bon/filter', { filter: 'string' });
/** `cancel` the scoring, `rerun` with the same models, `models` (choose them again); anything else is ignored. */
/** Stop the scoring in progress (batches already scored stay cached). */
export const CancelBestOfN = messageType<Record<string, never>>('bon/cancel', {});
/** Score the dataset again with the same models. */
export const RerunBestOfN = messageType<Record<string, never>>('bon/rerun', {});
/** Pick other models, then score with them. */
export const ChooseBestOfNModels = messageType<Record<string, never>>('bon/chooseModels', {});
/** Show the record's line in the editor. */
export const RevealBonRecord = messageType<{ index: number }>('bon/reveal', { index: 'number' });
