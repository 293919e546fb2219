import * as vscode from 'vscode';
import type { DisagreementFilter, DisagreementRow } from '../core/scoring/disagreements';
import type { BonHeader } from '../../webview/best-of-n-protocol';
import { UpdateBestOfN } from '../../webview/best-of-n-protocol';
import type { DisagreementsSummary, DisagreementView, PageQuery } from '../../webview/disagreements-protocol';
import { DisagreementsPage } from '../../webview/disagreements-protocol';
import type { CurvesData, ReportData } from '../../webview/evaluation-report-protocol';
import { UpdateCurves, UpdateReport } from '../../webview/evaluation-report-protocol';
import type { BreakdownData } from '../../webview/reward-breakdown-protocol';
import { UpdateBreakdown } from '../../webview/reward-breakdown-protocol';
import type { ChartData } from '../../webview/training-chart-protocol';
import { UpdateChart } from '../../webview/training-chart-protocol';
import type { Ctx } from './context';
import type { DecoratedLines, EditDecorations } from './curation/decorations';
import type { RewardModelStatusBar } from './scoring/status-bar';
import type { RunsNode, RunsTreeProvider } from './training/runs-tree';
import { BestOfNPanel } from './webviews/best-of-n/panel';
import { DisagreementsPanel } from './webviews/disagreements/panel';
import { EvaluationReportPanel } from './webviews/evaluation-report/panel';
import { RewardBreakdownPanel } from './webviews/reward-breakdown/panel';
import { TrainingChartPanel } from './webviews/training-chart/panel';

/**
 * Hooks for the in-host integration tests (`RewardLensApi.testing`, only in `ExtensionMode.Test`):
 * what the views last posted to their pages, and what the UI does through password boxes and files
 * the tests cannot reach. Production code does not call them.
 */
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
  /** The evaluation report and the disagreement explorer. */
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

export interface AnalysisTesting {
  /** What the evaluation report last posted (table and curves); undefined when it is closed. */
  evaluationReport(): { data?: ReportData; curves?: CurvesData } | undefined;
  /** The disagreement explorer's state: all rows (host side), the summary and the page last posted. */
  disagreements():
    { summary?: DisagreementsSummary; rows: readonly DisagreementRow[]; page?: { query: PageQuery; total: number; rows: DisagreementView[] } } | undefined;
  /** What the webview's filters and pager ask for: the page is posted, and returned. */
  disagreementsPage(query: PageQuery): { query: PageQuery; total: number; rows: DisagreementView[] } | undefined;
  /** A click on the line of row `row` (of all rows, in order). */
  revealDisagreement(row: number): Promise<void>;
  /** The Export button without its save dialog; resolves with the number of lines written. */
  exportDisagreements(file: string, filter?: DisagreementFilter): Promise<number>;
}

export function testingApi(
  ctx: Ctx,
  views: { runsTree: RunsTreeProvider; rewardModelStatus: RewardModelStatusBar; editDecorations: EditDecorations },
): TestingApi {
  return {
    setJudgeApiKey: (key) => ctx.labelling.apiKey.set(key),
    logFolder: vscode.Uri.joinPath(ctx.extCtx.logUri, '..').fsPath,
    trainingRunNodes: async (of) => {
      const nodes = await views.runsTree.getChildren(of);
      return nodes.map((node) => {
        const item = views.runsTree.getTreeItem(node);
        return {
          node,
          label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
          description: typeof item.description === 'string' ? item.description : '',
        };
      });
    },
    trainingChartData: () => TrainingChartPanel.slot.current?.lastPosted(UpdateChart)?.data,
    rewardModel: () => ({
      file: ctx.rewardModel.file,
      sessionLoaded: ctx.rewardModel.sessionLoaded,
      sessionRuns: ctx.rewardModel.sessionRuns,
      cachedScores: ctx.rewardModel.cache.size,
    }),
    rewardModelStatus: () => {
      const { text, tooltip, command } = views.rewardModelStatus.shown;
      return {
        text,
        tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''),
        command: typeof command === 'string' ? command : command?.command,
      };
    },
    analysis: analysisTesting(),
    rewardBreakdown: () => {
      const last = RewardBreakdownPanel.slot.current?.lastPosted(UpdateBreakdown);
      return RewardBreakdownPanel.slot.current && { data: last?.data, message: last?.message };
    },
    bestOfN: () => {
      const p = BestOfNPanel.slot.current;
      return p && { header: p.lastPosted(UpdateBestOfN)?.header, picks: p.picks };
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
    editDecorations: (uri) => views.editDecorations.decorated.get(uri.toString()),
    clearScoreCache: () => ctx.rewardModel.cache.clear(),
  };
}

function analysisTesting(): AnalysisTesting {
  return {
    evaluationReport: () => {
      const p = EvaluationReportPanel.slot.current;
      return p && { data: p.lastPosted(UpdateReport)?.data, curves: p.lastPosted(UpdateCurves)?.data };
    },
    disagreements: () => {
      const p = DisagreementsPanel.slot.current;
      return p && { summary: p.summary, rows: p.rows, page: p.lastPosted(DisagreementsPage) };
    },
    disagreementsPage: (query) => DisagreementsPanel.slot.current?.sendPage(query),
    revealDisagreement: async (row) => {
      const p = DisagreementsPanel.slot.current;
      const r = p?.rows[row];
      if (p === undefined || r === undefined) throw new Error(`no disagreement row ${row}`);
      await p.reveal(r.line);
    },
    exportDisagreements: (file, filter) => {
      const p = DisagreementsPanel.slot.current;
      return p ? p.exportTo(file, filter) : Promise.reject(new Error('the disagreement explorer is not open'));
    },
  };
}
