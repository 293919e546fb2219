import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../../core/export/manifest';
import type { Ctx } from '../context';
import { RewardModel } from './reward-model';

/** Exported models this many at most are offered from the workspace's run folders. */
const MAX_FOUND = 50;

type PickItem = vscode.QuickPickItem & { file?: string; action?: 'browse' | 'clear' };

/**
 * "Select Reward Model…": an exported model of the workspace's runs, any .onnx file, or none. The choice
 * is stored in `rewardlens.scoring.model` (the workspace's settings when a folder is open). Returns the
 * path set, null when cleared, undefined when nothing changed.
 */
export async function selectRewardModel(ctx: Ctx, arg?: unknown): Promise<string | null | undefined> {
  if (arg === null) return setModel(ctx, null);
  const given = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' && arg.trim() !== '' ? arg : undefined;
  if (given !== undefined) return setModel(ctx, given);
  const current = ctx.rewardModel.file;
  const items: PickItem[] = (await findExportedModels()).map((file) => ({
    label: RewardModel.displayName(file),
    description: vscode.workspace.asRelativePath(file),
    file,
    picked: file === current,
  }));
  if (items.length > 0) items.unshift({ label: vscode.l10n.t('Exported models'), kind: vscode.QuickPickItemKind.Separator });
  const demo = demoModelFile(ctx);
  if (demo !== undefined) {
    items.push(
      { label: vscode.l10n.t('Bundled with RewardLens'), kind: vscode.QuickPickItemKind.Separator },
      {
        label: `$(beaker) ${vscode.l10n.t('Demo model')}`,
        description: vscode.l10n.t('three categories, trained from scratch on public data: a demonstration, not a reward model to optimise against'),
        file: demo,
        picked: demo === current,
      },
    );
  }
  items.push({
    label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`,
    description: vscode.l10n.t('an .onnx file exported with "rewardlens export"'),
    action: 'browse',
  });
  if (current !== undefined) items.push({ label: `$(close) ${vscode.l10n.t('No reward model')}`, description: vscode.l10n.t('hide scores'), action: 'clear' });
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Reward model for CodeLens and hovers'),
    placeHolder: current
      ? vscode.l10n.t('now: {0}', RewardModel.displayName(current))
      : vscode.l10n.t('no model selected; export one with "rewardlens export RUN --out MODEL.onnx"'),
  });
  if (picked === undefined) return undefined;
  if (picked.action === 'clear') return setModel(ctx, null);
  if (picked.file !== undefined) return setModel(ctx, picked.file);
  const chosen = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Select an exported reward model'),
    canSelectMany: false,
    defaultUri: current ? vscode.Uri.file(path.dirname(current)) : vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { [vscode.l10n.t('ONNX models')]: ['onnx'] },
  });
  return chosen?.[0] ? setModel(ctx, chosen[0].fsPath) : undefined;
}

/** The demo model shipped in the extension (models/demo/MODEL_CARD.md), when this build has it. */
export function demoModelFile(ctx: Ctx): string | undefined {
  const file = vscode.Uri.joinPath(ctx.extensionUri, 'models', 'demo', 'model.onnx').fsPath;
  return existsSync(file) ? file : undefined;
}

/** Exported models of the workspace's run folders (sorted paths): the candidates every model picker offers. */
export async function findExportedModels(): Promise<string[]> {
  const found = await vscode.workspace.findFiles('**/.rewardlens/runs/**/*.onnx', '**/node_modules/**', MAX_FOUND);
  return found.map((u) => u.fsPath).sort();
}

async function setModel(ctx: Ctx, file: string | null): Promise<string | null | undefined> {
  let value: string | undefined;
  if (file !== null) {
    try {
      // Fails early, with the file named, on a model exported without its manifest or by another tool.
      readManifest(file);
    } catch (e) {
      ctx.showError(vscode.l10n.t('cannot use {0} as a reward model', path.basename(file)), e);
      return undefined;
    }
    value = storedPath(file);
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  const target = folder ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  try {
    await vscode.workspace.getConfiguration('rewardlens').update('scoring.model', value, target);
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot store the reward model setting'), e);
    return undefined;
  }
  // An unchanged setting fires no change event, yet the file behind it may have been exported again.
  ctx.rewardModel.reload();
  ctx.log.info(value === undefined ? 'reward model cleared' : `reward model set to ${value}`);
  return file;
}

/** Relative to the first workspace folder when inside it, so the setting travels with the workspace. */
function storedPath(file: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder?.scheme !== 'file') return file;
  const rel = path.relative(folder.fsPath, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}
