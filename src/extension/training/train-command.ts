import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { storeFileFor } from '../../core/labelling/store';
import { formatTrainEvent, pct, progressText } from '../../core/training/format';
import { RUN_FILES } from '../../core/training/run-folder';
import { etaText, recommendedPreset } from '../../core/training/preset-choice';
import type { EvalResult, Method, TrainBackend, TrainOptions, TrainSummary } from '../../core/training/types';
import { METHODS, METHODS_NEEDING_LABELS, TRAIN_BACKENDS } from '../../core/training/types';
import { WorkerCancelledError, WorkerDiedError, WorkerFailedError } from '../../worker/train-client';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import { uriArg } from '../datasets/open';
import { storeFileOf } from '../labelling/paths';
import { TrainingChartPanel } from '../webviews/training-chart/panel';
import { resumeOptions } from './run-files';
import { defaultRunFolder, pickRun } from './runs';
import { runArg } from './runs-tree';
import { resolveTrainBackend, trainerPythonConfigured } from './torch-setup';
import { trainingBlockedReason } from './trust';
import type { PresetName } from '../../core/model/config';
import { PRESET_NAMES } from '../../core/model/config';

/**
 * "Train Reward Model", "Resume Training" and "Evaluate Run…": quick picks → the worker process
 * (src/worker/train-client.ts) under a cancellable progress notification → a message with the next
 * steps. A cancelled, failed or crashed run keeps its folder: the same options resume it.
 */

/** Arguments of the train command after the dataset, for other commands and tests: with `method`, no questions are asked. */
export interface TrainCommandOptions {
  method?: Method;
  labels?: string;
  preset?: PresetName;
  backend?: TrainBackend;
  base?: string;
  out?: string;
  maxMinutes?: number;
  seed?: number;
  overrides?: Record<string, number | string | boolean>;
}

/** What the commands return to `executeCommand` callers: a summary, never live objects. */
export type TrainCommandResult =
  | { outcome: 'not-started'; reason: string }
  | { outcome: 'finished'; run: string; summary: TrainSummary }
  | { outcome: 'stopped'; run: string }
  | { outcome: 'failed'; run: string; message: string; died: boolean };

// A function, not a table: vscode.l10n.t must run after the extension's bundle is loaded.
const methodDetail = (m: Method): string =>
  ({
    dmoerm: vscode.l10n.t('DMoERM: outer router by category, inner experts per capability point, MLP aggregation (needs labels)'),
    'dmoerm-no-outer': vscode.l10n.t('DMoERM without the outer router: capability experts over all categories (needs labels)'),
    single: vscode.l10n.t('one reward model on the whole dataset (baseline)'),
    mean: vscode.l10n.t('ensemble of reward models, mean reward (baseline)'),
    wco: vscode.l10n.t('ensemble, worst-case optimisation: minimum reward (baseline)'),
    uwo: vscode.l10n.t('ensemble, uncertainty-weighted optimisation: mean minus variance (baseline)'),
  })[m];

export function trainOptionsArg(arg: unknown): TrainCommandOptions {
  if (typeof arg !== 'object' || arg === null) return {};
  const o = arg as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    method: (METHODS as readonly unknown[]).includes(o.method) ? (o.method as Method) : undefined,
    labels: str(o.labels),
    preset: (PRESET_NAMES as readonly unknown[]).includes(o.preset) ? (o.preset as PresetName) : undefined,
    backend: (TRAIN_BACKENDS as readonly unknown[]).includes(o.backend) ? (o.backend as TrainBackend) : undefined,
    base: str(o.base),
    out: str(o.out),
    maxMinutes: num(o.maxMinutes),
    seed: num(o.seed),
    overrides: typeof o.overrides === 'object' && o.overrides !== null ? (o.overrides as Record<string, number | string | boolean>) : undefined,
  };
}

function notStarted(ctx: Ctx, reason: string, ...actions: { title: string; run: () => unknown }[]): TrainCommandResult {
  ctx.log.warn(`training not started: ${reason}`);
  void vscode.window
    .showErrorMessage(vscode.l10n.t('RewardLens: {0}', reason), ...actions.map((a) => a.title))
    .then((picked) => actions.find((a) => a.title === picked)?.run());
  return { outcome: 'not-started', reason };
}

const manageTrust = { title: vscode.l10n.t('Manage Workspace Trust'), run: () => vscode.commands.executeCommand('workbench.trust.manage') };

