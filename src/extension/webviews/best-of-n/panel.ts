import * as vscode from 'vscode';
import type { BonFilter, BonRecord, BonSummary } from '../../../core/scoring/best-of-n';
import { bestOfNRecord, isHit, matchesFilter, summarizeBestOfN } from '../../../core/scoring/best-of-n';
import { OrtScorer } from '../../../core/scoring/session';
import type { BestOfNState, BonHeader, BonModel, BonRow, BonRunState } from '../../../../webview/best-of-n-protocol';
import {
  BestOfNReady,
  BON_PAGE_SIZE,
  BonPage,
  bestOfNViewType,
  CancelBestOfN,
  ChooseBestOfNModels,
  isBestOfNState,
  RequestBonPage,
  RerunBestOfN,
  RevealBonRecord,
  SetBonFilter,
  UpdateBestOfN,
} from '../../../../webview/best-of-n-protocol';
import type { Ctx } from '../../context';
import { errorMessage } from '../../../core/error-message';
import type { DatasetChange, IndexedDataset } from '../../datasets/registry';
import { firstUserTurn, snippet } from '../../presentation/format';
import { scoreDataset, whyNotScorable } from '../../scoring/dataset-scoring';
import { pickModels } from '../../scoring/pick-models';
import { RewardModel } from '../../scoring/reward-model';
import { DatasetPanel } from '../dataset-panel';
import { PanelSlot } from '../host';

const SNIPPET_CHARS = 120;
/** Progress messages at most this often: a 100k-record file reports thousands of batches. */
const PROGRESS_MS = 150;
const FILTERS: readonly BonFilter[] = ['all', 'missed', 'disagree'];

interface Result {
  records: BonRecord[];
  /** 1-based line of each record, when it was scored. */
  lines: number[];
  summary: BonSummary;
  eligible: number;
  total: number;
  /** The dataset's index build the result belongs to. */
  generation: number;
}

/**
 * "Show Best-of-n": every record of a dataset with n ≥ 2 responses scored by each chosen model (one
 * after another, through scoreFile with progress and cancellation), each model's pick against the
 * human's best, the summary and a paged record table. The arithmetic is src/core/scoring/best-of-n.ts.
 */
export class BestOfNPanel extends DatasetPanel {
  static readonly slot = new PanelSlot<BestOfNPanel, BestOfNState>(bestOfNViewType, isBestOfNState);
  private models: string[];
  private modelInfo: BonModel[] = [];
  private job: AbortController | undefined;
  private state: BonRunState = 'idle';
  private progress: BonHeader['progress'];
  private message: string | undefined;
  private result: Result | undefined;
  /** Positions in `result.records` that pass the filter. */
  private filtered: number[] = [];
  private filter: BonFilter = 'all';
  private generation = 0;
  private lastProgress = 0;

  static createOrShow(ctx: Ctx, uri: vscode.Uri, models: string[]): BestOfNPanel {
    const reuse = (current: BestOfNPanel): void => {
      current.panel.reveal();
      current.models = models;
      current.retarget(uri);
    };
    const current = BestOfNPanel.slot.show(reuse, vscode.l10n.t('Best-of-n'), vscode.ViewColumn.Active, (panel) => new BestOfNPanel(ctx, panel, uri, models));
    void current.run();
    return current;
  }

