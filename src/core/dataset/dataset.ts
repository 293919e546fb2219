import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Adapter, AdapterOptions, GroupedAdapter, MappedRow, MapResult, RecordAdapter } from './adapter';
import { defaultAdapterOptions, isGrouped } from './adapter';
import type { ByteSource } from './byte-source';
import { BufferSource, FileSource, readRange } from './byte-source';
import { DatasetFileError } from './dataset-error';
import { detectUsableAdapter } from './detect';
import type { AdapterSpec } from './entry';
import { adapterFromSpec, parseEntry } from './entry';
import { notRecordsReason, utf16Reason } from './file-shape';
import type { FileFormat, OffsetIndex } from './offsets';
import { OffsetCollector, buildOffsetIndex, bomLength, detectFormat, entryAtLine, scanJsonArray, scanJsonl } from './offsets';
import { findPiiInRecord } from './pii';
import type { RangeResult } from './range-scan';
import { MAX_PROBLEMS, rereadRecordKey, scanRange } from './range-scan';
import type { PreferenceRecord, Problem } from './record';
import { FirstSeen } from './hash-table';
import { promptKeyHash, recordId } from './record-id';
import type { ScanJob, ScanMessage } from './scan-protocol';
import type { StatsPartial } from './stats';
import { addRecord, emptyStats, mergeStats, shiftLines } from './stats';

export interface IndexOptions {
  /** A field-mapping file (`*.jsonc`); overrides detection. */
  schemaFile?: string;
  /** Force a built-in adapter by name instead of detecting one. */
  adapter?: string;
  adapterOptions?: Partial<AdapterOptions>;
  /** Scan threads for large JSONL files; default: one per core. 1 = no worker threads. */
  workers?: number;
  /** Files smaller than this are scanned in the calling thread (default 16 MiB). */
  parallelMinBytes?: number;
  chunkSize?: number;
  signal?: AbortSignal;
  /** Fraction of bytes scanned, 0..1. */
  onProgress?: (fraction: number) => void;
}

export interface IndexReport {
  file: string;
  format: FileFormat;
  /** The adapter that mapped the records (`mapping:<file>` for a mapping file). */
  adapter: string;
  bytes: number;
  /** Entries found in the file: JSONL lines or array elements, malformed ones included. */
  entries: number;
  /**
   * Records in the file: one per entry, or one per group of rows for pointwise data, plus one for
   * each piece that could not be read as an entry or a row of a group (a truncated array's tail, an
   * unparsable row): always `usable + malformed`.
   */
  records: number;
  /** Records that mapped onto the record model; the statistics below describe these. */
  usable: number;
  /** Records that could not be used, each with an error in `problems` on its line. */
  malformed: number;
  /** Problems in line order; at most MAX_PROBLEMS are kept, `problemCount` has them all. */
  problems: Problem[];
  problemCount: number;
  categories: Record<string, { count: number; avgTurns: number }>;
  avgTurns: number;
  responsesPerRecord: { min: number; max: number; mean: number };
  preferencePairs: number;
  tiedPairs: number;
  unlabelled: number;
  /** Records whose conversation context already occurred earlier in the file. */
  duplicatePrompts: number;
  /** Records identical (context and responses) to an earlier one. */
  duplicateRecords: number;
  ratingSources: Record<string, number>;
  pii: StatsPartial['pii'];
  piiLines: StatsPartial['piiLines'];
}

/** One record as read back from the file. */
export interface RecordView {
  index: number;
  line: number;
  /** All lines the record was built from (pointwise rows), first one first. */
  lines: number[];
  record?: PreferenceRecord;
  problems: Problem[];
}

/** Files below this are scanned in the calling thread: starting workers costs more than it saves. */
const PARALLEL_THRESHOLD = 16 * 1024 * 1024;

/**
 * An indexed preference file: every record reachable by number through byte offsets, with the
 * report of the full scan. Holds 16 bytes per entry plus the problem list, never the file.
 */
export class Dataset {
  /** Use `Dataset.open`. */
  constructor(
    private readonly source: ByteSource,
    readonly offsets: OffsetIndex,
    private readonly adapter: Adapter,
    readonly report: IndexReport,
    /** Pointwise data: entry numbers of each group, as offsets into `groupMembers`. */
    private readonly groups?: { starts: Uint32Array; members: Uint32Array; entryGroup: Int32Array },
  ) {}