async function pickDataset(ctx: Ctx): Promise<string | undefined> {
  const items: (vscode.QuickPickItem & { file?: string })[] = [];
  const seen = new Set<string>();
  const add = (uri: vscode.Uri, description: string): void => {
    if (uri.scheme !== 'file' || seen.has(uri.fsPath)) return;
    seen.add(uri.fsPath);
    items.push({ label: path.basename(uri.fsPath), description, detail: uri.fsPath, file: uri.fsPath });
  };
  if (ctx.datasets.active) add(ctx.datasets.active.uri, vscode.l10n.t('active dataset'));
  for (const d of ctx.datasets.all()) add(d.uri, vscode.l10n.t('{0} records', d.dataset.report.records.toLocaleString('en-US')));
  items.push({ label: `$(folder-opened) ${vscode.l10n.t('Choose a File…')}`, alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Train a reward model (1/6): dataset'),
    placeHolder: vscode.l10n.t('the preference dataset to train on'),
  });
  if (picked === undefined) return undefined;
  if (picked.file !== undefined) return picked.file;
  const chosen = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Training dataset'),
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { [vscode.l10n.t('Preference datasets')]: ['jsonl', 'json'], [vscode.l10n.t('All files')]: ['*'] },
  });
  return chosen?.[0]?.fsPath;
}

/** The label store: the one of the labelling settings or `.rewardlens/` beside the dataset, another file, or none. */
async function pickLabels(ctx: Ctx, dataset: string): Promise<string | null | undefined> {
  const found = [...new Set([storeFileOf(ctx.config, dataset), storeFileFor(dataset)])].filter((f) => existsSync(f));
  const items: (vscode.QuickPickItem & { file?: string | null })[] = [
    ...found.map((f) => ({ label: path.basename(f), description: vscode.l10n.t('capability labels found beside the dataset'), detail: f, file: f })),
    // First (the default) when no store exists: a file browser is a poor default for a first run.
    { label: vscode.l10n.t('No Labels'), description: vscode.l10n.t('baselines only (DMoERM needs capability labels)'), file: null },
    { label: `$(file) ${vscode.l10n.t('Choose a Label Store…')}`, file: undefined },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Train a reward model (2/6): capability labels') });
  if (picked === undefined) return undefined;
  if (picked.file !== undefined) return picked.file;
  const chosen = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Label store (.labels.jsonl)'),
    canSelectMany: false,
    defaultUri: vscode.Uri.file(path.dirname(dataset)),
    filters: { [vscode.l10n.t('Label stores')]: ['jsonl'] },
  });
  return chosen?.[0]?.fsPath;
}

async function pickOne<T extends string>(title: string, values: readonly T[], current: T, describe: (v: T) => string | undefined): Promise<T | undefined> {
  const items = values.map((v) => ({
    label: v,
    description: v === current ? `${vscode.l10n.t('default')}${describe(v) ? ` · ${describe(v)}` : ''}` : describe(v),
    value: v,
  }));
  items.sort((a, b) => Number(b.value === current) - Number(a.value === current));
  return (await vscode.window.showQuickPick(items, { title }))?.value;
}

