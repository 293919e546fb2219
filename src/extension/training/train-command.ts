import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { storeFileFor } from '../../core/labelling/store';
import { RUN_FILES } from '../../core/training/run-folder';
import type { EvalResult, Method, PresetName, TrainBackend, TrainOptions, TrainSummary } from '../../core/training/types';
import { METHODS, METHODS_NEEDING_LABELS, PRESET_NAMES, TRAIN_BACKENDS } from '../../core/training/types';
import { WorkerCancelledError, WorkerDiedError, WorkerFailedError } from '../../worker/train-client';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../context';
import { uriArg } from '../datasets/open';
import { storeFileOf } from '../labelling/paths';
import { TrainingChartPanel } from './chart-panel';
import { resumeOptions } from './run-files';
import { defaultRunFolder, pickRun } from './runs';
import { runArg } from './runs-tree';
import { resolveTrainBackend, trainerPython } from './torch-setup';
import { trainingBlockedReason } from './trust';

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


const METHOD_DETAIL: Record<Method, string> = {
  dmoerm: 'DMoERM: outer router by category, inner experts per capability point, MLP aggregation (needs labels)',
  'dmoerm-no-outer': 'DMoERM without the outer router: capability experts over all categories (needs labels)',
  single: 'one reward model on the whole dataset (baseline)',
  mean: 'ensemble of reward models, mean reward (baseline)',
  wco: 'ensemble, worst-case optimisation: minimum reward (baseline)',
  uwo: 'ensemble, uncertainty-weighted optimisation: mean minus variance (baseline)',
};

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
  void vscode.window.showErrorMessage(`RewardLens: ${reason}`, ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
  return { outcome: 'not-started', reason };
}

const manageTrust = { title: 'Manage Workspace Trust', run: () => vscode.commands.executeCommand('workbench.trust.manage') };

