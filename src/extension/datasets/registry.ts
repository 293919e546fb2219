import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BufferSource } from '../../core/dataset/byte-source';
import { Dataset } from '../../core/dataset/dataset';
import type { Config } from '../config';
import { abortOnCancel, CancelledError, isCancellation } from '../cancellation';
import { errorMessage } from '../../core/error-message';

/** A dataset indexed by the engine, and where its bytes came from. */
export interface IndexedDataset {
  readonly uri: vscode.Uri;
  /** `uri.toString()`: the registry's key. */
  readonly key: string;
  readonly name: string;
  /** `document`: the editor's text (small files, re-indexed on edits); `file`: the file on disk. */
  readonly origin: 'document' | 'file';
  /** The document version the index was built from (`document` origin). */
  readonly version?: number;
  readonly dataset: Dataset;
  /** Unique per index build: views drop answers that belong to an older one. */
  readonly generation: number;
  readonly indexMs: number;
}

export type DatasetChange =
  | { kind: 'indexing'; key: string; fraction?: number }
  | { kind: 'indexed'; key: string; dataset: IndexedDataset }
  | { kind: 'failed'; key: string; reason: string }
  | { kind: 'removed'; key: string };

interface Slot {
  uri: vscode.Uri;
  current?: IndexedDataset;
  /** The document version being indexed, and the build. */
  pending?: { version?: number; promise: Promise<IndexedDataset | undefined>; abort: AbortController };
  timer?: ReturnType<typeof setTimeout>;
  error?: string;
  /** The document version whose indexing failed: not retried until the text changes. */
  failedVersion?: number;
}

const DOCUMENT_SCHEMES = new Set(['file', 'untitled', 'vscode-remote']);

/**
 * Every dataset the extension has indexed, by URI. Documents of tracked files are re-indexed
 * (debounced) as they are edited; large files are indexed from disk on request. Owns the `Dataset`
 * handles and closes them when they are replaced or dropped.
 */
export class DatasetRegistry implements vscode.Disposable {
  private readonly slots = new Map<string, Slot>();
  /** Files the user opened as datasets explicitly (JSON arrays, `.jsonl` over the auto-index size). */
  private readonly explicit = new Set<string>();
  private readonly emitter = new vscode.EventEmitter<DatasetChange>();
  readonly onDidChange = this.emitter.event;
  private generations = 0;
  private activeKey: string | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The dataset of the active editor, else the one most recently indexed or shown. */
  get active(): IndexedDataset | undefined {
    const editor = vscode.window.activeTextEditor;
    const fromEditor = editor ? this.get(editor.document.uri) : undefined;
    return fromEditor ?? (this.activeKey !== undefined ? this.slots.get(this.activeKey)?.current : undefined);
  }

  set activeUri(uri: vscode.Uri) {
    this.activeKey = uri.toString();
  }

  get(uri: vscode.Uri): IndexedDataset | undefined {
    return this.slots.get(uri.toString())?.current;
  }

  /** Why the last index of `uri` failed, if it did. */
  errorOf(uri: vscode.Uri): string | undefined {
    return this.slots.get(uri.toString())?.error;
  }

  isIndexing(uri: vscode.Uri): boolean {
    return this.slots.get(uri.toString())?.pending !== undefined;
  }

  all(): IndexedDataset[] {
    return [...this.slots.values()].flatMap((s) => (s.current ? [s.current] : []));
  }

  /** Whether the document is one the extension indexes. */
  isTracked(doc: vscode.TextDocument): boolean {
    if (!DOCUMENT_SCHEMES.has(doc.uri.scheme)) return false;
    if (this.explicit.has(doc.uri.toString())) return true;
    const jsonl = doc.languageId === 'jsonl' || doc.uri.path.toLowerCase().endsWith('.jsonl');
    if (!jsonl) return false;
    // The length in characters (a lower bound of the byte size) without copying the text.
    const length = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
    return length <= this.config.autoOpenMaxBytes;
  }

  /** Marks a file as a dataset even when it would not be indexed automatically. */
  track(uri: vscode.Uri): void {
    this.explicit.add(uri.toString());
  }

