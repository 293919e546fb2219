import { createWriteStream } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readStore, mergedLabels } from '../../../core/labelling/store';
import type { DisagreementFilter, DisagreementRow, ScoredRecordInput } from '../../../core/scoring/disagreements';
import { exportLine, filterRows, findDisagreements } from '../../../core/scoring/disagreements';
import { humanPairs } from '../../../core/training/pairs';
import type { DisagreementsSummary, DisagreementView, PageQuery } from '../../../../webview/disagreements-protocol';
import type { DatasetState } from '../../../../webview/lib/state';
import { isDatasetState } from '../../../../webview/lib/state';
import {
  EditDisagreement,
  DisagreementsPage,
  DisagreementsProgress,
  DisagreementsReady,
  disagreementsViewType,
  ExportDisagreements,
  PAGE_SIZE,
  RequestPage,
  Rescore,
  RevealRecord,
  UpdateDisagreements,
} from '../../../../webview/disagreements-protocol';
import { abortOnCancel, isCancellation } from '../../cancellation';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import { errorMessage } from '../../../core/error-message';
import type { DatasetChange, IndexedDataset } from '../../datasets/registry';
import { datasetPath, storeFileOf } from '../../labelling/paths';
import { snippet } from '../../presentation/format';
import type { DatasetScores } from '../../scoring/dataset-scoring';
import { scoreDataset, whyNotScorable } from '../../scoring/dataset-scoring';
import { RewardModel } from '../../scoring/reward-model';
import { DatasetPanel, offerToOpen } from '../dataset-panel';
import { PanelSlot } from '../host';

/** Characters of each response shown in a row: enough to tell the two apart at a glance. */
const TEXT_CHARS = 120;

export type DisagreementsResult = { outcome: 'scored'; summary: DisagreementsSummary } | { outcome: 'not-scored'; reason: string };

/** Everything one scoring produced: the whole sorted list stays here; the webview gets pages. */
interface Scored {
  summary: DisagreementsSummary;
  rows: DisagreementRow[];
  /** The index build the rows' lines and texts were read from. */
  generation: number;
}

function filterOf(q: Omit<PageQuery, 'offset'>): DisagreementFilter {
  return { category: q.category, routerCategory: q.routerCategory, labelNoiseOnly: q.labelNoiseOnly };
}

/**
 * The disagreement explorer: scores the dataset with the reward model (scoreFile, in this process,
 * with progress and cancel), then lists the human pairs the model orders the other way, most
 * confident first, with label-noise candidates (src/core/scoring/disagreements.ts). Pages of
 * PAGE_SIZE rows go to the webview on request; a row opens its record's line in the editor.
 */
export class DisagreementsPanel extends DatasetPanel {
  static readonly slot = new PanelSlot<DisagreementsPanel, DatasetState>(disagreementsViewType, isDatasetState);

  private scored: Scored | undefined;
  private scoring: { abort: AbortController; done: Promise<DisagreementsResult> } | undefined;
  private lastMessage: string | undefined;
  private query: PageQuery = { offset: 0, labelNoiseOnly: false };

  /** Opens (or retargets) the panel and scores `uri`; resolves when scoring ends. */
  static createOrShow(ctx: Ctx, uri: vscode.Uri): Promise<DisagreementsResult> {
    const reuse = (current: DisagreementsPanel): void => {
      current.retarget(uri);
      current.panel.reveal();
    };
    return DisagreementsPanel.slot
      .show(reuse, vscode.l10n.t('Disagreements'), vscode.ViewColumn.Active, (panel) => new DisagreementsPanel(ctx, panel, uri))
      .score();
  }

