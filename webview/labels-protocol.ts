/**
 * Messages of the Label Report webview. Imported by the host (src/extension/webviews/labels) and the
 * webview script (webview/labels.ts).
 */
import type { LabelReport } from '../src/core/labelling/report';
import { messageType } from './lib/ipc';

export const labelsViewType = 'rewardlens.labels';

export interface LabelsData {
  uri: string;
  /** Dataset file name shown as the title. */
  name: string;
  /** Path of the label store. */
  store: string;
  /** False: nothing has been labelled yet (the report is empty). */
  storeExists: boolean;
  report: LabelReport;
}

// host → webview

/** The report to show, or why there is none. */
export const UpdateLabels = messageType<{ data?: LabelsData; message?: string }>('labels/update', { data: 'object?', message: 'string?' });
/** The host is reading the store or exporting (`busy`), or done. */
export const LabelsBusy = messageType<{ busy: boolean }>('labels/busy', { busy: 'boolean' });

// webview → host

export const LabelsReady = messageType<Record<string, never>>('labels/ready', {});
/** Read the store again. */
export const RefreshLabels = messageType<Record<string, never>>('labels/refresh', {});
/** Ask for a file and write the kept labels there as DMoERM's points.jsonl. */
export const ExportPoints = messageType<Record<string, never>>('labels/export', {});
/** Start (or resume) a labelling job on the dataset: the label command, with its confirmation. */
export const LabelDataset = messageType<Record<string, never>>('labels/label', {});
