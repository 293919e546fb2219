/**
 * Messages of the training chart webview (paper Figure 4: accuracy against step, one line per phase or
 * expert). Imported by the host (src/extension/webviews/training-chart/panel.ts) and the webview script
 * (webview/training-chart.ts).
 */
import type { EvalResult } from '../src/core/training/types';
import { messageType } from './lib/ipc';

export const trainingChartViewType = 'rewardlens.trainingChart';

/** What the webview keeps with `setState`, so that a restored panel knows its run. */
export interface ChartState {
  run: string;
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isChartState(state: unknown): state is ChartState {
  const s = state as ChartState | null;
  return typeof s === 'object' && s !== null && typeof s.run === 'string';
}

/** One evaluation of metrics.jsonl. Phase and expert names are user data: the webview renders them as text only. */
export interface ChartPoint {
  phase: string;
  expert?: string;
  step: number;
  loss: number;
  trainAcc?: number;
  valAcc?: number;
}

export interface ChartData {
  run: string;
  /** Run folder name, the title. */
  name: string;
  method: string;
  state: 'running' | 'finished' | 'stopped';
  points: ChartPoint[];
  /** eval.json: the held-out evaluation, or the latest "Evaluate Run…" result. */
  evaluation?: EvalResult;
  /** Where `evaluation` came from (a test file), when it is not the run's own. */
  evaluationSource?: string;
  /** Show only this phase at first (from a phase node of the runs view). */
  phase?: string;
  /** The latest step of the running process, shown above the chart. */
  progress?: string;
}

// host → webview

/** The run to show (all of it, re-read), or why there is none. */
export const UpdateChart = messageType<{ data?: ChartData; message?: string }>('chart/update', { data: 'object?', message: 'string?' });

// webview → host

export const ChartReady = messageType<Record<string, never>>('chart/ready', {});
/** Read the run folder again. */
export const RefreshChart = messageType<Record<string, never>>('chart/refresh', {});
/** A button: `resume`, `modelCard`, `reveal` (anything else is ignored by the host). */
/** Resume a stopped run from its last checkpoint. */
export const ResumeRun = messageType<Record<string, never>>('chart/resume', {});
export const OpenModelCard = messageType<Record<string, never>>('chart/modelCard', {});
/** The run folder in the OS file manager. */
export const RevealRun = messageType<Record<string, never>>('chart/reveal', {});