  /** Restores the panel after a window reload (it scores again only when asked: scoring is not free). */
  static register(ctx: Ctx): void {
    DisagreementsPanel.slot.register(ctx, (panel, state) => new DisagreementsPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true)));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'disagreements', title: vscode.l10n.t('Disagreements'), ready: DisagreementsReady });
    this.on(RequestPage, (query) => void this.sendPage(query));
    this.on(RevealRecord, ({ line }) => {
      if (Number.isInteger(line) && line > 0) void this.reveal(line);
    });
    this.on(ExportDisagreements, (query) => void this.exportWithDialog(filterOf(query)));
    this.on(Rescore, () => void this.score());
    this.on(EditDisagreement, ({ index, a, b, action }) => {
      const d = this.dataset;
      if (d === undefined) return;
      if (action === 'flip') void vscode.commands.executeCommand(CommandId.FlipPreference, d.key, index, { a, b });
      else if (action === 'tag-noise') void vscode.commands.executeCommand(CommandId.TagRecord, d.key, index, 'label-noise');
    });
  }

  protected onReady(): void {
    this.sendState();
  }

  /** All rows of the last scoring, sorted (tests compare them with scoreFile). */
  get rows(): readonly DisagreementRow[] {
    return this.scored?.rows ?? [];
  }

  get summary(): DisagreementsSummary | undefined {
    return this.scored?.summary;
  }

  /** What a click on a row's line does: the record's line in an editor. */
  reveal(line: number): Promise<void> {
    return this.revealLine(line);
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (change === undefined) {
      // Another dataset: what was scored belongs to the old one.
      this.scoring?.abort.abort();
      this.scored = undefined;
      this.lastMessage = vscode.l10n.t('Scoring…');
      this.sendState();
      return;
    }
    if (change.kind === 'indexed' && this.scored !== undefined && change.dataset.generation !== this.scored.generation && !this.scored.summary.stale) {
      this.scored.summary = { ...this.scored.summary, stale: true };
      this.sendState();
    }
  }

  /** The summary and the current page, or the message; after the webview (re)loads and after scoring. */
  private sendState(): void {
    if (!this.ready) return;
    if (this.scored === undefined) {
      this.post(
        UpdateDisagreements({
          message:
            this.lastMessage ??
            (this.uri === undefined
              ? vscode.l10n.t('No dataset.')
              : vscode.l10n.t('Not scored yet: press Rescore, or run "RewardLens: Show Disagreements with Human Labels".')),
        }),
      );
      return;
    }
    this.post(UpdateDisagreements({ data: this.scored.summary }));
    this.sendPage(this.query);
  }

  /** One page of the filtered list, with the first words of each pair's responses read from the dataset now. */
  sendPage(q: PageQuery): { query: PageQuery; total: number; rows: DisagreementView[] } | undefined {
    if (this.scored === undefined) return undefined;
    const filtered = filterRows(this.scored.rows, filterOf(q));
    const offset = Math.max(0, Math.min(Math.floor(q.offset), Math.max(0, filtered.length - 1)));
    this.query = { ...q, offset: offset - (offset % PAGE_SIZE) };
    const d = this.dataset;
    const rows = filtered.slice(this.query.offset, this.query.offset + PAGE_SIZE).map((r) => ({ ...r, ...this.texts(d, r) }));
    const page = { query: this.query, total: filtered.length, rows };
    this.post(DisagreementsPage(page));
    return page;
  }

  private texts(d: IndexedDataset | undefined, r: DisagreementRow): { winnerText: string; loserText: string } {
    try {
      const record = d?.dataset.read(r.index).record;
      if (record?.id !== r.id) return { winnerText: '(record changed since scoring: rescore)', loserText: '' };
      return {
        winnerText: snippet(record.responses[r.humanWinner]?.text ?? '', TEXT_CHARS),
        loserText: snippet(record.responses[r.humanLoser]?.text ?? '', TEXT_CHARS),
      };
    } catch {
      return { winnerText: '(the dataset is being re-indexed)', loserText: '' };
    }
  }

  /** Scores the shown dataset with the configured reward model; a second call cancels the first. */
  score(): Promise<DisagreementsResult> {
    this.scoring?.abort.abort();
    const abort = new AbortController();
    const done = this.run(abort).finally(() => {
      if (this.scoring?.abort === abort) this.scoring = undefined;
    });
    this.scoring = { abort, done };
    return done;
  }

  private notScored(reason: string): DisagreementsResult {
    this.scored = undefined;
    this.lastMessage = reason;
    this.post(DisagreementsProgress({}));
    this.sendState();
    return { outcome: 'not-scored', reason };
  }

  private async run(abort: AbortController): Promise<DisagreementsResult> {
    const d = await this.ensureDataset();
    if (abort.signal.aborted) return { outcome: 'not-scored', reason: 'cancelled' };
    if (d === undefined) return this.notScored(vscode.l10n.t('The dataset is not open any more: open it again.'));
    const unscorable = whyNotScorable(d);
    if (unscorable !== undefined) return this.notScored(unscorable);
    const model = this.ctx.rewardModel.file;
    if (model === undefined) return this.notScored(vscode.l10n.t('No reward model: run "RewardLens: Select Reward Model…" (an exported .onnx), then Rescore.'));
    const loadError = this.ctx.rewardModel.error;
    if (loadError !== undefined) return this.notScored(vscode.l10n.t('The reward model cannot be used: {0}', loadError));

    this.scored = undefined;
    this.lastMessage = vscode.l10n.t('Scoring {0}…', d.name);
    this.sendState();
    const started = Date.now();
    const title = vscode.l10n.t('RewardLens: scoring {0} with {1}', d.name, RewardModel.displayName(model));
    try {
      const scored = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const cancel = abortOnCancel(token, abort);
        try {
          let reported = 0;
          const scores = await scoreDataset(
            d,
            [model],
            {
              signal: abort.signal,
              // A scorer of its own, with its own cache: a whole file's scores would push the editor's lenses out of the shared one.
              intraOpNumThreads: this.ctx.config.scoringThreads,
              onProgress: (_model, done, total) => {
                if (total === 0) return;
                const pct = (100 * done) / total;
                progress.report({ increment: pct - reported, message: vscode.l10n.t('{0}/{1} records', done, total) });
                reported = pct;
                this.post(
                  DisagreementsProgress({
                    text: vscode.l10n.t('Scoring {0}: {1} of {2} records', d.name, done.toLocaleString('en-US'), total.toLocaleString('en-US')),
                  }),
                );
                if (done === total) this.post(DisagreementsProgress({ text: vscode.l10n.t('Comparing with the human pairs and the capability labels…') }));
              },
            },
            (r): ScoredRecordInput | undefined => {
              const s = r.scores[0];
              return (
                s && {
                  index: r.index,
                  line: r.line,
                  id: s.id,
                  rewards: s.logits,
                  category: s.category,
                  datasetCategory: s.datasetCategory,
                  pairs: humanPairs(r.record, r.index).pairs,
                }
              );
            },
          );
          return this.compare(d, scores, started);
        } finally {
          cancel.dispose();
        }
      });
      this.scored = scored;
      this.query = { offset: 0, labelNoiseOnly: false };
      this.post(DisagreementsProgress({}));
      this.sendState();
      this.ctx.log.info(
        `disagreements of ${d.name}: ${scored.summary.disagreements} of ${scored.summary.pairs} human pairs, ${scored.summary.labelNoise} label-noise candidates (${scored.summary.seconds.toFixed(1)} s)`,
      );
      return { outcome: 'scored', summary: scored.summary };
    } catch (e) {
      if (abort.signal.aborted || isCancellation(e)) return this.notScored(vscode.l10n.t('Scoring was cancelled: press Rescore to start again.'));
      this.ctx.log.error(`disagreements of ${d.name}: ${errorMessage(e)}`);
      return this.notScored(vscode.l10n.t('Scoring failed: {0}', errorMessage(e)));
    }
  }

  /** The scored records' pairs against their capability labels: the sorted rows and the summary. */
  private compare(d: IndexedDataset, scores: DatasetScores<ScoredRecordInput>, started: number): Scored {
    const inputs = scores.rows;
    const pairs = inputs.reduce((n, r) => n + r.pairs.length, 0);
    const store = storeFileOf(this.ctx.config, scores.file);
    const labels = mergedLabels(readStore(store));
    const rows = findDisagreements(inputs, labels);
    const categories = [...new Set(rows.map((r) => r.datasetCategory))].sort();
    const routerCategories = [...new Set(rows.flatMap((r) => (r.routerCategory === undefined ? [] : [r.routerCategory])))].sort();
    const summary: DisagreementsSummary = {
      uri: d.key,
      name: d.name,
      model: scores.models[0].model,
      method: scores.models[0].method,
      records: scores.models[0].scored,
      pairs,
      disagreements: rows.length,
      labelNoise: rows.filter((r) => r.labelNoise).length,
      labelStore: labels.length > 0 ? store : undefined,
      labelledPairs: rows.filter((r) => r.verdicts.length > 0).length,
      categories,
      routerCategories,
      stale: false,
      seconds: (Date.now() - started) / 1000,
    };
    return { summary, rows, generation: scores.generation };
  }

  private async exportWithDialog(filter: DisagreementFilter): Promise<void> {
    const d = this.dataset;
    const file = d ? datasetPath(d) : undefined;
    if (this.scored === undefined || file === undefined) return;
    const target = await this.askExportFile(vscode.l10n.t('Export the listed disagreements as JSONL'), 'disagreements');
    if (target === undefined) return;
    try {
      const written = await this.exportTo(target.fsPath, filter);
      await offerToOpen(target, vscode.l10n.t('RewardLens: {0} disagreements exported to {1}.', written, path.basename(target.fsPath)));
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('cannot export the disagreements to {0}', target.fsPath), e);
    }
  }

  /** Writes the filtered rows, one JSON object a line (streamed: the list may hold 100k pairs); resolves with their number. */
  async exportTo(file: string, filter: DisagreementFilter = {}): Promise<number> {
    if (this.scored === undefined) throw new Error('nothing scored yet');
    const rows = filterRows(this.scored.rows, filter);
    const out = createWriteStream(file, { encoding: 'utf8' });
    const finished = new Promise<void>((resolve, reject) => {
      out.on('error', reject);
      out.on('finish', resolve);
    });
    // Handled below (awaited); this only keeps an early write error from counting as unhandled meanwhile.
    finished.catch(() => undefined);
    for (const r of rows) {
      // `finished` rejects on a write error, so a drain that never comes does not hang the export.
      if (!out.write(`${exportLine(r)}\n`)) await Promise.race([new Promise<void>((resolve) => out.once('drain', resolve)), finished]);
    }
    out.end();
    await finished;
    this.ctx.log.info(`exported ${rows.length} disagreements to ${file}`);
    return rows.length;
  }

  protected override onDispose(): void {
    this.scoring?.abort.abort();
  }
}
