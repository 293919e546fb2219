import * as vscode from 'vscode';
import type { DatasetState } from '../../../../webview/lib/state';
import { isDatasetState } from '../../../../webview/lib/state';
import {
  BrowseRecords,
  IndexingState,
  OverviewReady,
  overviewViewType,
  ReindexDataset,
  RevealLine,
  UpdateOverview,
} from '../../../../webview/overview-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import type { DatasetChange } from '../../datasets/registry';
import { countByKind } from '../../../core/curation/journal';
import { journalOf, onDidChangeEdits } from '../../curation/edits';
import { DatasetPanel } from '../dataset-panel';
import { PanelSlot } from '../host';

/** The Dataset Overview: the index report (Table-2 statistics) and the problem list of one dataset. */
export class OverviewPanel extends DatasetPanel {
  static readonly slot = new PanelSlot<OverviewPanel, DatasetState>(overviewViewType, isDatasetState);

  static createOrShow(ctx: Ctx, uri: vscode.Uri): OverviewPanel {
    const reuse = (current: OverviewPanel): void => {
      current.retarget(uri);
      current.panel.reveal();
    };
    return OverviewPanel.slot.show(reuse, vscode.l10n.t('Dataset Overview'), vscode.ViewColumn.Active, (panel) => new OverviewPanel(ctx, panel, uri));
  }

  /** Restores the panel after a window reload; registered once at activation. */
  static register(ctx: Ctx): void {
    OverviewPanel.slot.register(ctx, (panel, state) => new OverviewPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true)));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'overview', title: vscode.l10n.t('Overview'), ready: OverviewReady });
    onDidChangeEdits(
      (key) => {
        if (this.ready && key === this.uri?.toString()) void this.sendUpdate();
      },
      null,
      this.disposables,
    );
    this.on(RevealLine, ({ line }) => void this.revealLine(line));
    this.on(BrowseRecords, ({ line }) => {
      const d = this.dataset;
      if (d === undefined) return;
      const at = line !== undefined ? d.dataset.recordAtLine(line) : -1;
      void vscode.commands.executeCommand(CommandId.BrowseRecords, d.key, at >= 0 ? at : undefined);
    });
    this.on(ReindexDataset, () => {
      if (this.dataset !== undefined) void vscode.commands.executeCommand(CommandId.Reindex, this.dataset.key);
    });
  }

  protected onReady(): void {
    void this.sendUpdate();
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
      this.post(
        UpdateOverview({
          message:
            reason !== undefined
              ? vscode.l10n.t('Not indexed: {0}', reason)
              : vscode.l10n.t('The dataset is not open any more. Open it again to see its overview.'),
        }),
      );
      return;
    }
    this.post(IndexingState({ busy: false }));
    const journal = journalOf(d);
    const edits = journal && journal.contents.lines.length > 0 ? countByKind(journal.contents) : undefined;
    this.post(
      UpdateOverview({ data: { uri: d.key, name: d.name, origin: d.origin, report: d.dataset.report, indexMs: d.indexMs, ...(edits ? { edits } : {}) } }),
    );
  }
}