  static register(ctx: Ctx): void {
    BestOfNPanel.slot.register(ctx, (panel, state) => new BestOfNPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true), state?.models ?? []));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined, models: string[]) {
    super(ctx, panel, uri, { script: 'best-of-n', title: vscode.l10n.t('Best-of-n'), ready: BestOfNReady });
    this.models = models;
    this.modelInfo = models.map((file) => ({ name: RewardModel.displayName(file), file }));
    // A restored panel has no scores (they live in memory): it waits for Run.
    this.message = uri !== undefined && models.length > 0 ? vscode.l10n.t('Press Run to score the dataset with these models.') : undefined;
    this.on(RequestBonPage, ({ generation, start }) => {
      if (generation === this.generation) this.post(BonPage({ generation, start, rows: this.rows(Math.max(0, Math.floor(start))) }));
    });
    this.on(SetBonFilter, ({ filter }) => {
      const f = FILTERS.find((x) => x === filter);
      if (f === undefined || f === this.filter) return;
      this.filter = f;
      this.applyFilter();
      this.postHeader();
    });
    this.on(CancelBestOfN, () => this.job?.abort());
    this.on(RerunBestOfN, () => void this.run());
    this.on(ChooseBestOfNModels, () => void this.chooseModels());
    this.on(RevealBonRecord, ({ index }) => {
      const at = this.result?.records.findIndex((r) => r.index === index) ?? -1;
      if (this.dataset !== undefined && at >= 0) void this.revealLine(this.result!.lines[at]);
    });
  }

  protected onReady(): void {
    this.postHeader();
  }

  /** Each record's picks, model by model (the integration tests compare them with the scorer's rewards). */
  get picks(): Array<{ index: number; picks: Array<number | undefined> }> {
    return this.result?.records.map((r) => ({ index: r.index, picks: r.picks })) ?? [];
  }

  private async chooseModels(): Promise<void> {
    const chosen = await pickModels(this.ctx, this.models);
    if (chosen === undefined) return;
    this.models = chosen;
    await this.run();
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    // A new dataset: createOrShow runs it. A re-index makes a finished result's lines doubtful.
    if (change === undefined || change.kind === 'indexing' || this.state === 'scoring') return;
    if (this.result !== undefined && change.kind === 'indexed' && change.dataset.generation !== this.result.generation) {
      this.message = vscode.l10n.t('The dataset changed since it was scored: press Run to score it again.');
      this.postHeader();
    }
  }

  private setState(state: BonRunState, message?: string): void {
    this.state = state;
    this.message = message;
    if (state !== 'scoring') this.progress = undefined;
    this.postHeader();
  }

  /** Scores the dataset with every chosen model, one after another, then joins the rewards with the human preferences. */
  private async run(): Promise<void> {
    this.job?.abort();
    const job = (this.job = new AbortController());
    this.result = undefined;
    this.filtered = [];
    this.modelInfo = this.models.map((file) => ({ name: RewardModel.displayName(file), file }));
    const uri = this.uri;
    if (uri === undefined) return this.setState('failed', vscode.l10n.t('No dataset: open a .jsonl file and run "RewardLens: Show Best-of-n".'));
    if (this.models.length === 0) return this.setState('failed', vscode.l10n.t('No reward model: choose the exported models to compare.'));
    const d = await this.ensureDataset();
    if (this.job !== job) return;
    if (d === undefined) return this.setState('failed', vscode.l10n.t('The dataset is not open any more. Open it again to compare picks.'));
    const unscorable = whyNotScorable(d);
    if (unscorable !== undefined) return this.setState('failed', unscorable);
    const scorers: OrtScorer[] = [];
    try {
      // Every manifest first: a bad model fails before minutes of scoring the others.
      for (const file of this.models) {
        try {
          scorers.push(new OrtScorer(file, { cache: this.ctx.rewardModel.cache, intraOpNumThreads: this.ctx.config.scoringThreads }));
        } catch (e) {
          return this.setState('failed', vscode.l10n.t('{0} cannot be used: {1}', file, errorMessage(e)));
        }
      }
      this.modelInfo = scorers.map((s) => ({ name: RewardModel.displayName(s.modelFile), file: s.modelFile, method: s.manifest.method }));
      this.progress = { text: vscode.l10n.t('reading the dataset…'), fraction: 0 };
      this.setState('scoring');
      const started = Date.now();
      const scored = await scoreDataset(
        d,
        scorers,
        {
          signal: job.signal,
          onProgress: (k, done, total) => {
            const label = `${this.modelInfo[k].name} (${k + 1} of ${scorers.length})`;
            if (total === 0) this.report(`${label}: reading and tokenising ${d.name}…`, k / scorers.length, true);
            else this.report(`${label}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records`, (k + done / total) / scorers.length);
          },
        },
        // best-of-n needs n ≥ 2 responses; a model without a score of the record has no pick.
        (r) =>
          r.record.responses.length < 2
            ? undefined
            : {
                record: bestOfNRecord(
                  r.index,
                  r.record,
                  r.scores.map((s) => s?.logits),
                ),
                line: r.line,
              },
      );
      const records = scored.rows.map((r) => r.record);
      const result: Result = {
        records,
        lines: scored.rows.map((r) => r.line),
        summary: summarizeBestOfN(records, scorers.length),
        eligible: records.length,
        total: d.dataset.size,
        generation: scored.generation,
      };
      if (this.job !== job) return;
      this.result = result;
      this.applyFilter();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      this.ctx.log.info(`best-of-n on ${d.name}: ${result.eligible} records with n ≥ 2, ${scorers.length} model(s), ${seconds} s`);
      this.setState('done', result.eligible === 0 ? vscode.l10n.t('{0} has no record with two or more responses: best-of-n needs n ≥ 2.', d.name) : undefined);
    } catch (e) {
      if (this.job !== job) return;
      if (job.signal.aborted) this.setState('cancelled', vscode.l10n.t('Cancelled. Batches already scored are cached: Run again continues from them.'));
      else {
        this.ctx.log.error(`best-of-n on ${d.name}: ${errorMessage(e)}`);
        this.setState('failed', errorMessage(e));
      }
    } finally {
      if (this.job === job) this.job = undefined;
      for (const s of scorers) void s.dispose().catch(() => undefined);
    }
  }

  private report(text: string, fraction: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_MS) return;
    this.lastProgress = now;
    this.progress = { text, fraction };
    this.postHeader();
  }

  private applyFilter(): void {
    const records = this.result?.records ?? [];
    this.filtered = [];
    records.forEach((r, p) => {
      if (matchesFilter(r, this.filter)) this.filtered.push(p);
    });
    this.generation++;
  }

  private rows(start: number): BonRow[] {
    const result = this.result;
    if (result === undefined) return [];
    const d = this.dataset;
    return this.filtered.slice(start, start + BON_PAGE_SIZE).map((p) => {
      const r = result.records[p];
      let text = '';
      try {
        const record = d?.generation === result.generation ? d.dataset.read(r.index).record : undefined;
        text = record ? snippet(firstUserTurn(record), SNIPPET_CHARS) : '';
      } catch {
        // The index was replaced since: the row keeps its numbers, without the snippet.
      }
      return {
        index: r.index,
        line: result.lines[p],
        n: r.n,
        humanBest: r.human.best,
        picks: r.picks.map((pick, m) => ({ pick, rank: pick === undefined ? undefined : r.human.ranks[pick], hit: isHit(r, m) })),
        snippet: text,
      };
    });
  }

  private postHeader(): void {
    const d = this.dataset;
    const uri = this.uri;
    if (uri === undefined) {
      this.post(UpdateBestOfN({ message: vscode.l10n.t('No dataset: open a .jsonl file and run "RewardLens: Show Best-of-n".') }));
      return;
    }
    const r = this.result;
    const header: BonHeader = {
      uri: uri.toString(),
      dataset: d?.name ?? uri.path.split('/').pop() ?? uri.toString(),
      models: this.modelInfo,
      state: this.state,
      progress: this.state === 'scoring' ? this.progress : undefined,
      message: this.message,
      summary: r?.summary,
      eligible: r?.eligible,
      records: r?.total,
      filter: this.filter,
      rows: this.filtered.length,
      generation: this.generation,
    };
    this.post(UpdateBestOfN({ header }));
  }

  protected override onDispose(): void {
    this.job?.abort();
  }
}

/** The command: `options.models` (paths) or, without them, the models the user ticks. */
export async function showBestOfN(ctx: Ctx, d: IndexedDataset, options?: unknown): Promise<{ uri: string; models: string[] } | undefined> {
  const given = (options as { models?: unknown } | undefined)?.models;
  const models = Array.isArray(given) && given.every((m): m is string => typeof m === 'string') && given.length > 0 ? given : await pickModels(ctx);
  if (models === undefined) return undefined;
  ctx.datasets.activeUri = d.uri;
  BestOfNPanel.createOrShow(ctx, d.uri, models);
  return { uri: d.key, models };
}