async function pickDataset(ctx: Ctx): Promise<string | undefined> {
  const items: (vscode.QuickPickItem & { file?: string })[] = [];
  const seen = new Set<string>();
  const add = (uri: vscode.Uri, description: string): void => {
    if (uri.scheme !== 'file' || seen.has(uri.fsPath)) return;
    seen.add(uri.fsPath);
    items.push({ label: path.basename(uri.fsPath), description, detail: uri.fsPath, file: uri.fsPath });
  };
  if (ctx.datasets.active) add(ctx.datasets.active.uri, 'active dataset');
  for (const d of ctx.datasets.all()) add(d.uri, `${d.dataset.report.records.toLocaleString('en-US')} records`);
  items.push({ label: '$(folder-opened) Choose a File…', alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, { title: 'Train a reward model (1/6): dataset', placeHolder: 'the preference dataset to train on' });
  if (picked === undefined) return undefined;
  if (picked.file !== undefined) return picked.file;
  const chosen = await vscode.window.showOpenDialog({ title: 'Training dataset', canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri, filters: { 'Preference datasets': ['jsonl', 'json'], 'All files': ['*'] } });
  return chosen?.[0]?.fsPath;
}

/** The label store: the one of the labelling settings or `.rewardlens/` beside the dataset, another file, or none. */
async function pickLabels(ctx: Ctx, dataset: string): Promise<string | null | undefined> {
  const found = [...new Set([storeFileOf(ctx.config, dataset), storeFileFor(dataset)])].filter((f) => existsSync(f));
  const items: (vscode.QuickPickItem & { file?: string | null })[] = [
    ...found.map((f) => ({ label: path.basename(f), description: 'capability labels found beside the dataset', detail: f, file: f })),
    { label: '$(file) Choose a Label Store…', file: undefined },
    { label: 'No Labels', description: 'baselines only (DMoERM needs capability labels)', file: null },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Train a reward model (2/6): capability labels' });
  if (picked === undefined) return undefined;
  if (picked.file !== undefined) return picked.file;
  const chosen = await vscode.window.showOpenDialog({ title: 'Label store (.labels.jsonl)', canSelectMany: false, defaultUri: vscode.Uri.file(path.dirname(dataset)), filters: { 'Label stores': ['jsonl'] } });
  return chosen?.[0]?.fsPath;
}

async function pickOne<T extends string>(title: string, values: readonly T[], current: T, describe: (v: T) => string | undefined): Promise<T | undefined> {
  const items = values.map((v) => ({ label: v, description: v === current ? `default${describe(v) ? ` · ${describe(v)}` : ''}` : describe(v), value: v }));
  items.sort((a, b) => Number(b.value === current) - Number(a.value === current));
  return (await vscode.window.showQuickPick(items, { title }))?.value;
}

/** Every question of the Train command; undefined when one was dismissed. */
async function askOptions(ctx: Ctx, dataset: string): Promise<TrainOptions | undefined> {
  const labels = await pickLabels(ctx, dataset);
  if (labels === undefined) return undefined;
  const methods = METHODS.filter((m) => labels !== null || !METHODS_NEEDING_LABELS.includes(m));
  const method = await pickOne('Train a reward model (3/6): method', methods, methods[0], (m) => METHOD_DETAIL[m]);
  if (method === undefined) return undefined;
  const preset = await pickOne('Train a reward model (4/6): model size', PRESET_NAMES, ctx.config.trainingPreset, (p) => (p === 'tiny' ? 'fast, for trying things out' : 'the default encoder size'));
  if (preset === undefined) return undefined;
  const backend = await pickOne('Train a reward model (5/6): backend', TRAIN_BACKENDS, ctx.config.trainingBackend, (b) =>
    b === 'auto'
      ? 'PyTorch when set up, else the best TensorFlow.js backend that loads'
      : b === 'torch'
        ? `PyTorch trainer, on the GPU when there is one${trainerPython(ctx) ? '' : ' (Set Up PyTorch Training… first)'}`
        : b === 'tfjs-node-gpu'
          ? 'CUDA 11.2 + cuDNN 8.1 (Install GPU Training Backend)'
          : b === 'tfjs-node'
            ? 'native CPU (Install Native Training Backend)'
            : undefined,
  );
  if (backend === undefined) return undefined;
  const baseChoice = await vscode.window.showQuickPick(
    [
      { label: 'From Scratch', description: 'a new encoder of the preset size', base: false },
      { label: '$(folder-opened) Pre-trained Encoder…', description: 'a folder with config.json, model.safetensors, tokenizer.json', base: true },
    ],
    { title: 'Train a reward model (6/6): starting point' },
  );
  if (baseChoice === undefined) return undefined;
  let base: string | undefined;
  if (baseChoice.base) {
    base = (await vscode.window.showOpenDialog({ title: 'Pre-trained BERT-family encoder', canSelectFiles: false, canSelectFolders: true, canSelectMany: false }))?.[0]?.fsPath;
    if (base === undefined) return undefined;
  }
  const out = await vscode.window.showInputBox({
    title: 'Run folder',
    prompt: 'Where the run writes its checkpoints, metrics and model card (an existing run folder of the same configuration resumes)',
    value: defaultRunFolder(ctx.config, dataset, method),
    validateInput: (v) => (v.trim() === '' ? 'a folder path' : undefined),
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
  if (!existsSync(dataset)) return notStarted(ctx, `${dataset}: no such file`);
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
  if (METHODS_NEEDING_LABELS.includes(options.method) && options.labels === undefined) return notStarted(ctx, `method ${options.method} needs capability labels: label the dataset first ("Label Capability Points…")`);
  return runTraining(ctx, options);
}

export async function resumeCommand(ctx: Ctx, arg: unknown): Promise<TrainCommandResult> {
  const blocked = trainingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) return notStarted(ctx, blocked, manageTrust);
  const run = runArg(arg) ?? (await pickRun(ctx, 'Resume training', (r) => r.state === 'stopped', 'no stopped training run to resume (finished and running runs are not listed).'));
  if (run === undefined) return { outcome: 'not-started', reason: 'no run chosen' };
  let options: TrainOptions;
  try {
    options = resumeOptions(run, { backend: ctx.config.trainingBackend, maxMinutes: ctx.config.trainingMaxMinutes });
  } catch (e) {
    return notStarted(ctx, `cannot resume ${path.basename(run)}: ${errorMessage(e)}`);
  }
  return runTraining(ctx, options);
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

function progressMessage(e: { phase: string; expert?: string; step: number; totalSteps: number; loss: number; valAcc?: number }): string {
  return `${e.phase}${e.expert ? ` · ${e.expert}` : ''}: step ${e.step}/${e.totalSteps}, loss ${e.loss.toFixed(3)}${e.valAcc !== undefined ? `, val acc ${pct(e.valAcc)}` : ''}`;
}

/** Runs the worker on `options` under a cancellable notification; tells the user how it ended. */
export async function runTraining(ctx: Ctx, requested: TrainOptions): Promise<TrainCommandResult> {
  const run = path.resolve(requested.out);
  const name = path.basename(run);
  if (ctx.training.isRunning(run)) return notStarted(ctx, `a training process is already running on ${name}`);
  const resolved = await resolveTrainBackend(ctx, requested);
  if ('problem' in resolved) return notStarted(ctx, resolved.problem, { title: 'Set Up PyTorch Training…', run: () => vscode.commands.executeCommand(CommandId.SetUpTorchTraining) });
  // Edits are applied by default (src/core/curation); the setting turns them off for this run.
  const options = ctx.config.curationApplyEdits ? resolved : { ...resolved, noEdits: true };
  ctx.log.info(`training ${options.method} on ${options.dataset} into ${run} (preset ${options.preset}, backend ${options.backend})`);
  const showLog = { title: 'Show Log', run: () => ctx.log.show(true) };
  const resume = { title: 'Resume', run: () => vscode.commands.executeCommand(CommandId.ResumeTraining, run) };
  const chart = { title: 'Show Chart', run: () => TrainingChartPanel.createOrShow(ctx, run) };
  const card = { title: 'Open Model Card', run: () => vscode.commands.executeCommand(CommandId.OpenModelCard, run) };
  const tell = (kind: 'info' | 'warning' | 'error', message: string, ...actions: { title: string; run: () => unknown }[]): void => {
    const fn = kind === 'info' ? vscode.window.showInformationMessage : kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    void fn(`RewardLens: ${message}`, ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
  };

  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RewardLens: training ${name}`, cancellable: true }, async (progress, token) => {
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
      progress.report({ message: 'stopping at the next step…' });
      proc.cancel();
    });
    let last = 0;
    const events = ctx.training.onDidEvent(({ run: r, event: e }) => {
      if (r !== run || cancelled) return;
      if (e.type === 'phase') progress.report({ message: `${e.phase}${e.expert ? ` · ${e.expert}` : ''}: ${e.message}` });
      else if (e.type === 'progress') {
        const now = Date.now();
        if (now - last < 250 && e.step < e.totalSteps) return;
        last = now;
        progress.report({ message: progressMessage(e) });
      }
    });
    try {
      const summary = await proc.done;
      if (cancelled) {
        tell('warning', `training ${name} stopped; the last checkpoint is kept. Resume to go on.`, resume, chart);
        return { outcome: 'stopped', run };
      }
      const acc = summary.evaluation ? `; held-out accuracy ${pct(summary.evaluation.overall)} on ${summary.evaluation.pairs} pairs` : '';
      ctx.log.info(`${name}: ${summary.method} finished in ${Math.round(summary.seconds)} s on ${summary.backend}${summary.truncated ? ' (time budget reached)' : ''}${acc}`);
      tell('info', `trained ${name} (${summary.method}, ${summary.device ?? summary.backend}${summary.truncated ? ', stopped early by the time budget' : ''})${acc}.`, chart, card);
      return { outcome: 'finished', run, summary };
    } catch (e) {
      if (e instanceof WorkerCancelledError || (cancelled && !(e instanceof WorkerDiedError))) {
        tell('warning', `training ${name} stopped; the last checkpoint is kept. Resume to go on.`, resume, chart);
        return { outcome: 'stopped', run };
      }
      if (e instanceof WorkerDiedError) {
        ctx.log.error(`${name}: ${e.message}; last output:\n${e.logTail}`);
        tell('error', `${e.message}. The run folder keeps its last checkpoint (${RUN_FILES.log} has the process's output).`, showLog, resume);
        return { outcome: 'failed', run, message: e.message, died: true };
      }
      const message = errorMessage(e);
      ctx.log.error(`${name}: training failed: ${message}${e instanceof WorkerFailedError && e.workerStack ? `\n${e.workerStack}` : ''}`);
      tell('error', `training ${name} failed: ${message}`, showLog);
      return { outcome: 'failed', run, message, died: false };
    } finally {
      cancel.dispose();
      events.dispose();
    }
  });
}

export type EvaluateCommandResult = { outcome: 'not-started'; reason: string } | { outcome: 'evaluated'; run: string; testFile: string; result: EvalResult } | { outcome: 'failed'; run: string; message: string };

export async function evaluateCommand(ctx: Ctx, arg: unknown, testArg: unknown): Promise<EvaluateCommandResult> {
  const blocked = trainingBlockedReason(vscode.workspace.isTrusted);
  if (blocked !== undefined) {
    notStarted(ctx, blocked, manageTrust);
    return { outcome: 'not-started', reason: blocked };
  }
  const run = runArg(arg) ?? (await pickRun(ctx, 'Evaluate a run', (r) => r.state === 'finished', 'no finished training run to evaluate.'));
  if (run === undefined) return { outcome: 'not-started', reason: 'no run chosen' };
  const testFile =
    uriArg(testArg)?.fsPath ??
    (await vscode.window.showOpenDialog({ title: `Test set for ${path.basename(run)}`, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri, filters: { 'Preference datasets': ['jsonl', 'json'], 'All files': ['*'] } }))?.[0]?.fsPath;
  if (testFile === undefined) return { outcome: 'not-started', reason: 'no test file chosen' };
  const name = path.basename(run);
  let proc;
  try {
    proc = ctx.training.evaluate(run, testFile);
  } catch (e) {
    notStarted(ctx, errorMessage(e));
    return { outcome: 'not-started', reason: errorMessage(e) };
  }
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RewardLens: evaluating ${name} on ${path.basename(testFile)}`, cancellable: true }, async (_progress, token) => {
    const cancel = token.onCancellationRequested(() => proc.cancel());
    try {
      const result = await proc.done;
      ctx.log.info(`${name} on ${testFile}: ${pct(result.overall)} of ${result.pairs} pairs`);
      TrainingChartPanel.createOrShow(ctx, run, { evaluation: { source: path.basename(testFile), result } });
      void vscode.window.showInformationMessage(`RewardLens: ${name} agrees with ${pct(result.overall)} of ${result.pairs} human preference pairs in ${path.basename(testFile)}.`);
      return { outcome: 'evaluated', run, testFile, result };
    } catch (e) {
      const message = errorMessage(e);
      ctx.log.error(`evaluating ${name} failed: ${message}`);
      void vscode.window.showErrorMessage(`RewardLens: evaluating ${name} failed: ${message}`, 'Show Log').then((p) => (p ? ctx.log.show(true) : undefined));
      return { outcome: 'failed', run, message };
    } finally {
      cancel.dispose();
    }
  });
}
