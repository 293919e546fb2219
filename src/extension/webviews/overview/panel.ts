import * as vscode from 'vscode';
import type { OverviewState } from '../../../../webview/overview-protocol';
import { BrowseRecords, IndexingState, OverviewReady, overviewViewType, ReindexDataset, RevealLine, UpdateOverview } from '../../../../webview/overview-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import type { DatasetChange } from '../../datasets/registry';
import { countByKind } from '../../../core/curation/journal';
import { journalOf, onDidChangeEdits } from '../../curation/edits';
import { DatasetPanel } from '../dataset-panel';

function isState(state: unknown): state is OverviewState {
  return typeof state === 'object' && state !== null && typeof (state as OverviewState).uri === 'string';
}

/** The Dataset Overview: the index report (Table-2 statistics) and the problem list of one dataset. */
export class OverviewPanel extends DatasetPanel {
  static current: OverviewPanel | undefined;

  static createOrShow(ctx: Ctx, uri: vscode.Uri): OverviewPanel {
    if (OverviewPanel.current !== undefined) {
      OverviewPanel.current.retarget(uri);
      OverviewPanel.current.panel.reveal();
      return OverviewPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(overviewViewType, vscode.l10n.t('Dataset Overview'), vscode.ViewColumn.Active, {});
    return (OverviewPanel.current = new OverviewPanel(ctx, panel, uri));
  }

  /** Restores panels after a window reload; registered once at activation. */
  static register(ctx: Ctx): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(overviewViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          OverviewPanel.current?.dispose();
          OverviewPanel.current = new OverviewPanel(ctx, panel, isState(state) ? vscode.Uri.parse(state.uri, true) : undefined);
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => OverviewPanel.current?.dispose() });
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'overview', title: vscode.l10n.t('Overview') });
    const edits = onDidChangeEdits((key) => {
      if (this.ready && key === this.uri?.toString()) void this.sendUpdate();
    });
    panel.onDidDispose(() => {
      edits.dispose();
    });
  }

  protected onMessage(msg: unknown): void {
    switch (true) {
      case OverviewReady.is(msg):
        this.ready = true;
        void this.sendUpdate();
        break;
      case RevealLine.is(msg):
        void this.revealLine(msg.params.line);
        break;
      case BrowseRecords.is(msg): {
        const d = this.dataset;
        if (d === undefined) break;
        const at = msg.params.line !== undefined ? d.dataset.recordAtLine(msg.params.line) : -1;
        void vscode.commands.executeCommand(CommandId.BrowseRecords, d.key, at >= 0 ? at : undefined);
        break;
      }
      case ReindexDataset.is(msg):
        if (this.dataset !== undefined) void vscode.commands.executeCommand(CommandId.Reindex, this.dataset.key);
        break;
      default:
        this.ctx.log.warn(`overview: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
    }
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (!this.ready) return;
    if (change?.kind === 'indexing') {
      this.post(IndexingState({ busy: true, fraction: change.fraction }));
      return;
    }
    void this.sendUpdate();
  }

  private async sendUpdate(): Promise<void> {
    if (this.uri === undefined) {
      this.post(UpdateOverview({ message: vscode.l10n.t('No dataset: open a .jsonl file or run "RewardLens: Open Dataset…".') }));
      return;
    }
    const uri = this.uri;
    if (this.dataset === undefined) this.post(IndexingState({ busy: true }));
    const d = await this.ensureDataset();
    if (uri !== this.uri) return;
    if (d === undefined) {
      const reason = this.ctx.datasets.errorOf(uri);
      this.post(UpdateOverview({ message: reason !== undefined ? vscode.l10n.t('Not indexed: {0}', reason) : vscode.l10n.t('The dataset is not open any more. Open it again to see its overview.') }));
      return;
    }
    this.post(IndexingState({ busy: false }));
    const journal = journalOf(d);
    const edits = journal && journal.contents.lines.length > 0 ? countByKind(journal.contents) : undefined;
    this.post(UpdateOverview({ data: { uri: d.key, name: d.name, origin: d.origin, report: d.dataset.report, indexMs: d.indexMs, ...(edits ? { edits } : {}) } }));
  }

  protected onDispose(): void {
    if (OverviewPanel.current === this) OverviewPanel.current = undefined;
  }
}
