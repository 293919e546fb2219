/**
 * Messages of the evaluation report webview (paper Table 3 from every run's eval.json, and Figure 4 of
 * one run). Imported by the host (src/extension/webviews/evaluation-report/panel.ts) and the webview
 * script (webview/evaluation-report.ts).
 */
import type { EvaluationReport } from '../src/core/training/report';
import { messageType } from './lib/ipc';
import type { ChartPoint } from './training-chart-protocol';

export const evaluationReportViewType = 'rewardlens.evaluationReport';

/** What the webview keeps with `setState`, so that a restored panel shows the same run's curves. */
export interface ReportState {
  selected?: string;
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isReportState(state: unknown): state is ReportState {
  const s = state as ReportState | null;
  return typeof s === 'object' && s !== null && (s.selected === undefined || typeof s.selected === 'string');
}

export interface ReportRun {
  dir: string;
  name: string;
  method: string;
}

export interface ReportData {
  report: EvaluationReport;
  /** Every run found (the curves can be shown for runs without an evaluation too). */
  runs: ReportRun[];
  /** The run whose curves are shown. */
  selected?: string;
}

export interface CurvesData {
  run: string;
  name: string;
  method: string;
  /** metrics.jsonl: names are user data, rendered as text only. */
  points: ChartPoint[];
}

// host → webview

/** The table (re-read from every run folder), or why there is none. */
export const UpdateReport = messageType<{ data?: ReportData; message?: string }>('report/update', { data: 'object?', message: 'string?' });
/** The training curves of the selected run. */
export const UpdateCurves = messageType<{ data?: CurvesData; message?: string }>('report/curves', { data: 'object?', message: 'string?' });

// webview → host

export const ReportReady = messageType<{ selected?: string }>('report/ready', { selected: 'string?' });
/** Read the run folders again. */
export const RefreshReport = messageType<Record<string, never>>('report/refresh', {});
/** Show the curves of this run (a run folder the host listed; anything else is ignored). */
export const SelectRun = messageType<{ run: string }>('report/select', { run: 'string' });
/** Open the run's own training chart panel. */
export const OpenTrainingChart = messageType<{ run: string }>('report/openChart', { run: 'string' });
