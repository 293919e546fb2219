import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { RewardModel } from './reward-model';

/** The reward model in the status bar (shown while one is set, or a dataset is open); a click selects another. */
export class RewardModelStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rewardlens.rewardModel', vscode.StatusBarAlignment.Left, 49);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(private readonly ctx: Ctx) {
    this.item.name = vscode.l10n.t('RewardLens Reward Model');
    this.item.command = CommandId.SelectRewardModel;
    this.disposables.push(
      ctx.rewardModel.onDidChange(() => this.update()),
      ctx.datasets.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
    );
    this.update();
  }

  /** What the window shows: the item's text, tooltip and command. */
  get shown(): Pick<vscode.StatusBarItem, 'text' | 'tooltip' | 'command'> {
    return this.item;
  }

  private update(): void {
    const item = this.item;
    const model = this.ctx.rewardModel;
    const file = model.file;
    if (file === undefined) {
      if (this.ctx.datasets.active === undefined) {
        item.hide();
        return;
      }
      item.text = `$(beaker) ${vscode.l10n.t('No reward model')}`;
      item.tooltip = vscode.l10n.t('Click to select an exported reward model: scores in CodeLens and hovers');
      item.show();
      return;
    }
    const name = RewardModel.displayName(file);
    const error = model.error;
    const tooltip = new vscode.MarkdownString();
    if (error !== undefined) {
      item.text = `$(warning) ${name}`;
      tooltip.appendText(`${vscode.l10n.t('Reward model {0} cannot be used: {1}', file, error)}\n\n`);
    } else {
      const m = model.manifest!;
      item.text = `$(beaker) ${name}`;
      tooltip.appendText(`${vscode.l10n.t('Reward model {0}', file)}\n\n${m.method}`);
      if (m.categories.length > 0) tooltip.appendText(` · ${vscode.l10n.t('categories: {0}', m.categories.join(', '))}`);
      tooltip.appendText('\n\n');
    }
    tooltip.appendText(vscode.l10n.t('Click to select another reward model'));
    item.tooltip = tooltip;
    item.show();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
