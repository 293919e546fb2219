import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { showDisagreements, showEvaluationReport } from './analysis/commands';
import { CommandId } from './command-id';
import type { Ctx } from './context';
import { openDataset, reindexDataset, uriArg } from './datasets/open';
import type { IndexedDataset } from './datasets/registry';
import { labelCapabilities, labelOptionsArg } from './labelling/label-command';
import { labelsFromRatingsCommand, ratingsSourceArg } from './labelling/ratings-command';
import { recordDocumentUri } from './records/record-document';
import { showBestOfN } from './webviews/best-of-n/panel';
import { showRewardBreakdown } from './webviews/reward-breakdown/panel';
import { selectRewardModel } from './scoring/select-model';
import { RewardServerHost } from './scoring/reward-server';
import { createCurationCommands } from './curation/commands';
import { TrainingChartPanel } from './webviews/training-chart/panel';
import { installBackend } from './training/install-backend';
import { setUpTorchTraining } from './training/torch-setup';
import { pickRun } from './training/runs';
import { runArg } from './training/runs-tree';
import { evaluateCommand, resumeCommand, trainCommand } from './training/train-command';
import { LabelReportPanel } from './webviews/labels/panel';
import { OverviewPanel } from './webviews/overview/panel';
import { RecordsPanel } from './webviews/records/panel';

/** What a command returns to `executeCommand` callers (tests, other extensions): a summary, never live objects. */
export interface DatasetSummary {
  uri: string;
  origin: IndexedDataset['origin'];
  size: number;
  records: number;
  malformed: number;
  problems: number;
}

export function summarize(d: IndexedDataset): DatasetSummary {
  const r = d.dataset.report;
  return { uri: d.key, origin: d.origin, size: d.dataset.size, records: r.records, malformed: r.malformed, problems: r.problemCount };
}

type Handler = (...args: unknown[]) => unknown;
type DatasetHandler = (dataset: IndexedDataset, ...args: unknown[]) => unknown;

/**
 * A command. Commands that act on a dataset (their first argument's, else the active one) have an
 * enabled form, and a disabled form used while there is no dataset, which says what is missing.
 */
type CommandFactory = { run: (ctx: Ctx) => Handler } | { enabled: (ctx: Ctx) => DatasetHandler; disabled: (ctx: Ctx) => Handler };

/** `what` completes "to …" (translated by the caller). */
const needsDataset = (what: string) => (ctx: Ctx) => async () => {
  const pick = vscode.l10n.t('Open Dataset…');
  ctx.log.info(`no dataset to ${what}`);
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t('RewardLens: to {0}, index a dataset first: open a .jsonl file, or run "Open Dataset…".', what),
    pick,
  );
  if (answer === pick) await vscode.commands.executeCommand(CommandId.OpenDataset);
  return undefined;
};

/**
 * The dataset a command acts on: its argument's (indexed now if it is not yet), else the active
 * one, else the active editor's if it is a dataset. `'failed'`: the argument's file could not be
 * indexed, and the user has been told why.
 */
async function target(ctx: Ctx, arg: unknown): Promise<IndexedDataset | undefined | 'failed'> {
  const uri = uriArg(arg);
  if (uri !== undefined) {
    const known = ctx.datasets.get(uri);
    if (known !== undefined) return known;
    try {
      return (await openDataset(ctx, uri, { show: false })) ?? 'failed';
    } catch (e) {
      ctx.showError(vscode.l10n.t('cannot open {0} as a dataset', path.basename(uri.fsPath)), e);
      return 'failed';
    }
  }
  const active = ctx.datasets.active;
  if (active !== undefined) return active;
  const doc = vscode.window.activeTextEditor?.document;
  return doc ? ctx.datasets.forDocument(doc) : undefined;
}

function index(arg: unknown): number | undefined {
  return typeof arg === 'number' && Number.isInteger(arg) && arg >= 0 ? arg : undefined;
}

async function pickDataset(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Open a preference dataset'),
    canSelectMany: false,
    defaultUri: active?.scheme === 'file' ? vscode.Uri.file(path.dirname(active.fsPath)) : vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { [vscode.l10n.t('Preference datasets')]: ['jsonl', 'json'], [vscode.l10n.t('All files')]: ['*'] },
  });
  return picked?.[0];
}

