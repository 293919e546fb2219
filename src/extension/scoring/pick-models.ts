import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { RewardModel } from './reward-model';
import { findExportedModels } from './select-model';

type Item = vscode.QuickPickItem & { file?: string; browse?: true };

/**
 * A multi-select of exported models to compare: the active one and the workspace's exported models
 * (as "Select Reward Model…" finds them), plus any .onnx files browsed to. The active model and
 * `preselected` start ticked. Undefined when the user cancels or ticks nothing.
 */
export async function pickModels(ctx: Ctx, preselected: readonly string[] = []): Promise<string[] | undefined> {
  const active = ctx.rewardModel.file;
  const ticked = new Set(preselected.length > 0 ? preselected : active !== undefined ? [active] : []);
  const files = [...new Set([...(active !== undefined ? [active] : []), ...preselected, ...(await findExportedModels())])];
  const items: Item[] = files.map((file) => ({
    label: RewardModel.displayName(file),
    description: file === active ? `${vscode.workspace.asRelativePath(file)} · ${vscode.l10n.t('active')}` : vscode.workspace.asRelativePath(file),
    file,
    picked: ticked.has(file),
  }));
  items.push({
    label: `$(folder-opened) ${vscode.l10n.t('Other .onnx files…')}`,
    description: vscode.l10n.t('browse for models exported with "rewardlens export"'),
    browse: true,
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Best-of-n: reward models to compare'),
    placeHolder:
      files.length > 0 ? vscode.l10n.t('tick the models whose picks to compare') : vscode.l10n.t('no exported models found in the workspace: browse for one'),
    canPickMany: true,
  });
  if (picked === undefined) return undefined;
  const chosen = picked.flatMap((p) => (p.file !== undefined ? [p.file] : []));
  if (picked.some((p) => p.browse)) {
    const browsed = await vscode.window.showOpenDialog({
      title: vscode.l10n.t('Reward models to compare'),
      canSelectMany: true,
      defaultUri: active ? vscode.Uri.file(path.dirname(active)) : vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { [vscode.l10n.t('ONNX models')]: ['onnx'] },
    });
    for (const u of browsed ?? []) if (!chosen.includes(u.fsPath)) chosen.push(u.fsPath);
  }
  if (chosen.length === 0) {
    ctx.log.info('best-of-n: no model chosen');
    return undefined;
  }
  return chosen;
}
