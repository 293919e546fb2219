import * as path from 'node:path';
import * as vscode from 'vscode';
import { pct } from '../../core/training/format';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { readMetrics, seriesName, summarizeSeries } from './run-files';
import type { SeriesSummary } from './run-files';
import type { KnownRun } from './runs';
import { discoverRuns, runDescription, runWithState } from './runs';

export const RUNS_VIEW_ID = 'rewardlens.trainingRuns';

/** A run, or one phase/expert of a run. */
export type RunsNode = { kind: 'run'; run: KnownRun } | { kind: 'series'; run: string; series: SeriesSummary };

/**
 * The "Training Runs" view: run folders under `.rewardlens/runs/` of the workspace, the runs-folder
 * setting and runs started in this window; each with its method, state and evaluation accuracy, and
 * its phases/experts with their best validation accuracy. Refreshed on worker events and file changes.
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;

  static register(ctx: Ctx): RunsTreeProvider {
    const provider = ctx.push(new RunsTreeProvider(ctx));
    ctx.push(vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true }));
    return provider;
  }

  private constructor(private readonly ctx: Ctx) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/.rewardlens/runs/**/{run.json,state.json,metrics.jsonl,eval.json}');
    this.disposables.push(watcher);
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) event(() => this.refreshSoon(), null, this.disposables);
    ctx.training.onDidChange(() => this.refreshSoon(), null, this.disposables);
    // Steps come many a second: the view follows them at most every second or so.
    ctx.training.onDidEvent((e) => (e.event.type !== 'progress' || e.event.valAcc !== undefined ? this.refreshSoon(1000) : undefined), null, this.disposables);
    vscode.workspace.onDidChangeConfiguration(
      (e) => (e.affectsConfiguration('rewardlens.training.runsFolder') ? this.refreshSoon() : undefined),
      null,
      this.disposables,
    );
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire(undefined);
  }

  private refreshSoon(ms = 250): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.refresh(), ms);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (node === undefined) {
      const runs = (await discoverRuns(this.ctx)).map((d) => runWithState(this.ctx, d));
      return runs.reverse().map((run) => ({ kind: 'run', run }));
    }
    if (node.kind === 'series') return [];
    return summarizeSeries(readMetrics(node.run.dir)).map((series) => ({ kind: 'series', run: node.run.dir, series }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'series') {
      const s = node.series;
      const item = new vscode.TreeItem(seriesName(s), vscode.TreeItemCollapsibleState.None);
      item.description =
        s.bestValAcc === undefined
          ? vscode.l10n.t('{0} evaluations', s.points)
          : vscode.l10n.t('best val {0} at step {1}', pct(s.bestValAcc), s.bestValStep ?? '');
      // The view truncates long phase · expert names: the tooltip has them whole.
      item.tooltip = `${seriesName(s)}\n${item.description}`;
      item.iconPath = new vscode.ThemeIcon('graph-line');
      item.contextValue = 'rewardlensRunSeries';
      item.command = { title: vscode.l10n.t('Show Chart'), command: CommandId.ShowTrainingChart, arguments: [node.run, s.phase] };
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = r.dir;
    item.resourceUri = vscode.Uri.file(r.dir);
    const job = this.ctx.training.job(r.dir);
    const step = job?.progress
      ? ` · ${job.progress.phase}${job.progress.expert ? ` ${job.progress.expert}` : ''} ${job.progress.step}/${job.progress.totalSteps}`
      : '';
    const where = job?.where ? ` · ${job.where}` : '';
    item.description = r.error !== undefined ? vscode.l10n.t('unreadable') : runDescription(r) + step + where;
    const md = new vscode.MarkdownString();
    // Name and description whole: the view truncates both on a narrow sidebar.
    md.appendText(`${r.name}\n${r.dir}\n`);
    if (r.dataset) md.appendText(`${vscode.l10n.t('dataset: {0}', r.dataset)}\n`);
    md.appendText(r.error ?? runDescription(r) + step);
    if (job?.where) md.appendText(`\n${vscode.l10n.t('training on {0}', job.where)}`);
    item.tooltip = md;
    item.iconPath = new vscode.ThemeIcon(
      r.error !== undefined ? 'warning' : r.state === 'running' ? 'sync~spin' : r.state === 'finished' ? 'pass' : 'debug-pause',
    );
    // view/item/context menus key on the state: Resume only for stopped runs, Stop only for running ones.
    item.contextValue = `rewardlensRun.${r.state}`;
    item.command = { title: vscode.l10n.t('Show Chart'), command: CommandId.ShowTrainingChart, arguments: [r.dir] };
    return item;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The run folder a command acts on: a tree node, a path, or a Uri. */
export function runArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg !== '') return arg.startsWith('file:') ? vscode.Uri.parse(arg).fsPath : path.resolve(arg);
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'object' && arg !== null) {
    const node = arg as Partial<RunsNode>;
    if (node.kind === 'run' && node.run) return node.run.dir;
    if (node.kind === 'series' && typeof node.run === 'string') return node.run;
  }
  return undefined;
}
