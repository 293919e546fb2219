import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportPointsJsonl } from '../../../core/labelling/export';
import type { PointsConfig } from '../../../core/labelling/points';
import { resolvePoints, storeReport } from '../../../core/labelling/setup';
import { readStore } from '../../../core/labelling/store';
import type { DatasetState } from '../../../../webview/lib/state';
import { isDatasetState } from '../../../../webview/lib/state';
import { ExportPoints, LabelDataset, LabelsBusy, LabelsReady, labelsViewType, RefreshLabels, UpdateLabels } from '../../../../webview/labels-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import { errorMessage } from '../../../core/error-message';
import type { DatasetChange, IndexedDataset } from '../../datasets/registry';
import { datasetPath, resolveConfigFile, storeFileOf } from '../../labelling/paths';
import { DatasetPanel, offerToOpen } from '../dataset-panel';
import { PanelSlot } from '../host';

/**
 * The Label Report: what a dataset's label store holds, per source × category × capability point
 * (asked, consistent, inconsistent, invalid, kept, human agreement), with the points.jsonl export.
 */
export class LabelReportPanel extends DatasetPanel {
  static readonly slot = new PanelSlot<LabelReportPanel, DatasetState>(labelsViewType, isDatasetState);

  static createOrShow(ctx: Ctx, uri: vscode.Uri): LabelReportPanel {
    const reuse = (current: LabelReportPanel): void => {
      // Another dataset: retarget() refreshes; the same one: read its store again.
      const same = current.uri?.toString() === uri.toString();
      current.retarget(uri);
      current.panel.reveal();
      if (same) void current.sendUpdate();
    };
    return LabelReportPanel.slot.show(reuse, vscode.l10n.t('Label Report'), vscode.ViewColumn.Active, (panel) => new LabelReportPanel(ctx, panel, uri));
  }

  /** Restores the panel after a window reload; registered once at activation. */
  static register(ctx: Ctx): void {
    LabelReportPanel.slot.register(ctx, (panel, state) => new LabelReportPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true)));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'labels', title: vscode.l10n.t('Labels'), ready: LabelsReady });
    ctx.labelling.onDidFinish(
      (key) => {
        if (key === this.uri?.toString()) void this.sendUpdate();
      },
      null,
      this.disposables,
    );
    this.on(RefreshLabels, () => void this.sendUpdate());
    this.on(ExportPoints, () => void this.exportPoints());
    this.on(LabelDataset, () => {
      if (this.dataset !== undefined) void vscode.commands.executeCommand(CommandId.LabelCapabilities, this.dataset.key);
    });
  }

  protected onReady(): void {
    void this.sendUpdate();
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (!this.ready || change?.kind === 'indexing') return;
    void this.sendUpdate();
  }

  /** The points config of the settings (for human agreement by aspect); the defaults when it cannot be read. */
  private points(file: string): PointsConfig | undefined {
    const setting = this.ctx.config.labellingPointsConfig;
    if (setting === undefined) return undefined;
    const r = resolvePoints(resolveConfigFile(setting, file));
    if (r.ok) return r.value;
    this.ctx.log.warn(`label report: the points config has errors (run the label command to see them); using the defaults`);
    return undefined;
  }

  private async sendUpdate(): Promise<void> {
    if (!this.ready) return;
    if (this.uri === undefined) {
      this.post(UpdateLabels({ message: vscode.l10n.t('No dataset: open a .jsonl file and run "RewardLens: Show Label Report".') }));
      return;
    }
    const uri = this.uri;
    this.post(LabelsBusy({ busy: true }));
    const d = await this.ensureDataset();
    if (uri !== this.uri) return;
    this.post(LabelsBusy({ busy: false }));
    if (d === undefined) {
      const reason = this.ctx.datasets.errorOf(uri);
      this.post(
        UpdateLabels({
          message:
            reason !== undefined
              ? vscode.l10n.t('Not indexed: {0}', reason)
              : vscode.l10n.t('The dataset is not open any more. Open it again to see its labels.'),
        }),
      );
      return;
    }
    const file = datasetPath(d);
    if (file === undefined) {
      this.post(UpdateLabels({ message: vscode.l10n.t('{0} is not a file on disk, so it has no label store.', d.name) }));
      return;
    }
    const store = storeFileOf(this.ctx.config, file);
    try {
      const report = storeReport(store, { dataset: d.dataset, points: this.points(file) });
      this.post(UpdateLabels({ data: { uri: d.key, name: d.name, store, storeExists: existsSync(store), report } }));
    } catch (e) {
      this.ctx.log.warn(`label report of ${d.name}: ${errorMessage(e)}`);
      this.post(UpdateLabels({ message: vscode.l10n.t('Cannot read the label store {0}: {1}', store, errorMessage(e)) }));
    }
  }

  private async exportPoints(): Promise<void> {
    const d: IndexedDataset | undefined = this.dataset;
    const file = d ? datasetPath(d) : undefined;
    if (d === undefined || file === undefined) return;
    const store = storeFileOf(this.ctx.config, file);
    const target = await this.askExportFile(vscode.l10n.t('Export kept labels as DMoERM points.jsonl'), 'points');
    if (target === undefined) return;
    try {
      const summary = exportPointsJsonl(readStore(store), d.dataset, target.fsPath);
      const missing = summary.missingRecords ? vscode.l10n.t(' ({0} labels left out: their records changed)', summary.missingRecords) : '';
      this.ctx.log.info(`exported ${summary.written} labels of ${d.name} to ${summary.out}${missing}`);
      await offerToOpen(target, vscode.l10n.t('RewardLens: {0} labels exported to {1}{2}.', summary.written, path.basename(summary.out), missing));
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('cannot export the labels of {0}', d.name), e);
    }
  }
}
