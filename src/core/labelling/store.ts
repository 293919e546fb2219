import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { endTornLine } from '../io/append';
import { FileError } from '../io/file-error';
import { firstJsonValue } from '../io/input-file';
import { makeDirs } from '../io/safe-output';
import { basename, dirname, join } from 'node:path';
import type { FileLock } from '../lock';
import { acquireLock } from '../lock';
import type { PairResult, Verdict } from './verdict';
import { mergeOrders } from './verdict';
import type { Order } from './verdict';

/**
 * The label store: one append-only JSONL file per dataset, `<dir>/<dataset file name>.labels.jsonl`,
 * by default in a `.rewardlens/` folder beside the dataset. Three kinds of line (docs/labelling.md):
 *
 * - `call`: one model call (the raw reply, its verdict, tokens, who answered with which template);
 * - `label`: a pair and point merged from both orders (`consistent`, `inconsistent`, `invalid`), or
 *   derived from ratings (`consistent`, `tie`);
 * - `category`: a record's category as classified by the judge.
 *
 * Durability. Each line is written with a single `write(2)` on an `O_APPEND` descriptor as soon as its
 * call returns, so a crash or `kill -9` of the process loses only calls still in flight: what was
 * written is in the kernel's page cache and survives the process. `fdatasync` runs every 64 lines,
 * every second and at close (group commit), bounding what a power loss or kernel crash can take to
 * about a second of calls, without an fsync per call (which on network file systems costs more than
 * the calls). A line torn by a crash has no final newline, or does not parse: readers ignore it and
 * count it, and a writer first ends it with a newline so the next line starts clean. Nothing is ever
 * rewritten. A lock file (`.lock`, with pid and host) keeps two jobs from appending to one store.
 */

/** What a judge call and a label say about one (record, response pair, capability point). */
interface PairPointLine {
  key: string;
  setup: string;
  record: string;
  /** Record number in the dataset when the line was written. */
  index: number;
  category: string;
  a: number;
  b: number;
  point: string;
  /** The response (index into the record's responses) the line picks; null for none (invalid, or a tie). */
  winner: number | null;
  ts: string;
}

export interface CallLine extends PairPointLine {
  type: 'call';
  pairKey: string;
  order: Order;
  provider: string;
  model: string;
  template: string;
  lang: string;
  history: boolean;
  /** The reply, or its first STORED_REPLY_CHARS characters (storedReply). */
  reply: string;
  /** The reply's full length in characters, present only when `reply` is cut. */
  replyChars?: number;
  verdict: Verdict;
  promptTokens: number;
  completionTokens: number;
  /** True when the server reported no usage and the counts are estimates. */
  tokensEstimated: boolean;
  ms: number;
}

export type LabelResult = PairResult | 'tie';

export interface LabelLine extends PairPointLine {
  type: 'label';
  /** `judge`, or `ratings:<source>` for labels derived from ratings. */
  source: string;
  result: LabelResult;
  model?: string;
  template?: string;
}

export interface CategoryLine {
  type: 'category';
  key: string;
  setup: string;
  record: string;
  index: number;
  provider: string;
  model: string;
  template: string;
  lang: string;
  reply: string;
  replyChars?: number;
  /** The category parsed from the reply, or null when none could be. */
  category: string | null;
  promptTokens: number;
  completionTokens: number;
  tokensEstimated: boolean;
  ts: string;
}

export type StoreLine = CallLine | LabelLine | CategoryLine;

export interface StoreContents {
  file: string;
  calls: Map<string, CallLine>;
  labels: Map<string, LabelLine>;
  categories: Map<string, CategoryLine>;
  /** Lines that were torn by a crash or do not parse; ignored. */
  ignoredLines: number;
  /** Lines whose key was already stored (kept: the first). */
  duplicateLines: number;
}

/**
 * Characters of a reply kept in the store. Verdicts and categories are parsed from the whole reply
 * before it is stored; what is kept is for reading, and a store of long replies would be read into
 * memory whole by every report.
 */
export const STORED_REPLY_CHARS = 2000;

/** The `reply` (and `replyChars` when cut) fields of a stored line. */
export function storedReply(text: string): { reply: string; replyChars?: number } {
  return text.length > STORED_REPLY_CHARS ? { reply: text.slice(0, STORED_REPLY_CHARS), replyChars: text.length } : { reply: text };
}

/** `<dir>/<dataset name>.labels.jsonl`; dir defaults to `.rewardlens/` beside the dataset. */
export function storeFileFor(datasetFile: string, dir?: string): string {
  return join(dir ?? join(dirname(datasetFile), '.rewardlens'), `${basename(datasetFile)}.labels.jsonl`);
}

