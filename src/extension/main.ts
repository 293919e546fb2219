import * as vscode from 'vscode';
import type { IndexReport } from '../core/dataset/dataset';
import type { RecordDetail, RecordRow } from '../../webview/records-protocol';
import { CodeLensController, DATASET_SELECTOR } from './codelens/controller';
import { registerCommands } from './commands';
import { Config } from './config';
import { Ctx } from './context';
import { disposeEdits } from './curation/edits';
import { EditCodeLensProvider } from './curation/lens';
import { reindexDataset } from './datasets/open';
import { DatasetDiagnostics } from './diagnostics';
import { RecordHoverProvider } from './hovers/provider';
import { useBundle } from './presentation/l10n';
import { recordDetail, recordRows } from './presentation/records';
import { RecordDocumentProvider } from './records/record-document';
import { RewardModelStatusBar } from './scoring/status-bar';
import { DatasetStatusBar } from './status-bar';
import type { TestingApi } from './testing';
import { testingApi } from './testing';
import { RunsTreeProvider } from './training/runs-tree';
import { BestOfNPanel } from './webviews/best-of-n/panel';
import { DisagreementsPanel } from './webviews/disagreements/panel';
import { EvaluationReportPanel } from './webviews/evaluation-report/panel';
import { LabelReportPanel } from './webviews/labels/panel';
import { OverviewPanel } from './webviews/overview/panel';
import { RecordsPanel } from './webviews/records/panel';
import { RewardBreakdownPanel } from './webviews/reward-breakdown/panel';
import { TrainingChartPanel } from './webviews/training-chart/panel';

export type { TestingApi } from './testing';

/**
 * What `activate` returns (`vscode.extensions.getExtension('rewardlens.rewardlens').exports`): read
 * access to indexed datasets, the same data the views show. Used by the integration tests.
 */
export interface RewardLensApi {
  report(uri: vscode.Uri): IndexReport | undefined;
  /** Record-browser rows `[start, start + count)`. */
  rows(uri: vscode.Uri, start: number, count: number): RecordRow[] | undefined;
  detail(uri: vscode.Uri, index: number): RecordDetail | undefined;
  /** Only while the extension runs its integration tests (`ExtensionMode.Test`). */
  testing?: TestingApi;
}

export function activate(context: vscode.ExtensionContext): RewardLensApi {
  // Before anything formats a CodeLens or hover text (src/extension/presentation/l10n.ts).
  useBundle(vscode.l10n.bundle);
  const ctx = new Ctx(context);
  ctx.log.info(`RewardLens ${String((context.extension.packageJSON as { version?: string }).version)} activated`);

  ctx.push(new DatasetDiagnostics(ctx));
  ctx.push(new CodeLensController(ctx));
  ctx.push(vscode.languages.registerHoverProvider(DATASET_SELECTOR, new RecordHoverProvider(ctx)));
  const editLenses = ctx.push(new EditCodeLensProvider(ctx));
  ctx.push(vscode.languages.registerCodeLensProvider(DATASET_SELECTOR, editLenses));
  ctx.push({ dispose: disposeEdits });
  ctx.push(new DatasetStatusBar(ctx));
  const rewardModelStatus = ctx.push(new RewardModelStatusBar(ctx));
  RecordDocumentProvider.register(ctx);
  OverviewPanel.register(ctx);
  RecordsPanel.register(ctx);
  LabelReportPanel.register(ctx);
  TrainingChartPanel.register(ctx);
  EvaluationReportPanel.register(ctx);
  DisagreementsPanel.register(ctx);
  RewardBreakdownPanel.register(ctx);
  BestOfNPanel.register(ctx);
  const runsTree = RunsTreeProvider.register(ctx);
  registerCommands(ctx);
  trackDocuments(ctx);

  const testing = context.extensionMode === vscode.ExtensionMode.Test ? testingApi(ctx, { runsTree, rewardModelStatus }) : undefined;
  return {
    testing,
    report: (uri) => ctx.datasets.get(uri)?.dataset.report,
    rows: (uri, start, count) => {
      const d = ctx.datasets.get(uri);
      return d ? recordRows(d.dataset, start, count) : undefined;
    },
    detail: (uri, index) => {
      const d = ctx.datasets.get(uri);
      return d && index < d.dataset.size ? recordDetail(d.dataset, index) : undefined;
    },
  };
}

/** Indexes dataset documents as they open and change; forgets them when they close. */
function trackDocuments(ctx: Ctx): void {
  const { datasets } = ctx;
  ctx.push(
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (datasets.isTracked(doc)) void datasets.indexDocument(doc);
    }),
  );
  ctx.push(
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) datasets.schedule(e.document);
    }),
  );
  ctx.push(vscode.workspace.onDidCloseTextDocument((doc) => datasets.documentClosed(doc)));
  ctx.push(
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor !== undefined && datasets.get(editor.document.uri) !== undefined) datasets.activeUri = editor.document.uri;
    }),
  );
  ctx.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.reindexOn.some((key) => e.affectsConfiguration(key))) {
        for (const d of datasets.all()) {
          reindexDataset(ctx, d).catch((err: unknown) => ctx.showError(vscode.l10n.t('cannot re-index {0}', d.name), err));
        }
      }
      if (Config.affects(e, 'autoOpen.maxSizeMB')) {
        for (const doc of vscode.workspace.textDocuments) if (datasets.isTracked(doc) && datasets.get(doc.uri) === undefined) void datasets.indexDocument(doc);
      }
    }),
  );
  for (const doc of vscode.workspace.textDocuments) if (datasets.isTracked(doc)) void datasets.indexDocument(doc);
}

export function deactivate(): void {
  // Everything is disposed through the ExtensionContext's subscriptions (see Ctx).
}