  static async open(file: string | ByteSource, options: IndexOptions = {}): Promise<Dataset> {
    const source = typeof file === 'string' ? new FileSource(file) : file;
    try {
      return await indexSource(source, options);
    } catch (e) {
      source.close();
      throw e;
    }
  }

  /** Number of addressable records, malformed ones included. */
  get size(): number {
    return this.groups ? this.groups.starts.length - 1 : this.offsets.starts.length;
  }

  get file(): string {
    return this.source.name;
  }

  /** Index of the record that starts on or spans `line` (1-based), or -1. */
  recordAtLine(line: number): number {
    const entry = entryAtLine(this.offsets.lines, line);
    if (entry < 0) return -1;
    // A JSONL record is one line; an array element spans the lines up to the next element.
    if (this.offsets.format === 'jsonl' && this.offsets.lines[entry] !== line) return -1;
    return this.groups ? this.groups.entryGroup[entry] : entry;
  }

  /** First line of record `index`. */
  lineOf(index: number): number {
    const entry = this.groups ? this.groups.members[this.groups.starts[index]] : index;
    return this.offsets.lines[entry];
  }

  /** Byte range `[start, end)` of entry `entry` in the file. */
  entryRange(entry: number): [number, number] {
    const start = this.offsets.starts[entry];
    return [start, start + this.offsets.lengths[entry]];
  }

  entriesOf(index: number): number[] {
    if (!this.groups) return [index];
    return Array.from(this.groups.members.subarray(this.groups.starts[index], this.groups.starts[index + 1]));
  }

  read(index: number): RecordView {
    if (index < 0 || index >= this.size) throw new RangeError(`record ${index} is out of range (0..${this.size - 1})`);
    const entries = this.entriesOf(index);
    const lines = entries.map((e) => this.offsets.lines[e]);
    const view: RecordView = { index, line: lines[0], lines, problems: [] };
    const values: unknown[] = [];
    for (const e of entries) {
      const parsed = parseEntry(readRange(this.source, this.offsets.starts[e], this.offsets.lengths[e]));
      if (!parsed.ok) {
        view.problems.push({ line: this.offsets.lines[e], reason: parsed.reason, severity: 'error' });
        return view;
      }
      values.push(parsed.value);
    }
    const mapped = isGrouped(this.adapter) ? mapGroup(this.adapter, values, lines, view.problems) : this.adapter.map(values[0]);
    if (mapped === undefined) return view;
    if (!mapped.ok) {
      view.problems.push({ line: lines[0], reason: mapped.reason, severity: 'error' });
      return view;
    }
    for (const w of mapped.warnings ?? []) view.problems.push({ line: lines[0], reason: w, severity: 'warning' });
    view.record = { id: recordId(mapped.value), ...mapped.value };
    return view;
  }

  /** The raw text of record `index` (its rows joined by newlines for pointwise data). */
  raw(index: number): string {
    return this.entriesOf(index)
      .map((e) => readRange(this.source, this.offsets.starts[e], this.offsets.lengths[e]).toString('utf8'))
      .join('\n');
  }

  close(): void {
    this.source.close();
  }
}

function mapGroup(adapter: GroupedAdapter, values: unknown[], lines: number[], problems: Problem[]): ReturnType<GroupedAdapter['mergeGroup']> | undefined {
  const rows: MappedRow[] = [];
  for (let i = 0; i < values.length; i++) {
    const row = adapter.mapRow(values[i]);
    if (!row.ok) {
      problems.push({ line: lines[i], reason: row.reason, severity: 'error' });
      continue;
    }
    rows.push(row.value);
  }
  return rows.length > 0 ? adapter.mergeGroup(rows) : undefined;
}

/** The offset index alone (`index --offsets-only`). */
export function indexOffsets(file: string, options: Pick<IndexOptions, 'chunkSize' | 'signal'> = {}): OffsetIndex {
  const source = new FileSource(file);
  try {
    return buildOffsetIndex(source, options);
  } finally {
    source.close();
  }
}

const DETECTION_SAMPLE = 64;
/** Entries looked at for the sample at most: a large file of text must not be read to its end to find none. */
const SAMPLE_WINDOW = 1024;

