import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PreferenceRecord } from '../../core/dataset/record';
import type { ExportManifest } from '../../core/export/manifest';
import { manifestTokenizer } from '../../core/export/manifest';
import type { TextTokenizer } from '../../core/model/tokenizer';
import type { ModelRecordScore } from '../../core/scoring/session';
import { OrtScorer, ScoreCache } from '../../core/scoring/session';
import type { EncodedRecord } from '../../core/training/features';
import { encodeRecord } from '../../core/training/features';
import { abortOnAllCancelled } from '../cancellation';
import { Config } from '../config';
import { errorMessage } from '../../core/error-message';
import type { IndexedDataset } from '../datasets/registry';

/** A record's scores with what they were computed from. */
export interface RecordScores {
  record: PreferenceRecord;
  score: ModelRecordScore;
}

/** Requests that arrive within this window go to the model as one batch (VS Code resolves visible lenses one message each). */
const BATCH_WINDOW_MS = 15;

interface Pending {
  encoded: EncodedRecord;
  tokens: vscode.CancellationToken[];
  waiters: Array<{ resolve: (s: ModelRecordScore) => void; reject: (e: unknown) => void }>;
}

/** The configured model: its scorer (session created on first use) and tokenizer. */
interface Loaded {
  file: string;
  scorer: OrtScorer;
  tokenizer: TextTokenizer;
}

/**
 * The reward model set in `rewardlens.scoring.model`, for CodeLens and hovers. Nothing is loaded until
 * a record is scored; a change of the setting disposes the session (and the next use opens the new
 * model). Requests close together in time are scored as one batch, one batch at a time.
 */
