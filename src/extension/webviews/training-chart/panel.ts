import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { progressText } from '../../../core/training/format';
import { RUN_FILES } from '../../../core/training/run-folder';
import type { EvalResult } from '../../../core/training/types';
import type { ChartData, ChartState } from '../../../../webview/training-chart-protocol';
import {
  ChartReady,
  isChartState,
  OpenModelCard,
  RefreshChart,
  ResumeRun,
  RevealRun,
  UpdateChart,
  trainingChartViewType,
} from '../../../../webview/training-chart-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import { readMetrics } from '../../training/run-files';
import { runWithState } from '../../training/runs';
import { PanelSlot, WebviewHost } from '../host';

/**
 * The training chart (paper Figure 4): validation and training accuracy against step, one line per
 * phase or expert, from the run's metrics.jsonl; re-read as the worker reports and as the file changes.
 * One panel, retargeted to the run asked for.
 */
export class TrainingChartPanel extends WebviewHost {
  static readonly slot = new PanelSlot<TrainingChartPanel, ChartState>(trainingChartViewType, isChartState);

  /** The run folder shown. */
  private run: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly poller = setInterval(() => this.poll(), 2000);
  /** Sizes and times of the run's files when last looked at. */
  private stamp: string | undefined;
  private phase: string | undefined;
  /** The latest "Evaluate Run…" result of this run (eval.json holds the held-out one). */
  private extraEvaluation: { run: string; source: string; result: EvalResult } | undefined;

  static createOrShow(
    ctx: Ctx,
    run: string,
    options: { phase?: string; evaluation?: { source: string; result: EvalResult }; preserveFocus?: boolean } = {},
  ): TrainingChartPanel {
    const reuse = (current: TrainingChartPanel): void => current.panel.reveal(undefined, options.preserveFocus);
    const current = TrainingChartPanel.slot.show(
      reuse,
      vscode.l10n.t('Training'),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: options.preserveFocus },
      (panel) => new TrainingChartPanel(ctx, panel, run),
    );
    const target = path.resolve(run);
    if (current.run !== target) {
      current.run = target;
      current.watch();
    }
    current.phase = options.phase;
    if (options.evaluation) current.extraEvaluation = { run: current.run, ...options.evaluation };
    current.updateTitle();
    current.update();
    return current;
  }

  static register(ctx: Ctx): void {
    TrainingChartPanel.slot.register(ctx, (panel, state) => new TrainingChartPanel(ctx, panel, state?.run));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, run: string | undefined) {
    super(ctx, panel, { script: 'training-chart', title: vscode.l10n.t('Training'), ready: ChartReady });
    this.run = run;
    this.updateTitle();
    // Live: the worker's evaluations (a step with a validation accuracy is a new metrics line) and its end.
    ctx.training.onDidEvent(
      (e) => {
        if (e.run === this.run && (e.event.type !== 'progress' || e.event.valAcc !== undefined)) this.updateSoon();
      },
      null,
      this.disposables,
    );
    ctx.training.onDidChange((run) => (run === this.run ? this.updateSoon() : undefined), null, this.disposables);
    this.watch();
    this.on(RefreshChart, () => this.update());
    this.on(ResumeRun, () => this.runCommand(CommandId.ResumeTraining));
    this.on(OpenModelCard, () => this.runCommand(CommandId.OpenModelCard));
    this.on(RevealRun, () => this.runCommand(CommandId.RevealRun));
  }

  protected onReady(): void {
    this.update();
  }

  /** The run's files, for runs trained elsewhere (the CLI) or copied in; inside the workspace or not. */
  private watch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    if (this.run === undefined) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.run), '{metrics.jsonl,state.json,eval.json}'));
    watcher.onDidCreate(() => this.updateSoon());
    watcher.onDidChange(() => this.updateSoon());
    this.watcher = watcher;
  }

  /**
   * File events do not arrive everywhere (network drives, WSL, an exhausted inotify limit): while the
   * panel is visible, a stat of the run's files every two seconds catches what the watcher missed.
   */
  private poll(): void {
    if (this.run === undefined || !this.panel.visible || !this.ready) return;
    if (stampOf(this.run) !== this.stamp) this.updateSoon();
  }

  private updateTitle(): void {
    this.panel.title = this.run ? vscode.l10n.t('Training: {0}', path.basename(this.run)) : vscode.l10n.t('Training');
  }

  private runCommand(command: CommandId): void {
    if (this.run !== undefined) void vscode.commands.executeCommand(command, this.run);
  }

  private updateSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 300);
  }

  /** Reads the run folder and posts all of it (small: one line per evaluation). */
  update(): void {
    if (!this.ready) return;
    const run = this.run;
    if (run === undefined) {
      this.post(UpdateChart({ message: vscode.l10n.t('No run: pick one in the Training Runs view, or run "RewardLens: Train Reward Model".') }));
      return;
    }
    if (!existsSync(path.join(run, RUN_FILES.config))) {
      this.post(UpdateChart({ message: vscode.l10n.t('{0} is not a training run folder (no {1}), or it was deleted.', run, RUN_FILES.config) }));
      return;
    }
    this.stamp = stampOf(run);
    const info = runWithState(this.ctx, run);
    const extra = this.extraEvaluation?.run === run ? this.extraEvaluation : undefined;
    const progress = this.ctx.training.job(run)?.progress;
    const data: ChartData = {
      run,
      name: info.name,
      method: info.method,
      state: info.state,
      points: readMetrics(run).map(({ phase, expert, step, loss, trainAcc, valAcc }) => ({ phase, expert, step, loss, trainAcc, valAcc })),
      evaluation: extra?.result ?? info.evaluation,
      evaluationSource: extra?.source,
      phase: this.phase,
      progress: progress ? progressText(progress) : undefined,
    };
    this.post(UpdateChart({ data }));
  }

  protected override onDispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.watcher?.dispose();
  }
}

/** Sizes and modification times of the files the chart shows: a change means a re-read. */
function stampOf(run: string): string {
  return ['metrics.jsonl', 'state.json', 'eval.json']
    .map((f) => {
      try {
        const st = statSync(path.join(run, f));
        return `${st.size}:${st.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}
