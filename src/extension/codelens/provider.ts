import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { DatasetLensProvider } from './dataset-lenses';
import type { IndexedDataset } from '../datasets/registry';
import { lensTitle, snippet } from '../presentation/format';
import { scoreLensTitle, scoreLensTooltip } from '../scoring/format';
import { RewardModel } from '../scoring/reward-model';
import { errorMessage } from '../../core/error-message';

/** A lens on a record's first line; its text is computed in `resolveCodeLens`, for visible lenses only. */
export class RecordLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly dataset: IndexedDataset,
    readonly index: number,
  ) {
    super(range);
  }
}

/** The reward model's scores of a record, beside its `RecordLens`; placed only while a model is set. */
export class ScoreLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly dataset: IndexedDataset,
    readonly index: number,
  ) {
    super(range);
  }
}

const TITLE_CHARS = 120;

/**
 * Lenses for every record of an indexed document. `provideCodeLenses` only places them (one typed
 * array lookup per record); reading and mapping the record happens in `resolveCodeLens`.
 */
export class RecordCodeLensProvider extends DatasetLensProvider implements vscode.CodeLensProvider<RecordLens | ScoreLens> {
  constructor(ctx: Ctx) {
    super(ctx, ctx.rewardModel.onDidChange);
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<Array<RecordLens | ScoreLens>> {
    const indexed = await this.ctx.datasets.forDocument(doc, token);
    if (indexed === undefined || token.isCancellationRequested) return [];
    const { dataset } = indexed;
    const scored = this.ctx.rewardModel.file !== undefined;
    const lenses: Array<RecordLens | ScoreLens> = [];
    for (let i = 0; i < dataset.size; i++) {
      if ((i & 0x3ff) === 0 && token.isCancellationRequested) return [];
      const line = dataset.lineOf(i) - 1;
      if (line >= doc.lineCount) break;
      const range = new vscode.Range(line, 0, line, 0);
      lenses.push(new RecordLens(range, indexed, i));
      if (scored) lenses.push(new ScoreLens(range, indexed, i));
    }
    return lenses;
  }

  resolveCodeLens(lens: RecordLens | ScoreLens, token: vscode.CancellationToken): RecordLens | Promise<ScoreLens> {
    if (lens instanceof ScoreLens) return this.resolveScore(lens, token);
    if (token.isCancellationRequested) return lens;
    const args = [lens.dataset.key, lens.index];
    try {
      const view = lens.dataset.dataset.read(lens.index);
      if (view.record === undefined) {
        const reason = view.problems[0]?.reason ?? vscode.l10n.t('not a record');
        lens.command = { title: `$(error) ${snippet(reason, TITLE_CHARS)}`, command: CommandId.OpenRecord, arguments: args, tooltip: reason };
        return lens;
      }
      const warnings = view.problems.length;
      const title = lensTitle(view.record) + (warnings > 0 ? ` · $(warning) ${warnings}` : '');
      lens.command = { title, command: CommandId.OpenRecord, arguments: args, tooltip: vscode.l10n.t('Open the record in the RewardLens record browser') };
    } catch (e) {
      // The index was replaced (and its file closed) between placing and resolving the lens.
      lens.command = { title: vscode.l10n.t('re-indexing…'), command: '' };
      this.ctx.log.debug(`lens ${lens.index}: ${errorMessage(e)}`);
    }
    return lens;
  }

  /** Scores are batched across the lenses VS Code resolves together (the visible ones), and cached. */
  private async resolveScore(lens: ScoreLens, token: vscode.CancellationToken): Promise<ScoreLens> {
    const model = this.ctx.rewardModel;
    try {
      const scored = await model.score(lens.dataset, lens.index, token);
      if (scored === undefined || token.isCancellationRequested) {
        lens.command = { title: '', command: '' };
        return lens;
      }
      const m = model.manifest;
      const name = RewardModel.displayName(model.file ?? '');
      // The breakdown of this record; changing the model stays one click away in the status bar.
      lens.command = {
        title: scoreLensTitle(scored.record, scored.score, m?.categories ?? []),
        command: CommandId.ShowRewardBreakdown,
        arguments: [lens.dataset.key, lens.index],
        tooltip: `${scoreLensTooltip(name, scored.record, scored.score)}\n${vscode.l10n.t('Click for the reward breakdown.')}`,
      };
    } catch (e) {
      const message = errorMessage(e);
      lens.command = {
        title: `$(warning) ${vscode.l10n.t('reward model: {0}', snippet(message, TITLE_CHARS))}`,
        command: CommandId.SelectRewardModel,
        tooltip: message,
      };
    }
    return lens;
  }
}
