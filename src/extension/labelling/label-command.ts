import * as vscode from 'vscode';
import { journalFileFor, readJournal } from '../../core/curation/journal';
import type { CostEstimate } from '../../core/labelling/estimate';
import type { JobEvent, JobStatus, JobSummary, LabelJobOptions, LabelPlan } from '../../core/labelling/job';
import { planLabelJob, runLabelJob } from '../../core/labelling/job';
import { describeLongWait } from '../../core/labelling/retry';
import { readStore } from '../../core/labelling/store';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import type { IndexedDataset } from '../datasets/registry';
import { isJobConfig, loadJobConfig } from './job-config';
import { createJudge, scrub } from './judge';
import { datasetPath, storeFileOf } from './paths';
import { labellingBlockedReason } from './trust';
import { abortOnCancel } from '../cancellation';
import { settingsCommandFor } from './settings-scope';

/**
 * "RewardLens: Label Capability Points…": the CLI's `rewardlens label` in VS Code (docs/labelling.md).
 * Settings and files → judge → estimate in a modal (with an optional limit) → the job under a
 * cancellable progress notification → a summary with the report one click away. The store keeps
 * every finished call, so a cancelled or failed run resumes where it stopped.
 */

/** Arguments of the command after the dataset (from other commands and tests; never needed in the UI). */
export interface LabelCommandOptions {
  /** Label only the first N records. */
  limitRecords?: number;
  /** Make at most N calls in this run. */
  maxCalls?: number;
  /**
   * `false` starts without the confirmation. Honoured only when the extension runs its integration
   * tests (`ExtensionMode.Test`): nothing else can start a paid job without the user's yes.
   */
  confirm?: boolean;
}

/** What the command returns to `executeCommand` callers: a summary, never live objects. */
export type LabelCommandResult =
  | { outcome: 'not-started'; reason: string }
  | { outcome: 'nothing-to-do'; store: string; alreadyStored: number }
  | ({ outcome: 'ran'; status: JobStatus; plannedCalls: number; consistent: number; inconsistent: number; invalid: number } & Pick<
      JobSummary,
      'store' | 'calls' | 'failedCalls' | 'alreadyStored' | 'remaining' | 'retries'
    >);

/** Above this many calls, the confirmation offers to limit the run first. */
const LARGE_RUN_CALLS = 500;
const PROGRESS_EVERY_MS = 250;

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined;
}

export function labelOptionsArg(arg: unknown): LabelCommandOptions {
  if (typeof arg !== 'object' || arg === null) return {};
  const o = arg as Record<string, unknown>;
  return { limitRecords: positiveInt(o.limitRecords), maxCalls: positiveInt(o.maxCalls), confirm: o.confirm === false ? false : undefined };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function estimate(e: CostEstimate): string {
  return e.cost === undefined
    ? vscode.l10n.t('{0} calls, ≈{1} tokens', int(e.calls), int(e.promptTokens + e.completionTokens))
    : vscode.l10n.t('{0} calls, ≈{1} tokens, cost ≈ {2}', int(e.calls), int(e.promptTokens + e.completionTokens), e.cost.toFixed(2));
}

/** The modal's detail text: this run, what is stored, the whole dataset. */
export function planDetail(plan: LabelPlan): string {
  const r = plan.records;
  const cats = Object.entries(r.byCategory)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    vscode.l10n.t('This run: {0}.', estimate(plan.remaining)),
    vscode.l10n.t('Already stored: {0} calls (not repeated).', int(plan.alreadyStored)),
    vscode.l10n.t('Records: {0} of {1} selected, {2} to label', int(r.selected), int(r.total), int(r.labelled)) +
      `${cats ? ` (${cats})` : ''}${r.toClassify > 0 ? vscode.l10n.t(', {0} to classify first', int(r.toClassify)) : ''}.`,
    r.dropped > 0 ? vscode.l10n.t('{0} records dropped by your edits are not labelled.', int(r.dropped)) : '',
    plan.staleEdits > 0 ? vscode.l10n.t('{0} edits were made on another version of their records and are not applied.', int(plan.staleEdits)) : '',
    vscode.l10n.t('Whole dataset: {0}.', estimate(plan.full)),
    plan.remaining.cost === undefined ? vscode.l10n.t('No price set (rewardlens.labelling.pricePer1kTokens): cost not shown.') : '',
    vscode.l10n.t('Judge: {0} {1}, template {2}. Tokens are estimated (1 per CJK character, 1 per 4 others).', plan.provider, plan.model, plan.template),
  ]
    .filter(Boolean)
    .join('\n');
}

