import * as vscode from 'vscode';
import type { FromRatingsSummary } from '../../core/labelling/from-ratings';
import { labelsFromRatings } from '../../core/labelling/from-ratings';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import type { IndexedDataset } from '../datasets/registry';
import { isJobConfig, loadJobConfig } from './job-config';
import { datasetPath, storeFileOf } from './paths';
import { labellingBlockedReason } from './trust';

/**
 * "RewardLens: Labels from Ratings…": capability labels from ratings the dataset already has (one
 * rating source, e.g. llmeval2's GPT-4 stars), with the CLI's `labels-from-ratings` engine. No judge
 * call; running it again writes nothing new. Ends on the label report.
 */

export type RatingsCommandResult = { outcome: 'not-started'; reason: string } | ({ outcome: 'done' } & FromRatingsSummary);

export function ratingsSourceArg(arg: unknown): string | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const source = (arg as { source?: unknown }).source;
  return typeof source === 'string' && source !== '' ? source : undefined;
}

function notStarted(ctx: Ctx, reason: string, error = true): RatingsCommandResult {
  ctx.log.info(`labels from ratings not made: ${reason}`);
  const message = vscode.l10n.t('RewardLens: {0}', reason);
  void (error ? vscode.window.showErrorMessage(message) : vscode.window.showInformationMessage(message));
  return { outcome: 'not-started', reason };
}

export async function labelsFromRatingsCommand(ctx: Ctx, d: IndexedDataset, sourceArg: string | undefined): Promise<RatingsCommandResult> {
  // It writes to the store with this workspace's settings (points config, store folder).
  const blocked = labellingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) return notStarted(ctx, blocked);
  const file = datasetPath(d);
  if (file === undefined) return notStarted(ctx, vscode.l10n.t('save {0} to a file first: its labels are stored beside it', d.name));
  const sources = Object.entries(d.dataset.report.ratingSources).sort((a, b) => b[1] - a[1]);
  if (sources.length === 0) return notStarted(ctx, vscode.l10n.t('{0} has no ratings to derive labels from (no rating source in the data)', d.name), false);
  let source = sourceArg;
  if (source === undefined) {
    const picked = await vscode.window.showQuickPick(
      sources.map(([name, n]) => ({ label: name, description: vscode.l10n.t('{0} ratings', n.toLocaleString('en-US')) })),
      {
        title: vscode.l10n.t('RewardLens: labels from the ratings of {0}', d.name),
        placeHolder: vscode.l10n.t('Rating source (the higher rating of each pair and aspect wins)'),
      },
    );
    if (picked === undefined) return { outcome: 'not-started', reason: 'no source picked' };
    source = picked.label;
  } else if (!sources.some(([name]) => name === source)) {
    return notStarted(ctx, vscode.l10n.t('{0} has no ratings by "{1}"; its sources: {2}', d.name, source, sources.map(([name]) => name).join(', ')));
  }
  const config = loadJobConfig(ctx, file);
  if (!isJobConfig(config)) return notStarted(ctx, `${config.file}:${config.message}`);
  const store = storeFileOf(ctx.config, file);
  if (ctx.labelling.isRunning(store)) return notStarted(ctx, vscode.l10n.t('a labelling job is running on {0}: try again when it has finished', d.name));
  const from = source;
  let summary: FromRatingsSummary;
  try {
    summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('RewardLens: labels from the {0} ratings of {1}', from, d.name) },
      () => Promise.resolve(labelsFromRatings({ dataset: d.dataset, store, source: from, points: config.points })),
    );
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot derive labels from the {0} ratings of {1}', from, d.name), e);
    return { outcome: 'not-started', reason: errorMessage(e) };
  }
  ctx.log.info(
    `labels from ${from} ratings of ${d.name}: ${summary.written} written, ${summary.alreadyStored} stored already, ${summary.decided} decided, ${summary.ties} ties, ${summary.recordsWithRatings} of ${summary.records} records rated; store ${store}`,
  );
  ctx.labelling.jobFinished(d.key);
  void vscode.commands.executeCommand(CommandId.ShowLabelReport, d.key);
  void vscode.window.showInformationMessage(
    vscode.l10n.t(
      'RewardLens: {0} labels from the {1} ratings ({2} stored already, {3} ties).',
      summary.written.toLocaleString('en-US'),
      from,
      summary.alreadyStored.toLocaleString('en-US'),
      summary.ties.toLocaleString('en-US'),
    ),
  );
  return { outcome: 'done', ...summary };
}
