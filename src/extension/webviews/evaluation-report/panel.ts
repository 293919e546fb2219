import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReportRunInput } from '../../../core/training/report';
import { buildEvaluationReport, fileTestSet, heldOutTestSet } from '../../../core/training/report';
import { RunFolder } from '../../../core/training/run-folder';
import type { ReportRun, ReportState } from '../../../../webview/evaluation-report-protocol';
import {
  evaluationReportViewType,
  isReportState,
  OpenTrainingChart,
  RefreshReport,
  ReportReady,
  SelectRun,
  UpdateCurves,
  UpdateReport,
} from '../../../../webview/evaluation-report-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import { errorMessage } from '../../../core/error-message';
import { readMetrics } from '../../training/run-files';
import { discoverRuns } from '../../training/runs';
import { PanelSlot, WebviewHost } from '../host';

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
    const tests: ReportRunInput[] = (folder.readTestEvals() ?? []).map((e) => ({
      run: name,
      dir: folder.dir,
      testSet: fileTestSet(e),
      evaluation: [e.result],
    }));
    const heldOut = folder.readEval();
    // A run without a held-out evaluation is "skipped" only when it has no other either.
    const inputs: ReportRunInput[] =
      heldOut !== undefined || tests.length === 0
        ? [{ run: name, dir: folder.dir, testSet: heldOutTestSet(folder.config, folder.dir), evaluation: heldOut }, ...tests]
        : tests;
    return { inputs, run: { dir: folder.dir, name, method } };
  } catch (e) {
    return { inputs: [{ run: name, dir, testSet: heldOutTestSet({}, dir), error: errorMessage(e) }], run: { dir, name, method: 'unknown' } };
  }
}

/**
 * The evaluation report: the paper's Table 3 over every run the Training Runs view knows (the
 * workspace's `.rewardlens/runs`, the runs-folder setting, runs of this window), one table per test
 * set, and below it the training curves (Figure 4) of one run. Re-read when run files change.
 */
export class EvaluationReportPanel extends WebviewHost<{ selected?: string }> {
  static readonly slot = new PanelSlot<EvaluationReportPanel, ReportState>(evaluationReportViewType, isReportState);

  private timer: NodeJS.Timeout | undefined;
  /** The run whose curves are shown. */
  private selected: string | undefined;
  /** Run folders listed in the last update: the only ones the webview may select. */
  private known = new Set<string>();
  /** The runs of the last table, for the curves' titles. */
  private runs: ReportRun[] = [];

  static createOrShow(ctx: Ctx, run?: string): EvaluationReportPanel {
    const selected = run === undefined ? undefined : path.resolve(run);
    const reuse = (current: EvaluationReportPanel): void => {
      current.panel.reveal();
      if (selected !== undefined) current.selected = selected;
      void current.update();
    };
    return EvaluationReportPanel.slot.show(
      reuse,
      vscode.l10n.t('Evaluation Report'),
      vscode.ViewColumn.Active,
      (panel) => new EvaluationReportPanel(ctx, panel, selected),
    );
  }

  static register(ctx: Ctx): void {
    EvaluationReportPanel.slot.register(ctx, (panel, state) => new EvaluationReportPanel(ctx, panel, state?.selected));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, selected: string | undefined) {
    super(ctx, panel, { script: 'evaluation-report', title: vscode.l10n.t('Evaluation Report'), ready: ReportReady });
    this.selected = selected;
    const watcher = vscode.workspace.createFileSystemWatcher('**/.rewardlens/runs/**/{run.json,eval.json,test-evals.json,metrics.jsonl}');
    this.disposables.push(watcher);
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) event(() => this.updateSoon(), null, this.disposables);
    // A run of this window finishing (eval.json written) or starting.
    ctx.training.onDidChange(() => this.updateSoon(), null, this.disposables);
    this.on(RefreshReport, () => void this.update());
    this.on(SelectRun, ({ run }) => {
      if (!this.known.has(run)) return;
      this.selected = run;
      this.postCurves();
    });
    this.on(OpenTrainingChart, ({ run }) => {
      if (this.known.has(run)) void vscode.commands.executeCommand(CommandId.ShowTrainingChart, run);
    });
  }

  protected onReady(params: { selected?: string }): void {
    this.selected ??= params.selected;
    void this.update();
  }

  private updateSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, 300);
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
      this.runs = [];
      this.known = new Set();
      this.post(
        UpdateReport({
          message: vscode.l10n.t('No training runs yet: run "RewardLens: Train Reward Model…", or set rewardlens.training.runsFolder to a folder of runs.'),
        }),
      );
      return;
    }
    const read = dirs.map(readRun);
    const report = buildEvaluationReport(read.flatMap((r) => r.inputs));
    const runs = read.map((r) => r.run);
    this.known = new Set(runs.map((r) => r.dir));
    if (this.selected === undefined || !this.known.has(this.selected)) this.selected = report.groups[0]?.rows[0]?.dir ?? runs[runs.length - 1]?.dir;
    this.runs = runs;
    this.post(UpdateReport({ data: { report, runs, selected: this.selected } }));
    this.postCurves();
  }

  private postCurves(): void {
    const run = this.selected;
    if (run === undefined) return;
    const info = this.runs.find((r) => r.dir === run);
    const points = readMetrics(run).map(({ phase, expert, step, loss, trainAcc, valAcc }) => ({ phase, expert, step, loss, trainAcc, valAcc }));
    this.post(UpdateCurves({ data: { run, name: info?.name ?? path.basename(run), method: info?.method ?? 'unknown', points } }));
  }

  protected override onDispose(): void {
    clearTimeout(this.timer);
  }
}