export function createCommands(): Record<CommandId, CommandFactory> {
  return {
    [CommandId.OpenDataset]: {
      run: (ctx) => async (arg?: unknown) => {
        const uri = uriArg(arg) ?? (await pickDataset());
        if (uri === undefined) return undefined;
        try {
          const indexed = await openDataset(ctx, uri, { show: true });
          if (indexed === undefined) return undefined;
          ctx.datasets.activeUri = indexed.uri;
          // A file indexed from disk has no editor to show: its overview is the way in.
          if (indexed.origin === 'file') OverviewPanel.createOrShow(ctx, indexed.uri);
          return summarize(indexed);
        } catch (e) {
          ctx.showError(vscode.l10n.t('cannot open {0} as a dataset', path.basename(uri.fsPath)), e);
          return undefined;
        }
      },
    },
    [CommandId.ShowOverview]: {
      enabled: (ctx) => (d) => {
        ctx.datasets.activeUri = d.uri;
        OverviewPanel.createOrShow(ctx, d.uri);
        return summarize(d);
      },
      disabled: needsDataset(vscode.l10n.t('show an overview')),
    },
    [CommandId.BrowseRecords]: {
      enabled: (ctx) => (d, at?: unknown) => {
        ctx.datasets.activeUri = d.uri;
        RecordsPanel.createOrShow(ctx, d.uri, index(at));
        return summarize(d);
      },
      disabled: needsDataset(vscode.l10n.t('browse records')),
    },
    [CommandId.Reindex]: {
      enabled: (ctx) => async (d) => {
        try {
          const indexed = await reindexDataset(ctx, d);
          return indexed ? summarize(indexed) : undefined;
        } catch (e) {
          ctx.showError(vscode.l10n.t('cannot re-index {0}', d.name), e);
          return undefined;
        }
      },
      disabled: needsDataset(vscode.l10n.t('re-index')),
    },
    [CommandId.ShowOutput]: {
      run: (ctx) => () => ctx.log.show(true),
    },
    [CommandId.OpenRecord]: {
      enabled: (ctx) => (d, at?: unknown) => {
        RecordsPanel.createOrShow(ctx, d.uri, index(at), { beside: true });
        return summarize(d);
      },
      disabled: needsDataset(vscode.l10n.t('open a record')),
    },
    [CommandId.ShowRecordJson]: {
      enabled: () => async (d, at?: unknown) => {
        const i = index(at) ?? 0;
        const doc = await vscode.workspace.openTextDocument(recordDocumentUri(d, i));
        await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
        return doc.uri.toString();
      },
      disabled: needsDataset(vscode.l10n.t('show a record')),
    },
    [CommandId.LabelCapabilities]: {
      enabled: (ctx) => (d, options?: unknown) => {
        ctx.datasets.activeUri = d.uri;
        return labelCapabilities(ctx, d, labelOptionsArg(options));
      },
      disabled: needsDataset(vscode.l10n.t('label capability points')),
    },
    [CommandId.ShowLabelReport]: {
      enabled: (ctx) => (d) => {
        ctx.datasets.activeUri = d.uri;
        LabelReportPanel.createOrShow(ctx, d.uri);
        return summarize(d);
      },
      disabled: needsDataset(vscode.l10n.t('show its label report')),
    },
    [CommandId.LabelsFromRatings]: {
      enabled: (ctx) => (d, options?: unknown) => {
        ctx.datasets.activeUri = d.uri;
        return labelsFromRatingsCommand(ctx, d, ratingsSourceArg(options));
      },
      disabled: needsDataset(vscode.l10n.t('derive labels from its ratings')),
    },
    [CommandId.SetJudgeApiKey]: {
      run: (ctx) => async () => {
        if (!(await ctx.labelling.apiKey.prompt())) return;
        ctx.log.info('judge API key updated in SecretStorage');
        void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: judge API key stored in VS Code SecretStorage.'));
      },
    },
    [CommandId.ClearJudgeApiKey]: {
      run: (ctx) => async () => {
        await ctx.labelling.apiKey.clear();
        ctx.log.info('judge API key removed from SecretStorage');
        void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: judge API key removed.'));
      },
    },
    [CommandId.Train]: {
      run: (ctx) => (arg?: unknown, options?: unknown) => trainCommand(ctx, arg, options),
    },
    [CommandId.ResumeTraining]: {
      run: (ctx) => (arg?: unknown) => resumeCommand(ctx, arg),
    },
    [CommandId.EvaluateRun]: {
      run: (ctx) => (arg?: unknown, testFile?: unknown) => evaluateCommand(ctx, arg, testFile),
    },
    [CommandId.StopTraining]: {
      run: (ctx) => async (arg?: unknown) => {
        const run = runArg(arg) ?? (await pickRun(ctx, vscode.l10n.t('Stop training'), (r) => r.state === 'running', vscode.l10n.t('no training is running.')));
        if (run === undefined) return false;
        const stopping = ctx.training.cancel(run);
        if (stopping) ctx.log.info(`${path.basename(run)}: stopping at the next step (the last checkpoint is kept)`);
        return stopping;
      },
    },
    [CommandId.ShowTrainingChart]: {
      run: (ctx) => async (arg?: unknown, phase?: unknown) => {
        const run =
          runArg(arg) ??
          (await pickRun(ctx, vscode.l10n.t('Show the training chart of'), () => true, vscode.l10n.t('no training runs yet: run "Train Reward Model" first.')));
        if (run === undefined) return undefined;
        TrainingChartPanel.createOrShow(ctx, run, { phase: typeof phase === 'string' ? phase : undefined });
        return run;
      },
    },
    [CommandId.OpenModelCard]: {
      run: (ctx) => async (arg?: unknown) => {
        const run =
          runArg(arg) ??
          (await pickRun(ctx, vscode.l10n.t('Open the model card of'), (r) => r.state === 'finished', vscode.l10n.t('no finished training run yet.')));
        if (run === undefined) return undefined;
        const card = vscode.Uri.file(path.join(run, 'MODEL_CARD.md'));
        if (!existsSync(card.fsPath)) {
          void vscode.window.showInformationMessage(
            vscode.l10n.t('RewardLens: {0} has no model card yet: it is written when the run finishes.', path.basename(run)),
          );
          return undefined;
        }
        await vscode.commands.executeCommand('markdown.showPreview', card).then(undefined, () => vscode.window.showTextDocument(card));
        return card.toString();
      },
    },
    [CommandId.RevealRun]: {
      run: (ctx) => async (arg?: unknown) => {
        const run = runArg(arg);
        if (run === undefined) return;
        const uri = vscode.Uri.file(run);
        // The Explorer shows folders of the workspace only; elsewhere, the OS file manager (desktop).
        await vscode.commands
          .executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri)
          .then(undefined, (e: unknown) => ctx.showError(vscode.l10n.t('cannot reveal {0}', run), e));
      },
    },
    [CommandId.RefreshRuns]: {
      run: (ctx) => () => ctx.training.requestRefresh(),
    },
    [CommandId.SetUpTorchTraining]: {
      run: (ctx) => () => setUpTorchTraining(ctx),
    },
    [CommandId.InstallGpuBackend]: {
      run: (ctx) => () => installBackend(ctx, 'gpu'),
    },
    [CommandId.InstallNativeBackend]: {
      run: (ctx) => () => installBackend(ctx, 'cpu'),
    },
    [CommandId.SelectRewardModel]: {
      run: (ctx) => (arg?: unknown) => selectRewardModel(ctx, arg),
    },
    [CommandId.StartRewardServer]: {
      run: (ctx) => (arg?: unknown) => RewardServerHost.of(ctx).start(arg),
    },
    [CommandId.StopRewardServer]: {
      run: (ctx) => () => RewardServerHost.of(ctx).stop(),
    },
    [CommandId.ShowEvaluationReport]: {
      run: (ctx) => (arg?: unknown) => showEvaluationReport(ctx, arg),
    },
    [CommandId.ShowDisagreements]: {
      enabled: (ctx) => (d) => {
        ctx.datasets.activeUri = d.uri;
        return showDisagreements(ctx, d);
      },
      disabled: needsDataset(vscode.l10n.t('find disagreements with its human labels')),
    },
    [CommandId.ShowRewardBreakdown]: {
      enabled: (ctx) => (d, at?: unknown) => showRewardBreakdown(ctx, d, at),
      disabled: needsDataset(vscode.l10n.t('see a reward breakdown')),
    },
    [CommandId.ShowBestOfN]: {
      enabled: (ctx) => (d, options?: unknown) => showBestOfN(ctx, d, options),
      disabled: needsDataset(vscode.l10n.t('compare best-of-n picks')),
    },
    ...createCurationCommands(needsDataset),
  };
}

/** Registers every command; dataset commands switch to their disabled form while there is no dataset. */
export function registerCommands(ctx: Ctx): void {
  for (const [id, factory] of Object.entries(createCommands()) as [CommandId, CommandFactory][]) {
    let handler: Handler;
    if ('run' in factory) handler = factory.run(ctx);
    else {
      const enabled = factory.enabled(ctx);
      const disabled = factory.disabled(ctx);
      handler = async (arg?: unknown, ...rest: unknown[]) => {
        const d = await target(ctx, arg);
        if (d === 'failed') return undefined;
        return d === undefined ? disabled(arg, ...rest) : enabled(d, ...rest);
      };
    }
    ctx.push(vscode.commands.registerCommand(id, handler));
  }
}
