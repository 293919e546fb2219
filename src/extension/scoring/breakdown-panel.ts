import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PreferenceRecord } from '../../core/dataset/record';
import type { ExportManifest } from '../../core/export/manifest';
import type { ModelRecordScore } from '../../core/scoring/session';
import type { BreakdownData, BreakdownState } from '../../../webview/reward-breakdown-protocol';
import { BreakdownAction, BreakdownReady, rewardBreakdownViewType, UpdateBreakdown } from '../../../webview/reward-breakdown-protocol';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import type { DatasetChange, IndexedDataset } from '../datasets/registry';
import { DatasetPanel } from '../webviews/dataset-panel';
import { buildBreakdown } from './breakdown';
import { RewardModel } from './reward-model';

function isState(state: unknown): state is BreakdownState {
  const s = state as BreakdownState | null;
  return typeof s === 'object' && s !== null && typeof s.uri === 'string' && Number.isInteger(s.index) && s.index >= 0;
}

/**
 * "Show Reward Breakdown": one record scored by the reward model of `rewardlens.scoring.model` —
 * router, reward and capability scores per response, ensemble members, the conversation. One panel,
 * retargeted to the record asked for (the score lens opens it); rescored when the model changes.
 */
export class RewardBreakdownPanel extends DatasetPanel {
  static current: RewardBreakdownPanel | undefined;
  private index: number | undefined;
  /** The scoring in flight: a newer update or a closed panel cancels it. */
  private scoring: vscode.CancellationTokenSource | undefined;
  /** What was last posted (the integration tests read it through the API). */
  lastData: BreakdownData | undefined;
  lastMessage: string | undefined;

  static createOrShow(ctx: Ctx, uri: vscode.Uri, index: number): RewardBreakdownPanel {
    let current = RewardBreakdownPanel.current;
    if (current === undefined) {
      const panel = vscode.window.createWebviewPanel(rewardBreakdownViewType, vscode.l10n.t('Reward Breakdown'), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {});
      current = RewardBreakdownPanel.current = new RewardBreakdownPanel(ctx, panel, uri, index);
    } else {
      current.panel.reveal(undefined, true);
      current.index = index;
      current.retarget(uri);
      current.showRecordInTitle();
      // retarget updates only when the dataset changes; another record of the same dataset needs it too.
      void current.update();
    }
    return current;
  }

  static register(ctx: Ctx): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(rewardBreakdownViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          RewardBreakdownPanel.current?.dispose();
          const ok = isState(state);
          RewardBreakdownPanel.current = new RewardBreakdownPanel(ctx, panel, ok ? vscode.Uri.parse(state.uri, true) : undefined, ok ? state.index : undefined);
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => RewardBreakdownPanel.current?.dispose() });
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined, index: number | undefined) {
    super(ctx, panel, uri, { script: 'reward-breakdown', title: vscode.l10n.t('Reward Breakdown') });
    this.index = index;
    this.showRecordInTitle();
    ctx.rewardModel.onDidChange(() => void this.update(), null, this.disposables);
  }

  private showRecordInTitle(): void {
    if (this.uri !== undefined && this.index !== undefined) this.panel.title = vscode.l10n.t('Reward: {0} #{1}', path.posix.basename(this.uri.path), this.index + 1);
  }

  protected onMessage(msg: unknown): void {
    switch (true) {
      case BreakdownReady.is(msg):
        this.ready = true;
        void this.update();
        break;
      case BreakdownAction.is(msg):
        this.act(msg.params.action);
        break;
      default:
        this.ctx.log.warn(`reward breakdown: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
    }
  }

  private act(action: string): void {
    const d = this.dataset;
    const index = this.index;
    if (action === 'selectModel') void vscode.commands.executeCommand(CommandId.SelectRewardModel);
    if (d === undefined || index === undefined || index >= d.dataset.size) return;
    if (action === 'reveal') void this.revealLine(d.dataset.lineOf(index));
    else if (action === 'json') void vscode.commands.executeCommand(CommandId.ShowRecordJson, d.key, index);
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (change?.kind === 'indexing') return;
    void this.update();
  }

  private show(message: string, pending = false): void {
    this.lastData = undefined;
    this.lastMessage = pending ? undefined : message;
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
      this.show(vscode.l10n.t('Record {0} (line {1}) cannot be scored: {2}.', index + 1, view.line, view.problems[0]?.reason ?? vscode.l10n.t('it is not a record')));
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
      this.post(UpdateBreakdown({ data: this.build(d, index, view.line, scored.record, scored.score, manifest, file) }));
    } catch (e) {
      if (!cts.token.isCancellationRequested) this.show(`${RewardModel.displayName(file)} cannot score record ${index + 1}: ${errorMessage(e)}`);
    }
  }

  private build(d: IndexedDataset, index: number, line: number, record: PreferenceRecord, score: ModelRecordScore, manifest: ExportManifest, file: string): BreakdownData {
    const data = buildBreakdown({ uri: d.key, dataset: d.name, index, line, record, score, manifest, modelFile: file, modelName: RewardModel.displayName(file), language: vscode.env.language });
    this.lastData = data;
    this.lastMessage = undefined;
    return data;
  }

  protected onDispose(): void {
    this.scoring?.cancel();
    this.scoring?.dispose();
    if (RewardBreakdownPanel.current === this) RewardBreakdownPanel.current = undefined;
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
    void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: put the cursor on a record of {0} (or click its score lens) to see its reward breakdown.', d.name));
    return undefined;
  }
  ctx.datasets.activeUri = d.uri;
  RewardBreakdownPanel.createOrShow(ctx, d.uri, index);
  return { uri: d.key, index };
}