function emptyContents(file: string): StoreContents {
  return { file, calls: new Map(), labels: new Map(), categories: new Map(), ignoredLines: 0, duplicateLines: 0 };
}

function isLine(v: unknown): v is StoreLine {
  const o = v as StoreLine | null;
  return typeof o === 'object' && o !== null && typeof o.key === 'string' && (o.type === 'call' || o.type === 'label' || o.type === 'category');
}

function addLine(c: StoreContents, line: StoreLine): void {
  const map: Map<string, StoreLine> = line.type === 'call' ? c.calls : line.type === 'label' ? c.labels : c.categories;
  if (map.has(line.key)) c.duplicateLines++;
  else map.set(line.key, line);
}

/**
 * Whether `file` is a label store (by its name, or a first line that is a store line), so that no output
 * of a command is written over one: its calls were paid for.
 */
export function isLabelStoreFile(file: string): boolean {
  if (file.endsWith('.labels.jsonl') && existsSync(file)) return true;
  return isLine(firstJsonValue(file));
}

/** Refuses `out` as an output when it is a label store. */
export function assertNotLabelStore(out: string): void {
  if (isLabelStoreFile(out)) throw new FileError(out, 'is a label store (paid judge calls): choose another output file');
}

/** Reads a store without locking it (reports, exports, the editor). A missing file is an empty store. */
export function readStore(file: string): StoreContents {
  const contents = emptyContents(file);
  if (!existsSync(file)) return contents;
  const text = readFileSync(file, 'utf8');
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    if (end < 0) {
      // No final newline: the write of this line was cut short.
      if (text.slice(start).trim() !== '') contents.ignoredLines++;
      break;
    }
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      contents.ignoredLines++;
      continue;
    }
    if (isLine(value)) addLine(contents, value);
    else contents.ignoredLines++;
  }
  return contents;
}

const SYNC_EVERY_LINES = 64;
const SYNC_EVERY_MS = 1000;

/** A store opened for appending by one job. */
export class LabelStore {
  private fd: number;
  private unsynced = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    readonly contents: StoreContents,
    fd: number,
    private readonly lock: FileLock,
  ) {
    this.fd = fd;
  }

  static open(file: string): LabelStore {
    makeDirs(dirname(file));
    const lock = acquireLock(`${file}.lock`, 'the label store');
    try {
      const contents = readStore(file);
      const fd = openSync(file, 'a');
      endTornLine(file, fd);
      return new LabelStore(file, contents, fd, lock);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  has(key: string): boolean {
    return this.contents.calls.has(key) || this.contents.labels.has(key) || this.contents.categories.has(key);
  }

  append(line: StoreLine): void {
    if (this.fd < 0) throw new Error('the label store is closed');
    if (this.has(line.key)) return;
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    addLine(this.contents, line);
    if (++this.unsynced >= SYNC_EVERY_LINES) this.sync();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.sync(), SYNC_EVERY_MS);
      this.timer.unref();
    }
  }

  sync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd >= 0 && this.unsynced > 0) fdatasyncSync(this.fd);
    this.unsynced = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.sync();
    closeSync(this.fd);
    this.fd = -1;
    this.lock.release();
  }
}

/** A pair and point with its label, from either source. */
export type MergedLabel = Omit<LabelLine, 'type' | 'model' | 'template' | 'ts'>;

/**
 * The merged view: judge labels computed from the stored calls (both orders present), which is the
 * authority — a `label` line missing after a crash changes nothing — plus labels derived from
 * ratings. Sorted by key, so two stores with the same labels give equal lists.
 */
export function mergedLabels(c: StoreContents): MergedLabel[] {
  const out: MergedLabel[] = [];
  for (const ab of c.calls.values()) {
    if (ab.order !== 'ab') continue;
    const ba = c.calls.get(`${ab.pairKey}|ba`);
    if (!ba) continue;
    const { result, winner } = mergeOrders(ab.verdict, ba.verdict, ab.a, ab.b);
    out.push({
      key: ab.pairKey,
      setup: ab.setup,
      record: ab.record,
      index: ab.index,
      category: ab.category,
      a: ab.a,
      b: ab.b,
      point: ab.point,
      source: 'judge',
      result,
      winner,
    });
  }
  for (const l of c.labels.values()) {
    if (l.source === 'judge') continue;
    out.push({
      key: l.key,
      setup: l.setup,
      record: l.record,
      index: l.index,
      category: l.category,
      a: l.a,
      b: l.b,
      point: l.point,
      source: l.source,
      result: l.result,
      winner: l.winner,
    });
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}
