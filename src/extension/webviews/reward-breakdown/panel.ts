import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BreakdownState } from '../../../../webview/reward-breakdown-protocol';
import {
  BreakdownReady,
  ChangeBreakdownModel,
  isBreakdownState,
  OpenBreakdownJson,
  RevealBreakdownRecord,
  rewardBreakdownViewType,
  UpdateBreakdown,
} from '../../../../webview/reward-breakdown-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import { errorMessage } from '../../../core/error-message';
import type { DatasetChange, IndexedDataset } from '../../datasets/registry';
import { buildBreakdown } from '../../scoring/breakdown';
import { RewardModel } from '../../scoring/reward-model';
import { DatasetPanel } from '../dataset-panel';
import { PanelSlot } from '../host';

/**
 * "Show Reward Breakdown": one record scored by the reward model of `rewardlens.scoring.model` —
 * router, reward and capability scores per response, ensemble members, the conversation. One panel,
 * retargeted to the record asked for (the score lens opens it); rescored when the model changes.
 */
export class RewardBreakdownPanel extends DatasetPanel {
  static readonly slot = new PanelSlot<RewardBreakdownPanel, BreakdownState>(rewardBreakdownViewType, isBreakdownState);
  private index: number | undefined;
  /** The scoring in flight: a newer update or a closed panel cancels it. */
  private scoring: vscode.CancellationTokenSource | undefined;

  static createOrShow(ctx: Ctx, uri: vscode.Uri, index: number): RewardBreakdownPanel {
    const reuse = (current: RewardBreakdownPanel): void => {
      current.panel.reveal(undefined, true);
      current.index = index;
      current.retarget(uri);
      current.showRecordInTitle();
      // retarget updates only when the dataset changes; another record of the same dataset needs it too.
      void current.update();
    };
    return RewardBreakdownPanel.slot.show(
      reuse,
      vscode.l10n.t('Reward Breakdown'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      (panel) => new RewardBreakdownPanel(ctx, panel, uri, index),
    );
  }

  static register(ctx: Ctx): void {
    RewardBreakdownPanel.slot.register(ctx, (panel, state) => new RewardBreakdownPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true), state?.index));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined, index: number | undefined) {
    super(ctx, panel, uri, { script: 'reward-breakdown', title: vscode.l10n.t('Reward Breakdown'), ready: BreakdownReady });
    this.index = index;
    this.showRecordInTitle();
    ctx.rewardModel.onDidChange(() => void this.update(), null, this.disposables);
    this.on(ChangeBreakdownModel, () => void vscode.commands.executeCommand(CommandId.SelectRewardModel));
    this.on(RevealBreakdownRecord, () => {
      const at = this.shownRecord();
      if (at !== undefined) void this.revealLine(at.d.dataset.lineOf(at.index));
    });
    this.on(OpenBreakdownJson, () => {
      const at = this.shownRecord();
      if (at !== undefined) void vscode.commands.executeCommand(CommandId.ShowRecordJson, at.d.key, at.index);
    });
  }

  protected onReady(): void {
    void this.update();
  }

  /** The dataset and record shown, when the record is still there. */
  private shownRecord(): { d: IndexedDataset; index: number } | undefined {
    const { dataset: d, index } = this;
    return d !== undefined && index !== undefined && index < d.dataset.size ? { d, index } : undefined;
  }

  private showRecordInTitle(): void {
    if (this.uri !== undefined && this.index !== undefined)
      this.panel.title = vscode.l10n.t('Reward: {0} #{1}', path.posix.basename(this.uri.path), this.index + 1);
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (change?.kind === 'indexing') return;
    void this.update();
  }

  private show(message: string, pending = false): void {
    this.post(UpdateBreakdown(pending ? { pending: message } : { message }));
  }

  /** Scores the record with the current model and posts the breakdown (or why there is none). */
  private async update(): Promise<void> {
    if (!this.ready) return;
    this.scoring?.cancel();
    this.scoring?.dispose();
    const cts = (this.scoring = new vscode.CancellationTokenSource());
    const { uri, index } = this;
    if (uri === undefined || index === undefined) {
      this.show(vscode.l10n.t('No record: click the score lens of a record, or run "RewardLens: Show Reward Breakdown" with the cursor on a record.'));
      return;
    }
    const d = await this.ensureDataset();
    if (cts.token.isCancellationRequested) return;
    if (d === undefined) {
      this.show(`${path.posix.basename(uri.path)} is not open any more. Open it again to see the breakdown.`);
      return;
    }
    if (index >= d.dataset.size) {
      this.show(`${d.name} has ${d.dataset.size} records now; record ${index + 1} is gone.`);
      return;
    }
    const model = this.ctx.rewardModel;
    const file = model.file;
    if (file === undefined) {
      this.show(vscode.l10n.t('No reward model: run "RewardLens: Select Reward Model…" and pick an exported .onnx model.'));
      return;
    }
    const view = d.dataset.read(index);
    if (view.record === undefined) {
      this.show(
        vscode.l10n.t('Record {0} (line {1}) cannot be scored: {2}.', index + 1, view.line, view.problems[0]?.reason ?? vscode.l10n.t('it is not a record')),
      );
      return;
    }
    if (view.record.responses.length === 0) {
      this.show(vscode.l10n.t('Record {0} (line {1}) has no responses to score.', index + 1, view.line));
      return;
    }
    this.show(vscode.l10n.t('Scoring record {0} with {1}…', index + 1, RewardModel.displayName(file)), true);
    try {
      const scored = await model.score(d, index, cts.token, { wait: 'now' });
      if (cts.token.isCancellationRequested) return;
      const manifest = model.manifest;
      if (scored === undefined || manifest === undefined) {
        // The index was replaced or the model changed while scoring: their events bring a fresh update.
        return;
      }
      this.post(
        UpdateBreakdown({
          data: buildBreakdown({
            uri: d.key,
            dataset: d.name,
            index,
            line: view.line,
            record: scored.record,
            score: scored.score,
            manifest,
            modelFile: file,
            modelName: RewardModel.displayName(file),
            language: vscode.env.language,
          }),
        }),
      );
    } catch (e) {
      if (!cts.token.isCancellationRequested) this.show(`${RewardModel.displayName(file)} cannot score record ${index + 1}: ${errorMessage(e)}`);
    }
  }

  protected override onDispose(): void {
    this.scoring?.cancel();
    this.scoring?.dispose();
  }
}

/**
 * The command: the record `at` of `d`, else the record under the cursor when the active editor shows
 * `d`. Returns what it shows (`{uri, index}`), or undefined when there is no record to show.
 */
export function showRewardBreakdown(ctx: Ctx, d: IndexedDataset, at?: unknown): { uri: string; index: number } | undefined {
  let index = typeof at === 'number' && Number.isInteger(at) && at >= 0 ? at : undefined;
  if (index === undefined) {
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.uri.toString() === d.key) {
      const found = d.dataset.recordAtLine(editor.selection.active.line + 1);
      if (found >= 0) index = found;
    }
  }
  if (index === undefined || index >= d.dataset.size) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('RewardLens: put the cursor on a record of {0} (or click its score lens) to see its reward breakdown.', d.name),
    );
    return undefined;
  }
  ctx.datasets.activeUri = d.uri;
  RewardBreakdownPanel.createOrShow(ctx, d.uri, index);
  return { uri: d.key, index };
}
