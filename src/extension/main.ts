import * as vscode from 'vscode';
import type { AnalysisTesting } from './analysis/testing';
import { analysisTesting } from './analysis/testing';
import { DisagreementsPanel } from './analysis/disagreements-panel';
import { EvaluationReportPanel } from './analysis/evaluation-report-panel';
import { CodeLensController } from './codelens/controller';
import { registerCommands } from './commands';
import { Config } from './config';
import { Ctx } from './context';
import { reindexDataset } from './datasets/open';
import { DatasetDiagnostics } from './diagnostics';
import { RecordHoverProvider } from './hovers/provider';
import { EditCodeLensProvider } from './curation/lens';
import { disposeEdits, watchJournals } from './curation/edits';
import type { DecoratedLines } from './curation/decorations';
import { EditDecorations } from './curation/decorations';
import { DATASET_SELECTOR } from './codelens/controller';
import { useBundle } from './presentation/l10n';
import { recordDetail, recordRows } from './presentation/records';
import type { RecordDetail, RecordRow } from '../../webview/records-protocol';
import type { IndexReport } from '../core/dataset/dataset';
import { RecordDocumentProvider } from './records/record-document';
import { BestOfNPanel } from './scoring/best-of-n-panel';
import { RewardBreakdownPanel } from './scoring/breakdown-panel';
import { RewardModelStatusBar } from './scoring/status-bar';
import type { BreakdownData } from '../../webview/reward-breakdown-protocol';
import type { BonHeader } from '../../webview/best-of-n-protocol';
import { DatasetStatusBar } from './status-bar';
import { TrainingChartPanel } from './training/chart-panel';
import type { RunsNode } from './training/runs-tree';
import { RunsTreeProvider } from './training/runs-tree';
import type { ChartData } from '../../webview/training-chart-protocol';
import { LabelReportPanel } from './webviews/labels/panel';
import { OverviewPanel } from './webviews/overview/panel';
import { RecordsPanel } from './webviews/records/panel';

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

/** Hooks for the in-host tests: what the UI does through password boxes and files they cannot reach. */
export interface TestingApi {
  /** What "Set Judge API Key" stores (write-only: nothing reads the key back). */
  setJudgeApiKey(key: string): Promise<void>;
  /** The window's extension-host log folder (the output channel's log file is under it). */
  logFolder: string;
  /** The Training Runs view's top-level nodes, as the view gets them (children when `of` is given). */
  trainingRunNodes(of?: RunsNode): Promise<{ node: RunsNode; label: string; description: string }[]>;
  /** What the training chart panel last sent its webview, or undefined when it is closed. */
  trainingChartData(): ChartData | undefined;
  /** The reward model of `rewardlens.scoring.model`: its file, whether its onnxruntime session exists, cached scores. */
  rewardModel(): { file?: string; sessionLoaded: boolean; sessionRuns: number; cachedScores: number };
  /** The reward model's status bar item as the window gets it: text, tooltip (markdown source) and command id. */
  rewardModelStatus(): { text: string; tooltip: string; command?: string };
  /** The evaluation report and the disagreement explorer (src/extension/analysis/testing.ts). */
  analysis: AnalysisTesting;
  /** What the reward breakdown panel last posted: its data, or the message it shows instead; undefined when it is closed. */
  rewardBreakdown(): { data?: BreakdownData; message?: string } | undefined;
  /** The best-of-n panel's last header and each record's picks (model by model); undefined when it is closed. */
  bestOfN(): { header?: BonHeader; picks: Array<{ index: number; picks: Array<number | undefined> }> } | undefined;
  /** A record's rewards from the reward model the editor uses (CodeLens, hovers), not through the panels. */
  scoreRecord(uri: vscode.Uri, index: number): Promise<number[] | undefined>;
  /** The lines of `uri` the edit decorations mark (0-based): edited records, and those with stale edits. */
  editDecorations(uri: vscode.Uri): DecoratedLines | undefined;
  /** Forgets every cached score, so that a later suite counting cache entries starts from none. */
  clearScoreCache(): void;
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
  ctx.push(watchJournals());
  const editDecorations = ctx.push(new EditDecorations(ctx));
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

  const testing: TestingApi | undefined =
    context.extensionMode === vscode.ExtensionMode.Test
      ? {
          setJudgeApiKey: (key) => ctx.labelling.apiKey.set(key),
          logFolder: vscode.Uri.joinPath(context.logUri, '..').fsPath,
          trainingRunNodes: async (of) => {
            const nodes = await runsTree.getChildren(of);
            return nodes.map((node) => {
              const item = runsTree.getTreeItem(node);
              return { node, label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), description: typeof item.description === 'string' ? item.description : '' };
            });
          },
          trainingChartData: () => TrainingChartPanel.current?.lastData,
          rewardModel: () => ({ file: ctx.rewardModel.file, sessionLoaded: ctx.rewardModel.sessionLoaded, sessionRuns: ctx.rewardModel.sessionRuns, cachedScores: ctx.rewardModel.cache.size }),
          rewardModelStatus: () => {
            // Element access reaches the private item and is still type-checked (a renamed field fails tsc).
            const item = rewardModelStatus['item'];
            const tooltip = item.tooltip;
            const command = item.command;
            return { text: item.text, tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''), command: typeof command === 'string' ? command : command?.command };
          },
          analysis: analysisTesting(),
          rewardBreakdown: () => {
            const p = RewardBreakdownPanel.current;
            return p && { data: p.lastData, message: p.lastMessage };
          },
          bestOfN: () => {
            const p = BestOfNPanel.current;
            return p && { header: p.lastHeader, picks: p.picks };
          },
          scoreRecord: async (uri, index) => {
            const d = ctx.datasets.get(uri);
            const source = new vscode.CancellationTokenSource();
            try {
              return d ? (await ctx.rewardModel.score(d, index, source.token))?.score.logits : undefined;
            } finally {
              source.dispose();
            }
          },
          editDecorations: (uri) => editDecorations.decorated.get(uri.toString()),
          clearScoreCache: () => ctx.rewardModel.cache.clear(),
        }
      : undefined;
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