/** Every question of the Train command; undefined when one was dismissed. */
async function askOptions(ctx: Ctx, dataset: string): Promise<TrainOptions | undefined> {
  const labels = await pickLabels(ctx, dataset);
  if (labels === undefined) return undefined;
  const methods = METHODS.filter((m) => labels !== null || !METHODS_NEEDING_LABELS.includes(m));
  const method = await pickOne(vscode.l10n.t('Train a reward model (3/6): method'), methods, methods[0], methodDetail);
  if (method === undefined) return undefined;
  const pairs = ctx.datasets.all().find((d) => d.uri.scheme === 'file' && d.uri.fsPath === dataset)?.dataset.report.preferencePairs;
  const recommended = recommendedPreset(availableParallelism(), pairs);
  const preset = await pickOne(vscode.l10n.t('Train a reward model (4/6): model size'), PRESET_NAMES, ctx.config.trainingPresetSet ?? recommended.preset, (p) =>
    [
      p === 'tiny' ? vscode.l10n.t('fast, for trying things out') : vscode.l10n.t('d 256, 4 layers'),
      p === recommended.preset && ctx.config.trainingPresetSet === undefined ? vscode.l10n.t('recommended: {0}', recommended.reason) : undefined,
    ]
      .filter(Boolean)
      .join(' · '),
  );
  if (preset === undefined) return undefined;
  const backend = await pickOne(vscode.l10n.t('Train a reward model (5/6): backend'), TRAIN_BACKENDS, ctx.config.trainingBackend, (b) =>
    b === 'auto'
      ? vscode.l10n.t('PyTorch when set up, else the best TensorFlow.js backend that loads')
      : b === 'torch'
        ? trainerPythonConfigured(ctx)
          ? vscode.l10n.t('PyTorch trainer, on the GPU when there is one')
          : vscode.l10n.t('PyTorch trainer, on the GPU when there is one (Set Up PyTorch Training… first)')
        : b === 'tfjs-node-gpu'
          ? vscode.l10n.t('CUDA 11.2 + cuDNN 8.1 (Install GPU Training Backend)')
          : b === 'tfjs-node'
            ? vscode.l10n.t('native CPU (Install Native Training Backend)')
            : undefined,
  );
  if (backend === undefined) return undefined;
  const baseChoice = await vscode.window.showQuickPick(
    [
      { label: vscode.l10n.t('From Scratch'), description: vscode.l10n.t('a new encoder of the preset size'), base: false },
      {
        label: `$(folder-opened) ${vscode.l10n.t('Pre-trained Base…')}`,
        description: vscode.l10n.t('a Hugging Face folder: a BERT encoder, or a Qwen2/Llama decoder (PyTorch trainer)'),
        base: true,
      },
    ],
    { title: vscode.l10n.t('Train a reward model (6/6): starting point') },
  );
  if (baseChoice === undefined) return undefined;
  let base: string | undefined;
  if (baseChoice.base) {
    base = (
      await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Pre-trained base (config.json, model.safetensors, tokenizer.json)'),
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
      })
    )?.[0]?.fsPath;
    if (base === undefined) return undefined;
  }
  const out = await vscode.window.showInputBox({
    title: vscode.l10n.t('Run folder'),
    prompt: vscode.l10n.t('Where the run writes its checkpoints, metrics and model card (an existing run folder of the same configuration resumes)'),
    value: defaultRunFolder(ctx.config, dataset, method),
    validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('a folder path') : undefined),
  });
  if (out === undefined) return undefined;
  return compact({ dataset, method, labels: labels ?? undefined, preset, backend, base, out: out.trim(), seed: 42, maxMinutes: ctx.config.trainingMaxMinutes });
}

/** Without `undefined` keys: the run folder compares its configuration on resume. */
function compact(o: TrainOptions): TrainOptions {
  for (const k of Object.keys(o) as (keyof TrainOptions)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export async function trainCommand(ctx: Ctx, arg: unknown, optionsArg: unknown): Promise<TrainCommandResult> {
  const blocked = trainingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) return notStarted(ctx, blocked, manageTrust);
  const given = trainOptionsArg(optionsArg);
  const dataset = uriArg(arg)?.fsPath ?? (await pickDataset(ctx));
  if (dataset === undefined) return { outcome: 'not-started', reason: 'no dataset chosen' };
  if (!existsSync(dataset)) return notStarted(ctx, vscode.l10n.t('{0}: no such file', dataset));
  let options: TrainOptions | undefined;
  if (given.method !== undefined) {
    options = compact({
      dataset,
      method: given.method,
      labels: given.labels,
      preset: given.preset ?? ctx.config.trainingPreset,
      backend: given.backend ?? ctx.config.trainingBackend,
      base: given.base,
      out: given.out ?? defaultRunFolder(ctx.config, dataset, given.method),
      seed: given.seed ?? 42,
      maxMinutes: given.maxMinutes ?? ctx.config.trainingMaxMinutes,
      overrides: given.overrides,
    });
  } else options = await askOptions(ctx, dataset);
  if (options === undefined) return { outcome: 'not-started', reason: 'not confirmed' };
  if (METHODS_NEEDING_LABELS.includes(options.method) && options.labels === undefined)
    return notStarted(ctx, vscode.l10n.t('method {0} needs capability labels: label the dataset first ("Label Capability Points…")', options.method));
  return runTraining(ctx, options);
}

export async function resumeCommand(ctx: Ctx, arg: unknown): Promise<TrainCommandResult> {
  const blocked = trainingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) return notStarted(ctx, blocked, manageTrust);
  const run =
    runArg(arg) ??
    (await pickRun(
      ctx,
      vscode.l10n.t('Resume training'),
      (r) => r.state === 'stopped',
      vscode.l10n.t('no stopped training run to resume (finished and running runs are not listed).'),
    ));
  if (run === undefined) return { outcome: 'not-started', reason: 'no run chosen' };
  let options: TrainOptions;
  try {
    options = resumeOptions(run, { backend: ctx.config.trainingBackend, maxMinutes: ctx.config.trainingMaxMinutes });
  } catch (e) {
    return notStarted(ctx, vscode.l10n.t('cannot resume {0}: {1}', path.basename(run), errorMessage(e)));
  }
  return runTraining(ctx, options);
}

