import { createWriteStream } from 'node:fs';
import { CommandId } from '../command-id';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readStore, mergedLabels } from '../../core/labelling/store';
import type { DisagreementFilter, DisagreementRow, ScoredRecordInput } from '../../core/scoring/disagreements';
import { exportLine, filterRows, findDisagreements } from '../../core/scoring/disagreements';
import { scoreFile } from '../../core/scoring/score-file';
import { humanPairs } from '../../core/training/pairs';
import type { DisagreementsState, DisagreementsSummary, DisagreementView, PageQuery } from '../../../webview/disagreements-protocol';
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
} from '../../../webview/disagreements-protocol';
import type { Ctx } from '../context';
import { errorMessage } from '../../core/error-message';
import { isCancellation } from '../datasets/cancellation';
import type { DatasetChange, IndexedDataset } from '../datasets/registry';
import { datasetPath, storeFileOf } from '../labelling/paths';
import { snippet } from '../presentation/format';
import { RewardModel } from '../scoring/reward-model';
import { DatasetPanel } from '../webviews/dataset-panel';

function isState(state: unknown): state is DisagreementsState {
  return typeof state === 'object' && state !== null && typeof (state as DisagreementsState).uri === 'string';
}

/** Characters of each response shown in a row: enough to tell the two apart at a glance. */
const TEXT_CHARS = 120;
/** Records turned into pairs between two yields to the event loop (cancellation, other views). */
const CHUNK = 2000;

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
  static current: DisagreementsPanel | undefined;

  private scored: Scored | undefined;
  private scoring: { abort: AbortController; done: Promise<DisagreementsResult> } | undefined;
  private lastMessage: string | undefined;
  private query: PageQuery = { offset: 0, labelNoiseOnly: false };
  /** What was last posted (the integration tests read it through the API). */
  lastPage: { query: PageQuery; total: number; rows: DisagreementView[] } | undefined;

  /** Opens (or retargets) the panel and scores `uri`; resolves when scoring ends. */
  static createOrShow(ctx: Ctx, uri: vscode.Uri): Promise<DisagreementsResult> {
    let current = DisagreementsPanel.current;
    if (current !== undefined) {
      current.retarget(uri);
      current.panel.reveal();
    } else {
      const panel = vscode.window.createWebviewPanel(disagreementsViewType, vscode.l10n.t('Disagreements'), vscode.ViewColumn.Active, {});
      current = DisagreementsPanel.current = new DisagreementsPanel(ctx, panel, uri);
    }
    return current.score();
  }

  /** Restores the panel after a window reload (it scores again only when asked: scoring is not free). */
  static register(ctx: Ctx): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(disagreementsViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          DisagreementsPanel.current?.dispose();
          DisagreementsPanel.current = new DisagreementsPanel(ctx, panel, isState(state) ? vscode.Uri.parse(state.uri, true) : undefined);
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => DisagreementsPanel.current?.dispose() });
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'disagreements', title: vscode.l10n.t('Disagreements') });
  }

  /** All rows of the last scoring, sorted (tests compare them with scoreFile). */
  get rows(): readonly DisagreementRow[] {
    return this.scored?.rows ?? [];
  }

  get summary(): DisagreementsSummary | undefined {
    return this.scored?.summary;
  }

  protected onMessage(msg: unknown): void {
    switch (true) {
      case DisagreementsReady.is(msg):
        this.ready = true;
        this.sendState();
        break;
      case RequestPage.is(msg):
        this.sendPage(msg.params);
        break;
      case RevealRecord.is(msg):
        if (Number.isInteger(msg.params.line) && msg.params.line > 0) void this.reveal(msg.params.line);
        break;
      case ExportDisagreements.is(msg):
        void this.exportWithDialog(filterOf(msg.params));
        break;
      case Rescore.is(msg):
        void this.score();
        break;
      case EditDisagreement.is(msg): {
        const d = this.dataset;
        if (d === undefined) break;
        const { index, a, b, action } = msg.params;
        if (action === 'flip') void vscode.commands.executeCommand(CommandId.FlipPreference, d.key, index, { a, b });
        else if (action === 'tag-noise') void vscode.commands.executeCommand(CommandId.TagRecord, d.key, index, 'label-noise');
        break;
      }
      default:
        this.ctx.log.warn(`disagreements: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
    }
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
      this.post(UpdateDisagreements({ message: this.lastMessage ?? (this.uri === undefined ? vscode.l10n.t('No dataset.') : vscode.l10n.t('Not scored yet: press Rescore, or run "RewardLens: Show Disagreements with Human Labels".')) }));
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
    this.lastPage = page;
    this.post(DisagreementsPage(page));
    return page;
  }

  private texts(d: IndexedDataset | undefined, r: DisagreementRow): { winnerText: string; loserText: string } {
    try {
      const record = d?.dataset.read(r.index).record;
      if (record?.id !== r.id) return { winnerText: '(record changed since scoring: rescore)', loserText: '' };
      return { winnerText: snippet(record.responses[r.humanWinner]?.text ?? '', TEXT_CHARS), loserText: snippet(record.responses[r.humanLoser]?.text ?? '', TEXT_CHARS) };
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
    const file = datasetPath(d);
    if (file === undefined) return this.notScored(`${d.name} is not a file on disk: save it first (the model scores the file).`);
    if (vscode.workspace.textDocuments.some((doc) => doc.uri.toString() === d.key && doc.isDirty)) return this.notScored(`${d.name} has unsaved changes: save it first (the model scores the file on disk).`);
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
        const cancel = token.onCancellationRequested(() => abort.abort());
        try {
          let reported = 0;
          const fileScore = await scoreFile(model, file, {
            signal: abort.signal,
            // A scorer of its own, with its own cache: a whole file's scores would push the editor's lenses out of the shared one.
            intraOpNumThreads: this.ctx.config.scoringThreads,
            onProgress: (done, total) => {
              const pct = total === 0 ? 100 : (100 * done) / total;
              progress.report({ increment: pct - reported, message: vscode.l10n.t('{0}/{1} records', done, total) });
              reported = pct;
              this.post(DisagreementsProgress({ text: vscode.l10n.t('Scoring {0}: {1} of {2} records', d.name, done.toLocaleString('en-US'), total.toLocaleString('en-US')) }));
            },
          });
          this.post(DisagreementsProgress({ text: vscode.l10n.t('Comparing with the human pairs and the capability labels…') }));
          return await this.compare(d, file, fileScore, abort.signal, started);
        } finally {
          cancel.dispose();
        }
      });
      this.scored = scored;
      this.query = { offset: 0, labelNoiseOnly: false };
      this.post(DisagreementsProgress({}));
      this.sendState();
      this.ctx.log.info(`disagreements of ${d.name}: ${scored.summary.disagreements} of ${scored.summary.pairs} human pairs, ${scored.summary.labelNoise} label-noise candidates (${scored.summary.seconds.toFixed(1)} s)`);
      return { outcome: 'scored', summary: scored.summary };
    } catch (e) {
      if (abort.signal.aborted || isCancellation(e)) return this.notScored(vscode.l10n.t('Scoring was cancelled: press Rescore to start again.'));
      this.ctx.log.error(`disagreements of ${d.name}: ${errorMessage(e)}`);
      return this.notScored(vscode.l10n.t('Scoring failed: {0}', errorMessage(e)));
    }
  }

  /** Pairs of every scored record (from the index the editor shows), its capability labels, the sorted rows. */
  private async compare(d: IndexedDataset, file: string, fileScore: Awaited<ReturnType<typeof scoreFile>>, signal: AbortSignal, started: number): Promise<Scored> {
    const inputs: ScoredRecordInput[] = [];
    let pairs = 0;
    for (let k = 0; k < fileScore.records.length; k++) {
      if (k % CHUNK === 0) {
        signal.throwIfAborted();
        await new Promise((r) => setImmediate(r));
      }
      const s = fileScore.records[k];
      const view = d.dataset.read(s.index);
      // The model read the file; the pairs come from the index: both must be the same record.
      if (view.record?.id !== s.id) throw new Error(`${file}: record ${s.index} (line ${view.line}) changed while it was scored; save the file and rescore`);
      const human = humanPairs(view.record, s.index).pairs;
      pairs += human.length;
      inputs.push({ index: s.index, line: view.line, id: s.id, rewards: s.logits, category: s.category, datasetCategory: s.datasetCategory, pairs: human });
    }
    const store = storeFileOf(this.ctx.config, file);
    const labels = mergedLabels(readStore(store));
    const rows = findDisagreements(inputs, labels);
    const categories = [...new Set(rows.map((r) => r.datasetCategory))].sort();
    const routerCategories = [...new Set(rows.flatMap((r) => (r.routerCategory === undefined ? [] : [r.routerCategory])))].sort();
    const summary: DisagreementsSummary = {
      uri: d.key,
      name: d.name,
      model: fileScore.model,
      method: fileScore.method,
      records: fileScore.records.length,
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
    return { summary, rows, generation: d.generation };
  }

  private async exportWithDialog(filter: DisagreementFilter): Promise<void> {
    const d = this.dataset;
    const file = d ? datasetPath(d) : undefined;
    if (this.scored === undefined || file === undefined) return;
    const target = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Export the listed disagreements as JSONL'),
      defaultUri: vscode.Uri.file(path.join(path.dirname(file), `${path.basename(file).replace(/\.(jsonl?|json)$/i, '')}.disagreements.jsonl`)),
      filters: { [vscode.l10n.t('JSON Lines')]: ['jsonl'] },
    });
    if (target === undefined) return;
    try {
      const written = await this.exportTo(target.fsPath, filter);
      const open = vscode.l10n.t('Open File');
      const picked = await vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: {0} disagreements exported to {1}.', written, path.basename(target.fsPath)), open);
      if (picked === open) await vscode.window.showTextDocument(target);
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

  protected onDispose(): void {
    this.scoring?.abort.abort();
    if (DisagreementsPanel.current === this) DisagreementsPanel.current = undefined;
  }
}
