import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { progressText } from '../../core/training/format';
import { RUN_FILES } from '../../core/training/run-folder';
import type { EvalResult } from '../../core/training/types';
import type { ChartData, ChartState } from '../../../webview/training-chart-protocol';
import { ChartAction, ChartReady, RefreshChart, UpdateChart, trainingChartViewType } from '../../../webview/training-chart-protocol';
import type { IpcMessage } from '../../../webview/lib/ipc';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { webviewHtml, webviewOptions } from '../webviews/html';
import { readMetrics } from './run-files';
import { runWithState } from './runs';

function isState(state: unknown): state is ChartState {
  return typeof state === 'object' && state !== null && typeof (state as ChartState).run === 'string';
}

/**
 * The training chart (paper Figure 4): validation and training accuracy against step, one line per
 * phase or expert, from the run's metrics.jsonl; re-read as the worker reports and as the file changes.
 * One panel, retargeted to the run asked for; `createOrShow`/`revive`/`_disposables` as the sample.
 */
export class TrainingChartPanel implements vscode.Disposable {
  static current: TrainingChartPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private disposed = false;
  private timer: NodeJS.Timeout | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly poller = setInterval(() => this.poll(), 2000);
  /** Sizes and times of the run's files when last looked at. */
  private stamp: string | undefined;
  private phase: string | undefined;
  /** The latest "Evaluate Run…" result of this run (eval.json holds the held-out one). */
  private extraEvaluation: { run: string; source: string; result: EvalResult } | undefined;
  /** What was last posted (the integration tests read it through the API). */
  lastData: ChartData | undefined;

  static createOrShow(ctx: Ctx, run: string, options: { phase?: string; evaluation?: { source: string; result: EvalResult }; preserveFocus?: boolean } = {}): TrainingChartPanel {
    let current = TrainingChartPanel.current;
    if (current === undefined) {
      const panel = vscode.window.createWebviewPanel(trainingChartViewType, vscode.l10n.t('Training'), { viewColumn: vscode.ViewColumn.Active, preserveFocus: options.preserveFocus }, {});
      current = TrainingChartPanel.current = new TrainingChartPanel(ctx, panel, run);
    } else current.panel.reveal(undefined, options.preserveFocus);
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
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(trainingChartViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          TrainingChartPanel.current?.dispose();
          TrainingChartPanel.current = new TrainingChartPanel(ctx, panel, isState(state) ? state.run : undefined);
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => TrainingChartPanel.current?.dispose() });
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    private run: string | undefined,
  ) {
    panel.webview.options = webviewOptions(ctx.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, ctx.extensionUri, { script: 'training-chart', title: vscode.l10n.t('Training') });
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'rewardlens.svg');
    this.updateTitle();
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((msg: unknown) => this.receive(msg), null, this.disposables);
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

  private receive(msg: unknown): void {
    try {
      switch (true) {
        case ChartReady.is(msg):
          this.ready = true;
          this.update();
          break;
        case RefreshChart.is(msg):
          this.update();
          break;
        case ChartAction.is(msg):
          this.act(msg.params.action);
          break;
        default:
          this.ctx.log.warn(`training chart: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
      }
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('the training chart failed'), e);
    }
  }

  private act(action: string): void {
    if (this.run === undefined) return;
    const command = { resume: CommandId.ResumeTraining, modelCard: CommandId.OpenModelCard, reveal: CommandId.RevealRun }[action];
    if (command !== undefined) void vscode.commands.executeCommand(command, this.run);
  }

  private updateSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 300);
  }

  private post<P>(msg: IpcMessage<P>): void {
    if (!this.disposed && this.ready) void this.panel.webview.postMessage(msg);
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
    this.lastData = data;
    this.post(UpdateChart({ data }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.watcher?.dispose();
    if (TrainingChartPanel.current === this) TrainingChartPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
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