/** Runs the worker on `options` under a cancellable notification; tells the user how it ended. */
export async function runTraining(ctx: Ctx, requested: TrainOptions): Promise<TrainCommandResult> {
  const run = path.resolve(requested.out);
  const name = path.basename(run);
  if (ctx.training.isRunning(run)) return notStarted(ctx, vscode.l10n.t('a training process is already running on {0}', name));
  const resolved = await resolveTrainBackend(ctx, requested);
  if ('problem' in resolved)
    return notStarted(ctx, resolved.problem, {
      title: vscode.l10n.t('Set Up PyTorch Training…'),
      run: () => vscode.commands.executeCommand(CommandId.SetUpTorchTraining),
    });
  // Edits are applied by default (src/core/curation); the setting turns them off for this run.
  const options = ctx.config.curationApplyEdits ? resolved : { ...resolved, noEdits: true };
  ctx.log.info(`training ${options.method} on ${options.dataset} into ${run} (preset ${options.preset}, backend ${options.backend})`);
  const showLog = { title: vscode.l10n.t('Show Log'), run: () => ctx.log.show(true) };
  const resume = { title: vscode.l10n.t('Resume'), run: () => vscode.commands.executeCommand(CommandId.ResumeTraining, run) };
  const chart = { title: vscode.l10n.t('Show Chart'), run: () => TrainingChartPanel.createOrShow(ctx, run) };
  const card = { title: vscode.l10n.t('Open Model Card'), run: () => vscode.commands.executeCommand(CommandId.OpenModelCard, run) };
  const tell = (kind: 'info' | 'warning' | 'error', message: string, ...actions: { title: string; run: () => unknown }[]): void => {
    const fn = kind === 'info' ? vscode.window.showInformationMessage : kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    void fn(vscode.l10n.t('RewardLens: {0}', message), ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
  };

  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('RewardLens: training {0}', name), cancellable: true },
    async (progress, token) => {
      let proc;
      try {
        proc = ctx.training.train(options);
      } catch (e) {
        return notStarted(ctx, errorMessage(e));
      }
      TrainingChartPanel.createOrShow(ctx, run, { preserveFocus: true });
      let cancelled = false;
      const cancel = token.onCancellationRequested(() => {
        cancelled = true;
        ctx.log.info(`${name}: stopping at the next step (the last checkpoint is kept)`);
        progress.report({ message: vscode.l10n.t('stopping at the next step…') });
        proc.cancel();
      });
      let last = 0;
      // The ETA is the current phase's (or expert's): phases differ in cost per step, and a resumed run starts mid-way.
      let phase = { key: '', at: 0, step: 0 };
      const events = ctx.training.onDidEvent(({ run: r, event: e }) => {
        if (r !== run || cancelled) return;
        if (e.type === 'phase') progress.report({ message: formatTrainEvent(e) });
        else if (e.type === 'progress') {
          const now = Date.now();
          const key = `${e.phase}\u0000${e.expert ?? ''}`;
          if (key !== phase.key) phase = { key, at: now, step: e.step };
          if (now - last < 250 && e.step < e.totalSteps) return;
          last = now;
          const eta = etaText(e.step - phase.step, e.totalSteps - phase.step, (now - phase.at) / 1000);
          progress.report({ message: `${progressText(e)}${eta ? ` · ${vscode.l10n.t('{0} in this phase', eta)}` : ''}` });
        }
      });
      try {
        const summary = await proc.done;
        if (cancelled) {
          tell('warning', vscode.l10n.t('training {0} stopped; the last checkpoint is kept. Resume to go on.', name), resume, chart);
          return { outcome: 'stopped', run };
        }
        const acc = summary.evaluation ? vscode.l10n.t('; held-out accuracy {0} on {1} pairs', pct(summary.evaluation.overall), summary.evaluation.pairs) : '';
        ctx.log.info(
          `${name}: ${summary.method} finished in ${Math.round(summary.seconds)} s on ${summary.backend}${summary.truncated ? ' (time budget reached)' : ''}${acc}`,
        );
        tell(
          'info',
          `${vscode.l10n.t('trained {0} ({1})', name, `${summary.method}, ${summary.device ?? summary.backend}${summary.truncated ? vscode.l10n.t(', stopped early by the time budget') : ''}`)}${acc}.`,
          chart,
          card,
        );
        return { outcome: 'finished', run, summary };
      } catch (e) {
        if (e instanceof WorkerCancelledError || (cancelled && !(e instanceof WorkerDiedError))) {
          tell('warning', vscode.l10n.t('training {0} stopped; the last checkpoint is kept. Resume to go on.', name), resume, chart);
          return { outcome: 'stopped', run };
        }
        if (e instanceof WorkerDiedError) {
          ctx.log.error(`${name}: ${e.message}; last output:\n${e.logTail}`);
          tell(
            'error',
            vscode.l10n.t("{0}. The run folder keeps its last checkpoint ({1} has the process's output).", e.message, RUN_FILES.log),
            showLog,
            resume,
          );
          return { outcome: 'failed', run, message: e.message, died: true };
        }
        const message = errorMessage(e);
        ctx.log.error(`${name}: training failed: ${message}${e instanceof WorkerFailedError && e.workerStack ? `\n${e.workerStack}` : ''}`);
        tell('error', vscode.l10n.t('training {0} failed: {1}', name, message), showLog);
        return { outcome: 'failed', run, message, died: false };
      } finally {
        cancel.dispose();
        events.dispose();
      }
    },
  );
}

