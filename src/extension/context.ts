import * as vscode from 'vscode';
import { Config } from './config';
import { errorMessage } from '../core/error-message';
import { DatasetRegistry } from './datasets/registry';
import { Labelling } from './labelling/labelling';
import { RewardModel } from './scoring/reward-model';
import { Training } from './training/training';

/**
 * The extension's one context object: it owns every disposable (registrations, panels, the dataset
 * registry) and is itself owned by VS Code's `ExtensionContext`. Nothing registers without it.
 */
export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  readonly datasets: DatasetRegistry;
  /** The judge's key, labelling config diagnostics and running jobs. */
  readonly labelling: Labelling;
  /** Training and evaluation processes running now, and the runs started in this window. */
  readonly training: Training;
  /** The reward model of `rewardlens.scoring.model`, scoring records for CodeLens and hovers. */
  readonly rewardModel: RewardModel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extCtx: vscode.ExtensionContext) {
    extCtx.subscriptions.push(this);
    this.log = this.push(vscode.window.createOutputChannel('RewardLens', { log: true }));
    this.datasets = this.push(new DatasetRegistry(this.config, this.log));
    this.labelling = this.push(new Labelling(extCtx.secrets));
    this.training = this.push(new Training(extCtx, this.log));
    this.rewardModel = this.push(new RewardModel(this.config, this.log));
  }

  get extensionUri(): vscode.Uri {
    return this.extCtx.extensionUri;
  }

  /** Takes ownership of `d`: it is disposed with the extension. */
  push<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  /** Shows an error to the user (and logs it); never throws. `message` is translated by the caller (vscode.l10n.t). */
  showError(message: string, e?: unknown): void {
    const detail = e === undefined ? '' : `: ${errorMessage(e)}`;
    this.log.error(`${message}${detail}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('RewardLens: {0}', `${message}${detail}`));
  }

  dispose(): void {
    // Last registered first: features go before the registry and the log they use.
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (e) {
        console.error('RewardLens: dispose failed', e);
      }
    }
  }
}