export class RewardModel implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  /** The model setting changed (or its file could not be read): scores shown so far are stale. */
  readonly onDidChange = this.emitter.event;
  /** Shared by the scorers of every model opened in this window: switching back keeps the scores. */
  readonly cache = new ScoreCache();
  private loaded: Loaded | undefined;
  private loadError: { file: string; message: string } | undefined;
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly configListener: vscode.Disposable;

  constructor(
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.affects(e, 'scoring.model') || Config.affects(e, 'scoring.threads')) this.reload();
    });
  }

  /** Absolute path of the configured model (relative settings are read against the first workspace folder). */
  get file(): string | undefined {
    const setting = this.config.scoringModel;
    if (setting === undefined) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return path.isAbsolute(setting) || folder?.scheme !== 'file' ? setting : path.join(folder.fsPath, setting);
  }

  /** Short name for the status bar and hovers: the file name, with its folder when the name says nothing (`model.onnx`). */
  static displayName(file: string): string {
    const base = path.basename(file);
    return /^model\.onnx$/i.test(base) ? `${path.basename(path.dirname(file))}/${base}` : base;
  }

  /** The manifest of the configured model, reading it if needed; undefined when none is set or it cannot be read (see `error`). */
  get manifest(): (ExportManifest & { dir: string }) | undefined {
    return this.load()?.scorer.manifest;
  }

  /** Why the configured model cannot be used, if it cannot. */
  get error(): string | undefined {
    this.load();
    return this.loadError?.message;
  }

  /** Whether the onnxruntime session has been created. */
  get sessionLoaded(): boolean {
    return this.loaded?.scorer.loaded ?? false;
  }

  /** onnxruntime runs of the current model's session so far (each scores one batch of records). */
  get sessionRuns(): number {
    return this.loaded?.scorer.runs ?? 0;
  }

  private load(): Loaded | undefined {
    const file = this.file;
    if (file === undefined) return undefined;
    if (this.loaded?.file === file) return this.loaded;
    if (this.loadError?.file === file) return undefined;
    try {
      // Reads the manifest only: the onnxruntime session is created by the first score.
      const scorer = new OrtScorer(file, { intraOpNumThreads: this.config.scoringThreads, cache: this.cache });
      const tokenizer = manifestTokenizer(scorer.manifest);
      this.loaded = { file, scorer, tokenizer };
      this.log.info(
        `reward model ${file} (${scorer.manifest.method}${scorer.manifest.categories.length ? `, categories ${scorer.manifest.categories.join(', ')}` : ''})`,
      );
      return this.loaded;
    } catch (e) {
      this.loadError = { file, message: errorMessage(e) };
      this.log.error(`reward model ${file}: ${this.loadError.message}`);
      return undefined;
    }
  }

  /**
   * Scores a record of a dataset. Resolves undefined when no model is set, the index holds no record,
   * or every caller waiting on its batch cancelled; rejects with the model's error. `wait: 'now'` (hovers,
   * the breakdown) skips the batching window meant for the lenses VS Code resolves one by one.
   */
  async score(
    indexed: IndexedDataset,
    index: number,
    token: vscode.CancellationToken,
    options: { wait?: 'batch' | 'now' } = {},
  ): Promise<RecordScores | undefined> {
    const loaded = this.load();
    if (loaded === undefined) {
      if (this.loadError !== undefined) throw new Error(this.loadError.message);
      return undefined;
    }
    let record: PreferenceRecord | undefined;
    try {
      record = indexed.dataset.read(index).record;
    } catch {
      // The index was replaced (and its file closed) since the caller got it: a fresh request follows.
      return undefined;
    }
    if (record === undefined || record.responses.length === 0 || token.isCancellationRequested) return undefined;
    const m = loaded.scorer.manifest;
    const encoded = encodeRecord(record, index, loaded.tokenizer, { maxLen: m.maxLen, routerMaxLen: m.routerMaxLen });
    const key = ScoreCache.key(m.modelSha256, encoded);
    const cached = this.cache.get(key);
    if (cached) return { record, score: cached };
    const score = await new Promise<ModelRecordScore>((resolve, reject) => {
      let p = this.pending.get(key);
      if (p === undefined) this.pending.set(key, (p = { encoded, tokens: [], waiters: [] }));
      p.tokens.push(token);
      p.waiters.push({ resolve, reject });
      // A hover is one record someone is waiting for: it joins a batch already gathering, or goes at once.
      this.timer ??= setTimeout(() => this.flush(loaded), options.wait === 'now' ? 0 : BATCH_WINDOW_MS);
    }).catch((e: unknown) => {
      if (e instanceof CancelledBatch) return undefined;
      throw e;
    });
    return score === undefined ? undefined : { record, score };
  }

  /** Scores what is pending now as one batch, after the batch before it (one session run at a time). */
  private flush(loaded: Loaded): void {
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.running = this.running.then(async () => {
      const live = batch.filter((p) => !p.tokens.every((t) => t.isCancellationRequested));
      for (const p of batch) if (!live.includes(p)) for (const w of p.waiters) w.reject(new CancelledBatch());
      if (live.length === 0) return;
      // The batch stops between its session runs once nobody waits for it any more.
      const controller = new AbortController();
      const listener = abortOnAllCancelled(
        live.flatMap((p) => p.tokens),
        controller,
      );
      try {
        const started = Date.now();
        const scores = await loaded.scorer.score(
          live.map((p) => p.encoded),
          controller.signal,
        );
        this.log.debug(`scored ${live.length} records in ${Date.now() - started} ms`);
        live.forEach((p, k) => p.waiters.forEach((w) => w.resolve(scores[k])));
      } catch (e) {
        const error = controller.signal.aborted ? new CancelledBatch() : e;
        if (!(error instanceof CancelledBatch)) this.log.error(`scoring failed: ${errorMessage(e)}`);
        for (const p of live) for (const w of p.waiters) w.reject(error);
      } finally {
        listener.dispose();
      }
    });
  }

  /**
   * Forgets the model (disposing its session) so that the next use reads the setting and the files
   * again: on a change of the setting, and when the same model is selected again (it may have been
   * re-exported, or its manifest fixed).
   */
  reload(): void {
    this.dropPending();
    const old = this.loaded;
    this.loaded = undefined;
    this.loadError = undefined;
    if (old) void this.running.then(() => old.scorer.dispose()).catch((e: unknown) => this.log.warn(`closing ${old.file}: ${errorMessage(e)}`));
    this.emitter.fire();
  }

  /** Requests not yet sent to the model are for the model being closed: their callers get nothing. */
  private dropPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.pending.values()) for (const w of p.waiters) w.reject(new CancelledBatch());
    this.pending.clear();
  }

  dispose(): void {
    this.configListener.dispose();
    this.dropPending();
    const old = this.loaded;
    this.loaded = undefined;
    if (old) void old.scorer.dispose().catch(() => undefined);
    this.emitter.dispose();
  }
}

/** Every caller waiting on a batch cancelled (not an error: callers give up quietly). */
class CancelledBatch extends Error {
  constructor() {
    super('cancelled');
  }
}