/** Asks for a record or call limit; undefined when dismissed. */
async function askLimit(job: LabelJobOptions): Promise<Pick<LabelJobOptions, 'limitRecords' | 'maxCalls'> | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      { label: vscode.l10n.t('Limit records'), description: vscode.l10n.t('label only the first N records'), id: 'records' as const },
      { label: vscode.l10n.t('Limit calls'), description: vscode.l10n.t('make at most N calls in this run (run again to go on)'), id: 'calls' as const },
    ],
    { title: vscode.l10n.t('RewardLens: limit the labelling run') },
  );
  if (kind === undefined) return undefined;
  const value = await vscode.window.showInputBox({
    title: kind.label,
    prompt: kind.id === 'records' ? vscode.l10n.t('Number of records, from the first') : vscode.l10n.t('Number of calls'),
    value: String((kind.id === 'records' ? job.limitRecords : job.maxCalls) ?? ''),
    validateInput: (v) => (positiveInt(Number(v)) === undefined ? vscode.l10n.t('a positive whole number') : undefined),
  });
  if (value === undefined) return undefined;
  const n = Number(value);
  return kind.id === 'records' ? { limitRecords: n, maxCalls: job.maxCalls } : { limitRecords: job.limitRecords, maxCalls: n };
}

/** The estimate in a modal, until the user starts, limits or cancels; returns the plan to run or undefined. */
async function confirmPlan(name: string, job: LabelJobOptions, store: string, first: LabelPlan): Promise<LabelPlan | undefined> {
  let plan = first;
  for (;;) {
    const start = vscode.l10n.t('Start {0} Calls', int(plan.remaining.calls));
    const limit = vscode.l10n.t('Limit…');
    const buttons = plan.remaining.calls > LARGE_RUN_CALLS ? [start, limit] : [start];
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Label capability points of {0}?', name),
      { modal: true, detail: planDetail(plan) },
      ...buttons,
    );
    if (answer === start) return plan;
    if (answer !== limit) return undefined;
    const limits = await askLimit(job);
    if (limits === undefined) continue;
    Object.assign(job, limits);
    plan = planLabelJob(job, readStore(store));
  }
}

function notStarted(ctx: Ctx, reason: string, ...actions: { title: string; run: () => unknown }[]): LabelCommandResult {
  ctx.log.warn(`labelling not started: ${reason}`);
  void vscode.window
    .showErrorMessage(vscode.l10n.t('RewardLens: {0}', reason), ...actions.map((a) => a.title))
    .then((picked) => actions.find((a) => a.title === picked)?.run());
  return { outcome: 'not-started', reason };
}

const openSettings = {
  title: vscode.l10n.t('Open Settings'),
  run: async (): Promise<void> => {
    const command = settingsCommandFor(vscode.env.remoteName, vscode.env.uiKind === vscode.UIKind.Web);
    try {
      await vscode.commands.executeCommand(command, 'rewardlens.judge');
    } catch {
      // A workbench without a remote settings scope (its command's precondition fails): the user scope is the one there is.
      await vscode.commands.executeCommand('workbench.action.openSettings', 'rewardlens.judge');
    }
  },
};
const showReport = (d: IndexedDataset) => ({
  title: vscode.l10n.t('Show Label Report'),
  run: () => vscode.commands.executeCommand(CommandId.ShowLabelReport, d.key),
});
const showLog = { title: vscode.l10n.t('Show Log'), run: () => vscode.commands.executeCommand(CommandId.ShowOutput) };