export type EvaluateCommandResult =
  | { outcome: 'not-started'; reason: string }
  | { outcome: 'evaluated'; run: string; testFile: string; result: EvalResult }
  | { outcome: 'failed'; run: string; message: string };

export async function evaluateCommand(ctx: Ctx, arg: unknown, testArg: unknown): Promise<EvaluateCommandResult> {
  const blocked = trainingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) {
    notStarted(ctx, blocked, manageTrust);
    return { outcome: 'not-started', reason: blocked };
  }
  const run =
    runArg(arg) ?? (await pickRun(ctx, vscode.l10n.t('Evaluate a run'), (r) => r.state === 'finished', vscode.l10n.t('no finished training run to evaluate.')));
  if (run === undefined) return { outcome: 'not-started', reason: 'no run chosen' };
  const testFile =
    uriArg(testArg)?.fsPath ??
    (
      await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Test set for {0}', path.basename(run)),
        canSelectMany: false,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        filters: { [vscode.l10n.t('Preference datasets')]: ['jsonl', 'json'], 'All files': ['*'] },
      })
    )?.[0]?.fsPath;
  if (testFile === undefined) return { outcome: 'not-started', reason: 'no test file chosen' };
  const name = path.basename(run);
  let proc;
  try {
    proc = ctx.training.evaluate(run, testFile, { noEdits: !ctx.config.curationApplyEdits });
  } catch (e) {
    notStarted(ctx, errorMessage(e));
    return { outcome: 'not-started', reason: errorMessage(e) };
  }
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('RewardLens: evaluating {0} on {1}', name, path.basename(testFile)),
      cancellable: true,
    },
    async (_progress, token) => {
      const cancel = token.onCancellationRequested(() => proc.cancel());
      try {
        const result = await proc.done;
        ctx.log.info(`${name} on ${testFile}: ${pct(result.overall)} of ${result.pairs} pairs`);
        TrainingChartPanel.createOrShow(ctx, run, { evaluation: { source: path.basename(testFile), result } });
        void vscode.window.showInformationMessage(
          vscode.l10n.t(
            'RewardLens: {0} agrees with {1} of {2} human preference pairs in {3}.',
            name,
            pct(result.overall),
            result.pairs,
            path.basename(testFile),
          ),
        );
        return { outcome: 'evaluated', run, testFile, result };
      } catch (e) {
        const message = errorMessage(e);
        ctx.log.error(`evaluating ${name} failed: ${message}`);
        void vscode.window
          .showErrorMessage(vscode.l10n.t('RewardLens: evaluating {0} failed: {1}', name, message), vscode.l10n.t('Show Log'))
          .then((p) => (p ? ctx.log.show(true) : undefined));
        return { outcome: 'failed', run, message };
      } finally {
        cancel.dispose();
      }
    },
  );
}
