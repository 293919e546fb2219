import * as vscode from 'vscode';
import { CommandId } from './command-id';
import type { Ctx } from './context';

/** The active dataset in the status bar (records, malformed); a click opens its overview. */
export class DatasetStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rewardlens.dataset', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private progress: { key: string; fraction?: number } | undefined;

  constructor(private readonly ctx: Ctx) {
    this.item.name = vscode.l10n.t('RewardLens Dataset');
    this.disposables.push(
      ctx.datasets.onDidChange((change) => {
        this.progress = change.kind === 'indexing' ? { key: change.key, fraction: change.fraction } : undefined;
        this.update();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
    );
    this.update();
  }

  private update(): void {
    const item = this.item;
    const editor = vscode.window.activeTextEditor;
    if (this.progress !== undefined) {
      const pct = this.progress.fraction !== undefined ? ` ${Math.floor(this.progress.fraction * 100)}%` : '';
      item.text = `$(sync~spin) ${vscode.l10n.t('Indexing…')}${pct}`;
      item.tooltip = vscode.l10n.t('RewardLens is indexing {0}', vscode.Uri.parse(this.progress.key, true).path.split('/').pop() ?? '');
      item.command = CommandId.ShowOutput;
      item.backgroundColor = undefined;
      item.show();
      return;
    }
    const failed = editor && this.ctx.datasets.isTracked(editor.document) ? this.ctx.datasets.errorOf(editor.document.uri) : undefined;
    if (failed !== undefined && this.ctx.datasets.get(editor!.document.uri) === undefined) {
      item.text = '$(warning) RewardLens';
      item.tooltip = vscode.l10n.t('Not indexed as a preference dataset: {0}', failed);
      item.command = CommandId.ShowOutput;
      item.show();
      return;
    }
    const active = this.ctx.datasets.active;
    if (active === undefined) {
      item.hide();
      return;
    }
    const r = active.dataset.report;
    item.text =
      `$(checklist) ${vscode.l10n.t('{0} records', r.records.toLocaleString('en-US'))}` +
      (r.malformed > 0 ? ` · $(error) ${vscode.l10n.t('{0} malformed', r.malformed)}` : '');
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(`${active.name}\n\n`);
    tooltip.appendText(
      `${r.adapter} (${r.format}) · ${vscode.l10n.t('{0} records · {1} malformed · {2} problems', r.records, r.malformed, r.problemCount)}\n\n`,
    );
    tooltip.appendMarkdown(vscode.l10n.t('Click to show the dataset overview'));
    item.tooltip = tooltip;
    item.command = { title: vscode.l10n.t('Show Dataset Overview'), command: CommandId.ShowOverview, arguments: [active.key] };
    item.show();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
