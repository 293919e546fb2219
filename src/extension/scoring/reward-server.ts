import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { RewardModel } from './reward-model';

/**
 * "Start Reward Server…" / "Stop Reward Server" (docs/serve.md): `rewardlens serve` for the selected
 * reward model in its own process, so that a PPO run's load never stalls the editor, and a stop is the
 * CLI's SIGTERM drain. The URL is in the status bar; its log opens as a dataset.
 */

export interface StartServerOptions {
  /** 0: any free port; default: asked, 5000 offered. */
  port?: number;
  /** Default: the selected reward model. */
  model?: string;
}

const STOP_TIMEOUT_MS = 10_000;
const hosts = new WeakMap<Ctx, RewardServerHost>();

export class RewardServerHost implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rewardlens.rewardServer', vscode.StatusBarAlignment.Left, 48);
  private child?: ChildProcess;
  url?: string;
  logFile?: string;

  private constructor(private readonly ctx: Ctx) {
    this.item.name = vscode.l10n.t('RewardLens Reward Server');
    this.item.command = CommandId.StopRewardServer;
  }

  static of(ctx: Ctx): RewardServerHost {
    let host = hosts.get(ctx);
    if (!host) {
      host = ctx.push(new RewardServerHost(ctx));
      hosts.set(ctx, host);
    }
    return host;
  }

  async start(arg?: unknown): Promise<string | undefined> {
    const options = (typeof arg === 'object' && arg !== null ? arg : {}) as StartServerOptions;
    if (this.child) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The reward server is already running at {0}', this.url ?? ''));
      return this.url;
    }
    const model = options.model ?? this.ctx.rewardModel.file;
    if (model === undefined) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Select a reward model first (RewardLens: Select Reward Model…).'));
      return undefined;
    }
    let port = options.port;
    if (port === undefined) {
      const answer = await vscode.window.showInputBox({
        title: vscode.l10n.t('Start Reward Server for {0}', RewardModel.displayName(model)),
        prompt: vscode.l10n.t('Port on 127.0.0.1 (0: any free port). OpenRLHF: --remote_rm_url http://127.0.0.1:PORT/get_reward'),
        value: '5000',
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 65535 ? undefined : vscode.l10n.t('a port from 0 to 65535')),
      });
      if (answer === undefined) return undefined;
      port = Number(answer.trim());
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    this.logFile = folder?.scheme === 'file' ? path.join(folder.fsPath, '.rewardlens', 'serve', 'requests.jsonl') : undefined;
    if (this.logFile) mkdirSync(path.dirname(this.logFile), { recursive: true });
    const cli = vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'cli.js').fsPath;
    const args = ['serve', model, '--port', String(port), ...(this.logFile ? ['--log', this.logFile] : [])];
    const child = fork(cli, args, { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
      this.ctx.log.warn(d.toString().trimEnd());
    });
    const url = await new Promise<string | undefined>((resolve) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        this.ctx.log.info(d.toString().trimEnd());
        const m = /at (http:\/\/\S+)\/get_reward/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => resolve(undefined));
    });
    child.once('exit', (code) => {
      if (this.child === child) this.stopped(code);
    });
    if (url === undefined) {
      this.ctx.showError(vscode.l10n.t('the reward server did not start'), new Error(stderr.trim() || 'no output'));
      this.child = undefined;
      return undefined;
    }
    this.url = url;
    this.item.text = `$(radio-tower) ${url}`;
    this.item.tooltip = vscode.l10n.t('Reward server for {0}: POST {1}/get_reward. Click to stop it.', RewardModel.displayName(model), url);
    this.item.show();
    this.ctx.log.info(`reward server for ${model} at ${url}`);
    if (options.port === undefined) {
      const copy = vscode.l10n.t('Copy URL');
      const openLog = vscode.l10n.t('Open Request Log');
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Reward server at {0}/get_reward', url), copy, ...(this.logFile ? [openLog] : []))
        .then(async (choice) => {
          if (choice === copy) await vscode.env.clipboard.writeText(`${url}/get_reward`);
          if (choice === openLog && this.logFile) await vscode.commands.executeCommand(CommandId.OpenDataset, vscode.Uri.file(this.logFile));
        });
    }
    return url;
  }

  /** SIGTERM: the server answers what is in flight, then exits; a server that hangs is killed. */
  async stop(): Promise<boolean> {
    const child = this.child;
    if (!child) return false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    return true;
  }

  private stopped(code: number | null): void {
    this.child = undefined;
    this.url = undefined;
    this.item.hide();
    this.ctx.log.info(`reward server stopped (exit ${String(code)})`);
  }

  dispose(): void {
    this.child?.kill('SIGTERM');
    this.item.dispose();
  }
}
