import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import type { PythonCandidate, PythonReport } from '../../core/training/python-env';
import { firstReadyPython, formatPythonReport, probePython } from '../../core/training/python-env';
import type { TrainOptions } from '../../core/training/types';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';

/**
 * The PyTorch trainer from the editor (docs/torch-trainer.md): which Python runs it — `rewardlens.python`, else
 * the interpreter the Python extension selected when it has the trainer's requirements, else the environment
 * "Set Up PyTorch Training…" makes in global storage — and what 'auto' trains with.
 */

function venvFolder(ctx: Ctx): string {
  return path.join(ctx.extCtx.globalStorageUri.fsPath, 'torch-venv');
}

function venvPython(folder: string): string {
  return process.platform === 'win32' ? path.join(folder, 'Scripts', 'python.exe') : path.join(folder, 'bin', 'python');
}

/**
 * The part of the Python extension's API (ms-python.python, `environments`, stable since 2023) used here:
 * typed by hand rather than through @vscode/python-extension, whose engines (Node ≥ 22.17) npm would warn
 * about on every install for two calls.
 */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(environment: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The interpreter the Python extension selected for the workspace, when it is installed. */
async function pythonExtensionInterpreter(ctx: Ctx): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const environments = api?.environments;
    if (!environments) return undefined;
    const env = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri));
    return env?.executable.uri?.fsPath;
  } catch (e) {
    ctx.log.warn(`the Python extension did not say which interpreter it selected: ${errorMessage(e)}`);
    return undefined;
  }
}

/** The interpreters to try, in order: rewardlens.python alone when set (the user's explicit choice). */
async function trainerPythons(ctx: Ctx): Promise<PythonCandidate[]> {
  if (ctx.config.python) return [{ python: ctx.config.python, source: 'rewardlens.python' }];
  const out: PythonCandidate[] = [];
  const selected = await pythonExtensionInterpreter(ctx);
  if (selected) out.push({ python: selected, source: vscode.l10n.t("the Python extension's interpreter") });
  const own = venvPython(venvFolder(ctx));
  if (existsSync(own)) out.push({ python: own, source: vscode.l10n.t('the environment of Set Up PyTorch Training') });
  return out;
}

/** Whether some interpreter is set up for the trainer (not whether it works: resolveTrainBackend probes). */
export function trainerPythonConfigured(ctx: Ctx): boolean {
  return Boolean(ctx.config.python) || existsSync(venvPython(venvFolder(ctx))) || vscode.extensions.getExtension('ms-python.python') !== undefined;
}

/**
 * The options as they will run: 'torch' gets its interpreter (or the reason it cannot run); 'auto' becomes
 * 'torch' where a Python with the trainer's requirements is set up, and stays TensorFlow.js's choice otherwise.
 */
export async function resolveTrainBackend(ctx: Ctx, options: TrainOptions): Promise<TrainOptions | { problem: string }> {
  if (options.backend !== 'torch' && options.backend !== 'auto') return options;
  const candidates = await trainerPythons(ctx);
  if (candidates.length === 0) {
    if (options.backend === 'auto') return options;
    return { problem: vscode.l10n.t('the PyTorch trainer needs a Python with torch: run "Set Up PyTorch Training…" or set rewardlens.python') };
  }
  const { ready, tried } = await firstReadyPython(candidates);
  for (const t of tried) ctx.log.info(`PyTorch trainer, ${t.source}: ${formatPythonReport(t.report).replace(/\n/g, '; ')}`);
  if (!ready) {
    if (options.backend === 'auto') return options;
    const why = tried.map((t) => `${t.python} (${t.source}): ${t.report.error ?? vscode.l10n.t('missing {0}', t.report.missing.join(', '))}`).join('; ');
    return { problem: vscode.l10n.t('no Python can run the PyTorch trainer — {0}: run "Set Up PyTorch Training…"', why) };
  }
  return { ...options, backend: 'torch', python: ready.python };
}