export async function labelCapabilities(ctx: Ctx, d: IndexedDataset, options: LabelCommandOptions): Promise<LabelCommandResult> {
  const blocked = labellingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined)
    return notStarted(ctx, blocked, { title: vscode.l10n.t('Manage Workspace Trust'), run: () => vscode.commands.executeCommand('workbench.trust.manage') });
  const file = datasetPath(d);
  if (file === undefined) return notStarted(ctx, vscode.l10n.t('save {0} to a file first: its labels are stored beside it', d.name));

  const config = loadJobConfig(ctx, file);
  if (!isJobConfig(config)) {
    const open = { title: vscode.l10n.t('Open File'), run: () => vscode.window.showTextDocument(vscode.Uri.file(config.file)) };
    return notStarted(
      ctx,
      `${config.file}:${config.message}${config.count > 1 ? vscode.l10n.t(' (and {0} more problems, see Problems)', config.count - 1) : ''}`,
      open,
    );
  }
  const judge = await createJudge(ctx.config, ctx.labelling.apiKey);
  if ('problem' in judge) return notStarted(ctx, judge.problem, ...(judge.openSettings ? [openSettings] : []));

  const store = storeFileOf(ctx.config, file);
  const controller = ctx.labelling.begin(store);
  if (controller === undefined) return notStarted(ctx, vscode.l10n.t('a labelling job is already running on {0}', d.name));
  try {
    const job: LabelJobOptions = {
      dataset: d.dataset,
      ...(ctx.config.curationApplyEdits ? { edits: readJournal(journalFileFor(file)) } : {}),
      provider: judge.provider,
      store,
      points: config.points,
      templates: config.templates,
      attachHistory: ctx.config.labellingAttachHistory,
      concurrency: ctx.config.labellingConcurrency,
      rpm: ctx.config.labellingRpm,
      tpm: ctx.config.labellingTpm,
      retry: { maxWaitMs: ctx.config.labellingMaxRetryWaitMs },
      limitRecords: options.limitRecords,
      maxCalls: options.maxCalls,
      pricing: ctx.config.labellingPricing,
      signal: controller.signal,
    };
    let plan = planLabelJob(job, readStore(store));
    ctx.log.info(`labelling ${d.name} with ${plan.provider} ${plan.model} (${plan.template}), store ${store}: ${planDetail(plan).replace(/\n/g, ' ')}`);
    if (plan.remaining.calls === 0) {
      const report = showReport(d);
      void vscode.window
        .showInformationMessage(
          vscode.l10n.t('RewardLens: nothing to label in {0}: all {1} calls of the selected records are stored.', d.name, int(plan.alreadyStored)),
          report.title,
        )
        .then((p) => p && report.run());
      return { outcome: 'nothing-to-do', store, alreadyStored: plan.alreadyStored };
    }
    const skipConfirm = options.confirm === false && ctx.extCtx.extensionMode === vscode.ExtensionMode.Test;
    if (!skipConfirm) {
      const confirmed = await confirmPlan(d.name, job, store, plan);
      if (confirmed === undefined) {
        ctx.log.info('labelling not started: not confirmed');
        return { outcome: 'not-started', reason: 'not confirmed' };
      }
      plan = confirmed;
    }
    return await run(ctx, d, job, plan, controller, judge.secret);
  } finally {
    ctx.labelling.end(store);
  }
}

