/**
 * Messages of the reward breakdown webview (one record scored by the active reward model: router,
 * rewards, capability points, ensemble members, the conversation). Imported by the host
 * (src/extension/webviews/reward-breakdown/panel.ts) and the webview script (webview/reward-breakdown.ts).
 */
import type { Rating, Turn } from '../src/core/dataset/record';
import { messageType } from './lib/ipc';

export const rewardBreakdownViewType = 'rewardlens.rewardBreakdown';

/** What the webview keeps with `setState`, so that a restored panel knows its record. */
export interface BreakdownState {
  uri: string;
  index: number;
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isBreakdownState(state: unknown): state is BreakdownState {
  const s = state as BreakdownState | null;
  return typeof s === 'object' && s !== null && typeof s.uri === 'string' && Number.isInteger(s.index) && s.index >= 0;
}

/** One response's column of the table. */
export interface BreakdownColumn {
  /** 0-based; the UI shows `R{index + 1}`. */
  index: number;
  /** Human rank (1 = best), when the record ranks or pairs it. */
  humanRank?: number;
  reward: number;
  /** 1 = the model's highest reward; equal rewards share a rank. */
  rewardRank: number;
  /** Human pairs with this response, and how many of them the rewards order the same way (✓ when all). */
  agree: number;
  pairs: number;
  humanBest: boolean;
  modelTop: boolean;
}

/** One table row of scores, one per response (capability points in [0, 1], member rewards unbounded). */
export interface BreakdownRow {
  /** Stable key (the capability point or member name). */
  key: string;
  /** Name in the UI language (model data: rendered as text only). */
  label: string;
  /** The other language's name, for the tooltip. */
  alternative?: string;
  scores: number[];
}

export interface BreakdownResponse {
  text: string;
  model?: string;
  ratings: Rating[];
}

export interface BreakdownData {
  uri: string;
  /** Dataset file name. */
  dataset: string;
  index: number;
  /** 1-based line of the record in its file. */
  line: number;
  id: string;
  /** The record's own category, when it has one. */
  category?: string;
  model: { name: string; file: string; method: string; ensemble?: { members: string[]; aggregation: string } };
  /** dmoerm: the router's top-1 category and every category's probability, most likely first. */
  router?: { chosen: string; categories: Array<{ name: string; probability: number }> };
  columns: BreakdownColumn[];
  capabilities: BreakdownRow[];
  members: BreakdownRow[];
  /** All human pairs of the record and how many the rewards agree with. */
  agreement: { agree: number; pairs: number };
  /** The human preference in words (`#2 ≻ #1 ≻ #3`). */
  preference: string;
  context: Turn[];
  responses: BreakdownResponse[];
  language: 'en' | 'zh';
}

// host → webview

/** The record's breakdown; `message` says why there is none (no model, no record, an error); `pending` while scoring. */
export const UpdateBreakdown = messageType<{ data?: BreakdownData; message?: string; pending?: string }>('breakdown/update', {
  data: 'object?',
  message: 'string?',
  pending: 'string?',
});

// webview → host

export const BreakdownReady = messageType<Record<string, never>>('breakdown/ready', {});
/** A button: `reveal` (the record's line in the editor), `selectModel`, `json` (the record as JSON); anything else is ignored. */
export const RevealBreakdownRecord = messageType<Record<string, never>>('breakdown/reveal', {});
export const OpenBreakdownJson = messageType<Record<string, never>>('breakdown/json', {});
/** "Select Reward Model…": the panel follows the new model. */
export const ChangeBreakdownModel = messageType<Record<string, never>>('breakdown/selectModel', {});
