import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { runArg } from '../training/runs-tree';
import type { DisagreementsResult } from '../webviews/disagreements/panel';
import { DisagreementsPanel } from '../webviews/disagreements/panel';
import { EvaluationReportPanel } from '../webviews/evaluation-report/panel';

/** "Show Evaluation Report" (run?: path | runs-view node): the report, with that run's training curves below the tables. */
export function showEvaluationReport(ctx: Ctx, arg: unknown): void {
  EvaluationReportPanel.createOrShow(ctx, runArg(arg));
}

/**
 * "Show Disagreements with Human Labels" on a dataset: resolves when scoring ends (tests and other
 * callers get the summary). Without a reward model it offers to select one instead of opening an empty view.
 */
export async function showDisagreements(ctx: Ctx, d: IndexedDataset): Promise<DisagreementsResult> {
  if (ctx.rewardModel.file === undefined) {
    const select = vscode.l10n.t('Select Reward Model…');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t('RewardLens: to find disagreements with human labels, select a reward model (an exported .onnx) first.'),
      select,
    );
    if (answer === select) await vscode.commands.executeCommand(CommandId.SelectRewardModel);
    if (ctx.rewardModel.file === undefined) return { outcome: 'not-scored', reason: 'no reward model' };
  }
  return DisagreementsPanel.createOrShow(ctx, d.uri);
}