async function run(
  ctx: Ctx,
  d: IndexedDataset,
  job: LabelJobOptions,
  plan: LabelPlan,
  controller: AbortController,
  secret: string | undefined,
): Promise<LabelCommandResult> {
  const log = ctx.log;
  const counts = { consistent: 0, inconsistent: 0, invalid: 0 };
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('RewardLens: labelling {0}', d.name), cancellable: true },
    async (progress, token) => {
      const cancel = abortOnCancel(token, controller);
      const onAbort = (): void => log.info('labelling cancelled: waiting for the calls in flight (every finished call is stored)');
      controller.signal.addEventListener('abort', onAbort, { once: true });
      let reported = 0;
      let lastReport = 0;
      job.onEvent = (e: JobEvent): void => {
        switch (e.type) {
          case 'phase':
            reported = 0;
            log.info(
              `${e.phase === 'classify' ? 'classifying' : 'labelling'}: ${e.total} calls${e.alreadyStored ? `, ${e.alreadyStored} stored already` : ''}`,
            );
            progress.report({
              message:
                e.phase === 'classify'
                  ? vscode.l10n.t('classifying {0} records', int(e.total))
                  : vscode.l10n.t('{0}/{1} calls', int(e.alreadyStored), int(e.total)),
            });
            return;
          case 'progress': {
            Object.assign(counts, { consistent: e.consistent, inconsistent: e.inconsistent, invalid: e.invalid });
            const now = Date.now();
            if (now - lastReport < PROGRESS_EVERY_MS && e.done < e.total) return;
            lastReport = now;
            const percent = e.total > 0 ? (100 * e.done) / e.total : 100;
            const increment = e.phase === 'label' ? Math.max(0, percent - reported) : undefined;
            if (increment !== undefined) reported = percent;
            progress.report({
              increment,
              message:
                e.phase === 'classify'
                  ? vscode.l10n.t('classifying {0}/{1} records', int(e.done), int(e.total))
                  : vscode.l10n.t(
                      '{0}/{1} calls · consistent {2} · inconsistent {3} · invalid {4}',
                      int(e.done),
                      int(e.total),
                      int(e.consistent),
                      int(e.inconsistent),
                      int(e.invalid),
                    ),
            });
            return;
          }
          case 'retry': {
            const wait = describeLongWait(e);
            if (wait) progress.report({ message: wait });
            log.info(`${wait ?? `retry ${e.attempt} in ${e.delayMs} ms`}: ${scrub(e.reason, secret)}`);
            return;
          }
          case 'call-failed':
            log.warn(`call failed after retries (asked again on the next run): ${scrub(e.message, secret)}`);
            return;
          case 'error':
            log.error(`labelling error: ${scrub(e.message, secret)}`);
            return;
          default:
            return;
        }
      };
      try {
        return await runLabelJob(job);
      } catch (e) {
        // Before the job starts (e.g. the store is locked by another process).
        const message = scrub(errorMessage(e), secret);
        log.error(`labelling failed: ${message}`);
        return undefined;
      } finally {
        cancel.dispose();
        controller.signal.removeEventListener('abort', onAbort);
      }
    },
  );
  if (summary === undefined) return notStarted(ctx, vscode.l10n.t('cannot label {0}: see the log', d.name), showLog);
  const made = vscode.l10n.t('{0} calls made ({1} stored before)', int(summary.calls), int(summary.alreadyStored));
  const tally = vscode.l10n.t('consistent {0} · inconsistent {1} · invalid {2}', int(counts.consistent), int(counts.inconsistent), int(counts.invalid));
  const left = vscode.l10n.t('{0} calls still to make', int(summary.remaining));
  log.info(
    `labelling ${d.name} ${summary.status}: ${made}, ${summary.failedCalls} failed, ${summary.retries} retries, ${left}; ${tally}; ` +
      `${int(summary.promptTokens)} prompt + ${int(summary.completionTokens)} completion tokens${summary.cost === undefined ? '' : `, cost ≈ ${summary.cost.toFixed(2)}`}` +
      `${summary.error ? `; ${scrub(summary.error, secret)}` : ''}`,
  );
  const report = showReport(d);
  const actions = summary.status === 'failed' || summary.failedCalls > 0 ? [report, showLog] : [report];
  const show = (message: string, kind: 'info' | 'warning' | 'error'): void => {
    const fn = kind === 'info' ? vscode.window.showInformationMessage : kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    void fn(vscode.l10n.t('RewardLens: {0}', message), ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
  };
  switch (summary.status) {
    case 'completed':
      show(
        vscode.l10n.t('labelled {0}: {1}; {2}.', d.name, made, tally) +
          (summary.failedCalls ? vscode.l10n.t(' {0} calls failed: run again to retry them.', summary.failedCalls) : ''),
        summary.failedCalls ? 'warning' : 'info',
      );
      break;
    case 'max-calls':
      show(vscode.l10n.t('stopped {0} at the call limit: {1}; {2}. Resumable: run the command again to go on.', d.name, made, left), 'info');
      break;
    case 'cancelled':
      show(vscode.l10n.t('labelling {0} cancelled: {1}; {2}. Resumable: every finished call is stored and never asked again.', d.name, made, left), 'warning');
      break;
    case 'failed':
      show(
        vscode.l10n.t('labelling {0} failed: {1}. {2}; resumable once fixed.', d.name, scrub(summary.error ?? vscode.l10n.t('unknown error'), secret), made),
        'error',
      );
      break;
  }
  ctx.labelling.jobFinished(d.key);
  return {
    outcome: 'ran',
    status: summary.status,
    plannedCalls: plan.remaining.calls,
    store: summary.store,
    calls: summary.calls,
    failedCalls: summary.failedCalls,
    alreadyStored: summary.alreadyStored,
    remaining: summary.remaining,
    retries: summary.retries,
    ...counts,
  };
}
