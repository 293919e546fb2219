import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { openDataset } from '../datasets/open';
import type { DatasetChange, IndexedDataset } from '../datasets/registry';
import type { ViewSpec } from './host';
import { WebviewHost } from './host';
import { errorMessage } from '../../core/error-message';

/**
 * A view of one dataset at a time (overview, records, labels, best-of-n, disagreements, breakdown):
 * the panel is titled with the dataset's name, follows its re-indexing, and is retargeted to another
 * dataset by `createOrShow`.
 */
export abstract class DatasetPanel<R extends object = Record<string, never>> extends WebviewHost<R> {
  protected constructor(
    ctx: Ctx,
    panel: vscode.WebviewPanel,
    protected uri: vscode.Uri | undefined,
    view: ViewSpec<R>,
  ) {
    super(ctx, panel, view);
    this.updateTitle();
    ctx.datasets.onDidChange(
      (change) => {
        if (this.uri !== undefined && change.key === this.uri.toString()) this.onDatasetChange(change);
      },
      null,
      this.disposables,
    );
  }

  protected get dataset(): IndexedDataset | undefined {
    return this.uri ? this.ctx.datasets.get(this.uri) : undefined;
  }

  protected retarget(uri: vscode.Uri): void {
    const changed = this.uri?.toString() !== uri.toString();
    this.uri = uri;
    this.updateTitle();
    if (changed && this.ready) this.onDatasetChange(undefined);
  }

  private updateTitle(): void {
    this.panel.title = this.uri ? `${this.view.title}: ${path.posix.basename(this.uri.path)}` : this.view.title;
  }

  /** The shown dataset was (re-)indexed, is being indexed, failed or went away; `undefined`: a new dataset is shown. */
  protected abstract onDatasetChange(change: DatasetChange | undefined): void;

  /** The dataset, indexing it first if needed (a panel restored after a reload has none yet). */
  protected async ensureDataset(): Promise<IndexedDataset | undefined> {
    if (this.uri === undefined) return undefined;
    const known = this.dataset;
    if (known !== undefined) return known;
    try {
      return await openDataset(this.ctx, this.uri, { show: false });
    } catch (e) {
      this.ctx.log.warn(`cannot restore ${this.uri.toString(true)}: ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** Asks where to write an export of the dataset: `<name>.<kind>.jsonl` beside it unless the user picks another file. */
  protected askExportFile(title: string, kind: string): Thenable<vscode.Uri | undefined> {
    const file = this.uri?.scheme === 'file' ? this.uri.fsPath : undefined;
    return vscode.window.showSaveDialog({
      title,
      defaultUri:
        file === undefined
          ? undefined
          : vscode.Uri.file(path.join(path.dirname(file), `${path.basename(file).replace(/\.(jsonl?|json)$/i, '')}.${kind}.jsonl`)),
      filters: { [vscode.l10n.t('JSON Lines')]: ['jsonl'] },
    });
  }

  /** Shows `line` (1-based) of the dataset in an editor; files too large for extensions open through `vscode.open`. */
  protected async revealLine(line: number): Promise<void> {
    const d = this.dataset;
    if (d === undefined) return;
    const pos = new vscode.Position(Math.max(0, line - 1), 0);
    const selection = new vscode.Range(pos, pos);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === d.key);
    if (d.origin === 'document') {
      const doc = visible?.document ?? (await vscode.workspace.openTextDocument(d.uri));
      const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, selection, preview: false });
      editor.revealRange(selection, vscode.TextEditorRevealType.InCenter);
      return;
    }
    await vscode.commands.executeCommand('vscode.open', d.uri, { selection, viewColumn: vscode.ViewColumn.One, preview: false });
  }
}

/** Says an export was written, with a button that opens the file. */
export async function offerToOpen(file: vscode.Uri, message: string): Promise<void> {
  const open = vscode.l10n.t('Open File');
  if ((await vscode.window.showInformationMessage(message, open)) === open) await vscode.window.showTextDocument(file);
}