/** "Set Up PyTorch Training…": a venv in global storage with trainer/requirements.txt, with progress and cancel. */
export async function setUpTorchTraining(ctx: Ctx): Promise<PythonReport | undefined> {
  const folder = venvFolder(ctx);
  const requirements = vscode.Uri.joinPath(ctx.extensionUri, 'trainer', 'requirements.txt').fsPath;
  const base = ctx.config.python ?? (process.platform === 'win32' ? 'python' : 'python3');
  const install = vscode.l10n.t('Install');
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t('Set up PyTorch training?'),
    {
      modal: true,
      detail: vscode.l10n.t(
        'Creates a Python environment in {0} with "{1} -m venv" and installs {2} into it (torch, transformers, peft, safetensors: about 3.5 GB on Linux, where torch brings its CUDA libraries). Training with the backend "torch" or "auto" then runs there, on the GPU when torch sees one.',
        folder,
        base,
        requirements,
      ),
    },
    install,
  );
  if (answer !== install) return undefined;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('RewardLens: setting up PyTorch training'), cancellable: true },
    async (progress, token) => {
      const run = (cmd: string, args: string[], what: string): Promise<void> =>
        new Promise((resolve, reject) => {
          progress.report({ message: what });
          ctx.log.info(`${cmd} ${args.join(' ')}`);
          const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
          const cancel = token.onCancellationRequested(() => child.kill());
          const tail: string[] = [];
          for (const stream of [child.stdout, child.stderr]) {
            createInterface({ input: stream }).on('line', (line) => {
              ctx.log.info(`[pip] ${line}`);
              tail.push(line);
              if (tail.length > 5) tail.shift();
              // pip's "Collecting torch==…" / "Downloading …" lines are the progress a user wants to see.
              if (/^\s*(Collecting|Downloading|Installing|Successfully)/.test(line)) progress.report({ message: line.trim().slice(0, 120) });
            });
          }
          child.on('error', (e) => {
            cancel.dispose();
            reject(
              new Error(
                `${vscode.l10n.t('cannot run {0}: {1}', cmd, e.message)}${cmd === base ? vscode.l10n.t(' (install Python 3.10 or later, or set rewardlens.python)') : ''}`,
              ),
            );
          });
          child.on('close', (code) => {
            cancel.dispose();
            if (token.isCancellationRequested) reject(new vscode.CancellationError());
            else if (code === 0) resolve();
            else reject(new Error(vscode.l10n.t('{0} failed (exit {1}): {2}', what, code ?? '', tail.join(' ').slice(-400))));
          });
        });
      try {
        if (!existsSync(venvPython(folder))) await run(base, ['-m', 'venv', folder], vscode.l10n.t('creating {0}', folder));
        await run(
          venvPython(folder),
          ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirements],
          vscode.l10n.t('installing torch, transformers, peft, safetensors'),
        );
        const report = await probePython(venvPython(folder));
        ctx.log.info(formatPythonReport(report));
        if (!report.ready) throw new Error(report.error ?? `still missing ${report.missing.join(', ')}`);
        const where = report.cudaAvailable
          ? `${report.devices?.[0]?.name ?? 'cuda:0'}${report.devices?.[0]?.bf16 ? ' (bf16)' : ''}`
          : vscode.l10n.t('the CPU (torch sees no GPU)');
        void vscode.window.showInformationMessage(
          vscode.l10n.t('RewardLens: PyTorch training is set up (torch {0}); runs with the backend "torch" or "auto" train on {1}.', report.torch ?? '', where),
        );
        return report;
      } catch (e) {
        if (e instanceof vscode.CancellationError) {
          // A half-made environment stays: it does not pass the probe, so 'auto' keeps training with TensorFlow.js.
          void vscode.window.showWarningMessage(vscode.l10n.t('RewardLens: PyTorch set-up cancelled.'));
          return undefined;
        }
        ctx.showError(vscode.l10n.t('setting up PyTorch training failed'), e);
        return undefined;
      }
    },
  );
}
