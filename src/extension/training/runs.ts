import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { pct } from '../../core/training/format';
import { listRuns } from '../../core/training/run-folder';
import type { Config } from '../config';
import type { Ctx } from '../context';
import type { RunInfo, RunState } from './run-files';
import { readRunInfo, runFolderName } from './run-files';

/** Where runs are: found in the workspace, in the runs-folder setting, or started in this window. */

/** `.rewardlens/runs/<run>/run.json` anywhere in the workspace (the default place of new runs, beside their dataset). */
export const RUN_GLOB = '**/.rewardlens/runs/*/run.json';

function workspaceFolderOf(file: string): string | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** The runs-folder setting as an absolute path (relative: to the workspace folder of `near`, else the first). */
export function configuredRunsFolder(config: Config, near?: string): string | undefined {
  const setting = config.trainingRunsFolder;
  if (setting === undefined) return undefined;
  if (path.isAbsolute(setting)) return setting;
  const base = (near ? workspaceFolderOf(near) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath) ?? (near ? path.dirname(near) : undefined);
  return base === undefined ? undefined : path.resolve(base, setting);
}

/** The default folder of a new run: `<runsFolder or dataset dir/.rewardlens/runs>/<dataset>-<method>-<time>`. */
export function defaultRunFolder(config: Config, datasetFile: string, method: string, at = new Date()): string {
  const root = configuredRunsFolder(config, datasetFile) ?? path.join(path.dirname(datasetFile), '.rewardlens', 'runs');
  return path.join(root, runFolderName(datasetFile, method, at));
}

/** Every run folder known now, sorted by name (newest last, as names end in their start time). */
export async function discoverRuns(ctx: Ctx): Promise<string[]> {
  const dirs = new Set<string>();
  if (vscode.workspace.workspaceFolders?.length) {
    const found = await vscode.workspace.findFiles(RUN_GLOB, '**/node_modules/**', 1000);
    for (const uri of found) if (uri.scheme === 'file') dirs.add(path.dirname(uri.fsPath));
  }
  const configured = configuredRunsFolder(ctx.config);
  if (configured !== undefined) for (const r of listRuns(configured)) dirs.add(r.dir);
  for (const run of ctx.training.sessionRuns) if (existsSync(path.join(run, 'run.json')) || ctx.training.isRunning(run)) dirs.add(run);
  return [...dirs].sort((a, b) => path.basename(a).localeCompare(path.basename(b)) || a.localeCompare(b));
}

export interface KnownRun extends RunInfo {
  state: RunState;
}

export function runWithState(ctx: Ctx, dir: string): KnownRun {
  const info = readRunInfo(dir);
  const job = ctx.training.job(dir);
  return { ...info, state: job?.kind === 'train' ? 'running' : info.finished ? 'finished' : 'stopped' };
}

/** `single · finished · 71.2%` */
export function runDescription(r: KnownRun): string {
  const acc = r.evaluation ? ` · ${pct(r.evaluation.overall)}` : '';
  const state = r.state === 'stopped' ? vscode.l10n.t('stopped (resumable)') : r.state === 'running' ? vscode.l10n.t('running') : vscode.l10n.t('finished');
  return `${r.method} · ${state}${acc}`;
}

/** A quick pick of runs, or undefined when dismissed or there is none (the user is told). `title` and `none` are translated by the caller. */
export async function pickRun(ctx: Ctx, title: string, filter: (r: KnownRun) => boolean, none: string): Promise<string | undefined> {
  const runs = (await discoverRuns(ctx)).map((d) => runWithState(ctx, d)).filter((r) => r.error === undefined && filter(r));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: {0}', none));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.reverse().map((r) => ({ label: r.name, description: runDescription(r), detail: r.dir, dir: r.dir })),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.dir;
}