interface Sample {
  /** The first entries that parse, with their lines. */
  values: { value: unknown; line: number }[];
  /** Entries looked at, parsed or not. */
  entries: number;
  /** A JSON array's structural damage seen meanwhile. */
  structural: Problem[];
}

/** Parses the first entries of the file, for adapter detection. */
function sampleValues(source: ByteSource, format: FileFormat): Sample {
  const sample: Sample = { values: [], entries: 0, structural: [] };
  const stop = new AbortController();
  const sink = (_s: number, _l: number, line: number, bytes: Buffer | undefined): void => {
    if (stop.signal.aborted) return; // the scan stops at the end of this chunk
    sample.entries++;
    const parsed = parseEntry(bytes!);
    if (parsed.ok) sample.values.push({ value: parsed.value, line });
    if (sample.values.length >= DETECTION_SAMPLE || sample.entries >= SAMPLE_WINDOW) stop.abort(new SampleFull());
  };
  const options = { wantBytes: true, signal: stop.signal, chunkSize: 1024 * 1024 };
  try {
    if (format === 'json-array') sample.structural = scanJsonArray(source, sink, options);
    else scanJsonl(source, bomLength(source), source.size, sink, options);
  } catch (e) {
    if (!(e instanceof SampleFull)) throw e;
  }
  return sample;
}

class SampleFull extends Error {}

/**
 * Refuses files that are not lists of records — empty, UTF-16, not JSON, one pretty-printed
 * object — with what the file is, instead of indexing them as zero records.
 */
function refuseNonRecords(source: ByteSource, format: FileFormat, sample: Sample): void {
  const name = basename(source.name);
  const utf16 = utf16Reason(source);
  if (utf16 !== undefined) throw new DatasetFileError(name, utf16);
  if (sample.entries === 0 && format === 'json-array') {
    const damage = sample.structural[0];
    throw new DatasetFileError(
      name,
      damage ? `a JSON array without one complete record: line ${damage.line}: ${damage.reason}` : 'an empty JSON array, no records',
    );
  }
  // Most entries not even JSON: the file is something else, and that is the one thing worth saying.
  if (sample.values.length * 2 < sample.entries || sample.entries === 0) throw new DatasetFileError(name, notRecordsReason(source));
}