  /** Re-index `doc` after the configured quiet period. */
  schedule(doc: vscode.TextDocument): void {
    if (!this.isTracked(doc)) return;
    const slot = this.slot(doc.uri);
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.indexDocument(doc);
    }, this.config.reindexDelayMs);
  }

  /**
   * The index of `doc` at its current version: the existing one, the one being built, or a new one
   * (a pending debounce is flushed). `undefined` when the document is not a dataset.
   */
  async forDocument(doc: vscode.TextDocument, token?: vscode.CancellationToken): Promise<IndexedDataset | undefined> {
    if (!this.isTracked(doc)) return undefined;
    const slot = this.slot(doc.uri);
    if (slot.current?.version === doc.version) return slot.current;
    if (slot.pending?.version === doc.version) return slot.pending.promise;
    if (token?.isCancellationRequested) return undefined;
    // Failed on this version already (e.g. not preference data): wait for an edit.
    if (slot.failedVersion === doc.version && slot.failedVersion !== undefined) return undefined;
    return this.indexDocument(doc);
  }

  /** Indexes the document's text now (cancelling a debounce or older build of it). */
  indexDocument(doc: vscode.TextDocument): Promise<IndexedDataset | undefined> {
    const slot = this.slot(doc.uri);
    if (slot.timer !== undefined) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    if (slot.pending?.version === doc.version) return slot.pending.promise;
    slot.pending?.abort.abort(new CancelledError());
    const abort = new AbortController();
    const version = doc.version;
    const name = doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString();
    const bytes = Buffer.from(doc.getText(), 'utf8');
    const promise = this.build(slot, 'document', version, abort, () =>
      Dataset.open(new BufferSource(name, bytes), { workers: 1, signal: abort.signal, adapterOptions: { rankDirection: this.config.rankDirection } }),
    );
    slot.pending = { version, promise, abort };
    return promise;
  }

  /** Indexes a file from disk (files VS Code does not hand to extensions), reporting progress. */
  indexFile(uri: vscode.Uri, token?: vscode.CancellationToken, onProgress?: (fraction: number) => void): Promise<IndexedDataset | undefined> {
    this.track(uri);
    const slot = this.slot(uri);
    slot.pending?.abort.abort(new CancelledError());
    const abort = new AbortController();
    const cancel = token && abortOnCancel(token, abort);
    let last = 0;
    const promise = this.build(slot, 'file', undefined, abort, () =>
      Dataset.open(uri.fsPath, {
        signal: abort.signal,
        adapterOptions: { rankDirection: this.config.rankDirection },
        onProgress: (fraction) => {
          onProgress?.(fraction);
          if (fraction - last >= 0.02) {
            last = fraction;
            this.emitter.fire({ kind: 'indexing', key: slot.uri.toString(), fraction });
          }
        },
      }),
    ).finally(() => {
      cancel?.dispose();
    });
    slot.pending = { promise, abort };
    return promise;
  }

  private async build(
    slot: Slot,
    origin: IndexedDataset['origin'],
    version: number | undefined,
    abort: AbortController,
    open: () => Promise<Dataset>,
  ): Promise<IndexedDataset | undefined> {
    const key = slot.uri.toString();
    this.emitter.fire({ kind: 'indexing', key });
    const started = performance.now();
    try {
      // Let the 'indexing' notification reach listeners before a synchronous scan blocks the thread.
      await Promise.resolve();
      const dataset = await open();
      if (abort.signal.aborted || this.slots.get(key) !== slot) {
        dataset.close();
        return slot.current;
      }
      const indexMs = Math.round(performance.now() - started);
      const indexed: IndexedDataset = {
        uri: slot.uri,
        key,
        name: path.posix.basename(slot.uri.path),
        origin,
        version,
        dataset,
        generation: ++this.generations,
        indexMs,
      };
      const previous = slot.current;
      slot.current = indexed;
      slot.error = undefined;
      slot.failedVersion = undefined;
      if (slot.pending?.abort === abort) slot.pending = undefined;
      previous?.dataset.close();
      const r = dataset.report;
      this.log.info(
        `indexed ${indexed.name} (${origin}${version !== undefined ? ` v${version}` : ''}): ${r.adapter}, ${r.records} records, ${r.malformed} malformed, ${r.problemCount} problems in ${indexMs} ms`,
      );
      this.emitter.fire({ kind: 'indexed', key, dataset: indexed });
      return indexed;
    } catch (e) {
      if (slot.pending?.abort === abort) slot.pending = undefined;
      if (isCancellation(e) || abort.signal.aborted) {
        this.log.info(`indexing ${slot.uri.fsPath} cancelled`);
        if (slot.current === undefined) this.emitter.fire({ kind: 'removed', key });
        else this.emitter.fire({ kind: 'indexed', key, dataset: slot.current });
        if (origin === 'file') throw new CancelledError();
        return slot.current;
      }
      const reason = errorMessage(e);
      slot.error = reason;
      slot.failedVersion = version;
      if (origin === 'document' && slot.current !== undefined) {
        // The text no longer maps onto records: an older index would point at the wrong lines.
        slot.current.dataset.close();
        slot.current = undefined;
      }
      this.log.warn(`cannot index ${slot.uri.toString(true)}: ${reason}`);
      this.emitter.fire({ kind: 'failed', key, reason });
      if (origin === 'file') throw e;
      return undefined;
    }
  }

  /** Forgets a dataset (its document was closed) and closes its file. */
  remove(uri: vscode.Uri): void {
    const key = uri.toString();
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.pending?.abort.abort(new CancelledError());
    slot.current?.dataset.close();
    this.slots.delete(key);
    if (this.activeKey === key) this.activeKey = undefined;
    this.emitter.fire({ kind: 'removed', key });
  }

  /** Drops a document-backed dataset whose document went away; file-backed ones stay. */
  documentClosed(doc: vscode.TextDocument): void {
    const slot = this.slots.get(doc.uri.toString());
    if (slot?.current?.origin === 'file') return;
    this.remove(doc.uri);
  }

  private slot(uri: vscode.Uri): Slot {
    const key = uri.toString();
    let slot = this.slots.get(key);
    if (slot === undefined) this.slots.set(key, (slot = { uri }));
    return slot;
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.pending?.abort.abort(new CancelledError());
      slot.current?.dataset.close();
    }
    this.slots.clear();
    this.emitter.dispose();
  }
}
