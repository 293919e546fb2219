import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IpcMessage } from '../../../webview/lib/ipc';
import type { Ctx } from '../context';
import { openDataset } from '../datasets/open';
import type { DatasetChange, IndexedDataset } from '../datasets/registry';
import { webviewHtml, webviewOptions } from './html';
import { errorMessage } from '../../core/error-message';

/**
 * What the overview and the record browser share: one panel per view, showing one dataset at a
 * time, with the `_disposables` lifecycle of the webview sample. Subclasses add `createOrShow`
 * (a new panel, or the existing one retargeted) and `revive` (a panel restored after a reload).
 */
export abstract class DatasetPanel implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  /** The webview has loaded its script and said so; messages posted before are lost. */
  protected ready = false;
  private disposed = false;

  protected constructor(
    protected readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    protected uri: vscode.Uri | undefined,
    private readonly view: { script: string; title: string },
  ) {
    panel.webview.options = webviewOptions(ctx.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, ctx.extensionUri, view);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'rewardlens.svg');
    this.updateTitle();
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((msg: unknown) => this.receive(msg), null, this.disposables);
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

  protected post<P>(msg: IpcMessage<P>): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(msg);
  }

  private receive(msg: unknown): void {
    try {
      this.onMessage(msg);
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('{0} failed', this.view.title), e);
    }
  }

  /** Handles a message from the webview (untrusted input: use the protocol's guards). */
  protected abstract onMessage(msg: unknown): void;

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

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  protected abstract onDispose(): void;
}