function resolveAdapterSpec(source: ByteSource, sample: Sample, options: IndexOptions): AdapterSpec {
  const adapterOptions = { ...defaultAdapterOptions, ...options.adapterOptions };
  if (options.schemaFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.schemaFile, 'utf8');
    } catch (e) {
      throw new Error(`${options.schemaFile}: cannot read the mapping file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return { kind: 'mapping', file: options.schemaFile, text, options: adapterOptions };
  }
  if (options.adapter !== undefined) return { kind: 'builtin', name: options.adapter, options: adapterOptions };
  const name = detectUsableAdapter(sample.values, adapterOptions, basename(source.name));
  return { kind: 'builtin', name, options: adapterOptions };
}

async function indexSource(source: ByteSource, options: IndexOptions): Promise<Dataset> {
  options.signal?.throwIfAborted();
  const format = detectFormat(source);
  const sample = sampleValues(source, format);
  refuseNonRecords(source, format, sample);
  const spec = resolveAdapterSpec(source, sample, options);
  const adapter = adapterFromSpec(spec);
  const adapterName = adapter.name;
  if (isGrouped(adapter)) return indexGrouped(source, format, adapter, adapterName, options);

  const workers = Math.max(1, options.workers ?? availableParallelism());
  const parallel =
    format === 'jsonl' &&
    workers > 1 &&
    source.size >= (options.parallelMinBytes ?? PARALLEL_THRESHOLD) &&
    (source instanceof FileSource || source instanceof BufferSource);
  const results = parallel
    ? await scanInWorkers(source, format, spec, workers, options)
    : [
        scanRange(source, adapter, {
          format,
          from: bomLength(source),
          to: source.size,
          chunkSize: options.chunkSize,
          signal: options.signal,
          onChunk: (p) => options.onProgress?.(p / Math.max(1, source.size)),
        }),
      ];
  return assemble(source, format, adapter, adapterName, results);
}

function workerScript(): string {
  // The bundles live together in dist/; tests and benchmarks run from folders below it.
  for (let dir = __dirname, up = 0; up < 3; dir = join(dir, '..'), up++) {
    const candidate = join(dir, 'scan-worker.js');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`scan-worker.js not found beside ${__dirname}; run the build first`);
}

/** Splits the file at line boundaries into one range per worker and scans them in parallel. */
async function scanInWorkers(
  source: FileSource | BufferSource,
  format: FileFormat,
  spec: AdapterSpec,
  workers: number,
  options: IndexOptions,
): Promise<RangeResult[]> {
  const from = bomLength(source);
  const bounds = [from];
  const probe = Buffer.allocUnsafe(64 * 1024);
  for (let k = 1; k < workers; k++) {
    let pos = Math.max(bounds[bounds.length - 1], Math.floor(from + ((source.size - from) * k) / workers));
    // Advance to just past the next line feed (a line may be longer than the probe).
    for (;;) {
      const n = source.read(probe, pos, probe.length);
      if (n === 0) {
        pos = source.size;
        break;
      }
      const nl = probe.subarray(0, n).indexOf(0x0a);
      if (nl >= 0) {
        pos += nl + 1;
        break;
      }
      pos += n;
    }
    if (pos < source.size && pos > bounds[bounds.length - 1]) bounds.push(pos);
  }
  bounds.push(source.size);
  const done = new Array<number>(bounds.length - 1).fill(0);
  const script = workerScript();
  const running: Worker[] = [];
  const abort = (): void => {
    for (const w of running) void w.terminate();
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    options.signal?.throwIfAborted();
    return await Promise.all(
      bounds.slice(0, -1).map(
        (start, k) =>
          new Promise<RangeResult>((resolve, reject) => {
            const end = bounds[k + 1];
            // A copy (Buffer#slice would share memory), so transferring it leaves the source intact.
            const bytes = source instanceof BufferSource ? Uint8Array.prototype.slice.call(source.bytes, start, end) : undefined;
            const job: ScanJob = { file: source.name, bytes, format, from: start, to: end, chunkSize: options.chunkSize, adapter: spec };
            const worker = new Worker(script, { workerData: job, transferList: bytes ? [bytes.buffer] : [] });
            running.push(worker);
            let settled = false;
            worker.on('message', (m: ScanMessage) => {
              if (m.type === 'progress') {
                done[k] = m.position - start;
                options.onProgress?.(done.reduce((a, b) => a + b, 0) / Math.max(1, source.size));
              } else if (m.type === 'done') {
                settled = true;
                resolve(m.result);
              } else {
                settled = true;
                reject(new Error(m.message));
              }
            });
            worker.on('error', (e) => {
              settled = true;
              reject(e);
            });
            worker.on('exit', (code) => {
              if (settled) return;
              if (options.signal?.aborted) reject(options.signal.reason as Error);
              else reject(new Error(`scan worker exited with code ${code}`));
            });
          }),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', abort);
    abort();
  }
}

/** Concatenates range results in file order, fixing line numbers, and finds duplicates. */
function assemble(source: ByteSource, format: FileFormat, adapter: RecordAdapter, adapterName: string, results: RangeResult[]): Dataset {
  const total = results.reduce((n, r) => n + r.starts.length, 0);
  const starts = new Float64Array(total);
  const lengths = new Uint32Array(total);
  const lines = new Uint32Array(total);
  const recordKeys = new Float64Array(total);
  const promptKeys = new Float64Array(total);
  const stats = emptyStats();
  const problems: Problem[] = [];
  let problemCount = 0;
  let malformed = 0;
  let unreadable = 0;
  let at = 0;
  let lineOffset = 0;
  for (const r of results) {
    starts.set(r.starts, at);
    lengths.set(r.lengths, at);
    recordKeys.set(r.idHashes, at);
    promptKeys.set(r.promptHashes, at);
    for (let i = 0; i < r.lines.length; i++) lines[at + i] = r.lines[i] + lineOffset;
    for (const p of r.problems) problems.push({ ...p, line: p.line + lineOffset });
    problemCount += r.problems.length;
    malformed += r.malformed;
    unreadable += r.unreadable;
    shiftLines(r.stats, lineOffset);
    mergeStats(stats, r.stats);
    at += r.starts.length;
    lineOffset += r.newlines;
  }
  const duplicates = findDuplicates(source, adapter, starts, lengths, lines, recordKeys, promptKeys);
  // Not push(...): a file can hold more duplicates than a call may take arguments.
  for (const p of duplicates.problems) problems.push(p);
  problemCount += duplicates.problems.length;
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > MAX_PROBLEMS) problems.length = MAX_PROBLEMS;
  const offsets: OffsetIndex = { format, size: source.size, starts, lengths, lines, problems: [] };
  const report = makeReport(
    source,
    format,
    adapterName,
    total,
    total + unreadable,
    stats,
    malformed,
    problems,
    problemCount,
    duplicates.prompts,
    duplicates.records,
  );
  return new Dataset(source, offsets, adapter, report);
}

/**
 * Duplicate prompts over the whole file, then duplicate records among the entries whose prompt
 * repeats (only those can be duplicates). Ranges computed record keys for their own repeats; a
 * prompt that repeats across ranges has its missing keys computed here by reading those entries.
 */
function findDuplicates(
  source: ByteSource,
  adapter: RecordAdapter,
  starts: Float64Array,
  lengths: Uint32Array,
  lines: Uint32Array,
  recordKeys: Float64Array,
  promptKeys: Float64Array,
): { prompts: number; records: number; problems: Problem[] } {
  const repeats = new Uint8Array(promptKeys.length);
  const firstPrompt = new FirstSeen(promptKeys.length);
  let prompts = 0;
  let candidates = 0;
  for (let e = 0; e < promptKeys.length; e++) {
    if (Number.isNaN(promptKeys[e])) continue;
    const first = firstPrompt.getOrAdd(promptKeys[e], e);
    if (first < 0) continue;
    prompts++;
    if (!repeats[first]) candidates++;
    repeats[first] = repeats[e] = 1;
    candidates++;
  }
  const problems: Problem[] = [];
  const firstRecord = new FirstSeen(candidates);
  let records = 0;
  for (let e = 0; e < promptKeys.length; e++) {
    if (!repeats[e]) continue;
    if (Number.isNaN(recordKeys[e])) recordKeys[e] = rereadRecordKey(source, adapter, starts[e], lengths[e]);
    const first = firstRecord.getOrAdd(recordKeys[e], e);
    if (first < 0) continue;
    records++;
    problems.push({ line: lines[e], reason: `duplicate of the record on line ${lines[first]} (same conversation and responses)`, severity: 'warning' });
  }
  return { prompts, records, problems };
}

/**
 * Pointwise rows: a group's rows may be anywhere in the file, so rows are mapped as they stream
 * past and grouped by key in memory (these files are per-row small; the groups are what is kept).
 */
function indexGrouped(source: ByteSource, format: FileFormat, adapter: GroupedAdapter, adapterName: string, options: IndexOptions): Dataset {
  const problems: Problem[] = [];
  let malformed = 0;
  // Rows whose group cannot be known (unparsable, no key) are records of their own, all malformed.
  let orphans = 0;
  const groups = new Map<string, { entries: number[]; rows: MappedRow[] }>();
  // One pass: rows are mapped as the scan hands them over, not read back by offset afterwards.
  const collector = new OffsetCollector();
  const onEntry = (start: number, length: number, line: number, bytes: Buffer | undefined): void => {
    const e = collector.count;
    collector.add(start, length, line);
    if (collector.count === e) return; // refused (oversized), reported by the collector
    const parsed = parseEntry(bytes!);
    const value = parsed.ok ? parsed.value : undefined;
    const key = parsed.ok ? adapter.groupKey(value) : parsed;
    if (!key.ok) {
      malformed++;
      orphans++;
      problems.push({ line, reason: key.reason, severity: 'error' });
      return;
    }
    let group = groups.get(key.value);
    if (group === undefined) groups.set(key.value, (group = { entries: [], rows: [] }));
    group.entries.push(e);
    // A row that fails is a problem of its line; its group is built from the other rows.
    const row = adapter.mapRow(value);
    if (!row.ok) {
      problems.push({ line, reason: row.reason, severity: 'error' });
      return;
    }
    for (const w of row.warnings ?? []) problems.push({ line, reason: w, severity: 'warning' });
    group.rows.push(row.value);
  };
  const scan = {
    chunkSize: options.chunkSize,
    signal: options.signal,
    wantBytes: true,
    onChunk: (p: number) => options.onProgress?.(p / Math.max(1, source.size)),
  };
  const structural = format === 'json-array' ? scanJsonArray(source, onEntry, scan) : (scanJsonl(source, bomLength(source), source.size, onEntry, scan), []);
  const index = collector.finish(format, source.size, structural);
  for (const p of index.problems) problems.push(p);
  malformed += index.problems.length;
  orphans += index.problems.length;
  const stats = emptyStats();
  const starts = new Uint32Array(groups.size + 1);
  const members = new Uint32Array(Array.from(groups.values()).reduce((n, g) => n + g.entries.length, 0));
  const entryGroup = new Int32Array(index.starts.length).fill(-1);
  const seenIds = new Map<string, number>();
  const seenPrompts = new Set<string>();
  let duplicatePrompts = 0;
  let duplicateRecords = 0;
  let g = 0;
  let m = 0;
  for (const group of groups.values()) {
    starts[g] = m;
    for (const e of group.entries) {
      members[m++] = e;
      entryGroup[e] = g;
    }
    const line = index.lines[group.entries[0]];
    const merged: MapResult =
      group.rows.length > 0 ? adapter.mergeGroup(group.rows) : { ok: false, reason: `none of the ${group.entries.length} rows of this group can be used` };
    if (!merged.ok) {
      malformed++;
      problems.push({ line, reason: merged.reason, severity: 'error' });
    } else {
      for (const w of merged.warnings ?? []) problems.push({ line, reason: w, severity: 'warning' });
      const id = recordId(merged.value);
      const first = seenIds.get(id);
      if (first !== undefined) {
        duplicateRecords++;
        problems.push({ line, reason: `duplicate of the record on line ${first} (same conversation and responses)`, severity: 'warning' });
      } else seenIds.set(id, line);
      const prompt = promptKeyHash(merged.value.context);
      if (seenPrompts.has(prompt)) duplicatePrompts++;
      else seenPrompts.add(prompt);
      addRecord(stats, merged.value, line, findPiiInRecord(merged.value));
    }
    g++;
  }
  starts[g] = m;
  problems.sort((a, b) => a.line - b.line);
  const problemCount = problems.length;
  if (problems.length > MAX_PROBLEMS) problems.length = MAX_PROBLEMS;
  const report = makeReport(
    source,
    format,
    adapterName,
    index.starts.length,
    groups.size + orphans,
    stats,
    malformed,
    problems,
    problemCount,
    duplicatePrompts,
    duplicateRecords,
  );
  return new Dataset(source, { ...index, problems: [] }, adapter, report, { starts, members, entryGroup });
}

function makeReport(
  source: ByteSource,
  format: FileFormat,
  adapter: string,
  entries: number,
  records: number,
  stats: StatsPartial,
  malformed: number,
  problems: Problem[],
  problemCount: number,
  duplicatePrompts: number,
  duplicateRecords: number,
): IndexReport {
  const categories: IndexReport['categories'] = {};
  for (const [name, c] of Object.entries(stats.categories).sort((a, b) => b[1].count - a[1].count)) {
    categories[name] = { count: c.count, avgTurns: round(c.turns / c.count) };
  }
  return {
    file: source.name,
    format,
    adapter,
    bytes: source.size,
    entries,
    records,
    usable: stats.records,
    malformed,
    problems,
    problemCount,
    categories,
    avgTurns: stats.records ? round(stats.turns / stats.records) : 0,
    responsesPerRecord: stats.records
      ? { min: stats.responsesMin, max: stats.responsesMax, mean: round(stats.responsesSum / stats.records) }
      : { min: 0, max: 0, mean: 0 },
    preferencePairs: stats.preferencePairs,
    tiedPairs: stats.tiedPairs,
    unlabelled: stats.unlabelled,
    duplicatePrompts,
    duplicateRecords,
    ratingSources: stats.ratingSources,
    pii: stats.pii,
    piiLines: stats.piiLines.sort((a, b) => a.line - b.line),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
