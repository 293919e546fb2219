import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReportRunInput } from '../../core/training/report';
import { buildEvaluationReport, fileTestSet, heldOutTestSet } from '../../core/training/report';
import { RunFolder } from '../../core/training/run-folder';
import type { CurvesData, ReportData, ReportRun, ReportState } from '../../../webview/evaluation-report-protocol';
import { evaluationReportViewType, OpenTrainingChart, RefreshReport, ReportReady, SelectRun, UpdateCurves, UpdateReport } from '../../../webview/evaluation-report-protocol';
import type { IpcMessage } from '../../../webview/lib/ipc';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import { readMetrics } from '../training/run-files';
import { discoverRuns } from '../training/runs';
import { webviewHtml, webviewOptions } from '../webviews/html';

function isState(state: unknown): state is ReportState {
  return typeof state === 'object' && state !== null && ((state as ReportState).selected === undefined || typeof (state as ReportState).selected === 'string');
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * What the report needs of one run folder: its eval.json with the test set its run.json implies, and
 * each test file `rewardlens eval` / "Evaluate Run…" measured it on (test-evals.json).
 */
function readRun(dir: string): { inputs: ReportRunInput[]; run: ReportRun } {
  const name = path.basename(dir);
  try {
    const folder = RunFolder.open(dir);
    const method = text(folder.config.method) ?? 'unknown';
    const tests: ReportRunInput[] = (folder.readTestEvals() ?? []).map((e) => ({ run: name, dir: folder.dir, testSet: fileTestSet(e), evaluation: [e.result] }));
    const heldOut = folder.readEval();
    // A run without a held-out evaluation is "skipped" only when it has no other either.
    const inputs: ReportRunInput[] = heldOut !== undefined || tests.length === 0 ? [{ run: name, dir: folder.dir, testSet: heldOutTestSet(folder.config, folder.dir), evaluation: heldOut }, ...tests] : tests;
    return { inputs, run: { dir: folder.dir, name, method } };
  } catch (e) {
    return { inputs: [{ run: name, dir, testSet: heldOutTestSet({}, dir), error: errorMessage(e) }], run: { dir, name, method: 'unknown' } };
  }
}

/**
 * The evaluation report: the paper's Table 3 over every run the Training Runs view knows (the
 * workspace's `.rewardlens/runs`, the runs-folder setting, runs of this window), one table per test
 * set, and below it the training curves (Figure 4) of one run. Re-read when run files change.
 * One panel; `createOrShow`/`revive`/`_disposables` as the webview sample.
 */
export class EvaluationReportPanel implements vscode.Disposable {
  static current: EvaluationReportPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private disposed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Run folders listed in the last update: the only ones the webview may select. */
  private known = new Set<string>();
  /** What was last posted (the integration tests read it through the API). */
  lastData: ReportData | undefined;
  lastCurves: CurvesData | undefined;

  static createOrShow(ctx: Ctx, run?: string): EvaluationReportPanel {
    let current = EvaluationReportPanel.current;
    if (current === undefined) {
      const panel = vscode.window.createWebviewPanel(evaluationReportViewType, vscode.l10n.t('Evaluation Report'), vscode.ViewColumn.Active, {});
      current = EvaluationReportPanel.current = new EvaluationReportPanel(ctx, panel, run === undefined ? undefined : path.resolve(run));
    } else {
      current.panel.reveal();
      if (run !== undefined) current.selected = path.resolve(run);
      void current.update();
    }
    return current;
  }

  static register(ctx: Ctx): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(evaluationReportViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          EvaluationReportPanel.current?.dispose();
          EvaluationReportPanel.current = new EvaluationReportPanel(ctx, panel, isState(state) ? state.selected : undefined);
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => EvaluationReportPanel.current?.dispose() });
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    private selected: string | undefined,
  ) {
    panel.webview.options = webviewOptions(ctx.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, ctx.extensionUri, { script: 'evaluation-report', title: vscode.l10n.t('Evaluation Report') });
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'rewardlens.svg');
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((msg: unknown) => this.receive(msg), null, this.disposables);
    const watcher = vscode.workspace.createFileSystemWatcher('**/.rewardlens/runs/**/{run.json,eval.json,test-evals.json,metrics.jsonl}');
    this.disposables.push(watcher);
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) event(() => this.updateSoon(), null, this.disposables);
    // A run of this window finishing (eval.json written) or starting.
    ctx.training.onDidChange(() => this.updateSoon(), null, this.disposables);
  }

  private receive(msg: unknown): void {
    try {
      switch (true) {
        case ReportReady.is(msg):
          this.ready = true;
          this.selected ??= msg.params.selected;
          void this.update();
          break;
        case RefreshReport.is(msg):
          void this.update();
          break;
        case SelectRun.is(msg):
          if (this.known.has(msg.params.run)) {
            this.selected = msg.params.run;
            this.postCurves();
          }
          break;
        case OpenTrainingChart.is(msg):
          if (this.known.has(msg.params.run)) void vscode.commands.executeCommand(CommandId.ShowTrainingChart, msg.params.run);
          break;
        default:
          this.ctx.log.warn(`evaluation report: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
      }
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('the evaluation report failed'), e);
    }
  }

  private updateSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, 300);
  }

  private post<P>(msg: IpcMessage<P>): void {
    if (!this.disposed && this.ready) void this.panel.webview.postMessage(msg);
  }

  /** Reads every run folder (run.json and eval.json: small) and posts the table, then the curves. */
  async update(): Promise<void> {
    if (!this.ready) return;
    let dirs: string[];
    try {
      dirs = await discoverRuns(this.ctx);
    } catch (e) {
      this.post(UpdateReport({ message: vscode.l10n.t('Cannot list the training runs: {0}', errorMessage(e)) }));
      return;
    }
    if (this.disposed) return;
    if (dirs.length === 0) {
      this.lastData = undefined;
      this.known = new Set();
      this.post(UpdateReport({ message: vscode.l10n.t('No training runs yet: run "RewardLens: Train Reward Model…", or set rewardlens.training.runsFolder to a folder of runs.') }));
      return;
    }
    const read = dirs.map(readRun);
    const report = buildEvaluationReport(read.flatMap((r) => r.inputs));
    const runs = read.map((r) => r.run);
    this.known = new Set(runs.map((r) => r.dir));
    if (this.selected === undefined || !this.known.has(this.selected)) this.selected = report.groups[0]?.rows[0]?.dir ?? runs[runs.length - 1]?.dir;
    const data: ReportData = { report, runs, selected: this.selected };
    this.lastData = data;
    this.post(UpdateReport({ data }));
    this.postCurves();
  }

  private postCurves(): void {
    const run = this.selected;
    if (run === undefined) return;
    const info = this.lastData?.runs.find((r) => r.dir === run);
    const points = readMetrics(run).map(({ phase, expert, step, loss, trainAcc, valAcc }) => ({ phase, expert, step, loss, trainAcc, valAcc }));
    const data: CurvesData = { run, name: info?.name ?? path.basename(run), method: info?.method ?? 'unknown', points };
    this.lastCurves = data;
    this.post(UpdateCurves({ data }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    if (EvaluationReportPanel.current === this) EvaluationReportPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
